// Loss recovery and congestion control: RFC 9002 (RTT, loss detection, PTO,
// persistent congestion, NewReno), RFC 9438 (CUBIC), RFC 9002 §7.7 pacing.
// Expected numbers are worked out from the RFC formulas in the comments.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <map>
#include <vector>

#include "lib/random.h"

#include "quic/cubic.h"
#include "quic/loss_detector.h"
#include "quic/new_reno.h"
#include "quic/pacer.h"
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
  UNSCOPED_INFO("acked " << n_acked << " lost " << n_lost << " rejected " << n_rejected
                         << " pto " << n_pto);
  CHECK(false);
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

// ---------------------------------------------------------------- NewReno

TEST_CASE("Congestion: initial and minimum windows (RFC 9002 §7.2)", "[cc]") {
  CHECK(initial_congestion_window(1200) == 12000);
  CHECK(initial_congestion_window(1472) == 14720);
  CHECK(initial_congestion_window(1500) == 14720);
  CHECK(initial_congestion_window(9000) == 18000);
  CHECK(minimum_congestion_window(1200) == 2400);
  auto cc = make_congestion_controller(CcAlgorithm::new_reno, 1500);
  CHECK(cc->algorithm() == CcAlgorithm::new_reno);
  CHECK(cc->cwnd() == 14720);
  CHECK(make_congestion_controller(CcAlgorithm::cubic)->algorithm() == CcAlgorithm::cubic);
  CHECK(cc->can_send(14719));
  CHECK(!cc->can_send(14720));
  CHECK(cc->available(14000) == 720);
}

TEST_CASE("NewReno: slow start, recovery, congestion avoidance (RFC 9002 B.5-B.6)", "[cc]") {
  NewReno cc;
  RttEstimator rtt;
  CHECK(cc.in_slow_start());
  CHECK(cc.ssthresh() == UINT64_MAX);
  cc.on_packet_acked(1200, at(0), rtt, at(10));
  CHECK(cc.cwnd() == 13200);  // + acked bytes

  cc.on_congestion_event(at(5), at(20));
  CHECK(cc.ssthresh() == 6600);  // kLossReductionFactor 0.5
  CHECK(cc.cwnd() == 6600);
  CHECK(!cc.in_slow_start());
  CHECK(cc.in_recovery(at(20)));
  CHECK(!cc.in_recovery(at(21)));

  // In recovery: no further reduction, no growth for older packets.
  cc.on_congestion_event(at(19), at(25));
  CHECK(cc.cwnd() == 6600);
  cc.on_packet_acked(1200, at(15), rtt, at(30));
  CHECK(cc.cwnd() == 6600);

  // Congestion avoidance: cwnd += 1200 * 1200 / cwnd, remainder carried.
  // 1440000 / 6600 = 218 r 1200; (1440000 + 1200) / 6818 = 211 r 2602.
  cc.on_packet_acked(1200, at(21), rtt, at(40));
  CHECK(cc.cwnd() == 6818);
  cc.on_packet_acked(1200, at(22), rtt, at(41));
  CHECK(cc.cwnd() == 7029);

  // A later loss ends this recovery period and starts another.
  cc.on_congestion_event(at(30), at(50));
  CHECK(cc.cwnd() == 3514);
  CHECK(cc.ssthresh() == 3514);
}

TEST_CASE("NewReno: about one datagram per window in congestion avoidance", "[cc]") {
  NewReno cc;
  RttEstimator rtt;
  cc.on_congestion_event(at(0), at(0));  // 12000 -> 6000
  REQUIRE(cc.cwnd() == 6000);
  // One window's worth of 100-byte ACKs: exactly 1200 * 6000 / 6000... with
  // cwnd growing in between the sum is 1178 (integer, carried remainder).
  uint64_t acked = 0;
  while (acked < 6000) {
    cc.on_packet_acked(100, at(1), rtt, at(2));
    acked += 100;
  }
  CHECK(cc.cwnd() >= 6000 + 1100);
  CHECK(cc.cwnd() <= 6000 + 1200);
}

