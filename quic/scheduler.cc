#include "quic/scheduler.h"

#include <algorithm>
#include <bit>

namespace wt::quic {

void Scheduler::unlink(Level& l, SchedNode& n) {
  if (n.prev_) n.prev_->next_ = n.next_; else l.head = n.next_;
  if (n.next_) n.next_->prev_ = n.prev_; else l.tail = n.prev_;
  n.prev_ = n.next_ = nullptr;
}

void Scheduler::link_back(Level& l, SchedNode& n) {
  n.prev_ = l.tail;
  n.next_ = nullptr;
  if (l.tail) l.tail->next_ = &n; else l.head = &n;
  l.tail = &n;
}

void Scheduler::update_mask(uint8_t u) {
  if (levels_[u].empty()) mask_ &= ~(1u << u); else mask_ |= 1u << u;
}

void Scheduler::link(SchedNode& n) {
  n.urgency = std::min<uint8_t>(n.urgency, kLevels - 1);
  Level& l = levels_[n.urgency];
  if (n.incremental) link_back(l, n); else l.sequential.insert(&n);
  n.active_ = true;
  ++size_;
  update_mask(n.urgency);
}

void Scheduler::unlink(SchedNode& n) {
  Level& l = levels_[n.urgency];
  if (n.incremental) unlink(l, n); else l.sequential.erase(&n);
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
