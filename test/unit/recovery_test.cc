// Loss recovery: RFC 9002 RTT estimation, loss detection, PTO, key discard,
// persistent congestion, as seen through the LossDetector. The controllers
// and the pacer alone are in congestion_test.cc. Expected numbers are worked
// out from the RFC formulas in the comments.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <map>
#include <vector>

#include "lib/random.h"

#include "quic/loss_detector.h"
#include "quic/rtt_estimator.h"

using namespace wt;
using namespace wt::quic;

namespace {

constexpr Duration ms(int64_t v) { return std::chrono::milliseconds(v); }
constexpr Duration us(int64_t v) { return std::chrono::microseconds(v); }
constexpr Time at(int64_t millis) { return Time{} + ms(millis); }
constexpr Time at_us(int64_t micros) { return Time{} + us(micros); }

SentPacket packet(uint64_t pn, uint32_t bytes = 1200, bool ack_eliciting = true,
                  bool in_flight = true) {
  SentPacket p;
  p.pn = pn;
  p.bytes = bytes;
  p.ack_eliciting = ack_eliciting;
  p.in_flight = in_flight;
  p.frames.push_back(SentFrame{SentFrame::Kind::stream, false, 4, pn * 100, 100});
  return p;
}

std::vector<uint64_t> pns(const std::vector<SentPacket>& v) {
  std::vector<uint64_t> out;
  for (const SentPacket& p : v) out.push_back(p.pn);
  return out;
}

LossDetectorConfig server_reno() {
  LossDetectorConfig c;
  c.is_server = true;
  c.congestion = CcAlgorithm::new_reno;
  return c;
}

struct Harness {
  explicit Harness(LossDetectorConfig c = server_reno()) : ld(c) {}
  LossDetector ld;
  AckOutcome ack_out;
  TimeoutOutcome to;

  // Non-ack-eliciting packets are ACK-only here: not in flight.
  void send(PnSpace s, uint64_t pn, Time now, uint32_t bytes = 1200, bool eliciting = true) {
    ld.on_packet_sent(s, packet(pn, bytes, eliciting, eliciting), now);
  }
  Status ack(PnSpace s, std::initializer_list<AckRange> ranges, Time now,
             Duration ack_delay = Duration{0}, const EcnCounts* ecn = nullptr) {
    std::vector<AckRange> v(ranges);
    return ld.on_ack_received(s, v, ack_delay, ecn, now, ack_out);
  }
  void timeout(Time now) { ld.on_timeout(now, to); }
};

constexpr auto kApp = PnSpace::application;
constexpr auto kInitial = PnSpace::initial;
constexpr auto kHandshake = PnSpace::handshake;

}  // namespace

// ------------------------------------------------------------------- RTT

TEST_CASE("RTT estimator: initial values (RFC 9002 §5.3, §6.2.2)", "[recovery]") {
  RttEstimator r;
  CHECK(!r.has_sample());
  CHECK(r.smoothed_rtt() == ms(333));
  CHECK(r.rttvar() == us(166500));
  CHECK(r.min_rtt() == Duration{0});
  // PTO base = 333 + 4 * 166.5 = 999 ms.
  CHECK(r.pto_base() == ms(999));

  RttEstimator custom(ms(100));
  CHECK(custom.smoothed_rtt() == ms(100));
  CHECK(custom.rttvar() == ms(50));
  custom.set_initial_rtt(ms(40));
  CHECK(custom.smoothed_rtt() == ms(40));
  CHECK(custom.rttvar() == ms(20));
}

TEST_CASE("RTT estimator: first sample ignores ack_delay, then EWMA", "[recovery]") {
  RttEstimator r;
  r.update(ms(100), ms(50), false, at(1000));
  CHECK(r.has_sample());
  CHECK(r.first_sample_time() == at(1000));
  CHECK(r.latest_rtt() == ms(100));
  CHECK(r.min_rtt() == ms(100));
  CHECK(r.smoothed_rtt() == ms(100));
  CHECK(r.rttvar() == ms(50));

  // latest 150, ack_delay 20: 150 >= 100 + 20, adjusted = 130.
  // rttvar = 3/4*50 + 1/4*|100-130| = 45; srtt = 7/8*100 + 1/8*130 = 103.75.
  r.update(ms(150), ms(20), false, at(1100));
  CHECK(r.min_rtt() == ms(100));
  CHECK(r.rttvar() == ms(45));
  CHECK(r.smoothed_rtt() == us(103750));

  // set_initial_rtt no longer applies.
  r.set_initial_rtt(ms(1));
  CHECK(r.smoothed_rtt() == us(103750));
}

