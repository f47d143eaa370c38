// Paths in the simulator (RFC 9000 §8.2, §9): a client migrating to a new
// local address, a NAT rebinding the client's port, and a client moving to
// the server's preferred address, each during a transfer that must stay
// byte-exact.
#include <catch2/catch.hpp>
#include <set>
#include <vector>

#include "test/sim/feature_transfer.h"

namespace wt::sim {
namespace {

using namespace std::chrono_literals;
using quic::Connection;

constexpr size_t kClientNode = 0, kServerNode = 1;            // Scenario adds them in this order
const Address kClientAddr2 = Address::v4(0x0a000003, 50001);  // 10.0.0.3: another interface
const Address kNatAddr = Address::v4(0x0a000001, 40000);      // the client's IP, another port
const Address kPreferred = Address::v4(0x0a000009, 4433);     // 10.0.0.9

LinkConfig path_link() { return feature_link(10ms, 50'000'000, 200'000); }

// The DCID of a short-header datagram (our CIDs are 8 bytes); 0 if none.
uint64_t short_dcid(Bytes d) {
  if (d.size() < 9 || (d[0] & 0x80)) return 0;
  uint64_t v = 0;
  for (size_t i = 1; i < 9; ++i) v = v << 8 | d[i];
  return v;
}

TEST_CASE("migration: the client moves to a new local address mid-transfer", "[sim][migration]") {
  ScenarioOptions o;
  o.seed = 51;
  o.c2s = path_link();
  o.s2c = path_link();
  Scenario s(o);
  s.sim.add_address(kClientNode, kClientAddr2);
  s.sim.add_link(kClientAddr2, Scenario::kServerAddr, path_link());
  s.sim.add_link(Scenario::kServerAddr, kClientAddr2, path_link());

  // DCIDs the client used from each address, and what the server got where.
  std::set<uint64_t> dcids_old, dcids_new;
  uint64_t server_rx_new = 0;
  Time switched_at = kTimeInfinite;
  uint64_t old_after_switch = 0;
  s.sim.on_send([&](const Datagram& d) {
    if (d.path.local == Scenario::kClientAddr) {
      dcids_old.insert(short_dcid(d.data));
      if (switched_at != kTimeInfinite && d.time > switched_at + 100ms) ++old_after_switch;
    }
    if (d.path.local == kClientAddr2) dcids_new.insert(short_dcid(d.data));
  });
  s.sim.on_deliver([&](const Datagram& d) {
    if (d.path.local == kClientAddr2 && d.path.remote == Scenario::kServerAddr) ++server_rx_new;
  });

  TwoWayTransfer t(5'000'000, 20'000'000);
  t.attach(s);
  bool migrate_called = false;
  Status migrate_result;
  t.client_extra = [&](Connection& c, Time) {
    if (!migrate_called && t.downloaded() >= 5'000'000) {
      migrate_called = true;
      migrate_result = c.migrate(kClientAddr2);
    }
    if (switched_at == kTimeInfinite && c.path().local == kClientAddr2) switched_at = s.sim.now();
  };
  const bool ok = s.run_until([&] { return t.finished_or_failed(); }, 300s);
  INFO(s.sim.summary() << "stop: " << stop_reason_name(s.sim.last_stop()));
  REQUIRE(ok);
  REQUIRE(migrate_called);
  CHECK(migrate_result.ok());
  CHECK_FALSE(t.error);
  CHECK_FALSE(t.corrupt());
  CHECK(t.downloaded() == 20'000'000);
  CHECK(t.uploaded() == 5'000'000);
  CHECK_FALSE(s.client_closed);
  CHECK_FALSE(s.server_closed);

  // The path changed on both sides: the server sends to the new address.
  CHECK(s.client_conn->path().local == kClientAddr2);
  CHECK(s.server_conn->path().remote == kClientAddr2);
  CHECK(s.server_conn->path_validated());
  CHECK(s.client_conn->path_stats().validations_succeeded >= 1);
  CHECK(s.server_conn->path_stats().peer_migrations == 1);
  CHECK(server_rx_new > 1000);
  // The old address went quiet, and the new path used new CIDs in both
  // directions (RFC 9000 §9.5).
  CHECK(switched_at != kTimeInfinite);
  CHECK(old_after_switch == 0);
  // Packets in flight to the CIDs retired by the switch are dropped quietly.
  CHECK(s.client().endpoint().stats().stateless_resets_sent == 0);
  CHECK(s.server().endpoint().stats().stateless_resets_sent == 0);
  dcids_old.erase(0);
  dcids_new.erase(0);
  CHECK_FALSE(dcids_new.empty());
  for (const auto& d : dcids_new) CHECK(dcids_old.count(d) == 0);
  CHECK(s.client_conn->path_stats().cids_rotated == 1);
  CHECK(s.server_conn->path_stats().cids_rotated == 1);
  CHECK_FALSE(s.client_conn->migration_pending());
}

TEST_CASE("migration: refused when the server disabled active migration", "[sim][migration]") {
  ScenarioOptions o;
  o.c2s = path_link();
  o.s2c = path_link();
  o.tweak = [](quic::ConnectionConfig& c, bool server) {
    if (server) c.disable_active_migration = true;
  };
  Scenario s(o);
  // RFC 9000 §9: also refused before the handshake is confirmed.
  CHECK_FALSE(s.client_conn->migrate(kClientAddr2).ok());
  REQUIRE(s.run_until([&] { return s.client_conn->handshake_confirmed(); }, 5s));
  CHECK_FALSE(s.client_conn->migrate(kClientAddr2).ok());  // RFC 9000 §18.2
  CHECK(s.client_conn->path().local == Scenario::kClientAddr);
  CHECK_FALSE(s.client_conn->migration_pending());
}

TEST_CASE("migration: a probe of an unreachable address fails and the transfer stays",
          "[sim][migration]") {
  ScenarioOptions o;
  o.seed = 52;
  o.c2s = path_link();
  o.s2c = path_link();
  Scenario s(o);
  // The new address exists but nothing comes back on it.
  s.sim.add_address(kClientNode, kClientAddr2);
  s.sim.add_link(kClientAddr2, Scenario::kServerAddr, path_link());
  s.sim.add_link(Scenario::kServerAddr, kClientAddr2, path_link())
      .add_blackhole(kTimeZero, kTimeInfinite);
  TwoWayTransfer t(0, 10'000'000);
  t.attach(s);
  bool migrate_called = false;
  t.client_extra = [&](Connection& c, Time) {
    if (!migrate_called && t.downloaded() >= 2'000'000) {
      migrate_called = true;
      CHECK(c.migrate(kClientAddr2).ok());
    }
  };
  REQUIRE(s.run_until([&] { return t.finished_or_failed(); }, 300s));
  // The transfer may finish before validation gives up: wait for that.
  REQUIRE(s.run_until([&] { return !s.client_conn->migration_pending(); }, 30s));
  CHECK_FALSE(t.corrupt());
  CHECK(t.downloaded() == 10'000'000);
  CHECK(s.client_conn->path().local == Scenario::kClientAddr);
  CHECK(s.client_conn->path_stats().validations_failed == 1);
  CHECK(s.client_conn->path_stats().path_changes == 0);
  CHECK(s.server_conn->path().remote == Scenario::kClientAddr);
  CHECK_FALSE(s.client_closed);
}

TEST_CASE("nat-rebinding: the server validates the client's new port and follows it",
          "[sim][nat-rebinding]") {
  ScenarioOptions o;
  o.seed = 53;
  o.c2s = path_link();
  o.s2c = path_link();
  Scenario s(o);
  // The NAT's return direction: the server's packets to the new port reach
  // the client's unchanged address.
  LinkConfig back = path_link();
  back.rewrite_destination = Scenario::kClientAddr;
  s.sim.add_link(Scenario::kServerAddr, kNatAddr, back);
  uint64_t to_nat = 0;
  s.sim.on_deliver([&](const Datagram& d) {
    if (d.path.remote == kNatAddr) ++to_nat;
  });

  TwoWayTransfer t(2'000'000, 20'000'000);
  t.attach(s);
  bool rebound = false;
  t.client_extra = [&](Connection&, Time) {
    if (!rebound && t.downloaded() >= 5'000'000) {
      rebound = true;
      s.sim.link(Scenario::kClientAddr, Scenario::kServerAddr)->config().rewrite_source = kNatAddr;
    }
  };
  const bool ok = s.run_until([&] { return t.finished_or_failed(); }, 300s);
  INFO(s.sim.summary() << "stop: " << stop_reason_name(s.sim.last_stop()));
  REQUIRE(ok);
  REQUIRE(rebound);
  CHECK_FALSE(t.error);
  CHECK_FALSE(t.corrupt());
  CHECK(t.downloaded() == 20'000'000);
  CHECK(t.uploaded() == 2'000'000);
  CHECK_FALSE(s.client_closed);
  CHECK_FALSE(s.server_closed);
  // The server switched to the new address and validated it.
  CHECK(s.server_conn->path().remote == kNatAddr);
  CHECK(s.server_conn->path_validated());
  const quic::PathStats& ps = s.server_conn->path_stats();
  CHECK(ps.peer_migrations == 1);
  CHECK(ps.validations_succeeded >= 1);
  CHECK(ps.challenges_sent >= 1);
  CHECK(ps.cids_rotated == 0);  // same DCID from the peer: ours stays too
  CHECK(to_nat > 1000);
  // The client noticed nothing but a PATH_CHALLENGE it answered.
  CHECK(s.client_conn->path_stats().path_changes == 0);
  CHECK(s.client_conn->path_stats().responses_sent >= 1);
}

TEST_CASE("preferred-address: the client moves to the server's preferred address",
          "[sim][preferred-address]") {
  ScenarioOptions o;
  o.seed = 54;
  o.c2s = path_link();
  o.s2c = path_link();
  o.tweak = [](quic::ConnectionConfig& c, bool server) {
    if (server) c.preferred_address = kPreferred;
  };
  Scenario s(o);
  s.sim.add_address(kServerNode, kPreferred);
  s.sim.add_link(Scenario::kClientAddr, kPreferred, path_link());
  s.sim.add_link(kPreferred, Scenario::kClientAddr, path_link());
  uint64_t to_preferred = 0, to_original = 0;
  Time moved_at = kTimeInfinite;
  s.sim.on_deliver([&](const Datagram& d) {
    if (d.path.remote == kPreferred) ++to_preferred;
    if (d.path.remote == Scenario::kServerAddr && moved_at != kTimeInfinite &&
        d.time > moved_at + 100ms)
      ++to_original;
  });
  TwoWayTransfer t(1'000'000, 10'000'000);
  t.attach(s);
  t.client_extra = [&](Connection& c, Time now) {
    if (moved_at == kTimeInfinite && c.path().remote == kPreferred) moved_at = now;
  };
  const bool ok = s.run_until([&] { return t.finished_or_failed(); }, 300s);
  INFO(s.sim.summary() << "stop: " << stop_reason_name(s.sim.last_stop()));
  REQUIRE(ok);
  CHECK_FALSE(t.error);
  CHECK_FALSE(t.corrupt());
  CHECK(t.downloaded() == 10'000'000);
  CHECK(t.uploaded() == 1'000'000);
  CHECK_FALSE(s.client_closed);
  CHECK_FALSE(s.server_closed);
  // The server announced it, the client validated and moved there.
  REQUIRE(s.client_conn->peer_params().preferred_address.has_value());
  CHECK(s.client_conn->path_stats().preferred_address_used);
  CHECK(s.client_conn->path().remote == kPreferred);
  CHECK(s.server_conn->path().local == kPreferred);
  CHECK(s.server_conn->path().remote == Scenario::kClientAddr);
  CHECK(moved_at != kTimeInfinite);
  CHECK(to_preferred > 1000);
  CHECK(to_original == 0);
  // RFC 9000 §5.1.1: the preferred address has its own CID (sequence 1).
  CHECK(s.client_conn->path_stats().cids_rotated == 1);
}

}  // namespace
}  // namespace wt::sim
