// ECN (RFC 9000 §13.4) in the simulator: counts reported and validated on a
// clean path, CE marks treated as congestion, and a path that bleaches the
// codepoint failing validation so that marking stops.
#include <catch2/catch.hpp>

#include "test/sim/feature_transfer.h"

namespace wt::sim {
namespace {

using namespace std::chrono_literals;
using quic::EcnValidator;

struct EcnRun {
  uint64_t server_ect0 = 0, server_not_ect = 0;  // datagrams the server sent, by codepoint
  uint64_t client_rx_ect0 = 0;                   // as delivered to the client
};

void observe(Scenario& s, EcnRun& r) {
  s.sim.on_send([&r](const Datagram& d) {
    if (d.path.local != Scenario::kServerAddr) return;
    (d.ecn == Ecn::ect0 ? r.server_ect0 : r.server_not_ect)++;
  });
  s.sim.on_deliver([&r](const Datagram& d) {
    if (d.path.remote == Scenario::kClientAddr && d.ecn == Ecn::ect0) r.client_rx_ect0++;
  });
}

TEST_CASE("ecn: a clean path validates and ECT(0) counts grow in ACKs", "[sim][ecn]") {
  ScenarioOptions o;
  o.seed = 71;
  o.c2s = feature_link(10ms, 50'000'000, 200'000);
  o.s2c = feature_link(10ms, 50'000'000, 200'000);
  Scenario s(o);
  EcnRun r;
  observe(s, r);
  TwoWayTransfer t(1'000'000, 10'000'000);
  t.attach(s);
  uint64_t mid_ect0 = 0;
  t.server_extra = [&](quic::Connection& c, Time) {
    if (!mid_ect0 && t.downloaded() >= 5'000'000) mid_ect0 = c.peer_ecn_counts().ect0;
  };
  REQUIRE(s.run_until([&] { return t.finished_or_failed(); }, 120s));
  INFO(s.sim.summary());
  CHECK_FALSE(t.corrupt());
  CHECK(t.downloaded() == 10'000'000);
  // Both directions proved ECN-capable.
  CHECK(s.server_conn->ecn_state() == EcnValidator::State::capable);
  CHECK(s.client_conn->ecn_state() == EcnValidator::State::capable);
  // The client's ACKs report what arrived ECT(0), and the count grows.
  const quic::EcnCounts& counts = s.server_conn->peer_ecn_counts();
  CHECK(mid_ect0 > 1000);
  CHECK(counts.ect0 > mid_ect0 + 1000);
  CHECK(counts.ect1 == 0);
  CHECK(counts.ce == 0);
  // What the server sent after the handshake was marked, and arrived so.
  CHECK(r.server_ect0 > 5000);
  CHECK(r.server_not_ect < 100);  // handshake and probes
  const uint64_t delivered =
      s.sim.link(Scenario::kServerAddr, Scenario::kClientAddr)->stats().delivered_packets;
  CHECK(r.client_rx_ect0 + r.server_not_ect >= delivered);  // what arrived kept its mark
  CHECK(counts.ect0 <= r.server_ect0);
}

TEST_CASE("ecn: CE marks reduce the congestion window like losses", "[sim][ecn]") {
  // A slow link with a deep queue: without ECN the window grows until the
  // queue holds a megabyte; with CE marking above 30 KB it stays short.
  auto run = [](bool mark, uint64_t& max_queue, uint64_t& ce_events, uint64_t& lost,
                uint64_t& ce_marked, bool& corrupt) {
    ScenarioOptions o;
    o.seed = 72;
    o.c2s = feature_link(10ms, 20'000'000, 1'000'000);
    o.s2c = feature_link(10ms, 20'000'000, 1'000'000);
    if (mark) o.s2c.ce_threshold_bytes = 30'000;
    Scenario s(o);
    TwoWayTransfer t(0, 10'000'000);
    t.attach(s);
    REQUIRE(s.run_until([&] { return t.finished_or_failed(); }, 120s));
    CHECK(t.downloaded() == 10'000'000);
    corrupt = t.corrupt();
    const Link& down = *s.sim.link(Scenario::kServerAddr, Scenario::kClientAddr);
    max_queue = down.stats().max_queue_bytes;
    ce_marked = down.stats().ce_marked;
    ce_events = s.server_conn->ecn_congestion_events();
    lost = s.server_conn->stats().packets_lost;
    CHECK(s.server_conn->ecn_state() == EcnValidator::State::capable);
  };
  uint64_t q_mark, ev_mark, lost_mark, ce_mark, q_plain, ev_plain, lost_plain, ce_plain;
  bool corrupt_mark, corrupt_plain;
  run(true, q_mark, ev_mark, lost_mark, ce_mark, corrupt_mark);
  run(false, q_plain, ev_plain, lost_plain, ce_plain, corrupt_plain);
  INFO("marking: queue " << q_mark << " CE " << ce_mark << " events " << ev_mark << " lost "
                         << lost_mark);
  INFO("plain: queue " << q_plain << " CE " << ce_plain << " events " << ev_plain << " lost "
                       << lost_plain);
  CHECK_FALSE(corrupt_mark);
  CHECK_FALSE(corrupt_plain);
  CHECK(ce_mark > 0);
  CHECK(ce_plain == 0);
  // RFC 9002 §7.1: the sender reacted to CE without any loss.
  CHECK(ev_mark > 0);
  CHECK(lost_mark == 0);
  CHECK(ev_plain == 0);
  CHECK(q_mark * 4 < q_plain);
}

TEST_CASE("ecn: a path that bleaches ECN fails validation and marking stops", "[sim][ecn]") {
  ScenarioOptions o;
  o.seed = 73;
  o.c2s = feature_link(10ms, 50'000'000, 200'000);
  o.s2c = feature_link(10ms, 50'000'000, 200'000);
  o.s2c.bleach_ecn = true;  // server -> client clears the codepoint
  Scenario s(o);
  EcnRun r;
  observe(s, r);
  TwoWayTransfer t(1'000'000, 10'000'000);
  t.attach(s);
  REQUIRE(s.run_until([&] { return t.finished_or_failed(); }, 120s));
  INFO(s.sim.summary());
  CHECK_FALSE(t.corrupt());
  CHECK(t.downloaded() == 10'000'000);
  CHECK(t.uploaded() == 1'000'000);
  // RFC 9000 §13.4.2.1: ECT packets acknowledged without ECN counts.
  CHECK(s.server_conn->ecn_state() == EcnValidator::State::failed);
  // Only the testing batch was marked; everything after it is Not-ECT.
  CHECK(r.server_ect0 > 0);
  CHECK(r.server_ect0 <= 64);
  CHECK(r.server_not_ect > 5000);
  CHECK(r.client_rx_ect0 == 0);
  // The other direction is clean and still validated.
  CHECK(s.client_conn->ecn_state() == EcnValidator::State::capable);
}

TEST_CASE("ecn: validation rules for the peer's counts", "[sim][ecn]") {
  using State = EcnValidator::State;
  EcnValidator v;
  REQUIRE(v.mark() == Ecn::ect0);
  v.on_sent(0, 4, Ecn::ect0);
  v.on_sent(4, 2, Ecn::not_ect);
  v.on_sent(6, 8, Ecn::ect0);  // 12 marked: testing is over
  CHECK(v.state() == State::unknown);
  CHECK(v.mark() == Ecn::not_ect);
  CHECK(v.was_marked(3));
  CHECK_FALSE(v.was_marked(4));
  CHECK(v.was_marked(13));
  CHECK_FALSE(v.was_marked(14));
  quic::EcnCounts c;
  SECTION("counts that cover the acknowledged packets validate") {
    c.ect0 = 3;
    c.ce = 1;
    CHECK(v.on_ack(&c, 4, true) == 1);
    CHECK(v.state() == State::capable);
    CHECK(v.mark() == Ecn::ect0);
  }
  SECTION("no counts for acknowledged ECT packets (bleached)") {
    v.on_ack(nullptr, 2, true);
    CHECK(v.state() == State::failed);
    CHECK_FALSE(v.counts_trusted());
    CHECK(v.mark() == Ecn::not_ect);
  }
  SECTION("counts that do not grow with the acknowledged packets") {
    c.ect0 = 2;
    v.on_ack(&c, 3, true);
    CHECK(v.state() == State::failed);
  }
  SECTION("a codepoint we never sent") {
    c.ect0 = 4;
    c.ect1 = 1;
    v.on_ack(&c, 4, true);
    CHECK(v.state() == State::failed);
  }
  SECTION("more packets than we marked") {
    c.ect0 = 13;
    v.on_ack(&c, 4, true);
    CHECK(v.state() == State::failed);
  }
  SECTION("counts that go backwards") {
    c.ect0 = 4;
    REQUIRE(v.on_ack(&c, 4, true) == 0);
    c.ect0 = 3;
    v.on_ack(&c, 1, true);
    CHECK(v.state() == State::failed);
  }
  SECTION("a reordered ACK is not validated") {
    c.ect0 = 1;
    v.on_ack(&c, 4, false);
    CHECK(v.state() == State::unknown);
  }
  SECTION("every testing packet lost") {
    for (int i = 0; i < 12; ++i) v.on_marked_lost();
    CHECK(v.state() == State::failed);
  }
  SECTION("a new path tests again") {
    v.on_ack(nullptr, 2, true);
    REQUIRE(v.state() == State::failed);
    v.reset_path(true);
    CHECK(v.state() == State::testing);
    v.reset_path(false);
    CHECK(v.state() == State::disabled);
    CHECK(v.mark() == Ecn::not_ect);
  }
}

}  // namespace
}  // namespace wt::sim
