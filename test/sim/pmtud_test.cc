// DPLPMTUD (RFC 8899, RFC 9000 §14.3) in the simulator: packets grow above
// 1200 bytes on a path that carries 1500-byte datagrams, stay at 1200 on a
// path capped at 1280, and fall back when the path shrinks mid-transfer
// (black hole); the data stays byte-exact.
#include <catch2/catch.hpp>

#include "test/sim/feature_transfer.h"

namespace wt::sim {
namespace {

using namespace std::chrono_literals;

struct SizeRun {
  size_t largest_delivered = 0;
  uint64_t delivered_above_1200 = 0;
};

void observe(Scenario& s, SizeRun& r) {
  s.sim.on_deliver([&r](const Datagram& d) {
    r.largest_delivered = std::max(r.largest_delivered, d.data.size());
    if (d.data.size() > 1200) ++r.delivered_above_1200;
  });
}

ScenarioOptions mtu_options(uint64_t seed, size_t mtu) {
  ScenarioOptions o;
  o.seed = seed;
  o.c2s = feature_link(10ms, 50'000'000, 200'000);
  o.s2c = feature_link(10ms, 50'000'000, 200'000);
  o.c2s.mtu = o.s2c.mtu = mtu;
  return o;
}

TEST_CASE("pmtud: packets grow above 1200 bytes on a 1500-byte path", "[sim][pmtud]") {
  Scenario s(mtu_options(81, 1500));
  SizeRun r;
  observe(s, r);
  TwoWayTransfer t(5'000'000, 10'000'000);
  t.attach(s);
  REQUIRE(s.run_until([&] { return t.finished_or_failed(); }, 120s));
  INFO(s.sim.summary());
  CHECK_FALSE(t.corrupt());
  CHECK(t.downloaded() == 10'000'000);
  CHECK(t.uploaded() == 5'000'000);
  // 1500 - 20 (IPv4) - 8 (UDP): the largest payload both sides allow.
  CHECK(s.server_conn->max_packet_size() == 1472);
  CHECK(s.client_conn->max_packet_size() == 1472);
  CHECK(r.largest_delivered == 1472);
  CHECK(r.delivered_above_1200 > 5000);
  // The first probe (the largest size) succeeded in each direction.
  CHECK(s.server_conn->pmtud().probes_sent() == 1);
  CHECK(s.sim.links()[0]->stats().dropped(DropCause::mtu) == 0);
}

TEST_CASE("pmtud: packets stay at 1200 bytes on a path capped at 1280", "[sim][pmtud]") {
  Scenario s(mtu_options(82, 1280));
  SizeRun r;
  observe(s, r);
  TwoWayTransfer t(2'000'000, 10'000'000);
  t.attach(s);
  REQUIRE(s.run_until([&] { return t.finished_or_failed(); }, 120s));
  INFO(s.sim.summary());
  CHECK_FALSE(t.corrupt());
  CHECK(t.downloaded() == 10'000'000);
  CHECK(t.uploaded() == 2'000'000);
  CHECK(s.server_conn->max_packet_size() == 1200);
  CHECK(s.client_conn->max_packet_size() == 1200);
  CHECK(r.largest_delivered <= 1200);
  // The probes were lost (and only they hit the cap); the search gave up
  // after MAX_PROBES attempts at each size (RFC 8899 §5.1.2).
  const Link& down = *s.sim.link(Scenario::kServerAddr, Scenario::kClientAddr);
  CHECK(down.stats().dropped(DropCause::mtu) == s.server_conn->pmtud().probes_sent());
  CHECK(s.server_conn->pmtud().probes_sent() >= 3);
  CHECK_FALSE(s.server_conn->pmtud().searching());
  CHECK_FALSE(s.client_closed);
}

TEST_CASE("pmtud: a path that shrinks mid-transfer is a black hole and packets fall back",
          "[sim][pmtud]") {
  Scenario s(mtu_options(83, 1500));
  SizeRun r;
  TwoWayTransfer t(0, 20'000'000);
  t.attach(s);
  bool shrunk = false;
  Time shrunk_at = kTimeInfinite;
  t.client_extra = [&](quic::Connection&, Time now) {
    if (!shrunk && t.downloaded() >= 5'000'000) {
      shrunk = true;
      shrunk_at = now;
      for (auto& l : s.sim.links()) l->config().mtu = 1300;
    }
  };
  // Datagrams already queued when the path shrank still arrive; later ones
  // must fit.
  s.sim.on_deliver([&](const Datagram& d) {
    if (shrunk && d.time > shrunk_at + 100ms)
      r.largest_delivered = std::max(r.largest_delivered, d.data.size());
  });
  REQUIRE(s.run_until([&] { return t.finished_or_failed(); }, 300s));
  INFO(s.sim.summary());
  REQUIRE(shrunk);
  CHECK_FALSE(t.corrupt());
  CHECK(t.downloaded() == 20'000'000);
  CHECK_FALSE(s.client_closed);
  CHECK_FALSE(s.server_closed);
  CHECK(s.server_conn->pmtud().black_holes() >= 1);
  CHECK(s.server_conn->max_packet_size() == 1200);
  CHECK(r.largest_delivered <= 1300);
}

TEST_CASE("pmtud: the search probes the largest size first, then bisects", "[sim][pmtud]") {
  quic::Pmtud p;
  p.start(1200, 1472, 28);  // IPv4: 1372 1392 1422 1452 1464 1472
  REQUIRE(p.candidate_count() == 6);
  const Time t0 = kSimEpoch;
  auto lose = [&](size_t size) {
    for (uint32_t i = 0; i < quic::Pmtud::kMaxProbes; ++i) {
      REQUIRE(p.probe_size(t0) == size);
      p.on_probe_sent(100 + i, size);
      CHECK(p.probe_size(t0) == 0);  // one probe at a time
      p.on_probe_lost(100 + i);
    }
  };
  SECTION("a clean 1500-byte path: one probe") {
    REQUIRE(p.probe_size(t0) == 1472);
    p.on_probe_sent(7, 1472);
    CHECK_FALSE(p.on_probe_acked(8));  // not the probe
    CHECK(p.on_probe_acked(7));
    CHECK(p.plpmtu() == 1472);
    CHECK_FALSE(p.searching());
    CHECK(p.probe_size(t0) == 0);
    // RFC 8899 §5.1.1: after PMTU_RAISE_TIMER there is nothing larger to try.
    CHECK(p.probe_size(t0 + quic::Pmtud::kRaiseTimer) == 0);
  }
  SECTION("a 1400-byte path: bisect down to 1372") {
    lose(1472);
    lose(1422);
    REQUIRE(p.probe_size(t0) == 1372);
    p.on_probe_sent(200, 1372);
    CHECK(p.on_probe_acked(200));
    CHECK(p.plpmtu() == 1372);
    REQUIRE(p.probe_size(t0) == 1392);
    p.on_probe_sent(201, 1392);
    p.on_probe_lost(201);
    CHECK(p.probe_size(t0) == 1392);  // retried until MAX_PROBES
    p.on_probe_sent(202, 1392);
    p.on_probe_lost(202);
    p.on_probe_sent(203, 1392);
    p.on_probe_lost(203);
    CHECK(p.probe_size(t0) == 0);
    CHECK_FALSE(p.searching());
    CHECK(p.plpmtu() == 1372);
    // Later the search starts over from the top.
    CHECK(p.probe_size(t0 + quic::Pmtud::kRaiseTimer) == 1472);
  }
  SECTION("a 1280-byte path: every size fails, the base stays") {
    lose(1472);
    lose(1422);
    lose(1372);
    CHECK(p.probe_size(t0) == 0);
    CHECK(p.plpmtu() == 1200);
    CHECK(p.probes_sent() == 9);
  }
  SECTION("a black hole drops to the base and searches again") {
    p.on_probe_sent(1, 1472);
    REQUIRE(p.on_probe_acked(1));
    p.on_black_hole();
    CHECK(p.plpmtu() == 1200);
    CHECK(p.black_holes() == 1);
    CHECK(p.probe_size(t0) == 1472);
  }
}

}  // namespace
}  // namespace wt::sim
