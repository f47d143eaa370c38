// Congestion controller interface (RFC 9002 §7).
//
// Division of labour: the LossDetector owns the sent packets and therefore
// bytes_in_flight (it alone knows which packets left flight by ACK, loss or
// key discard). The controller keeps only its window state; it is told about
// every in-flight packet sent (with the new bytes_in_flight), every newly
// acknowledged in-flight packet (one call per packet, so the recovery period
// check of §7.3.2 is exact per packet), and congestion signals. Non-in-flight
// packets (ACK-only) are never reported.
//
// Application-limited flows (RFC 9002 §7.8): the connection calls
// on_app_limited() when it stopped sending for lack of data while the window
// had room. The controller leaves that state by itself when a send fills
// the window (bytes_in_flight + max_datagram_size > cwnd). While
// app-limited the window does not grow. Independently, the controllers
// track how much of the window each round trip actually used (from the
// bytes_in_flight of on_packet_sent) and do not grow an underused window,
// whatever held the sender back (window_controller.h), once
// set_window_validation(true) was called (connections do).
#pragma once
#include <cstdint>
#include <memory>

#include "lib/clock.h"

namespace wt::quic {

class RttEstimator;

enum class CcAlgorithm : uint8_t {
  new_reno,  // RFC 9002 §7, Appendix B
  cubic,     // RFC 9438
  // bbr: reserved
};

const char* cc_algorithm_name(CcAlgorithm a);

inline constexpr uint32_t kDefaultMaxDatagramSize = 1200;  // RFC 9002 §7.2

// RFC 9002 §7.2: min(10 * max_datagram_size, max(14720, 2 * max_datagram_size)).
constexpr uint64_t initial_congestion_window(uint32_t max_datagram_size) {
  const uint64_t mds = max_datagram_size;
  const uint64_t floor = 14720 > 2 * mds ? 14720 : 2 * mds;
  return 10 * mds < floor ? 10 * mds : floor;
}
// RFC 9002 §7.2: kMinimumWindow = 2 * max_datagram_size.
constexpr uint64_t minimum_congestion_window(uint32_t max_datagram_size) {
  return 2 * uint64_t{max_datagram_size};
}

class CongestionController {
 public:
  virtual ~CongestionController() = default;

  virtual CcAlgorithm algorithm() const = 0;

  // An in-flight packet of `bytes` was sent; `bytes_in_flight` already
  // includes it.
  virtual void on_packet_sent(uint32_t bytes, uint64_t bytes_in_flight, Time now) = 0;
  // One newly acknowledged in-flight packet, after it left bytes_in_flight.
  virtual void on_packet_acked(uint32_t bytes, Time time_sent, const RttEstimator& rtt,
                               Time now) = 0;
  // Loss of in-flight packets, or an ECN-CE increase (RFC 9002 §7.1).
  // `time_sent` is that of the newest lost (or CE-acknowledged) packet; no
  // reaction if it was sent before the current recovery period began
  // (RFC 9002 §7.3.2).
  virtual void on_congestion_event(Time time_sent, Time now) = 0;
  // RFC 9002 §7.6.2: collapse to the minimum window.
  virtual void on_persistent_congestion(Time now) = 0;
  // RFC 9002 §7.8: see the header comment.
  virtual void on_app_limited(Time now) = 0;
  // Data was waiting and the window had room, but pacing held it back:
  // RFC 9002 §7.8 counts that as a used window.
  virtual void on_pacing_limited(Time now) = 0;
  // PMTU changed (RFC 9002 §7.2): recompute the initial/minimum windows.
  virtual void set_max_datagram_size(uint32_t max_datagram_size) = 0;
  // Back to the initial window (Retry, RFC 9002 §6.3; new path, RFC 9000 §9.4).
  virtual void reset() = 0;

  virtual uint64_t cwnd() const = 0;
  virtual uint64_t ssthresh() const = 0;  // UINT64_MAX until the first reduction
  virtual bool in_slow_start() const = 0;
  // True if a packet sent at `time_sent` belongs to the current recovery
  // period (RFC 9002 §7.3.2).
  virtual bool in_recovery(Time time_sent) const = 0;
  virtual bool app_limited() const = 0;
  // The current round trip filled the window (RFC 9002 §7.8).
  virtual bool cwnd_limited() const = 0;
  // Do not grow a window the sender did not fill (RFC 9002 §7.8; RFC 7661
  // calls it congestion window validation). Off by default.
  virtual void set_window_validation(bool on) = 0;
  virtual uint32_t max_datagram_size() const = 0;

  // RFC 9002 §7: a sender MUST NOT send if bytes_in_flight >= cwnd (probes
  // and ACK-only packets excepted; that is the caller's decision).
  bool can_send(uint64_t bytes_in_flight) const { return bytes_in_flight < cwnd(); }
  uint64_t available(uint64_t bytes_in_flight) const {
    const uint64_t w = cwnd();
    return bytes_in_flight < w ? w - bytes_in_flight : 0;
  }
};

std::unique_ptr<CongestionController> make_congestion_controller(
    CcAlgorithm algorithm, uint32_t max_datagram_size = kDefaultMaxDatagramSize);

}  // namespace wt::quic
