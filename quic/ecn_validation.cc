#include "quic/ecn_validation.h"

#include <algorithm>

namespace wt::quic {

const char* EcnValidator::state_name(State s) {
  switch (s) {
    case State::testing:
      return "testing";
    case State::unknown:
      return "unknown";
    case State::capable:
      return "capable";
    case State::failed:
      return "failed";
    case State::disabled:
      return "disabled";
  }
  return "?";
}

void EcnValidator::reset_path(bool enabled) {
  state_ = enabled ? State::testing : State::disabled;
  testing_sent_ = 0;
  testing_lost_ = 0;
}

void EcnValidator::on_sent(uint64_t first_pn, uint64_t count, Ecn ecn) {
  if (count == 0 || ecn != Ecn::ect0) return;
  ect0_sent_ += count;
  if (state_ == State::testing) {
    testing_sent_ += count;
    // RFC 9000 A.4: after the testing packets, stop marking until the
    // acknowledgements tell whether the path carries ECN.
    if (testing_sent_ >= kTestingPackets) state_ = State::unknown;
  }
  const uint64_t last = first_pn + count - 1;
  if (!marked_.empty() && marked_.back().last + 1 == first_pn) {
    marked_.back().last = last;
    return;
  }
  // Old ranges are long settled; forgetting them only makes a very late
  // acknowledgement count as unmarked, which the >= check tolerates.
  if (marked_.size() >= kMaxRanges) marked_.erase(marked_.begin());
  marked_.push_back({first_pn, last});
}

bool EcnValidator::was_marked(uint64_t pn) const {
  auto it = std::lower_bound(marked_.begin(), marked_.end(), pn,
                             [](const Range& r, uint64_t v) { return r.last < v; });
  return it != marked_.end() && it->first <= pn;
}

uint64_t EcnValidator::on_ack(const EcnCounts* counts, uint64_t newly_acked_ect,
                              bool largest_increased) {
  if (!counts_trusted()) return 0;
  if (!counts) {
    // RFC 9000 §13.4.2.1: acknowledged ECT packets without ECN counts: the
    // codepoint was cleared on the way, or the peer does not report.
    if (newly_acked_ect > 0) fail();
    return 0;
  }
  // RFC 9000 §13.4.2.1: reordered ACK frames are not validated.
  if (!largest_increased) return 0;
  // Counts of a codepoint we never sent, more packets than we marked, or
  // counts that went backwards.
  if (counts->ect1 > 0 || counts->ect0 + counts->ce > ect0_sent_ || counts->ect0 < last_.ect0 ||
      counts->ce < last_.ce) {
    fail();
    return 0;
  }
  const uint64_t d_ect0 = counts->ect0 - last_.ect0;
  const uint64_t d_ce = counts->ce - last_.ce;
  // RFC 9000 §13.4.2.1: the increase must cover the newly acknowledged
  // ECT(0) packets (more is fine: lost ACKs).
  if (d_ect0 + d_ce < newly_acked_ect) {
    fail();
    return 0;
  }
  last_ = *counts;
  if ((state_ == State::testing || state_ == State::unknown) && newly_acked_ect > 0)
    state_ = State::capable;
  return d_ce;
}

void EcnValidator::on_marked_lost() {
  if (state_ != State::testing && state_ != State::unknown) return;
  ++testing_lost_;
  // RFC 9000 A.4: every testing packet lost: the path may drop ECT packets.
  if (state_ == State::unknown && testing_lost_ >= testing_sent_) fail();
}

}  // namespace wt::quic
