// Deterministic discrete-event network simulator: nodes (sans-I/O endpoints)
// exchange datagrams through one-directional links on a virtual clock.
//
// One step at the current virtual time: deliver every datagram due, fire the
// timers of nodes whose next_timeout() has passed, then poll every node's
// send() until it has nothing more (GSO batches are split into datagrams and
// offered to the link for (batch.path.local, batch.path.remote)). The clock
// then jumps to the earliest of the next delivery and the nodes' timeouts:
// no busy loop, and if nothing is scheduled at all the run stops as `stuck`.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "test/sim/sim_link.h"
#include "test/sim/sim_node.h"

namespace wt::sim {

// Virtual time starts here, far from zero so that "time 0" bugs show.
inline constexpr Time kSimEpoch = from_ns(1'000'000'000'000);  // 1000 s

enum class StopReason : uint8_t {
  predicate,  // run_until's condition became true
  deadline,   // virtual time reached the deadline / end of run_for
  stuck,      // nothing scheduled and no timer: nothing can ever happen
  livelock,   // too many steps at one instant or in total
};
const char* stop_reason_name(StopReason r);

struct SimStats {
  uint64_t steps = 0;        // distinct iterations of the event loop
  uint64_t deliveries = 0;   // datagrams handed to nodes
  uint64_t timeouts = 0;     // on_timeout calls
  uint64_t batches = 0;      // non-empty send() results
  uint64_t datagrams_sent = 0;
  uint64_t unroutable = 0;   // no link for (from, to) or no node owns `to`
};

// What observers see: one datagram on one link.
struct Datagram {
  const Link* link;
  Path path;  // local = sender, remote = receiver (as sent)
  Bytes data;
  Ecn ecn;
  Time time;  // send time for send observers, delivery time for delivery ones
};

class Simulator {
 public:
  explicit Simulator(uint64_t seed = 1, Time start = kSimEpoch);
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  Time now() const { return now_; }

  // Nodes are not owned and must outlive the simulator's use of them.
  // `addr` is the node's primary address (used when a batch's local address
  // is unset); add_address() gives it more (multi-homing, NAT rebinding).
  size_t add_node(SimNode& node, const Address& addr);
  void add_address(size_t node, const Address& addr);

  Link& add_link(const Address& from, const Address& to, const LinkConfig& config);
  // Both directions with the same config (the seeds still differ).
  void add_duplex(const Address& a, const Address& b, const LinkConfig& config);
  Link* link(const Address& from, const Address& to);
  const std::vector<std::unique_ptr<Link>>& links() const { return links_; }

  // Runs until `done()` is true (checked before starting and after every
  // step), `deadline` is reached, or the run is stuck / livelocked.
  // Returns true iff `done()` became true; last_stop() says why it returned.
  bool run_until(const std::function<bool()>& done, Time deadline);
  // Advances the clock by exactly `d`, processing everything due meanwhile.
  // Returns false only on livelock.
  bool run_for(Duration d);
  StopReason last_stop() const { return last_stop_; }

  // Observers; empty function to remove.
  void on_send(std::function<void(const Datagram&)> f) { send_observer_ = std::move(f); }
  void on_deliver(std::function<void(const Datagram&)> f) { deliver_observer_ = std::move(f); }

  // Running hash over every delivery (time, link, ECN, bytes): two runs with
  // equal hashes saw the same traffic at the same instants.
  uint64_t trace_hash() const { return trace_hash_; }
  const SimStats& stats() const { return stats_; }
  std::string summary() const;  // one line per link, for INFO() in tests

  // Guards against livelock (a timer that never moves forward, a zero-delay
  // ping-pong) and runaway runs.
  uint64_t max_steps_per_instant = 100'000;
  uint64_t max_steps = 200'000'000;
  size_t max_batches_per_poll = 100'000;  // send() calls per node per step
  size_t send_buffer_size = 256 * 1024;

 private:
  struct NodeEntry {
    SimNode* node;
    Address primary;
  };
  struct Event {
    Time time;
    uint64_t seq;      // ties: FIFO by scheduling order
    uint32_t link;     // index into links_
    uint32_t slot;     // index into slots_
    Ecn ecn;
    bool operator>(const Event& o) const {
      return time != o.time ? time > o.time : seq > o.seq;
    }
  };
  struct PathKeyHash {
    size_t operator()(const Path& p) const {
      AddressHash h;
      return h(p.local) * 31 + h(p.remote);
    }
  };

  // Processes everything due at now_; false on livelock.
  bool step();
  Time next_event_time() const;
  void deliver(const Event& ev);
  void route(const SendBatch& batch, Bytes data, size_t from_node);
  void schedule(uint32_t link, Bytes data, Ecn ecn, Time at);
  uint32_t alloc_slot(Bytes data);
  void free_slot(uint32_t slot) { free_slots_.push_back(slot); }
  bool advance_to(Time t);

  uint64_t seed_;
  Time now_;
  std::vector<NodeEntry> nodes_;
  std::unordered_map<Address, size_t, AddressHash> owner_;  // address -> node
  std::vector<std::unique_ptr<Link>> links_;
  std::unordered_map<Path, uint32_t, PathKeyHash> link_index_;  // (from, to) -> link
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
  uint64_t next_seq_ = 0;
  std::vector<std::vector<uint8_t>> slots_;  // datagram buffers, recycled
  std::vector<uint32_t> free_slots_;
  std::vector<uint8_t> send_buf_;
  StopReason last_stop_ = StopReason::deadline;
  uint64_t steps_at_instant_ = 0;
  SimStats stats_;
  uint64_t trace_hash_ = 0xcbf29ce484222325ULL;
  std::function<void(const Datagram&)> send_observer_, deliver_observer_;
};

}  // namespace wt::sim
