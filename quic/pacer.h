// Pacing (RFC 9002 §7.7): a token bucket filled at
// rate = N * cwnd / smoothed_rtt (N = 1.25 by default) and holding at most
// `burst_packets` full-sized datagrams, so the I/O layer can send a GSO batch
// at once and sleep until the next deadline instead of spinning.
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
    uint32_t burst_packets = 10;  // RFC 9002 §7.7: bursts up to the initial window
  };

  explicit Pacer(uint32_t max_datagram_size = 1200) : Pacer(max_datagram_size, Config{}) {}
  Pacer(uint32_t max_datagram_size, Config config);

  // Rate from the window and RTT; tokens accumulated so far at the old rate
  // are settled at `now` first. srtt == 0 disables pacing.
  void set_rate(uint64_t cwnd, Duration smoothed_rtt, Time now);
  void set_max_datagram_size(uint32_t max_datagram_size);

  // Earliest time `bytes` may be sent: `now` if the bucket holds them (a
  // request above the burst capacity needs a full bucket). Never earlier
  // than `now`.
  Time next_send_time(uint32_t bytes, Time now) const;
  // Spend tokens. Sending without tokens (probes) leaves a debt of at most
  // one burst.
  void on_packet_sent(uint32_t bytes, Time now);

  // Bytes per second, for logging.
  double rate() const { return paced() ? window_ * 1e9 / srtt_ns_ : 0; }
  uint64_t burst_bytes() const { return uint64_t{config_.burst_packets} * mds_; }
  // Tokens available at `now`.
  double tokens(Time now) const;

 private:
  Config config_;
  uint32_t mds_;
  bool paced() const { return srtt_ns_ > 0 && window_ > 0; }

  // rate = window_ / srtt_ns_ bytes per ns, kept as a ratio so that round
  // numbers stay exact.
  double window_ = 0;   // N * cwnd
  double srtt_ns_ = 0;  // 0: unpaced
  double tokens_;
  Time last_{};
  bool has_last_ = false;
};

}  // namespace wt::quic
