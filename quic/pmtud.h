// Datagram Packetization Layer PMTU Discovery (RFC 8899, RFC 9000 §14.3),
// sans-I/O: which probe to send and what the acknowledgements and losses of
// probes mean. The connection sends the probes (PING + PADDING, marked
// is_pmtu_probe so their loss is no congestion signal, RFC 9000 §14.4) and
// applies plpmtu().
//
// Search: RFC 8899 §5.3 leaves the algorithm open. We probe UDP payload
// sizes that correspond to common link MTUs (Ethernet, PPPoE, tunnels)
// above the base of 1200 bytes, largest first (the common case is a clean
// 1500-byte path: one probe), then a binary search over the remaining
// candidates. Each size gets MAX_PROBES attempts. Black holes (RFC 8899
// §4.3): the connection reports them (repeated PTOs with packets above the
// base) and the search starts again from the base.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>

#include "lib/clock.h"

namespace wt::quic {

class Pmtud {
 public:
  static constexpr size_t kBase = 1200;                               // RFC 9000 §14.1 BASE_PLPMTU
  static constexpr uint32_t kMaxProbes = 3;                           // RFC 8899 §5.1.2 MAX_PROBES
  static constexpr Duration kRaiseTimer = std::chrono::seconds(600);  // RFC 8899 PMTU_RAISE_TIMER
  static constexpr size_t kMaxCandidates = 8;

  // Starts (or restarts) the search on a path: `base` is the size known to
  // work, `max_payload` the largest UDP payload allowed (local limit and the
  // peer's max_udp_payload_size), `ip_overhead` the IP + UDP header bytes.
  void start(size_t base, size_t max_payload, size_t ip_overhead);
  void stop() { active_ = false; }
  bool active() const { return active_; }

  // The size of the probe to send now, or 0 (also restarts a finished
  // search when the raise timer expired).
  size_t probe_size(Time now);
  void on_probe_sent(uint64_t pn, size_t size);
  bool probe_outstanding() const { return outstanding_; }
  uint64_t probe_pn() const { return probe_pn_; }
  // The probe was acknowledged: plpmtu() may have grown (returns true then).
  bool on_probe_acked(uint64_t pn);
  void on_probe_lost(uint64_t pn);
  // Packets above the base are not getting through: back to the base and
  // search again.
  void on_black_hole();

  size_t plpmtu() const { return plpmtu_; }
  bool searching() const { return active_ && ok_ + 1 < bad_; }
  uint64_t probes_sent() const { return probes_sent_; }
  uint64_t black_holes() const { return black_holes_; }
  size_t candidate_count() const { return n_; }

 private:
  void next_step();

  std::array<uint16_t, kMaxCandidates> cand_{};  // ascending, all > base
  int n_ = 0;
  int ok_ = -1;    // largest candidate index known to work (-1: the base)
  int bad_ = 0;    // smallest candidate index known to fail (n_: none)
  int next_ = -1;  // candidate index of the next probe
  uint32_t attempts_ = 0;
  bool outstanding_ = false;
  uint64_t probe_pn_ = 0;
  size_t probe_size_ = 0;
  size_t base_ = kBase;
  size_t plpmtu_ = kBase;
  bool active_ = false;
  Time raise_at_ = kTimeInfinite;  // search done: search again then (armed lazily)
  bool raise_armed_ = false;
  uint64_t probes_sent_ = 0, black_holes_ = 0;
};

}  // namespace wt::quic