TEST_CASE("NewReno: minimum window and persistent congestion", "[cc]") {
  NewReno cc;
  RttEstimator rtt;
  for (int i = 1; i <= 6; ++i) cc.on_congestion_event(at(i * 10), at(i * 10 + 1));
  CHECK(cc.cwnd() == 2400);  // 12000 -> 6000 -> 3000 -> 2400 (floor)
  cc.on_persistent_congestion(at(100));
  CHECK(cc.cwnd() == 2400);
  // The recovery period ended: an old packet's ACK grows the window again,
  // here in congestion avoidance since ssthresh (1200) < cwnd.
  cc.on_packet_acked(1200, at(50), rtt, at(110));
  CHECK(cc.cwnd() == 2400 + 600);

  NewReno fresh;
  fresh.on_packet_acked(1200, at(0), rtt, at(1));
  fresh.on_congestion_event(at(1), at(2));  // 13200 -> 6600
  fresh.on_persistent_congestion(at(3));
  CHECK(fresh.cwnd() == 2400);
  CHECK(fresh.in_slow_start());  // ssthresh 6600 stays
  fresh.on_packet_acked(1200, at(1), rtt, at(4));
  CHECK(fresh.cwnd() == 3600);
}

TEST_CASE("NewReno: no growth while app-limited (RFC 9002 §7.8)", "[cc]") {
  NewReno cc;
  RttEstimator rtt;
  cc.on_packet_sent(1200, 1200, at(0));
  cc.on_app_limited(at(0));
  CHECK(cc.app_limited());
  cc.on_packet_acked(1200, at(0), rtt, at(10));
  CHECK(cc.cwnd() == 12000);
  // A send leaving less than one datagram of room: window-limited again.
  cc.on_packet_sent(1200, 10000, at(11));
  CHECK(cc.app_limited());
  cc.on_packet_sent(1200, 10801, at(11));
  CHECK(!cc.app_limited());
  cc.on_packet_acked(1200, at(11), rtt, at(20));
  CHECK(cc.cwnd() == 13200);
}

TEST_CASE("NewReno: max datagram size changes (RFC 9002 §7.2)", "[cc]") {
  NewReno cc;
  RttEstimator rtt;
  cc.set_max_datagram_size(1500);
  CHECK(cc.cwnd() == 14720);  // untouched window: new initial window
  cc.on_packet_acked(1500, at(0), rtt, at(1));
  CHECK(cc.cwnd() == 16220);
  cc.set_max_datagram_size(1200);
  CHECK(cc.cwnd() == 16220);  // evolved window kept
  cc.on_congestion_event(at(1), at(2));
  CHECK(cc.cwnd() == 8110);
  cc.set_max_datagram_size(9000);
  CHECK(cc.cwnd() == 18000);  // never below the new 2 * mds minimum
  cc.reset();
  CHECK(cc.cwnd() == 18000);  // initial window for 9000
  CHECK(cc.ssthresh() == UINT64_MAX);
}

// ------------------------------------------------------------------ CUBIC

TEST_CASE("CUBIC: multiplicative decrease and K (RFC 9438 §4.2, §4.6)", "[cc]") {
  Cubic cc;
  RttEstimator rtt(ms(100));
  CHECK(Cubic::kAlpha == Approx(0.9 / 1.7));
  cc.on_congestion_event(at(0), at(10));
  CHECK(cc.cwnd() == 8400);  // 0.7 * 12000
  CHECK(cc.ssthresh() == 8400);
  CHECK(cc.w_max() == 12000);
  CHECK(cc.cwnd_prior() == 12000);
  CHECK(!cc.in_epoch());

  // First congestion-avoidance ACK starts the epoch:
  // K = cbrt((W_max - cwnd_epoch) / (C * mds)) = cbrt(3600 / 480) = cbrt(7.5).
  cc.on_packet_acked(1200, at(11), rtt, at(20));
  CHECK(cc.in_epoch());
  CHECK(cc.epoch_start() == at(20));
  CHECK(cc.k() == Approx(std::cbrt(7.5)));
  CHECK(cc.k() == Approx(1.9574338).epsilon(1e-6));
  CHECK(cc.w_cubic(0) == Approx(8400.0));
  CHECK(cc.w_cubic(cc.k()) == Approx(12000.0));
  // W_est = 8400 + alpha * 1200 * 1200 / 8400 = 8490.76 > W_cubic(0) = 8400:
  // Reno-friendly region, cwnd = W_est.
  CHECK(cc.w_est() == Approx(8400 + Cubic::kAlpha * 1200.0 * 1200.0 / 8400.0));
  CHECK(cc.cwnd() == 8490);
}

