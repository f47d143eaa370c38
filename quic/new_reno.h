// NewReno congestion control as specified by RFC 9002 §7 and Appendix B.
#pragma once
#include <cstdint>

#include "quic/window_controller.h"

namespace wt::quic {

class NewReno final : public WindowController {
 public:
  explicit NewReno(uint32_t max_datagram_size = kDefaultMaxDatagramSize)
      : WindowController(max_datagram_size) {}

  CcAlgorithm algorithm() const override { return CcAlgorithm::new_reno; }

 private:
  void grow_congestion_avoidance(uint32_t bytes, const RttEstimator& rtt, Time now) override;
  void reduce_window(Time now) override;
  void on_reset_hook() override { ca_remainder_ = 0; }
  void on_persistent_congestion_hook() override { ca_remainder_ = 0; }

  // Fractional part of the B.5 increase, so that many small ACKs add up to
  // exactly what one large ACK would give.
  uint64_t ca_remainder_ = 0;
};

}  // namespace wt::quic