TEST_CASE("RTT estimator: ack_delay capped by max_ack_delay once confirmed", "[recovery]") {
  RttEstimator r;
  r.set_max_ack_delay(ms(25));
  r.update(ms(100), Duration{0}, false, at(0));

  SECTION("handshake confirmed: min(50, 25) = 25 subtracted") {
    // adjusted = 200 - 25 = 175; rttvar = (3*50 + 75)/4 = 56.25;
    // srtt = (7*100 + 175)/8 = 109.375.
    r.update(ms(200), ms(50), true, at(300));
    CHECK(r.rttvar() == us(56250));
    CHECK(r.smoothed_rtt() == us(109375));
  }
  SECTION("not confirmed: the full 50 ms is used") {
    // adjusted = 150; rttvar = (150 + 50)/4 = 50; srtt = (700 + 150)/8 = 106.25.
    r.update(ms(200), ms(50), false, at(300));
    CHECK(r.rttvar() == ms(50));
    CHECK(r.smoothed_rtt() == us(106250));
  }
}

TEST_CASE("RTT estimator: ack_delay never takes the sample below min_rtt", "[recovery]") {
  RttEstimator r;
  r.update(ms(100), Duration{0}, true, at(0));
  // 110 < min_rtt 100 + ack_delay 20: the sample stays 110.
  // rttvar = (150 + 10)/4 = 40; srtt = (700 + 110)/8 = 101.25.
  r.update(ms(110), ms(20), true, at(200));
  CHECK(r.rttvar() == ms(40));
  CHECK(r.smoothed_rtt() == us(101250));
  // min_rtt ignores ack_delay: an 80 ms sample with 30 ms delay sets 80.
  r.update(ms(80), ms(30), true, at(300));
  CHECK(r.min_rtt() == ms(80));
  // Persistent congestion: min_rtt restarts from the newest sample.
  r.update(ms(120), Duration{0}, true, at(400));
  r.on_persistent_congestion();
  CHECK(r.min_rtt() == ms(120));
}

// ---------------------------------------------------------- acknowledgment

TEST_CASE("Loss detector: ACK moves packets out with their frames", "[recovery]") {
  Harness h;
  h.ld.set_handshake_confirmed(at(0));
  for (uint64_t pn = 0; pn < 5; ++pn) h.send(kApp, pn, at(static_cast<int64_t>(pn)));
  CHECK(h.ld.bytes_in_flight() == 6000);
  CHECK(h.ld.ack_eliciting_in_flight() == 5);
  CHECK(h.ld.ack_eliciting_in_flight(kApp) == 5);
  CHECK(h.ld.last_ack_eliciting_sent(kApp) == at(4));
  CHECK(h.ld.last_ack_eliciting_sent() == at(4));

  REQUIRE(h.ack(kApp, {{3, 4}, {0, 1}}, at(54)).ok());
  CHECK(pns(h.ack_out.acked) == std::vector<uint64_t>{0, 1, 3, 4});
  REQUIRE(h.ack_out.acked.back().frames.size() == 1);
  CHECK(h.ack_out.acked.back().frames[0].offset == 400);
  CHECK(h.ack_out.lost.empty());
  CHECK(h.ack_out.rtt_sampled);
  CHECK(h.ld.rtt().latest_rtt() == ms(50));  // 54 - 4
  CHECK(h.ld.bytes_in_flight() == 1200);
  CHECK(h.ld.outstanding(kApp) == 1);
  CHECK(h.ld.largest_acked(kApp) == 4);

  // A duplicate ACK changes nothing and takes no RTT sample.
  REQUIRE(h.ack(kApp, {{3, 4}}, at(60)).ok());
  CHECK(h.ack_out.acked.empty());
  CHECK(!h.ack_out.rtt_sampled);
  CHECK(h.ld.rtt().latest_rtt() == ms(50));
}

TEST_CASE("Loss detector: RTT sample needs the largest newly acked and ack-eliciting",
          "[recovery]") {
  Harness h;
  h.ld.set_handshake_confirmed(at(0));
  h.send(kApp, 0, at(0));
  h.send(kApp, 1, at(20), 50, /*eliciting=*/false);  // ACK-only
  h.send(kApp, 2, at(20));

  // Largest (2) newly acked, ack-eliciting: sample 100 - 20 = 80.
  REQUIRE(h.ack(kApp, {{2, 2}, {0, 0}}, at(100)).ok());
  CHECK(h.ack_out.rtt_sampled);
  CHECK(h.ld.rtt().latest_rtt() == ms(80));
  CHECK(h.ack_out.lost.empty());  // 1 was sent at 20 > 100 - 9/8 * 80
  // Only a non-ack-eliciting packet newly acked: no sample.
  REQUIRE(h.ack(kApp, {{0, 2}}, at(150)).ok());
  CHECK(pns(h.ack_out.acked) == std::vector<uint64_t>{1});
  CHECK(!h.ack_out.rtt_sampled);
  CHECK(h.ld.rtt().latest_rtt() == ms(80));
  // Newly acked ack-eliciting packet, but not the largest: no sample.
  h.send(kApp, 3, at(150));
  h.send(kApp, 4, at(160));
  REQUIRE(h.ack(kApp, {{4, 4}}, at(200)).ok());
  CHECK(h.ld.rtt().latest_rtt() == ms(40));
  REQUIRE(h.ack(kApp, {{3, 4}}, at(260)).ok());
  CHECK(pns(h.ack_out.acked) == std::vector<uint64_t>{3});
  CHECK(!h.ack_out.rtt_sampled);
  CHECK(h.ld.rtt().latest_rtt() == ms(40));
}