TEST_CASE("CUBIC: fast convergence (RFC 9438 §4.7)", "[cc]") {
  SECTION("enabled: W_max = cwnd * (1 + beta) / 2 below the previous W_max") {
    Cubic cc;
    cc.on_congestion_event(at(0), at(10));  // W_max 12000, cwnd 8400
    cc.on_congestion_event(at(11), at(20));
    CHECK(cc.w_max() == Approx(8400 * 0.85));
    CHECK(cc.cwnd() == 5880);
    CHECK(cc.cwnd_prior() == 8400);
  }
  SECTION("disabled: W_max = cwnd") {
    Cubic cc(1200, false);
    cc.on_congestion_event(at(0), at(10));
    cc.on_congestion_event(at(11), at(20));
    CHECK(cc.w_max() == 8400);
    CHECK(cc.cwnd() == 5880);
  }
  SECTION("minimum window") {
    Cubic cc;
    for (int i = 1; i <= 10; ++i) cc.on_congestion_event(at(i * 10), at(i * 10 + 1));
    CHECK(cc.cwnd() == 2400);
    CHECK(cc.ssthresh() == 2400);
  }
}

namespace {
// Drives a Cubic through a loss at W_max = 100 datagrams, then congestion
// avoidance with a fixed 100 ms RTT: each round trip one ACK per datagram of
// the window, evenly spaced. The first round only acknowledges packets sent
// before the loss (recovery, no growth); then each round records
// (t since the epoch start, cwnd, W_est).
struct CubicRun {
  std::vector<double> t, cwnd, w_est;
};
CubicRun run_cubic(Cubic& cc, int rounds) {
  const Duration rtt_d = ms(100);
  RttEstimator rtt;
  rtt.update(rtt_d, Duration{0}, true, at(0));
  cc.on_packet_sent(1200, cc.cwnd(), at(0));  // window-limited
  while (cc.cwnd() < 120000) cc.on_packet_acked(1200, at(0), rtt, at(1));  // slow start
  REQUIRE(cc.cwnd() == 120000);
  Time now = at(1000);
  cc.on_congestion_event(at(999), now);
  REQUIRE(cc.cwnd() == 84000);
  CubicRun out;
  for (int r = 0; r <= rounds; ++r) {
    const uint64_t n = cc.cwnd() / 1200;
    const Duration step = rtt_d / static_cast<int64_t>(n);
    for (uint64_t i = 0; i < n; ++i) {
      now += step;
      cc.on_packet_acked(1200, now - rtt_d, rtt, now);
    }
    if (r == 0) {
      REQUIRE(cc.cwnd() == 84000);
      REQUIRE(!cc.in_epoch());
      continue;
    }
    out.t.push_back(static_cast<double>((now - cc.epoch_start()).count()) * 1e-9);
    out.cwnd.push_back(static_cast<double>(cc.cwnd()));
    out.w_est.push_back(cc.w_est());
  }
  return out;
}
}  // namespace

