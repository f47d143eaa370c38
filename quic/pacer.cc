#include "quic/pacer.h"

#include <algorithm>
#include <cmath>

namespace wt::quic {

Pacer::Pacer(uint32_t max_datagram_size, Config config)
    : config_(config), mds_(max_datagram_size ? max_datagram_size : 1200) {
  if (config_.burst_packets == 0) config_.burst_packets = 1;
  resize();
  tokens_ = static_cast<double>(burst_);
}

void Pacer::resize() {
  const double least = static_cast<double>(config_.burst_packets) * mds_;
  if (!paced()) {
    burst_ = static_cast<uint64_t>(least);
    quantum_ = mds_;
    return;
  }
  const double per_ns = window_ / srtt_ns_;
  // RFC 9002 §7.7 limits bursts to the initial window unless the path is
  // known to absorb more; about 1 ms of the pacing rate is what Linux TCP
  // hands its NIC in one TSO burst. Never more than the (paced) window.
  const double by_time = per_ns * static_cast<double>(config_.burst_time.count());
  const double burst = std::max(least, std::min(by_time, window_));
  burst_ = static_cast<uint64_t>(burst);
  const double q = per_ns * static_cast<double>(config_.quantum_time.count());
  quantum_ = static_cast<uint64_t>(std::clamp(q, static_cast<double>(mds_), burst));
}

double Pacer::tokens(Time now) const {
  const double cap = static_cast<double>(burst_);
  if (!paced()) return cap;
  if (!has_last_ || now <= last_) return std::min(tokens_, cap);
  const double refill = static_cast<double>((now - last_).count()) * window_ / srtt_ns_;
  return std::min(tokens_ + refill, cap);
}

void Pacer::set_rate(uint64_t cwnd, Duration smoothed_rtt, Time now) {
  tokens_ = tokens(now);
  last_ = std::max(last_, now);
  has_last_ = true;
  // RFC 9002 §7.7: rate = N * congestion_window / smoothed_rtt.
  window_ = config_.n * static_cast<double>(cwnd);
  srtt_ns_ = static_cast<double>(std::max<int64_t>(smoothed_rtt.count(), 0));
  resize();
}

void Pacer::set_max_datagram_size(uint32_t max_datagram_size) {
  if (max_datagram_size == 0 || max_datagram_size == mds_) return;
  mds_ = max_datagram_size;
  resize();
  tokens_ = std::min(tokens_, static_cast<double>(burst_));
}

Time Pacer::next_send_time(uint32_t bytes, Time now) const {
  if (!paced()) return now;
  const double cap = static_cast<double>(burst_);
  const double need = std::min(static_cast<double>(bytes), cap);
  const double have = tokens(now);
  // Releases come in batches: after the bucket ran empty, a quantum.
  const double target = std::min(std::max(need, static_cast<double>(quantum_)), cap);
  // Tolerance for floating-point rounding of the refill at the computed time.
  if (have + 1e-6 >= (refilling_ ? target : need)) return now;
  // The 1e-3 ns slack absorbs rounding so exact waits do not gain 1 ns.
  const double wait_ns = std::ceil((target - have) * srtt_ns_ / window_ - 1e-3);
  // Saturate absurd waits (tiny rates) instead of overflowing.
  if (wait_ns >= 3.6e12) return now + std::chrono::hours(1);
  return now + Duration{static_cast<int64_t>(wait_ns)};
}

void Pacer::on_packet_sent(uint32_t bytes, Time now) {
  if (!paced()) return;
  tokens_ = tokens(now) - static_cast<double>(bytes);
  tokens_ = std::max(tokens_, -static_cast<double>(burst_));
  refilling_ = tokens_ < static_cast<double>(mds_);
  last_ = std::max(last_, now);
  has_last_ = true;
}

}  // namespace wt::quic
