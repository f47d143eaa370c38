// Deadlines for the event loop: an indexed 4-ary min-heap. Every timer has
// at most one deadline; moving it is O(log n) in place (no lazy garbage), so
// 100k connections re-arming on every packet stay cheap. Equal deadlines fire
// in the order they were set.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "lib/clock.h"

namespace wt::io {

struct TimerId {
  uint32_t index = UINT32_MAX;
  uint32_t gen = 0;
  bool valid() const { return index != UINT32_MAX; }
  friend bool operator==(const TimerId&, const TimerId&) = default;
};

class TimerQueue {
 public:
  using Callback = std::function<void(Time now)>;

  // A new, unarmed timer. A one-shot timer is removed after it fires unless
  // its callback re-arms it.
  TimerId add(Callback cb, bool oneshot = false);
  // Arms or moves the deadline; kTimeInfinite disarms. Stale ids are ignored.
  void set(TimerId id, Time deadline);
  // Safe at any time, including from the timer's own callback.
  void remove(TimerId id);
  bool contains(TimerId id) const;
  Time deadline(TimerId id) const;  // kTimeInfinite if unarmed or stale

  Time next() const { return heap_.empty() ? kTimeInfinite : slots_[heap_[0]].deadline; }
  // Fires every timer due at `now` in deadline order; each is disarmed before
  // its callback runs. Timers re-armed to <= now by a callback wait for the
  // next call, so a callback cannot spin the loop. Returns how many fired.
  size_t run_due(Time now);

  size_t armed() const { return heap_.size(); }
  size_t size() const { return slots_.size() - free_.size(); }

 private:
  static constexpr uint32_t kNotArmed = UINT32_MAX;
  struct Slot {
    Callback cb;
    Time deadline = kTimeInfinite;
    uint64_t seq = 0;
    uint32_t heap_pos = kNotArmed;
    uint32_t gen = 0;
    bool live = false;
    bool oneshot = false;
  };
  bool less(uint32_t a, uint32_t b) const {
    const Slot& x = slots_[a];
    const Slot& y = slots_[b];
    return x.deadline < y.deadline || (x.deadline == y.deadline && x.seq < y.seq);
  }
  const Slot* find(TimerId id) const;
  void place(uint32_t pos, uint32_t slot);
  void sift_up(uint32_t pos);
  void sift_down(uint32_t pos);
  void unlink(uint32_t slot);
  void free_slot(uint32_t slot);

  std::vector<Slot> slots_;
  std::vector<uint32_t> heap_;  // slot indices
  std::vector<uint32_t> free_;
  uint64_t seq_ = 0;
};

}  // namespace wt::io
