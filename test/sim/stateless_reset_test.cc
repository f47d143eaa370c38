// Stateless reset (RFC 9000 §10.3): a server that lost its connections
// (restarted with the same static key) resets the client within one round
// trip; with another key the client ignores the reset; the packet format,
// sizes and rate limit of the endpoint's resets.
#include <catch2/catch.hpp>
#include <vector>

#include "lib/random.h"
#include "test/sim/feature_transfer.h"

namespace wt::sim {
namespace {

using namespace std::chrono_literals;

ScenarioOptions reset_options(uint64_t seed) {
  ScenarioOptions o;
  o.seed = seed;
  // No bottleneck queue: the round trip is exactly 20 ms.
  o.c2s = feature_link(10ms, 0, 0);
  o.s2c = feature_link(10ms, 0, 0);
  o.tweak = [](quic::ConnectionConfig& c, bool) { c.idle_timeout = 3s; };
  return o;
}

TEST_CASE("stateless-reset: a restarted server resets the client within one RTT",
          "[sim][stateless-reset]") {
  Scenario s(reset_options(61));
  // The token comes from the server's transport parameters (the client's
  // first DCID), or after a migration from a NEW_CONNECTION_ID frame.
  const bool migrated = GENERATE(false, true);
  const Address kClientAddr2 = Address::v4(0x0a000003, 50001);
  Address client_addr = Scenario::kClientAddr;
  if (migrated) {
    s.sim.add_address(0, kClientAddr2);
    s.sim.add_duplex(kClientAddr2, Scenario::kServerAddr, feature_link(10ms, 0, 0));
  }
  TwoWayTransfer t(50'000'000, 0);  // the client keeps sending
  t.attach(s);
  REQUIRE(s.run_until([&] { return t.uploaded() >= 2'000'000 || t.finished_or_failed(); }, 60s));
  if (migrated) {
    REQUIRE(s.client_conn->migrate(kClientAddr2).ok());
    REQUIRE(s.run_until([&] { return s.client_conn->path().local == kClientAddr2; }, 5s));
    REQUIRE(s.client_conn->path_stats().cids_rotated == 1);
    s.sim.run_for(100ms);
    client_addr = kClientAddr2;
  }
  INFO("migrated first: " << migrated);
  REQUIRE_FALSE(t.corrupt());
  const uint64_t uploaded = t.uploaded();

  // The server loses every connection; a fresh endpoint with the same
  // static key takes over its address.
  quic::EndpointConfig cfg = s.server().endpoint().config();
  REQUIRE(cfg.reset_key.has_value());
  s.server().restart(cfg);
  s.server_conn = nullptr;
  const Time restart = s.sim.now();
  Time first_send = kTimeInfinite;
  s.sim.on_send([&](const Datagram& d) {
    if (first_send == kTimeInfinite && d.path.local == client_addr) first_send = d.time;
  });
  REQUIRE(s.run_until([&] { return s.client_closed.has_value(); }, 10s));
  INFO(s.sim.summary());
  CHECK(s.client_closed->stateless_reset);
  CHECK(s.client_closed->by_peer);
  CHECK(s.client_conn->close_info().stateless_reset);
  CHECK(s.client_conn->is_closed());
  // RFC 9000 §10.3: detected as soon as the reset arrives: within one
  // round trip of the restart (and of the client's first packet after it).
  REQUIRE(first_send != kTimeInfinite);
  CHECK(s.client_closed_at - restart <= 20ms);
  CHECK(s.client_closed_at - first_send <= 20ms);
  CHECK(s.server().endpoint().stats().stateless_resets_sent >= 1);
  CHECK(s.client().endpoint().stats().stateless_resets_received == 1);
  // What arrived before the restart was byte-exact.
  CHECK_FALSE(t.corrupt());
  CHECK(uploaded >= 2'000'000);
}

TEST_CASE("stateless-reset: a reset with another key is not recognised", "[sim][stateless-reset]") {
  Scenario s(reset_options(62));
  TwoWayTransfer t(50'000'000, 0);
  t.attach(s);
  REQUIRE(s.run_until([&] { return t.uploaded() >= 1'000'000 || t.finished_or_failed(); }, 60s));
  quic::EndpointConfig cfg = s.server().endpoint().config();
  cfg.reset_key = quic::ResetKey{};  // a different static key
  (*cfg.reset_key)[0] = 1;
  cfg.conn.reset_key.reset();
  s.server().restart(cfg);
  s.server_conn = nullptr;
  // The tokens do not match: the client keeps trying until its idle timeout.
  s.sim.run_for(1s);
  CHECK_FALSE(s.client_closed.has_value());
  CHECK(s.server().endpoint().stats().stateless_resets_sent >= 1);
  CHECK(s.client().endpoint().stats().stateless_resets_received == 0);
  REQUIRE(s.run_until([&] { return s.client_closed.has_value(); }, 30s));
  CHECK(s.client_closed->idle_timeout);
  CHECK_FALSE(s.client_closed->stateless_reset);
  CHECK_FALSE(t.corrupt());
}

TEST_CASE("stateless-reset: format, size and rate of the endpoint's resets",
          "[sim][stateless-reset]") {
  SeededRandom rng(7);
  quic::EndpointConfig cfg;
  cfg.server = true;
  cfg.conn.rng = &rng;
  cfg.stateless_reset_rate = 10;  // per second
  cfg.stateless_reset_burst = 5;
  quic::Endpoint ep(cfg);
  REQUIRE(ep.config().reset_key.has_value());
  const quic::ResetKey key = *ep.config().reset_key;
  const Path path{Scenario::kServerAddr, Scenario::kClientAddr};
  std::vector<uint8_t> out(2048);
  Time now = kSimEpoch;

  // A short-header datagram of `size` bytes for an unknown 8-byte DCID.
  auto unknown = [&](size_t size, uint8_t tag) {
    std::vector<uint8_t> d(size, tag);
    d[0] = 0x40 | (tag & 0x3f);
    return d;
  };
  auto answer = [&](std::vector<uint8_t> d) {
    ep.receive(MutBytes(d), path, Ecn::not_ect, now);
    auto b = ep.send(MutBytes(out), now);
    return std::vector<uint8_t>(out.begin(), out.begin() + static_cast<ptrdiff_t>(b.bytes));
  };

  SECTION("format and sizes") {
    for (size_t trigger : {22u, 30u, 43u, 44u, 60u, 100u, 1200u}) {
      auto d = unknown(trigger, static_cast<uint8_t>(trigger));
      const quic::ConnectionId dcid(Bytes(d).subspan(1, 8));
      auto r = answer(d);
      INFO("trigger " << trigger);
      REQUIRE(r.size() >= quic::kMinStatelessResetSize);
      CHECK(r.size() < trigger);  // RFC 9000 §10.3.3: never a loop
      if (trigger <= 43) CHECK(r.size() == trigger - 1);
      CHECK(r.size() <= quic::kMaxStatelessResetSize);
      CHECK((r[0] & 0xc0) == 0x40);  // a short header
      const auto token = quic::stateless_reset_token(key, dcid);
      CHECK(std::equal(token.begin(), token.end(), r.end() - 16));
      now += 1s;  // refill the bucket
    }
    // Too small to be answered with anything smaller that is still a reset.
    CHECK(answer(unknown(21, 0x21)).empty());
    CHECK(answer(unknown(10, 0x10)).empty());
    CHECK(ep.stats().stateless_resets_sent == 7);
  }
  SECTION("rate limit") {
    size_t sent = 0;
    for (int i = 0; i < 50; ++i) sent += !answer(unknown(100, static_cast<uint8_t>(i))).empty();
    CHECK(sent == 5);  // the burst
    now += 1s;         // ten per second, but never more than the burst at once
    for (int i = 0; i < 50; ++i) sent += !answer(unknown(100, static_cast<uint8_t>(i))).empty();
    CHECK(sent == 10);
    now += 300ms;
    for (int i = 0; i < 50; ++i) sent += !answer(unknown(100, static_cast<uint8_t>(i))).empty();
    CHECK(sent == 13);
  }
  SECTION("the same key regenerates the tokens a lost connection issued") {
    quic::EndpointConfig again = cfg;
    again.reset_key = key;
    quic::Endpoint restarted(again);
    auto d = unknown(200, 0x77);
    const quic::ConnectionId dcid(Bytes(d).subspan(1, 8));
    restarted.receive(MutBytes(d), path, Ecn::not_ect, now);
    auto b = restarted.send(MutBytes(out), now);
    REQUIRE(b.bytes >= quic::kMinStatelessResetSize);
    const auto token = quic::stateless_reset_token(key, dcid);
    CHECK(
        std::equal(token.begin(), token.end(), out.begin() + static_cast<ptrdiff_t>(b.bytes) - 16));
  }
}

}  // namespace
}  // namespace wt::sim