TEST_CASE("CUBIC: concave then convex growth over time (RFC 9438 §4.4, §4.5)", "[cc]") {
  Cubic cc;
  const CubicRun run = run_cubic(cc, 100);
  // K = cbrt((120000 - 84000) / (0.4 * 1200)) = cbrt(75) = 4.217 s.
  REQUIRE(cc.k() == Approx(std::cbrt(75.0)));
  const double k = cc.k();
  size_t reno_rounds = 0;
  for (size_t i = 0; i < run.t.size(); ++i) {
    const double t = run.t[i];
    // cwnd never passes the larger of the target W_cubic(t + RTT) and the
    // Reno estimate, and lags the curve by at most one round.
    CHECK(run.cwnd[i] <= std::max(cc.w_cubic(t + 0.1), run.w_est[i]) + 1);
    CHECK(run.cwnd[i] >= cc.w_cubic(t - 0.1) - 1200);
    if (run.w_est[i] > cc.w_cubic(t)) {
      // Reno-friendly region: cwnd = W_est.
      CHECK(run.cwnd[i] == std::floor(run.w_est[i]));
      ++reno_rounds;
    }
  }
  // Reno (alpha = 1 once W_est reached 120000 near 5.8 s) overtakes the flat
  // part of the curve for a while after K, then the convex curve wins again.
  CHECK(reno_rounds > 5);
  CHECK(run.w_est.back() < cc.w_cubic(run.t.back()));

  // Concave: per-round growth shrinks while t < K.
  const auto growth = [&](size_t i) { return run.cwnd[i] - run.cwnd[i - 1]; };
  size_t i = 2;
  for (; run.t[i] < k - 0.2; ++i) CHECK(growth(i) <= growth(i - 1) + 1);
  // Plateau: near W_max around t = K.
  CHECK(std::abs(run.cwnd[i] - 120000) < 600);
  CHECK(growth(i) < 100);
  // Convex: after the Reno-friendly stretch growth keeps increasing.
  const size_t last = run.t.size() - 1;
  for (size_t j = last - 15; j <= last; ++j) CHECK(growth(j) >= growth(j - 1) - 1);
  // At t = 10 s: W_cubic = 0.4 * 1200 * (10 - 4.217)^3 + 120000 = 212.8 kB.
  CHECK(run.t.back() == Approx(10.0).epsilon(0.01));
  CHECK(run.cwnd.back() == Approx(cc.w_cubic(run.t.back())).epsilon(0.02));
  CHECK(run.cwnd.back() > 200000);
}

TEST_CASE("CUBIC: Reno-friendly region (RFC 9438 §4.3)", "[cc]") {
  // Short RTT: Reno (W_est) outgrows the cubic curve near its plateau.
  Cubic cc;
  RttEstimator rtt;
  rtt.update(ms(2), Duration{0}, true, at(0));
  cc.on_congestion_event(at(0), at(1));  // W_max 12000, cwnd 8400
  double w_est = 8400;
  Time now = at(10);
  bool switched = false;
  for (int i = 0; i < 400; ++i) {
    const double before = static_cast<double>(cc.cwnd());
    // RFC 9438 §4.3: alpha_cubic until W_est reaches cwnd_prior (12000), then 1.
    const double alpha = w_est >= 12000 ? 1.0 : Cubic::kAlpha;
    if (alpha == 1.0) switched = true;
    w_est += alpha * 1200.0 * 1200.0 / before;
    now += us(250);
    cc.on_packet_acked(1200, at(5), rtt, now);
    REQUIRE(cc.w_est() == Approx(w_est));
    const double t = static_cast<double>((now - cc.epoch_start()).count()) * 1e-9;
    if (cc.w_cubic(t) < w_est) {
      REQUIRE(cc.cwnd() == static_cast<uint64_t>(w_est));
    }
  }
  CHECK(switched);
  // 100 ms of ACKs at a 2 ms RTT: far beyond what the cubic curve gives.
  const double t = static_cast<double>((now - cc.epoch_start()).count()) * 1e-9;
  CHECK(cc.w_cubic(t) < 12000);
  CHECK(cc.cwnd() > 20000);
}

