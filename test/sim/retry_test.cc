// Address validation in the simulator: Retry (RFC 9000 §8.1.2, §17.2.5),
// its tokens and their failures, rate-triggered Retry, and NEW_TOKEN for
// the next connection (RFC 9000 §8.1.3). Every connection that succeeds
// also moves verified data both ways.
#include <catch2/catch.hpp>

#include "quic/packet_header.h"
#include "test/sim/reconnect_fixture.h"

namespace wt::sim::reconnect {
namespace {

using namespace std::chrono_literals;

LinkConfig link(Duration delay) {
  LinkConfig c;
  c.delay = delay;
  return c;
}

NetOptions options(std::function<void(quic::EndpointConfig&)> server) {
  NetOptions o;
  o.c2s = o.s2c = link(10ms);
  o.server = std::move(server);
  return o;
}

// Where the token of the first (Initial) packet of a datagram is, if any.
std::optional<std::pair<size_t, size_t>> token_span(Bytes d) {
  quic::HeaderParseOptions po;
  po.short_dcid_len = 8;
  auto h = quic::parse_packet_header(d, po);
  if (!h.ok() || h->token.empty()) return std::nullopt;
  return std::make_pair(static_cast<size_t>(h->token.data() - d.data()), h->token.size());
}

bool is_retry(Bytes d) {
  quic::HeaderParseOptions po;
  auto h = quic::parse_packet_header(d, po);
  return h.ok() && h->type == quic::PacketType::retry;
}

TEST_CASE("retry: an always-Retry server validates the token and the transfer completes",
          "[sim][retry]") {
  Net net(options([](quic::EndpointConfig& e) { e.retry_always = true; }));
  int retries_on_wire = 0;
  net.sim.on_send([&](const Datagram& d) { retries_on_wire += is_retry(d.data); });
  ClientConn& c = net.connect(net.client_config(), 250'000);
  REQUIRE(net.transfer(c));
  ServerConn* s = net.server_for(c);
  REQUIRE(s);
  CHECK(retries_on_wire == 1);
  CHECK(c.conn->stats().retries == 1);
  CHECK(s->conn->stats().retries == 1);
  const auto& es = net.server_ep().stats();
  CHECK(es.retries_sent == 1);
  CHECK(es.tokens_accepted == 1);
  CHECK(es.tokens_rejected == 0);
  CHECK(es.connections_accepted == 1);
  // RFC 9000 §7.3: the server names the client's first DCID and the Retry's
  // SCID; the client checked both.
  const auto& tp = c.conn->peer_params();
  REQUIRE(tp.original_destination_connection_id);
  CHECK(*tp.original_destination_connection_id == c.conn->original_dcid());
  REQUIRE(tp.retry_source_connection_id);
  CHECK(*tp.retry_source_connection_id == s->conn->original_dcid());
  CHECK(s->received == 250'000);
  CHECK_FALSE(s->corrupt);
}

TEST_CASE("retry: Retry under 10% loss both ways", "[sim][retry]") {
  const uint64_t seed = GENERATE(range(1, 16));
  CAPTURE(seed);
  NetOptions o = options([](quic::EndpointConfig& e) { e.retry_always = true; });
  o.c2s.loss = o.s2c.loss = 0.1;
  o.seed = seed;
  Net net(o);
  ClientConn& c = net.connect(net.client_config(), 100'000);
  REQUIRE(net.transfer(c, 60s));
  CHECK(c.conn->stats().retries == 1);
  CHECK(net.server_for(c)->received == 100'000);
  CHECK_FALSE(net.server_for(c)->corrupt);
}

TEST_CASE("retry: a tampered Retry token is refused with INVALID_TOKEN", "[sim][retry]") {
  Net net(options([](quic::EndpointConfig& e) { e.retry_always = true; }));
  // Flip a bit in the token of the client's second Initial (the one answering
  // the Retry). The packet's own protection does not matter: the server
  // checks the token first.
  auto* l = net.sim.link(Net::kClientAddr, Net::kServerAddr);
  l->set_mutator([](MutBytes d, uint64_t index, Time) {
    if (index != 1) return;
    if (auto t = token_span(d)) d[t->first + t->second / 2] ^= 0x01;
  });
  ClientConn& c = net.connect(net.client_config(), 1000);
  REQUIRE(net.run_until([&] { return c.closed.has_value(); }, 10s));
  CHECK(c.closed->by_peer);
  CHECK(c.closed->error_code == static_cast<uint64_t>(TransportError::invalid_token));
  const auto& es = net.server_ep().stats();
  CHECK(es.retries_sent == 1);
  CHECK(es.tokens_rejected == 1);
  CHECK(es.invalid_token_closes == 1);
  CHECK(es.connections_accepted == 0);
}

TEST_CASE("retry: an expired Retry token is refused with INVALID_TOKEN", "[sim][retry]") {
  // The token lives 5 ms; the client's answer arrives a 20 ms round trip later.
  Net net(options([](quic::EndpointConfig& e) {
    e.retry_always = true;
    e.retry_token_lifetime = 5ms;
  }));
  ClientConn& c = net.connect(net.client_config(), 1000);
  REQUIRE(net.run_until([&] { return c.closed.has_value(); }, 10s));
  CHECK(c.closed->error_code == static_cast<uint64_t>(TransportError::invalid_token));
  CHECK(net.server_ep().stats().tokens_rejected == 1);
  CHECK(net.server_ep().stats().connections_accepted == 0);
}

TEST_CASE("retry: a Retry whose integrity tag fails is ignored", "[sim][retry]") {
  Net net(options([](quic::EndpointConfig& e) { e.retry_always = true; }));
  // Corrupt the first Retry in flight: the client must drop it (RFC 9000
  // §17.2.5.2), time out, resend its Initial and take the second Retry.
  int corrupted = 0;
  net.sim.link(Net::kServerAddr, Net::kClientAddr)->set_mutator([&](MutBytes d, uint64_t, Time) {
    if (corrupted == 0 && is_retry(d)) {
      d[d.size() - 20] ^= 0x80;  // inside the token
      ++corrupted;
    }
  });
  ClientConn& c = net.connect(net.client_config(), 40'000);
  REQUIRE(net.transfer(c));
  CHECK(corrupted == 1);
  CHECK(c.conn->stats().retries == 1);
  CHECK(c.conn->stats().packets_dropped >= 1);
  // The PTO probes (one or two Initials) each got a Retry; one was used.
  CHECK(net.server_ep().stats().retries_sent >= 2);
  CHECK(net.server_ep().stats().connections_accepted == 1);
}

TEST_CASE("retry: a second Retry after the first is ignored", "[sim][retry]") {
  Net net(options([](quic::EndpointConfig& e) { e.retry_always = true; }));
  ClientConn& c = net.connect(net.client_config(), 20'000);
  // Replay the first Retry once the client has acted on it.
  std::vector<uint8_t> first_retry;
  net.sim.on_send([&](const Datagram& d) {
    if (first_retry.empty() && is_retry(d.data)) first_retry.assign(d.data.begin(), d.data.end());
  });
  REQUIRE(net.run_until([&] { return c.conn->stats().retries == 1; }, 2s));
  const uint64_t dropped = c.conn->stats().packets_dropped;
  net.client_ep().receive(MutBytes{first_retry}, Path{Net::kClientAddr, Net::kServerAddr},
                          Ecn::not_ect, net.sim.now());
  CHECK(c.conn->stats().retries == 1);
  CHECK(c.conn->stats().packets_dropped == dropped + 1);
  REQUIRE(net.transfer(c));
}

TEST_CASE("retry: Retry only above the configured rate of new connections", "[sim][retry]") {
  // At most 2 new connections per second without Retry.
  Net net(options([](quic::EndpointConfig& e) { e.retry_above_rate = 2; }));
  std::vector<ClientConn*> burst;
  for (int i = 0; i < 4; ++i) burst.push_back(&net.connect(net.client_config(), 5000));
  for (ClientConn* c : burst) REQUIRE(net.transfer(*c));
  // The first two to arrive got in directly, the others after a Retry.
  int retried = 0;
  for (ClientConn* c : burst) retried += static_cast<int>(c->conn->stats().retries);
  CHECK(retried == 2);
  CHECK(net.server_ep().stats().retries_sent == 2);
  // A second later the rate is low again.
  REQUIRE(net.sim.run_for(1500ms));
  ClientConn& later = net.connect(net.client_config(), 5000);
  REQUIRE(net.transfer(later));
  CHECK(later.conn->stats().retries == 0);
  CHECK(net.server_ep().stats().retries_sent == 2);
}

TEST_CASE("new-token: a returning client's NEW_TOKEN skips Retry", "[sim][new-token]") {
  Net net(options([](quic::EndpointConfig& e) { e.retry_always = true; }));
  ClientConn& first = net.connect(net.client_config(), 30'000);
  REQUIRE(net.transfer(first));
  REQUIRE(net.run_until([&] { return !first.tokens.empty(); }, 2s));
  CHECK(first.conn->stats().retries == 1);
  CHECK(net.server_ep().stats().new_tokens_sent == 1);
  const Duration first_handshake = net.sim.now() - kSimEpoch;
  (void)first_handshake;

  auto cfg = net.client_config();
  cfg.token = first.tokens.back();
  int retries_on_wire = 0;
  net.sim.on_send([&](const Datagram& d) { retries_on_wire += is_retry(d.data); });
  const Time start = net.sim.now();
  ClientConn& second = net.connect(cfg, 30'000);
  Time established = kTimeInfinite;
  REQUIRE(net.run_until(
      [&] {
        if (second.conn->is_established() && established == kTimeInfinite)
          established = net.sim.now();
        return second.done(net.download());
      },
      30s));
  // No Retry round trip: no Retry on the wire, the token validated the
  // address, and the handshake took one round trip (20 ms), not two.
  CHECK(retries_on_wire == 0);
  CHECK(second.conn->stats().retries == 0);
  const auto& es = net.server_ep().stats();
  CHECK(es.retries_sent == 1);
  CHECK(es.tokens_accepted == 2);  // the first connection's Retry token, then this one
  CHECK(established - start < 30ms);
  ServerConn* s = net.server_for(second);
  REQUIRE(s);
  CHECK(s->conn->stats().retries == 0);
  CHECK_FALSE(s->conn->local_params().retry_source_connection_id);
  CHECK(s->received == 30'000);
}

TEST_CASE("new-token: an expired or misdirected NEW_TOKEN falls back to Retry",
          "[sim][new-token]") {
  Net net(options([](quic::EndpointConfig& e) {
    e.retry_always = true;
    e.new_token_lifetime = 10s;
  }));
  ClientConn& first = net.connect(net.client_config(), 1000);
  REQUIRE(net.transfer(first));
  REQUIRE(net.run_until([&] { return !first.tokens.empty(); }, 2s));
  auto cfg = net.client_config();
  cfg.token = first.tokens.back();

  SECTION("from another IP address") {
    ClientConn& c = net.connect(cfg, 1000, false, Address::v4(0x0a000009, 50000));
    REQUIRE(net.transfer(c));
    CHECK(c.conn->stats().retries == 1);
  }
  SECTION("from the same IP, another port: still valid") {
    ClientConn& c = net.connect(cfg, 1000, false, Address::v4(0x0a000001, 50001));
    REQUIRE(net.transfer(c));
    CHECK(c.conn->stats().retries == 0);
  }
  SECTION("after its lifetime") {
    REQUIRE(net.sim.run_for(11s));
    ClientConn& c = net.connect(cfg, 1000);
    REQUIRE(net.transfer(c));
    CHECK(c.conn->stats().retries == 1);
  }
  SECTION("for another QUIC version (RFC 9369 §5)") {
    cfg.version = 0x6b3343cf;  // v2; the token came from a v1 connection
    ClientConn& c = net.connect(cfg, 1000);
    REQUIRE(net.transfer(c));
    CHECK(c.conn->version() == 0x6b3343cf);
    CHECK(c.conn->stats().retries == 1);
    CHECK(net.server_ep().stats().tokens_rejected == 1);
  }
  SECTION("garbage") {
    cfg.token = {0x4e, 1, 2, 3};
    ClientConn& c = net.connect(cfg, 1000);
    REQUIRE(net.transfer(c));
    CHECK(c.conn->stats().retries == 1);
  }
}

}  // namespace
}  // namespace wt::sim::reconnect