TEST_CASE("Loss detector: Initial ACK delay is ignored, others capped", "[recovery]") {
  Harness h;
  h.ld.set_peer_max_ack_delay(ms(25));
  h.send(kInitial, 0, at(0));
  h.send(kInitial, 1, at(100));
  REQUIRE(h.ack(kInitial, {{0, 0}}, at(100)).ok());  // first sample 100
  // Initial: 40 ms of ack_delay ignored -> sample 200 - 100 = 100 stays 100.
  REQUIRE(h.ack(kInitial, {{1, 1}}, at(200), ms(40)).ok());
  CHECK(h.ld.rtt().smoothed_rtt() == ms(100));

  h.ld.set_handshake_confirmed(at(200));
  h.send(kApp, 0, at(200));
  // App after confirmation: sample 300 - 200 = 100 < min_rtt 100 + min(40, 25),
  // so nothing is subtracted and srtt stays 100.
  REQUIRE(h.ack(kApp, {{0, 0}}, at(300), ms(40)).ok());
  CHECK(h.ld.rtt().smoothed_rtt() == ms(100));
  h.send(kApp, 1, at(300));
  // 440 - 300 = 140; 140 >= 100 + 25: adjusted 115 -> srtt = (700 + 115)/8.
  REQUIRE(h.ack(kApp, {{1, 1}}, at(440), ms(40)).ok());
  CHECK(h.ld.rtt().smoothed_rtt() == us(101875));
}

TEST_CASE("Loss detector: ACK of a packet never sent is a PROTOCOL_VIOLATION", "[recovery]") {
  Harness h;
  SECTION("nothing sent in the space") {
    Status st = h.ack(kHandshake, {{0, 0}}, at(10));
    REQUIRE(!st.ok());
    CHECK(st.error().is(TransportError::protocol_violation));
    CHECK(st.error().frame_type == 0x02);
  }
  SECTION("beyond the largest sent") {
    for (uint64_t pn = 0; pn < 3; ++pn) h.send(kApp, pn, at(0));
    EcnCounts ecn{1, 0, 0};
    Status st = h.ack(kApp, {{0, 5}}, at(10), Duration{0}, &ecn);
    REQUIRE(!st.ok());
    CHECK(st.error().is(TransportError::protocol_violation));
    CHECK(st.error().frame_type == 0x03);
    // Nothing changed.
    CHECK(h.ld.bytes_in_flight() == 3600);
    CHECK(!h.ld.has_largest_acked(kApp));
  }
  SECTION("a skipped packet number") {
    h.send(kApp, 0, at(0));
    h.send(kApp, 1, at(0));
    h.send(kApp, 3, at(0));  // 2 skipped (RFC 9000 §21.4)
    Status st = h.ack(kApp, {{0, 3}}, at(10));
    REQUIRE(!st.ok());
    CHECK(st.error().is(TransportError::protocol_violation));
    CHECK(h.ld.bytes_in_flight() == 3600);
    REQUIRE(h.ack(kApp, {{3, 3}, {0, 1}}, at(10)).ok());
    CHECK(pns(h.ack_out.acked) == std::vector<uint64_t>{0, 1, 3});
    CHECK(h.ld.bytes_in_flight() == 0);
  }
  SECTION("malformed ranges") {
    for (uint64_t pn = 0; pn < 6; ++pn) h.send(kApp, pn, at(0));
    Status st = h.ack(kApp, {{0, 1}, {3, 4}}, at(10));  // ascending
    REQUIRE(!st.ok());
    CHECK(st.error().is(TransportError::frame_encoding_error));
    st = h.ack(kApp, {{4, 3}}, at(10));
    REQUIRE(!st.ok());
    CHECK(st.error().is(TransportError::frame_encoding_error));
    st = h.ld.on_ack_received(kApp, std::span<const AckRange>{}, Duration{0}, nullptr, at(10),
                              h.ack_out);
    CHECK(!st.ok());
  }
}

