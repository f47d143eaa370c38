// One direction of a simulated network path: a bottleneck queue with a
// serialization rate, propagation delay and impairments (loss, reordering,
// duplication, MTU cap, ECN CE marking, blackholes, targeted drops).
// All randomness comes from one seeded generator per link, so a run is a
// pure function of the seeds and of what the nodes send.
#pragma once
#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "lib/random.h"
#include "test/sim/sim_node.h"

namespace wt::sim {

struct LinkConfig {
  Duration delay = std::chrono::milliseconds(10);  // one-way propagation delay
  uint64_t bandwidth_bps = 0;  // bottleneck rate in bits/s; 0 = unlimited (no queue)
  size_t queue_bytes = 0;      // bottleneck queue incl. the packet on the wire; 0 = unlimited
  double loss = 0;             // random loss probability (on the wire, after the queue)
  double reorder = 0;          // probability that a packet gets `reorder_delay` extra
  Duration reorder_delay = std::chrono::milliseconds(0);
  double duplicate = 0;        // probability that a packet is delivered twice
  Duration duplicate_delay = Duration::zero();  // the copy arrives this much later
  size_t mtu = 0;              // drop datagrams larger than this; 0 = no cap
  size_t ce_threshold_bytes = 0;  // mark ECT packets CE when the queue holds more; 0 = off
  bool bleach_ecn = false;     // deliver every packet as Not-ECT
  std::optional<Address> rewrite_source;  // NAT: the receiver sees this source address
  // NAT, return direction (added for the migration tests): deliver to this
  // address instead of the link's `to` (the host behind the NAT).
  std::optional<Address> rewrite_destination;
  uint64_t seed = 0;           // 0: derived from the simulator seed and the link index
};

enum class DropCause : uint8_t { mtu, blackhole, targeted, queue, loss };
inline constexpr size_t kDropCauses = 5;
const char* drop_cause_name(DropCause c);

struct LinkStats {
  uint64_t offered_packets = 0, offered_bytes = 0;
  uint64_t delivered_packets = 0, delivered_bytes = 0;  // duplicates included
  std::array<uint64_t, kDropCauses> dropped_packets{};
  std::array<uint64_t, kDropCauses> dropped_bytes{};
  uint64_t duplicated = 0;  // extra copies created
  uint64_t reordered = 0;   // packets that got the extra reordering delay
  uint64_t ce_marked = 0;
  uint64_t max_queue_bytes = 0;  // high-water mark of the bottleneck queue

  uint64_t dropped(DropCause c) const { return dropped_packets[static_cast<size_t>(c)]; }
  uint64_t dropped_total() const;
};

// The fate of one offered datagram, decided when it is offered.
struct Transit {
  bool dropped = false;
  DropCause cause = DropCause::loss;
  Time deliver_at = kTimeInfinite;
  Ecn ecn = Ecn::not_ect;       // after CE marking / bleaching
  bool duplicate = false;
  Time duplicate_at = kTimeInfinite;
};

class Link {
 public:
  Link(Address from, Address to, const LinkConfig& config, uint64_t seed);

  const Address& from() const { return from_; }
  const Address& to() const { return to_; }
  // The source address the receiver sees.
  const Address& apparent_source() const {
    return config_.rewrite_source ? *config_.rewrite_source : from_;
  }
  // The address the datagram is delivered to.
  const Address& delivery_address() const {
    return config_.rewrite_destination ? *config_.rewrite_destination : to_;
  }

  // May be changed mid-run (e.g. raise the loss rate, lower the MTU).
  LinkConfig& config() { return config_; }
  const LinkConfig& config() const { return config_; }

  // Drop everything offered in [begin, end).
  void add_blackhole(Time begin, Time end) { blackholes_.emplace_back(begin, end); }
  // Drop the next n datagrams offered (after the MTU/blackhole checks).
  void drop_next(uint64_t n) { drop_next_ += n; }
  // Drop datagrams for which `pred(datagram, index, now)` is true; `index`
  // counts offered datagrams on this link from 0. Empty function: none.
  using DropPredicate = std::function<bool(Bytes datagram, uint64_t index, Time now)>;
  void set_drop_predicate(DropPredicate pred) { drop_pred_ = std::move(pred); }
  // Rewrite accepted datagrams in place (corruption tests). Empty: none.
  using Mutator = std::function<void(MutBytes datagram, uint64_t index, Time now)>;
  void set_mutator(Mutator m) { mutator_ = std::move(m); }
  const Mutator& mutator() const { return mutator_; }

  // Decides what happens to a datagram offered at `now`, updating the queue
  // and the statistics. The caller schedules the deliveries.
  Transit offer(Bytes datagram, Ecn ecn, Time now);
  // The caller delivered a datagram (or a duplicate) of `bytes`.
  void note_delivered(size_t bytes);

  // Bytes in the bottleneck queue (incl. the one being serialized) at `now`.
  size_t queue_bytes_at(Time now);
  // When the bottleneck finishes serializing everything queued so far.
  Time idle_at() const { return busy_until_; }
  uint64_t offered_count() const { return stats_.offered_packets; }

  const LinkStats& stats() const { return stats_; }

 private:
  void drop(DropCause c, size_t bytes);
  Duration serialization(size_t bytes);

  Address from_, to_;
  LinkConfig config_;
  SeededRandom rng_;
  LinkStats stats_;
  std::vector<std::pair<Time, Time>> blackholes_;
  uint64_t drop_next_ = 0;
  DropPredicate drop_pred_;
  Mutator mutator_;

  // Bottleneck: finish times and sizes of queued packets, oldest first.
  std::deque<std::pair<Time, size_t>> queue_;
  size_t queued_bytes_ = 0;
  Time busy_until_ = kTimeZero;
  uint64_t ser_remainder_ = 0;  // sub-nanosecond carry, keeps long-run rate exact
};

}  // namespace wt::sim
