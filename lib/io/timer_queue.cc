#include "lib/io/timer_queue.h"

namespace wt::io {

TimerId TimerQueue::add(Callback cb, bool oneshot) {
  uint32_t i;
  if (!free_.empty()) {
    i = free_.back();
    free_.pop_back();
  } else {
    i = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& s = slots_[i];
  s.cb = std::move(cb);
  s.live = true;
  s.oneshot = oneshot;
  s.deadline = kTimeInfinite;
  s.heap_pos = kNotArmed;
  return TimerId{i, s.gen};
}

const TimerQueue::Slot* TimerQueue::find(TimerId id) const {
  if (id.index >= slots_.size()) return nullptr;
  const Slot& s = slots_[id.index];
  return s.live && s.gen == id.gen ? &s : nullptr;
}

bool TimerQueue::contains(TimerId id) const { return find(id) != nullptr; }

Time TimerQueue::deadline(TimerId id) const {
  const Slot* s = find(id);
  return s ? s->deadline : kTimeInfinite;
}

void TimerQueue::place(uint32_t pos, uint32_t slot) {
  heap_[pos] = slot;
  slots_[slot].heap_pos = pos;
}

void TimerQueue::sift_up(uint32_t pos) {
  uint32_t slot = heap_[pos];
  while (pos > 0) {
    uint32_t parent = (pos - 1) / 4;
    if (!less(slot, heap_[parent])) break;
    place(pos, heap_[parent]);
    pos = parent;
  }
  place(pos, slot);
}

void TimerQueue::sift_down(uint32_t pos) {
  uint32_t slot = heap_[pos];
  uint32_t n = static_cast<uint32_t>(heap_.size());
  for (;;) {
    uint32_t first = pos * 4 + 1;
    if (first >= n) break;
    uint32_t best = first;
    uint32_t end = first + 4 < n ? first + 4 : n;
    for (uint32_t c = first + 1; c < end; ++c)
      if (less(heap_[c], heap_[best])) best = c;
    if (!less(heap_[best], slot)) break;
    place(pos, heap_[best]);
    pos = best;
  }
  place(pos, slot);
}

void TimerQueue::unlink(uint32_t slot) {
  uint32_t pos = slots_[slot].heap_pos;
  if (pos == kNotArmed) return;
  slots_[slot].heap_pos = kNotArmed;
  uint32_t last = heap_.back();
  heap_.pop_back();
  if (pos == heap_.size()) return;
  place(pos, last);
  sift_up(pos);
  sift_down(slots_[last].heap_pos);
}

void TimerQueue::set(TimerId id, Time deadline) {
  if (!find(id)) return;
  Slot& s = slots_[id.index];
  if (deadline == kTimeInfinite) {
    unlink(id.index);
    s.deadline = kTimeInfinite;
    return;
  }
  s.deadline = deadline;
  s.seq = seq_++;
  if (s.heap_pos == kNotArmed) {
    heap_.push_back(id.index);
    s.heap_pos = static_cast<uint32_t>(heap_.size() - 1);
    sift_up(s.heap_pos);
  } else {
    // The new (deadline, seq) may be earlier or later than before.
    sift_up(s.heap_pos);
    sift_down(slots_[id.index].heap_pos);
  }
}

void TimerQueue::free_slot(uint32_t i) {
  Slot& s = slots_[i];
  s.cb = nullptr;
  s.live = false;
  ++s.gen;
  free_.push_back(i);
}

void TimerQueue::remove(TimerId id) {
  if (!find(id)) return;
  unlink(id.index);
  free_slot(id.index);
}

size_t TimerQueue::run_due(Time now) {
  uint64_t cutoff = seq_;
  size_t fired = 0;
  while (!heap_.empty()) {
    uint32_t i = heap_[0];
    if (slots_[i].deadline > now || slots_[i].seq >= cutoff) break;
    unlink(i);
    slots_[i].deadline = kTimeInfinite;
    uint32_t gen = slots_[i].gen;
    // The callback may add timers (reallocating slots_) or remove this one:
    // run it from a local and put it back only if the slot survived.
    Callback cb = std::move(slots_[i].cb);
    cb(now);
    ++fired;
    Slot& s = slots_[i];
    if (!s.live || s.gen != gen) continue;
    if (s.oneshot && s.heap_pos == kNotArmed) {
      free_slot(i);
    } else if (!s.cb) {
      s.cb = std::move(cb);
    }
  }
  return fired;
}

}  // namespace wt::io