TEST_CASE("Loss detector: ACK frame ranges walked in place", "[recovery]") {
  Harness h;
  for (uint64_t pn = 0; pn < 6; ++pn) h.send(kApp, pn, at(0));
  // Ranges [4,5] and [0,1]: first_ack_range 1, then gap 1 (4 - 1 - 2 = 1)
  // and length 1 (RFC 9000 §19.3.1).
  static const uint8_t pairs[] = {0x01, 0x01};
  AckFrame f;
  f.largest_acknowledged = 5;
  f.first_ack_range = 1;
  f.range_count = 1;
  f.encoded_ranges = Bytes{pairs};
  REQUIRE(h.ld.on_ack_received(kApp, f, Duration{0}, at(30), h.ack_out).ok());
  CHECK(pns(h.ack_out.acked) == std::vector<uint64_t>{0, 1, 4, 5});
  // 2 is lost by packet threshold (5 >= 2 + 3); 3 is not (5 < 6).
  CHECK(pns(h.ack_out.lost) == std::vector<uint64_t>{2});

  f.largest_acknowledged = 9;
  f.range_count = 0;
  Status st = h.ld.on_ack_received(kApp, f, Duration{0}, at(40), h.ack_out);
  REQUIRE(!st.ok());
  CHECK(st.error().is(TransportError::protocol_violation));
}

// ---------------------------------------------------------- loss detection

TEST_CASE("Loss detector: packet and time thresholds (RFC 9002 §6.1)", "[recovery]") {
  Harness h;
  h.ld.set_handshake_confirmed(at(0));
  for (int64_t pn = 0; pn < 5; ++pn) h.send(kApp, static_cast<uint64_t>(pn), at(pn));

  // ACK of 3..4 at 100 ms. Packet threshold: 4 >= pn + 3 for pn 0 and 1.
  // RTT sample 100 - 4 = 96 ms (first), loss_delay = 9/8 * 96 = 108 ms:
  // pn 2 (sent at 2 ms) is not yet lost, its loss time is 2 + 108 = 110 ms.
  REQUIRE(h.ack(kApp, {{3, 4}}, at(100)).ok());
  CHECK(pns(h.ack_out.acked) == std::vector<uint64_t>{3, 4});
  CHECK(pns(h.ack_out.lost) == std::vector<uint64_t>{0, 1});
  CHECK(h.ack_out.lost[1].frames.size() == 1);
  CHECK(h.ack_out.congestion_event);
  CHECK(h.ld.loss_detection_timer() == at(110));
  CHECK(h.ld.bytes_in_flight() == 1200);

  h.timeout(at(109));
  CHECK(h.to.kind == TimeoutOutcome::Kind::none);
  h.timeout(at(110));
  CHECK(h.to.kind == TimeoutOutcome::Kind::loss);
  CHECK(h.to.space == kApp);
  CHECK(pns(h.to.lost) == std::vector<uint64_t>{2});
  CHECK(h.ld.bytes_in_flight() == 0);
  CHECK(h.ld.loss_detection_timer() == kTimeInfinite);
  CHECK(h.ld.stats().packets_lost == 3);
  // One congestion event: the second loss was sent before recovery began.
  CHECK(h.ld.stats().congestion_events == 1);
  CHECK(h.ld.congestion().cwnd() == 6000);
}

TEST_CASE("Loss detector: time threshold uses max(latest, smoothed) and 1 ms granularity",
          "[recovery]") {
  Harness h;
  h.ld.set_handshake_confirmed(at(0));
  // Tiny RTT: 9/8 * 0.5 ms < 1 ms, so the 1 ms granularity applies.
  h.ld.on_packet_sent(kApp, packet(0), at_us(0));
  h.ld.on_packet_sent(kApp, packet(1), at_us(100));
  REQUIRE(h.ack(kApp, {{1, 1}}, at_us(600)).ok());
  CHECK(h.ld.rtt().smoothed_rtt() == us(500));
  CHECK(h.ack_out.lost.empty());
  CHECK(h.ld.loss_detection_timer() == at_us(1000));  // 0 + max(562.5 us, 1 ms)
}

// ------------------------------------------------------------------- PTO

