// Pacing (RFC 9002 §7.7): a token bucket filled at
// rate = N * cwnd / smoothed_rtt (N = 1.25 by default).
//
// The bucket holds about `burst_time` (1 ms) of the rate, at least
// `burst_packets` full-sized datagrams (the initial window) and at most the
// paced window N * cwnd, so at high rates the I/O layer gets whole GSO
// batches (several per loop iteration) instead of a timer per ten packets;
// at low rates it is the RFC's initial-window burst. Once the bucket is
// empty (less than a datagram left after a send), sending resumes only when
// `quantum_time` of the rate (at least the requested bytes) has refilled:
// fewer, larger releases, so the driver does not wake up, or squeeze out a
// lone datagram after every ACK, per datagram. Linux TCP sizes its TSO
// bursts the same way (about 1 ms of the pacing rate).
//
// Use: set_rate() whenever cwnd or smoothed_rtt changed (after ACKs), ask
// next_send_time() before building a packet (or a batch: pass its total
// size), call on_packet_sent() for every in-flight packet sent.
#pragma once
#include <cstdint>

#include "lib/clock.h"

namespace wt::quic {

class Pacer {
 public:
  struct Config {
    double n = 1.25;              // RFC 9002 §7.7 suggests N = 1.25
    uint32_t burst_packets = 10;  // least burst: the initial window (RFC 9002 §7.7)
    Duration burst_time = std::chrono::milliseconds(1);   // bucket size in time at the rate
    Duration quantum_time = std::chrono::microseconds(250);  // refill before resuming
  };

  explicit Pacer(uint32_t max_datagram_size = 1200) : Pacer(max_datagram_size, Config{}) {}
  Pacer(uint32_t max_datagram_size, Config config);

  // Rate from the window and RTT; tokens accumulated so far at the old rate
  // are settled at `now` first. srtt == 0 disables pacing.
  void set_rate(uint64_t cwnd, Duration smoothed_rtt, Time now);
  void set_max_datagram_size(uint32_t max_datagram_size);

  // Earliest time `bytes` may be sent: `now` if the bucket holds them (and,
  // after it ran empty, a quantum). Otherwise when it holds
  // max(bytes, quantum_bytes()), capped at the burst capacity. Never
  // earlier than `now`.
  Time next_send_time(uint32_t bytes, Time now) const;
  // Spend tokens. Sending without tokens (probes) leaves a debt of at most
  // one burst.
  void on_packet_sent(uint32_t bytes, Time now);

  // Bytes per second, for logging.
  double rate() const { return paced() ? window_ * 1e9 / srtt_ns_ : 0; }
  // Bucket capacity.
  uint64_t burst_bytes() const { return burst_; }
  // Tokens a release after an empty bucket waits for (<= burst_bytes()).
  uint64_t quantum_bytes() const { return quantum_; }
  // Tokens available at `now`.
  double tokens(Time now) const;

 private:
  void resize();
  bool paced() const { return srtt_ns_ > 0 && window_ > 0; }

  Config config_;
  uint32_t mds_;
  // rate = window_ / srtt_ns_ bytes per ns, kept as a ratio so that round
  // numbers stay exact.
  double window_ = 0;   // N * cwnd
  double srtt_ns_ = 0;  // 0: unpaced
  uint64_t burst_ = 0, quantum_ = 0;
  double tokens_;
  bool refilling_ = false;  // ran empty: wait for a quantum
  Time last_{};
  bool has_last_ = false;
};

}  // namespace wt::quic
