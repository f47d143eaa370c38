#include "quic/new_reno.h"

namespace wt::quic {

void NewReno::grow_congestion_avoidance(uint32_t bytes, const RttEstimator& /*rtt*/,
                                        Time /*now*/) {
  // RFC 9002 B.5: cwnd += max_datagram_size * acked_bytes / cwnd, i.e. about
  // one datagram per window acknowledged (§7.3.3). The division remainder
  // is carried to the next ACK.
  const uint64_t num = uint64_t{mds_} * bytes + ca_remainder_;
  const uint64_t w = cwnd_;
  cwnd_ += num / w;
  ca_remainder_ = num % w;
}

void NewReno::reduce_window(Time /*now*/) {
  // RFC 9002 §7.3.2, B.6: kLossReductionFactor = 0.5.
  ssthresh_ = cwnd_ / 2;
  cwnd_ = ssthresh_ > min_window() ? ssthresh_ : min_window();
  ca_remainder_ = 0;
}

}  // namespace wt::quic