TEST_CASE("Loss detector: PTO with backoff, reset by an ACK (RFC 9002 §6.2)", "[recovery]") {
  Harness h;
  h.ld.set_peer_max_ack_delay(ms(25));
  h.ld.set_handshake_confirmed(at(0));
  h.send(kApp, 0, at(0));
  // No sample: smoothed 333, rttvar 166.5 -> 999 ms; App adds max_ack_delay.
  CHECK(h.ld.loss_detection_timer() == at(1024));

  h.timeout(at(1023));
  CHECK(h.to.kind == TimeoutOutcome::Kind::none);
  h.timeout(at(1024));
  CHECK(h.to.kind == TimeoutOutcome::Kind::pto);
  CHECK(h.to.space == kApp);
  CHECK(h.to.probes == 2);
  CHECK(!h.to.anti_deadlock);
  CHECK(h.ld.pto_count() == 1);
  // Backoff doubles both terms: 0 + 2 * (999 + 25).
  CHECK(h.ld.loss_detection_timer() == at(2048));
  // A probe restarts the timer from its send time.
  h.send(kApp, 1, at(1024));
  CHECK(h.ld.loss_detection_timer() == at(1024 + 2048));
  h.timeout(at(3072));
  CHECK(h.to.kind == TimeoutOutcome::Kind::pto);
  CHECK(h.ld.pto_count() == 2);
  CHECK(h.ld.loss_detection_timer() == at(1024 + 4096));
  CHECK(h.ld.stats().pto_count == 2);
  // Probes carried no loss declaration: still in flight.
  CHECK(h.ld.bytes_in_flight() == 2400);

  // ACK of the probe: pto_count resets. RTT 3100 - 1024 = 2076 ms, loss
  // delay 9/8 of it: pn 0 (sent at 0 <= 3100 - 2335.5) is lost.
  REQUIRE(h.ack(kApp, {{1, 1}}, at(3100)).ok());
  CHECK(h.ld.pto_count() == 0);
  CHECK(pns(h.ack_out.lost) == std::vector<uint64_t>{0});
  CHECK(h.ld.loss_detection_timer() == kTimeInfinite);
}

TEST_CASE("Loss detector: PTO per space, Application only once confirmed", "[recovery]") {
  Harness h;
  h.send(kApp, 0, at(0));
  CHECK(h.ld.loss_detection_timer() == kTimeInfinite);  // §6.2.1
  h.send(kInitial, 0, at(5));
  h.send(kHandshake, 0, at(10));
  // Initial and Handshake PTOs exclude max_ack_delay: 5 + 999.
  CHECK(h.ld.loss_detection_timer() == at(1004));
  h.timeout(at(1004));
  CHECK(h.to.kind == TimeoutOutcome::Kind::pto);
  CHECK(h.to.space == kInitial);

  h.ld.discard_space(kInitial, at(1004));
  CHECK(h.ld.pto_count() == 0);  // A.11 resets the backoff
  CHECK(h.ld.loss_detection_timer() == at(1009));
  h.ld.discard_space(kHandshake, at(1004));
  CHECK(h.ld.loss_detection_timer() == kTimeInfinite);
  h.ld.set_handshake_confirmed(at(1004));
  CHECK(h.ld.loss_detection_timer() == at(1024));  // 0 + 999 + 25
}

TEST_CASE("Loss detector: client anti-deadlock PTO (RFC 9002 §6.2.2.1)", "[recovery]") {
  LossDetectorConfig c;
  c.is_server = false;
  Harness h(c);
  h.send(kInitial, 0, at(0));
  REQUIRE(h.ack(kInitial, {{0, 0}}, at(50)).ok());
  // Nothing in flight but the server may still be amplification-blocked:
  // timer = now + PTO = 50 + (50 + 4 * 25).
  CHECK(h.ld.ack_eliciting_in_flight() == 0);
  CHECK(h.ld.loss_detection_timer() == at(200));
  h.timeout(at(200));
  CHECK(h.to.kind == TimeoutOutcome::Kind::pto);
  CHECK(h.to.anti_deadlock);
  CHECK(h.to.probes == 1);
  CHECK(h.to.space == kInitial);
  CHECK(h.ld.loss_detection_timer() == at(200 + 300));

  h.ld.set_has_handshake_keys(true, at(210));
  h.timeout(at(510));
  CHECK(h.to.space == kHandshake);

  // Handshake ACK received: the server validated us, nothing to arm.
  h.send(kHandshake, 0, at(520));
  REQUIRE(h.ack(kHandshake, {{0, 0}}, at(570)).ok());
  CHECK(h.ld.peer_completed_address_validation());
  CHECK(h.ld.pto_count() == 0);
  CHECK(h.ld.loss_detection_timer() == kTimeInfinite);
}

TEST_CASE("Loss detector: server blocked by amplification arms no PTO", "[recovery]") {
  Harness h;
  h.send(kInitial, 0, at(0));
  CHECK(h.ld.loss_detection_timer() == at(999));
  h.ld.set_amplification_limited(true, at(1));
  CHECK(h.ld.loss_detection_timer() == kTimeInfinite);
  h.ld.set_amplification_limited(false, at(2000));
  // Re-armed in the past: fires at once (§6.2.2.1).
  CHECK(h.ld.loss_detection_timer() == at(999));
  h.timeout(at(2000));
  CHECK(h.to.kind == TimeoutOutcome::Kind::pto);
}

// ------------------------------------------------------- discarded spaces

