#include "quic/scheduler.h"

#include <algorithm>
#include <bit>

namespace wt::quic {

void Scheduler::unlink(List& l, SchedNode& n) {
  if (n.prev_) n.prev_->next_ = n.next_; else l.head = n.next_;
  if (n.next_) n.next_->prev_ = n.prev_; else l.tail = n.prev_;
  n.prev_ = n.next_ = nullptr;
}

void Scheduler::link_after(List& l, SchedNode* pos, SchedNode& n) {
  n.prev_ = pos;
  n.next_ = pos ? pos->next_ : l.head;
  if (n.next_) n.next_->prev_ = &n; else l.tail = &n;
  if (pos) pos->next_ = &n; else l.head = &n;
}

void Scheduler::update_mask(uint8_t u) {
  if (levels_[u].empty()) mask_ &= ~(1u << u); else mask_ |= 1u << u;
}

void Scheduler::link(SchedNode& n) {
  n.urgency = std::min<uint8_t>(n.urgency, kLevels - 1);
  Level& l = levels_[n.urgency];
  if (n.incremental) {
    link_after(l.inc, l.inc.tail, n);
  } else {
    SchedNode* pos = l.seq.tail;  // the last node with a lower stream ID
    while (pos && pos->stream_id > n.stream_id) pos = pos->prev_;
    link_after(l.seq, pos, n);
  }
  n.active_ = true;
  ++size_;
  update_mask(n.urgency);
}

void Scheduler::unlink(SchedNode& n) {
  Level& l = levels_[n.urgency];
  unlink(n.incremental ? l.inc : l.seq, n);
  n.active_ = false;
  --size_;
  update_mask(n.urgency);
}

void Scheduler::set_priority(SchedNode& n, uint8_t urgency, bool incremental) {
  urgency = std::min<uint8_t>(urgency, kLevels - 1);
  if (n.urgency == urgency && n.incremental == incremental) return;
  bool was_active = n.active_;
  deactivate(n);
  n.urgency = urgency;
  n.incremental = incremental;
  if (was_active) activate(n);
}

}  // namespace wt::quic