TEST_CASE("CUBIC: app-limited time is not counted in t (RFC 9438 §5.8)", "[cc]") {
  Cubic cc;
  RttEstimator rtt(ms(100));
  cc.on_congestion_event(at(0), at(10));
  cc.on_packet_acked(1200, at(11), rtt, at(20));
  REQUIRE(cc.epoch_start() == at(20));
  const uint64_t w = cc.cwnd();

  cc.on_app_limited(at(100));
  cc.on_packet_acked(1200, at(50), rtt, at(5000));
  CHECK(cc.cwnd() == w);  // no growth while app-limited
  // Window-limited again at 10 s: the epoch moves by the 9.9 s pause.
  cc.on_packet_sent(1200, w, at(10000));
  CHECK(!cc.app_limited());
  CHECK(cc.epoch_start() == at(20 + 9900));
}

TEST_CASE("CUBIC: persistent congestion restarts with K = 0 (RFC 9438 §4.8)", "[cc]") {
  Cubic cc;
  RttEstimator rtt(ms(100));
  cc.on_congestion_event(at(0), at(10));
  cc.on_persistent_congestion(at(20));
  CHECK(cc.cwnd() == 2400);
  CHECK(cc.in_slow_start());  // ssthresh 8400
  // Slow start back to ssthresh, then the first CA ACK opens an epoch with
  // W_max = cwnd_epoch and K = 0.
  while (cc.in_slow_start()) cc.on_packet_acked(1200, at(30), rtt, at(40));
  CHECK(cc.cwnd() == 8400);
  cc.on_packet_acked(1200, at(30), rtt, at(50));
  CHECK(cc.k() == 0);
  CHECK(cc.w_max() == 8400);
  cc.reset();
  CHECK(cc.cwnd() == 12000);
  CHECK(cc.w_max() == 0);
}

// ------------------------------------------------------------------ pacer

TEST_CASE("Pacer: rate N * cwnd / srtt with a burst allowance (RFC 9002 §7.7)", "[cc]") {
  Pacer p(1200);
  // Unconfigured: no pacing.
  CHECK(p.next_send_time(1200, at(5)) == at(5));
  // 1.25 * 12000 / 100 ms = 150000 B/s: one 1200-byte datagram per 8 ms.
  p.set_rate(12000, ms(100), at(0));
  CHECK(p.rate() == Approx(150000));
  CHECK(p.burst_bytes() == 12000);
  for (int i = 0; i < 10; ++i) {
    CHECK(p.next_send_time(1200, at(0)) == at(0));
    p.on_packet_sent(1200, at(0));
  }
  CHECK(p.next_send_time(1200, at(0)) == at(8));
  CHECK(p.next_send_time(1200, at(3)) == at(8));
  p.on_packet_sent(1200, at(8));
  CHECK(p.next_send_time(1200, at(8)) == at(16));
  // A batch of three needs 3600 bytes: 24 ms after the bucket emptied.
  CHECK(p.next_send_time(3600, at(8)) == at(32));

  // Idle: tokens refill up to one burst only.
  CHECK(p.tokens(at(10000)) == Approx(12000));
  CHECK(p.next_send_time(20000, at(10000)) == at(10000));  // capped at a full bucket

  // Doubling the window halves the spacing.
  p.set_rate(24000, ms(100), at(10000));
  for (int i = 0; i < 10; ++i) p.on_packet_sent(1200, at(10000));
  CHECK(p.next_send_time(1200, at(10000)) == at(10004));

  // Zero RTT disables pacing.
  p.set_rate(24000, Duration{0}, at(10000));
  CHECK(p.next_send_time(1200, at(10000)) == at(10000));
}

TEST_CASE("Pacer: configurable burst and bounded debt", "[cc]") {
  Pacer p(1200, Pacer::Config{1.25, 2});
  p.set_rate(12000, ms(100), at(0));
  CHECK(p.burst_bytes() == 2400);
  p.on_packet_sent(1200, at(0));
  p.on_packet_sent(1200, at(0));
  CHECK(p.next_send_time(1200, at(0)) == at(8));
  // Probes sent regardless leave at most one burst of debt: 8 probes still
  // only push the next send to (2400 + 1200) / 150 B/ms = 24 ms.
  for (int i = 0; i < 8; ++i) p.on_packet_sent(1200, at(0));
  CHECK(p.next_send_time(1200, at(0)) == at(24));
}