TEST_CASE("Loss detector: discarding a space drops its packets without loss", "[recovery]") {
  Harness h;
  h.send(kInitial, 0, at(0));
  h.send(kInitial, 1, at(1), 300, false);
  h.send(kHandshake, 0, at(2));
  CHECK(h.ld.bytes_in_flight() == 2400);
  const uint64_t cwnd = h.ld.congestion().cwnd();

  h.ld.discard_space(kInitial, at(3));
  CHECK(h.ld.space_discarded(kInitial));
  CHECK(h.ld.bytes_in_flight() == 1200);
  CHECK(h.ld.ack_eliciting_in_flight(kInitial) == 0);
  CHECK(h.ld.outstanding(kInitial) == 0);
  CHECK(h.ld.stats().packets_lost == 0);
  CHECK(h.ld.congestion().cwnd() == cwnd);
  CHECK(h.ld.loss_detection_timer() == at(2 + 999));

  // Late ACKs and sends in the dropped space are ignored.
  REQUIRE(h.ack(kInitial, {{0, 0}}, at(4)).ok());
  CHECK(h.ack_out.acked.empty());
  h.send(kInitial, 2, at(5));
  CHECK(h.ld.bytes_in_flight() == 1200);

  // Application space cannot be discarded.
  h.send(kApp, 0, at(6));
  h.ld.discard_space(kApp, at(7));
  CHECK(h.ld.bytes_in_flight() == 2400);
}

TEST_CASE("Loss detector: Retry resets recovery and returns packets", "[recovery]") {
  LossDetectorConfig c;
  c.congestion = CcAlgorithm::new_reno;
  Harness h(c);
  h.send(kInitial, 0, at(0));
  h.send(kApp, 0, at(1));  // 0-RTT
  std::vector<SentPacket> unacked;
  h.ld.on_retry(at(20), unacked);
  CHECK(pns(unacked) == std::vector<uint64_t>{0, 0});
  CHECK(h.ld.bytes_in_flight() == 0);
  CHECK(h.ld.ack_eliciting_in_flight() == 0);
  CHECK(h.ld.congestion().cwnd() == 12000);
  // Packet numbers continue.
  h.send(kInitial, 1, at(21));
  CHECK(h.ld.outstanding(kInitial) == 1);
}

TEST_CASE("Loss detector: ACK-only packets are forgotten beyond the tracking cap",
          "[recovery]") {
  LossDetectorConfig c = server_reno();
  c.max_tracked_packets = 4;
  Harness h(c);
  for (uint64_t pn = 0; pn < 10; ++pn) h.send(kApp, pn, at(0), 40, false);
  CHECK(h.ld.outstanding(kApp) == 4);
  CHECK(h.ld.bytes_in_flight() == 0);
  // Forgotten numbers are settled history: acknowledging them is fine.
  REQUIRE(h.ack(kApp, {{0, 9}}, at(10)).ok());
  CHECK(pns(h.ack_out.acked) == std::vector<uint64_t>{6, 7, 8, 9});
}

