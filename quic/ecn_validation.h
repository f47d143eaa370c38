// ECN validation of one path (RFC 9000 §13.4.2, Appendix A.4), sans-I/O.
//
// The sender marks 1-RTT packets ECT(0) while testing (the first few
// packets) and once the path proved ECN-capable; it checks the peer's ECN
// counts in ACK frames against the packets it marked. Validation fails (and
// marking stops) if counts are missing for acknowledged ECT packets (ECN
// bleached, or a peer that does not report), do not grow with them, exceed
// what was sent, or every testing packet was lost (A.4).
#pragma once
#include <cstdint>
#include <vector>

#include "lib/address.h"
#include "quic/frame.h"

namespace wt::quic {

class EcnValidator {
 public:
  enum class State : uint8_t {
    testing,   // marking the first kTestingPackets packets
    unknown,   // waiting for the testing packets' acknowledgements, not marking
    capable,   // validated: marking every packet
    failed,    // validation failed: not marking, counts ignored
    disabled,  // by configuration
  };
  static constexpr uint64_t kTestingPackets = 10;  // RFC 9000 A.4

  explicit EcnValidator(bool enabled = true) { reset_path(enabled); }

  // A new path starts testing again (RFC 9000 §13.4.2); counts stay, as
  // they are per packet number space.
  void reset_path(bool enabled);
  State state() const { return state_; }
  static const char* state_name(State s);

  // The codepoint for the next batch of 1-RTT packets.
  Ecn mark() const {
    return state_ == State::testing || state_ == State::capable ? Ecn::ect0 : Ecn::not_ect;
  }
  // `count` 1-RTT packets from `first_pn` on were sent with `ecn`.
  void on_sent(uint64_t first_pn, uint64_t count, Ecn ecn);
  bool was_marked(uint64_t pn) const;
  uint64_t ect0_sent() const { return ect0_sent_; }

  // An ACK frame of the application space: `counts` null for type 0x02;
  // `newly_acked_ect` packets it newly acknowledges were sent ECT(0);
  // `largest_increased`: it raised the largest acknowledged (reordered ACKs
  // are not validated, RFC 9000 §13.4.2.1). Returns the CE increase the
  // congestion controller may react to (0 when counts are not trusted).
  uint64_t on_ack(const EcnCounts* counts, uint64_t newly_acked_ect, bool largest_increased);
  // A marked packet sent while testing was declared lost.
  void on_marked_lost();
  // Whether ACK ECN counts should reach the congestion controller.
  bool counts_trusted() const { return state_ != State::failed && state_ != State::disabled; }
  const EcnCounts& last_counts() const { return last_; }

 private:
  void fail() { state_ = State::failed; }

  struct Range {
    uint64_t first, last;  // inclusive
  };
  static constexpr size_t kMaxRanges = 32;
  std::vector<Range> marked_;  // ascending
  State state_ = State::testing;
  uint64_t ect0_sent_ = 0;     // whole space, for the upper-bound check
  uint64_t testing_sent_ = 0;  // marked on this path while testing
  uint64_t testing_lost_ = 0;
  EcnCounts last_;
};

}  // namespace wt::quic
