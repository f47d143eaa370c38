// Congestion control alone: RFC 9002 §7 windows and NewReno (Appendix B),
// CUBIC (RFC 9438), pacing (RFC 9002 §7.7). Expected numbers are worked out
// from the RFC formulas in the comments.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "quic/congestion.h"
#include "quic/cubic.h"
#include "quic/new_reno.h"
#include "quic/pacer.h"
#include "quic/rtt_estimator.h"

using namespace wt;
using namespace wt::quic;

namespace {

constexpr Duration ms(int64_t v) { return std::chrono::milliseconds(v); }
constexpr Duration us(int64_t v) { return std::chrono::microseconds(v); }
constexpr Time at(int64_t millis) { return Time{} + ms(millis); }

}  // namespace

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
  // One window's worth of 100-byte ACKs adds about one datagram (RFC 9002
  // §7.3.3), a little less because cwnd grows along the way.
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

// ------------------------------------------------- window validation

TEST_CASE("Window validation: an underused window does not grow (RFC 9002 §7.8)", "[cc]") {
  for (CcAlgorithm a : {CcAlgorithm::new_reno, CcAlgorithm::cubic}) {
    INFO(cc_algorithm_name(a));
    auto cc = make_congestion_controller(a);
    cc->set_window_validation(true);
    RttEstimator rtt(ms(10));
    // Slow start with 4800 of 12000 bytes in flight: less than half used.
    cc->on_packet_sent(1200, 4800, at(1));
    CHECK(!cc->cwnd_limited());
    cc->on_packet_acked(1200, at(1), rtt, at(10));
    CHECK(cc->cwnd() == 12000);
    // More than half in flight in the same round: slow start may double it.
    cc->on_packet_sent(1200, 7200, at(11));
    cc->on_packet_acked(1200, at(11), rtt, at(20));
    CHECK(cc->cwnd() == 13200);
    // A packet sent after the last update closes the round; the next send
    // starts a round that uses only 2400 bytes: growth stops again.
    cc->on_packet_acked(1200, at(12), rtt, at(21));
    CHECK(cc->cwnd() == 14400);
    cc->on_packet_sent(1200, 2400, at(22));
    cc->on_packet_acked(1200, at(22), rtt, at(30));
    CHECK(cc->cwnd() == 14400);

    // Congestion avoidance: only a round that filled the window grows it.
    cc->on_congestion_event(at(22), at(31));
    const uint64_t w = cc->cwnd();
    REQUIRE(!cc->in_slow_start());
    cc->on_packet_sent(1200, w - 2400, at(32));
    for (int i = 0; i < 20; ++i) cc->on_packet_acked(1200, at(33), rtt, at(40 + i));
    CHECK(cc->cwnd() == w);
    CHECK(!cc->cwnd_limited());
    // Less than one datagram of room left: the window is the limit.
    cc->on_packet_sent(1200, w - 1199, at(60));
    CHECK(cc->cwnd_limited());
    for (int i = 0; i < 20; ++i) cc->on_packet_acked(1200, at(60), rtt, at(70 + i));
    CHECK(cc->cwnd() > w);
    // The full round stays full until a later packet is acknowledged, even
    // if sends in between find room.
    cc->on_packet_sent(1200, 1200, at(90));
    CHECK(cc->cwnd_limited());
    cc->on_packet_acked(1200, at(91), rtt, at(100));
    cc->on_packet_sent(1200, 1200, at(101));
    CHECK(!cc->cwnd_limited());
    // RFC 9002 §7.8: held back by pacing with room in the window still
    // counts as a used window.
    const uint64_t w2 = cc->cwnd();
    cc->on_pacing_limited(at(102));
    CHECK(cc->cwnd_limited());
    for (int i = 0; i < 20; ++i) cc->on_packet_acked(1200, at(101), rtt, at(110 + i));
    CHECK(cc->cwnd() > w2);
  }
}

TEST_CASE("Window validation: off by default, the Appendix B growth", "[cc]") {
  NewReno cc;
  RttEstimator rtt;
  cc.on_packet_sent(1200, 1200, at(1));
  cc.on_packet_acked(1200, at(1), rtt, at(10));
  CHECK(cc.cwnd() == 13200);
  cc.set_window_validation(true);
  cc.on_packet_acked(1200, at(1), rtt, at(11));
  CHECK(cc.cwnd() == 13200);
  // reset() forgets the rounds: the window counts as used until a send.
  cc.reset();
  cc.on_packet_acked(1200, at(20), rtt, at(30));
  CHECK(cc.cwnd() == 13200);
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

TEST_CASE("Pacer: the burst is about 1 ms of the rate, within [IW, window]", "[cc]") {
  Pacer p(1200);
  // Low rate: the initial window.
  p.set_rate(12000, ms(100), at(0));
  CHECK(p.burst_bytes() == 12000);
  CHECK(p.quantum_bytes() == 1200);
  // 1.25 * 1 MB / 1 ms = 1.25 GB/s (10 Gbit/s): 1 ms of it is the paced
  // window; the quantum is 250 us of the rate.
  p.set_rate(1000000, ms(1), at(0));
  CHECK(p.burst_bytes() == 1250000);
  CHECK(p.quantum_bytes() == 312500);
  // 100 us RTT: 1 ms of the rate is 12.5 windows; capped at N * cwnd.
  p.set_rate(100000, us(100), at(0));
  CHECK(p.burst_bytes() == 125000);
  CHECK(p.quantum_bytes() == 125000);
  // 10 ms RTT, 1 MB window: 125 KB burst, 31250 bytes quantum.
  p.set_rate(1000000, ms(10), at(0));
  CHECK(p.burst_bytes() == 125000);
  CHECK(p.quantum_bytes() == 31250);
  // Unpaced: the initial window.
  p.set_rate(1000000, Duration{0}, at(0));
  CHECK(p.burst_bytes() == 12000);
}

TEST_CASE("Pacer: after running empty it waits for a quantum", "[cc]") {
  Pacer p(1200);
  const Time t0 = at(1000);
  // 125 B/us; burst 125000 bytes, quantum 31250 bytes = 250 us.
  p.set_rate(1000000, ms(10), t0);
  // The bucket starts at the initial window: ten datagrams at once.
  for (int i = 0; i < 10; ++i) {
    REQUIRE(p.next_send_time(1200, t0) == t0);
    p.on_packet_sent(1200, t0);
  }
  CHECK(p.next_send_time(1200, t0) == t0 + us(250));
  // 20 us later 2500 bytes are back, enough for two datagrams, but the
  // release waits for the quantum.
  CHECK(p.tokens(t0 + us(20)) == Approx(2500));
  CHECK(p.next_send_time(1200, t0 + us(20)) == t0 + us(250));
  // At the quantum a batch goes out; tokens stay above one datagram, so
  // sending continues without waiting for another quantum.
  const Time t1 = t0 + us(250);
  for (int i = 0; i < 25; ++i) {
    REQUIRE(p.next_send_time(1200, t1) == t1);
    p.on_packet_sent(1200, t1);
  }
  CHECK(p.tokens(t1) == Approx(1250));
  CHECK(p.next_send_time(1200, t1) == t1);
  p.on_packet_sent(1200, t1);
  // 50 bytes left: empty again.
  CHECK(p.next_send_time(1200, t1) == t1 + us(250) - Duration{400});
  // Idle: the bucket fills to the burst, and all of it may go at once.
  CHECK(p.tokens(t1 + ms(10)) == Approx(125000));
  CHECK(p.next_send_time(125000, t1 + ms(10)) == t1 + ms(10));
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