TEST_CASE("Loss detector: randomized accounting invariants", "[recovery]") {
  // A model of every packet's fate checked against the detector after each
  // step: each packet is reported acked or lost at most once, never after
  // the other; bytes and counts in flight match; ACKs of skipped numbers
  // fail when they are still trackable.
  enum class Fate { outstanding, acked, lost };
  struct Model {
    Fate fate;
    uint32_t bytes;
    bool eliciting;
  };
  uint64_t n_acked = 0, n_lost = 0, n_rejected = 0, n_pto = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SeededRandom rng(seed);
    LossDetectorConfig c = server_reno();
    if (seed % 2) c.congestion = CcAlgorithm::cubic;
    LossDetector ld(c);
    ld.set_handshake_confirmed(at(0));
    std::map<uint64_t, Model> model;  // sent packets
    std::vector<uint64_t> skipped;
    uint64_t next_pn = 0;
    Time now = at(0);
    AckOutcome ack;
    TimeoutOutcome to;
    const auto settle = [&](const std::vector<SentPacket>& v, Fate f) {
      for (const SentPacket& p : v) {
        auto it = model.find(p.pn);
        REQUIRE(it != model.end());
        REQUIRE(it->second.fate == Fate::outstanding);
        REQUIRE(p.frames.size() == 1);
        REQUIRE(p.frames[0].offset == p.pn * 100);
        it->second.fate = f;
        ++(f == Fate::acked ? n_acked : n_lost);
      }
    };
    for (int step = 0; step < 2000; ++step) {
      now += us(static_cast<int64_t>(rng.uniform(20000)));
      const uint64_t action = rng.uniform(10);
      if (action < 5) {
        if (rng.chance(0.05)) skipped.push_back(next_pn++);
        const bool eliciting = rng.chance(0.8);
        const auto bytes = static_cast<uint32_t>(eliciting ? 100 + rng.uniform(1100) : 40);
        ld.on_packet_sent(kApp, packet(next_pn, bytes, eliciting, eliciting), now);
        model[next_pn] = {Fate::outstanding, bytes, eliciting};
        ++next_pn;
      } else if (action < 9 && next_pn > 0) {
        // Random ranges below a random largest, newest first.
        std::vector<AckRange> ranges;
        const uint64_t largest = next_pn - 1 - rng.uniform(std::min<uint64_t>(next_pn, 8));
        bool bad = false;
        uint64_t min_outstanding = UINT64_MAX;
        for (const auto& [pn, m] : model) {
          if (m.fate == Fate::outstanding) {
            min_outstanding = pn;
            break;
          }
        }
        for (uint64_t pn = largest + 1; pn-- > 0;) {
          const bool is_skipped =
              std::find(skipped.begin(), skipped.end(), pn) != skipped.end();
          const bool include = is_skipped ? rng.chance(0.02) : (pn == largest || rng.chance(0.7));
          if (!include) continue;
          if (is_skipped && pn > min_outstanding) bad = true;
          if (!ranges.empty() && ranges.back().smallest == pn + 1) {
            ranges.back().smallest = pn;
          } else {
            ranges.push_back({pn, pn});
          }
          if (largest - pn > 64) break;
        }
        if (ranges.empty() || ranges.front().largest != largest) continue;
        const uint64_t bif = ld.bytes_in_flight();
        Status st = ld.on_ack_received(kApp, ranges, Duration{0}, nullptr, now, ack);
        if (bad) {
          ++n_rejected;
          REQUIRE(!st.ok());
          REQUIRE(st.error().is(TransportError::protocol_violation));
          REQUIRE(ld.bytes_in_flight() == bif);
          continue;
        }
        // Skipped numbers older than every outstanding packet are settled
        // history and are accepted.
        REQUIRE(st.ok());
        settle(ack.acked, Fate::acked);
        settle(ack.lost, Fate::lost);
        for (size_t i = 1; i < ack.acked.size(); ++i) REQUIRE(ack.acked[i - 1].pn < ack.acked[i].pn);
        for (size_t i = 1; i < ack.lost.size(); ++i) REQUIRE(ack.lost[i - 1].pn < ack.lost[i].pn);
      } else if (ld.loss_detection_timer() != kTimeInfinite) {
        now = std::max(now, ld.loss_detection_timer());
        ld.on_timeout(now, to);
        REQUIRE(to.kind != TimeoutOutcome::Kind::none);
        if (to.kind == TimeoutOutcome::Kind::pto) ++n_pto;
        settle(to.lost, Fate::lost);
      }
      uint64_t bif = 0, eliciting = 0, outstanding = 0;
      for (const auto& [pn, m] : model) {
        if (m.fate != Fate::outstanding) continue;
        ++outstanding;
        if (m.eliciting) {
          bif += m.bytes;
          ++eliciting;
        }
      }
      REQUIRE(ld.bytes_in_flight() == bif);
      REQUIRE(ld.ack_eliciting_in_flight() == eliciting);
      REQUIRE(ld.outstanding(kApp) == outstanding);
      // The timer is armed whenever something ack-eliciting is in flight.
      if (eliciting > 0) REQUIRE(ld.loss_detection_timer() != kTimeInfinite);
      REQUIRE(ld.congestion().cwnd() >= 2400);
    }
  }
  // The walk covered every path.
  CHECK(n_acked > 5000);
  CHECK(n_lost > 500);
  CHECK(n_rejected > 10);
  CHECK(n_pto > 10);
}

// -------------------------------------------------- persistent congestion

namespace {
// Sample RTT 100 ms at t=100, then ack-eliciting packets 1..6 sent at the
// given times and an ACK of 6 (plus `extra`) at 1400 ms.
void persistent_scenario(Harness& h, std::initializer_list<AckRange> extra_ranges,
                         int64_t first_send = 200) {
  h.ld.set_peer_max_ack_delay(ms(25));
  h.ld.set_handshake_confirmed(at(0));
  h.send(kApp, 0, at(0));
  REQUIRE(h.ack(kApp, {{0, 0}}, at(100)).ok());
  const int64_t times[] = {first_send, 700, 1200, 1300, 1310, 1320};
  for (uint64_t pn = 1; pn <= 6; ++pn) h.send(kApp, pn, at(times[pn - 1]));
  std::vector<AckRange> ranges{{6, 6}};
  ranges.insert(ranges.end(), extra_ranges);
  REQUIRE(h.ld.on_ack_received(kApp, ranges, Duration{0}, nullptr, at(1400), h.ack_out).ok());
}
}  // namespace

