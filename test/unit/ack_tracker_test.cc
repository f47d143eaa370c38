#include <catch2/catch.hpp>

#include "quic/ack_tracker.h"

using namespace wt;
using namespace wt::quic;

static std::vector<std::pair<uint64_t, uint64_t>> ranges(const AckTracker& t) {
  std::vector<std::pair<uint64_t, uint64_t>> v;
  for (auto r : t.ranges()) v.emplace_back(r.smallest, r.largest);
  return v;
}

TEST_CASE("ack tracker merges ranges and detects duplicates", "[ack]") {
  AckTracker t;
  Time now = from_ns(1000);
  for (uint64_t pn : {1, 2, 3, 7, 5, 6, 10}) t.on_packet_received(pn, true, Ecn::not_ect, now);
  CHECK(ranges(t) == std::vector<std::pair<uint64_t, uint64_t>>{{10, 10}, {5, 7}, {1, 3}});
  t.on_packet_received(4, true, Ecn::not_ect, now);
  CHECK(ranges(t) == std::vector<std::pair<uint64_t, uint64_t>>{{10, 10}, {1, 7}});
  CHECK(t.is_duplicate(4));
  CHECK(t.is_duplicate(10));
  CHECK(!t.is_duplicate(8));
  CHECK(!t.is_duplicate(0));
  CHECK(t.largest() == 10);
}

TEST_CASE("ack timing follows RFC 9000 13.2", "[ack]") {
  AckTracker t;
  t.set_max_ack_delay(std::chrono::milliseconds(25));
  Time now = from_ns(0);
  t.on_packet_received(0, true, Ecn::not_ect, now);
  CHECK(!t.ack_due(now));  // one eliciting packet: wait for the timer
  CHECK(t.ack_deadline() == now + std::chrono::milliseconds(25));
  CHECK(t.ack_due(now + std::chrono::milliseconds(25)));
  t.on_packet_received(1, true, Ecn::not_ect, now);
  CHECK(t.ack_due(now));  // second eliciting packet: immediately
  t.on_ack_sent();
  CHECK(!t.has_unacked());
  t.on_packet_received(2, false, Ecn::not_ect, now);
  CHECK(!t.ack_due(now + std::chrono::seconds(1)));  // non-eliciting never triggers
  t.on_packet_received(5, true, Ecn::not_ect, now);  // gap: immediate
  CHECK(t.ack_due(now));
}

TEST_CASE("ack tracker bounds its ranges and honours ack-of-ack", "[ack]") {
  AckTracker t;
  Time now{};
  for (uint64_t pn = 0; pn < 1000; pn += 2) t.on_packet_received(pn, true, Ecn::ect0, now);
  CHECK(t.ranges().size() == AckTracker::kMaxRanges);
  CHECK(t.is_duplicate(1));  // below the floor: treated as duplicate
  CHECK(t.ecn().ect0 == 500);
  t.on_ack_acked(990);
  CHECK(t.ranges().size() == 4);  // 998, 996, 994, 992 remain
  CHECK(t.ranges().back().smallest == 992);
  CHECK(t.is_duplicate(989));   // at or below the acked ACK: forgotten
  CHECK(!t.is_duplicate(991));  // never received, above it
}
