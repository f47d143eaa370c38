// Which stream sends next (RFC 9218 §4, §10 style priorities).
//
// Each active stream has an urgency 0..7 (lower first) and an incremental
// flag. Within one urgency, non-incremental streams come first, one after
// another in stream ID order (each runs to completion before the next);
// then incremental streams share the capacity round-robin: after a stream is
// served, rotate() moves it behind the others of its urgency.
//
// Nodes are intrusive (the stream owns its SchedNode): nothing allocates.
// Activation of an incremental stream, deactivation and rotation are O(1);
// non-incremental streams sit in a list sorted by stream ID, searched from
// its tail, so the usual activation (a new, highest-numbered stream) is O(1)
// too (at worst linear in the active streams of that urgency). front() is
// O(1). A node must be deactivated before it is destroyed.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <bit>

namespace wt::quic {

class Scheduler;

struct SchedNode {
  // RFC 9218 §4.1 default urgency. Incremental by default: plain QUIC and
  // WebTransport streams without a priority signal share fairly.
  static constexpr uint8_t kDefaultUrgency = 3;

  SchedNode() = default;
  explicit SchedNode(uint64_t id) : stream_id(id) {}
  SchedNode(const SchedNode&) = delete;
  SchedNode& operator=(const SchedNode&) = delete;

  uint64_t stream_id = 0;
  void* owner = nullptr;  // the object holding the node (StreamMap: its Stream)
  // Read-only while active: change with Scheduler::set_priority().
  uint8_t urgency = kDefaultUrgency;
  bool incremental = true;

  bool active() const { return active_; }

 private:
  friend class Scheduler;
  bool active_ = false;
  SchedNode* prev_ = nullptr;
  SchedNode* next_ = nullptr;
};

class Scheduler {
 public:
  static constexpr uint8_t kLevels = 8;

  Scheduler() = default;
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Adds a stream that has something to send (no-op if active). A newly
  // active incremental stream goes behind the others of its urgency.
  void activate(SchedNode& n) {
    if (!n.active_) link(n);
  }
  // Removes it (no-op if inactive).
  void deactivate(SchedNode& n) {
    if (n.active_) unlink(n);
  }
  // Sets priority; an active node is repositioned. Urgency above 7 is 7.
  void set_priority(SchedNode& n, uint8_t urgency, bool incremental);
  // After sending from an incremental stream: move it behind its peers. No
  // effect on non-incremental streams (they keep the lead until done).
  void rotate(SchedNode& n) {
    if (!n.active_ || !n.incremental) return;
    List& l = levels_[n.urgency].inc;
    if (l.tail == &n) return;  // alone or already last
    unlink(l, n);
    link_after(l, l.tail, n);
  }

  // The stream to serve next, or nullptr.
  SchedNode* front() const {
    if (mask_ == 0) return nullptr;
    const Level& l = levels_[static_cast<size_t>(std::countr_zero(mask_))];
    return l.seq.head ? l.seq.head : l.inc.head;
  }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // First active node, in service order, for which pred(node) is true. The
  // predicate must not change the scheduler.
  template <class F>
  SchedNode* find_if(F&& pred) const {
    for (unsigned m = mask_; m != 0; m &= m - 1) {
      const Level& l = levels_[static_cast<size_t>(std::countr_zero(m))];
      for (const List* list : {&l.seq, &l.inc})
        for (SchedNode* n = list->head; n != nullptr; n = n->next_)
          if (pred(*n)) return n;
    }
    return nullptr;
  }

 private:
  struct List {
    SchedNode* head = nullptr;
    SchedNode* tail = nullptr;
  };
  struct Level {
    List seq;  // non-incremental, by stream ID
    List inc;  // incremental, round-robin order
    bool empty() const { return seq.head == nullptr && inc.head == nullptr; }
  };
  void link(SchedNode& n);
  void unlink(SchedNode& n);
  static void unlink(List& l, SchedNode& n);
  // Inserts `n` after `pos` (at the front when `pos` is null).
  static void link_after(List& l, SchedNode* pos, SchedNode& n);
  void update_mask(uint8_t u);

  std::array<Level, kLevels> levels_;
  unsigned mask_ = 0;  // bit u set: level u has active nodes
  size_t size_ = 0;
};

}  // namespace wt::quic