TEST_CASE("Loss detector: persistent congestion (RFC 9002 §7.6)", "[recovery]") {
  Harness h;
  persistent_scenario(h, {});
  // Sample 80 ms: srtt = (700 + 80)/8 = 97.5, rttvar = (150 + 20)/4 = 42.5.
  // Duration = (97.5 + 4 * 42.5 + 25) * 3 = 877.5 ms. Lost 1..3 (packet
  // threshold) span 200 -> 1200 = 1000 ms > 877.5 with nothing acked between.
  CHECK(h.ld.rtt().smoothed_rtt() == us(97500));
  CHECK(pns(h.ack_out.lost) == std::vector<uint64_t>{1, 2, 3});
  CHECK(h.ack_out.persistent_congestion);
  // B.8: kMinimumWindow (2400) and the recovery period ends, so the ACK of
  // 6 processed right after (B.5 order) grows it in slow start (ssthresh
  // 13200 / 2 after the slow-start ACK of 0).
  CHECK(h.ld.congestion().ssthresh() == 6600);
  CHECK(h.ld.congestion().cwnd() == 2400 + 1200);
  CHECK(h.ld.stats().persistent_congestion == 1);
  CHECK(h.ld.rtt().min_rtt() == ms(80));  // §5.2: min_rtt reset to latest
}

TEST_CASE("Loss detector: no persistent congestion when interrupted or too short",
          "[recovery]") {
  SECTION("an acknowledged packet between the losses") {
    Harness h;
    persistent_scenario(h, {{2, 2}});
    CHECK(pns(h.ack_out.lost) == std::vector<uint64_t>{1, 3});
    CHECK(!h.ack_out.persistent_congestion);
    CHECK(h.ld.congestion().cwnd() == 6600);  // (12000 + 1200) / 2: a plain congestion event
  }
  SECTION("span not above the duration") {
    Harness h;
    persistent_scenario(h, {}, /*first_send=*/400);  // 400 -> 1200 = 800 ms
    CHECK(pns(h.ack_out.lost) == std::vector<uint64_t>{1, 2, 3});
    CHECK(!h.ack_out.persistent_congestion);
    CHECK(h.ld.congestion().cwnd() == 6600);
  }
  SECTION("packets sent before the first RTT sample do not count") {
    Harness h;
    h.ld.set_handshake_confirmed(at(0));
    const int64_t times[] = {0, 500, 1000, 1500, 1510, 1520};
    for (uint64_t pn = 0; pn < 6; ++pn) h.send(kApp, pn, at(times[pn]));
    // Sample 80 ms, loss delay 90 ms: 0..2 by packet threshold, 3 and 4 by time.
    REQUIRE(h.ack(kApp, {{5, 5}}, at(1600)).ok());
    CHECK(pns(h.ack_out.lost) == std::vector<uint64_t>{0, 1, 2, 3, 4});
    CHECK(!h.ack_out.persistent_congestion);
  }
}

TEST_CASE("Loss detector: ECN-CE increase is a congestion event", "[recovery]") {
  Harness h;
  h.ld.set_handshake_confirmed(at(0));
  for (uint64_t pn = 0; pn < 4; ++pn) h.send(kApp, pn, at(0));
  EcnCounts ecn{2, 0, 1};
  REQUIRE(h.ack(kApp, {{0, 1}}, at(50), Duration{0}, &ecn).ok());
  CHECK(h.ack_out.ecn_ce_increased);
  CHECK(h.ack_out.congestion_event);
  CHECK(h.ld.congestion().cwnd() == 6000);
  // Same CE count again: nothing new.
  REQUIRE(h.ack(kApp, {{0, 2}}, at(60), Duration{0}, &ecn).ok());
  CHECK(!h.ack_out.ecn_ce_increased);
  // A higher count, but for a packet sent before recovery began: no
  // second reduction (§7.3.2).
  ecn.ce = 2;
  REQUIRE(h.ack(kApp, {{0, 3}}, at(70), Duration{0}, &ecn).ok());
  CHECK(h.ack_out.ecn_ce_increased);
  CHECK(!h.ack_out.congestion_event);
  CHECK(h.ld.congestion().cwnd() == 6000);
}

TEST_CASE("Loss detector: lost PMTU probes are no congestion signal", "[recovery]") {
  Harness h;
  SentPacket probe = packet(0, 1400);
  probe.is_pmtu_probe = true;
  h.ld.on_packet_sent(kApp, std::move(probe), at(0));
  for (uint64_t pn = 1; pn < 4; ++pn) h.send(kApp, pn, at(1));
  REQUIRE(h.ack(kApp, {{1, 3}}, at(50)).ok());
  REQUIRE(h.ack_out.lost.size() == 1);
  CHECK(h.ack_out.lost[0].is_pmtu_probe);
  CHECK(!h.ack_out.congestion_event);
  CHECK(h.ld.bytes_in_flight() == 0);
  CHECK(h.ld.congestion().cwnd() == 12000 + 3 * 1200);  // slow start growth only
}
