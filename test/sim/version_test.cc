// QUIC v2 (RFC 9369), compatible version negotiation (RFC 9368) and
// Version Negotiation packets (RFC 9000 §6) in the simulator. Every case
// that connects also moves verified data both ways.
#include <catch2/catch.hpp>

#include <set>

#include "quic/packet_header.h"
#include "quic/version.h"
#include "test/sim/reconnect_fixture.h"

namespace wt::sim::reconnect {
namespace {

using namespace std::chrono_literals;
using quic::kQuicV1;
using quic::kQuicV2;

constexpr uint32_t kReserved = 0x1a2a3a4a;  // RFC 9000 §15 form 0x?a?a?a?a

uint32_t be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

// Versions seen in long headers on the wire, per direction.
struct WireVersions {
  std::vector<uint32_t> from_client, from_server;
  void attach(Simulator& sim) {
    sim.on_send([this](const Datagram& d) {
      if (d.data.size() < 5 || !(d.data[0] & 0x80)) return;
      (d.path.local == Net::kClientAddr ? from_client : from_server)
          .push_back(be32(d.data.data() + 1));
    });
  }
};

LinkConfig link(Duration delay) {
  LinkConfig c;
  c.delay = delay;
  return c;
}

NetOptions options(std::function<void(quic::EndpointConfig&)> server = {}) {
  NetOptions o;
  o.c2s = o.s2c = link(15ms);
  o.server = std::move(server);
  return o;
}

// A Version Negotiation packet as a server would send it to `c`.
std::vector<uint8_t> forge_vn(const quic::Connection& c, std::vector<uint32_t> versions) {
  std::vector<uint8_t> out(256);
  auto n = quic::encode_version_negotiation(MutBytes{out}, c.initial_scid().bytes(),
                                            c.original_dcid().bytes(), versions, 0x15);
  REQUIRE(n.ok());
  out.resize(*n);
  return out;
}

TEST_CASE("v2: a client speaking only QUIC v2 connects and transfers on v2", "[sim][v2]") {
  Net net(options());
  WireVersions wire;
  wire.attach(net.sim);
  auto cfg = net.client_config();
  cfg.version = kQuicV2;
  ClientConn& c = net.connect(cfg, 200'000);
  REQUIRE(net.transfer(c));
  ServerConn* s = net.server_for(c);
  REQUIRE(s);
  CHECK(c.conn->version() == kQuicV2);
  CHECK(s->conn->version() == kQuicV2);
  CHECK(c.conn->original_version() == kQuicV2);
  CHECK(s->received == 200'000);
  CHECK_FALSE(s->corrupt);
  // Every long header on the wire, both ways, is v2.
  REQUIRE_FALSE(wire.from_client.empty());
  REQUIRE_FALSE(wire.from_server.empty());
  CHECK(std::set<uint32_t>(wire.from_client.begin(), wire.from_client.end()) ==
        std::set<uint32_t>{kQuicV2});
  CHECK(std::set<uint32_t>(wire.from_server.begin(), wire.from_server.end()) ==
        std::set<uint32_t>{kQuicV2});
  // RFC 9368 §3: both sides announced v2 as chosen.
  REQUIRE(c.conn->peer_params().version_information);
  CHECK(c.conn->peer_params().version_information->chosen_version == kQuicV2);
}

TEST_CASE("v2: compatible negotiation moves a v1 client offering v2 to v2", "[sim][v2]") {
  // The server prefers v2; the client starts with v1 and says v2 is fine.
  Net net(options([](quic::EndpointConfig& e) { e.conn.versions = {kQuicV2, kQuicV1}; }));
  WireVersions wire;
  wire.attach(net.sim);
  auto cfg = net.client_config();
  cfg.version = kQuicV1;
  cfg.versions = {kQuicV1, kQuicV2};
  ClientConn& c = net.connect(cfg, 150'000);
  REQUIRE(net.transfer(c));
  ServerConn* s = net.server_for(c);
  REQUIRE(s);
  CHECK(c.conn->version() == kQuicV2);
  CHECK(s->conn->version() == kQuicV2);
  CHECK(c.conn->original_version() == kQuicV1);
  CHECK(s->conn->original_version() == kQuicV1);
  CHECK(s->received == 150'000);
  // No extra round trip: no Version Negotiation, one connection.
  CHECK(net.server_ep().stats().version_negotiations_sent == 0);
  CHECK(net.server_ep().stats().connections_accepted == 1);
  // RFC 9368 §2.3: the client's first packet is v1, the server answers in v2
  // from its very first packet, and the client follows.
  REQUIRE_FALSE(wire.from_client.empty());
  REQUIRE_FALSE(wire.from_server.empty());
  CHECK(wire.from_client.front() == kQuicV1);
  CHECK(std::set<uint32_t>(wire.from_server.begin(), wire.from_server.end()) ==
        std::set<uint32_t>{kQuicV2});
  CHECK(wire.from_client.back() == kQuicV2);
  // Both sides' version_information agree on the chosen version.
  REQUIRE(c.conn->peer_params().version_information);
  CHECK(c.conn->peer_params().version_information->chosen_version == kQuicV2);
  REQUIRE(s->conn->peer_params().version_information);
  CHECK(s->conn->peer_params().version_information->chosen_version == kQuicV1);
}

TEST_CASE("v2: no switch when either side does not want it", "[sim][v2]") {
  SECTION("the server prefers v1") {
    Net net(options([](quic::EndpointConfig& e) { e.conn.versions = {kQuicV1, kQuicV2}; }));
    auto cfg = net.client_config();
    cfg.versions = {kQuicV1, kQuicV2};
    ClientConn& c = net.connect(cfg, 10'000);
    REQUIRE(net.transfer(c));
    CHECK(c.conn->version() == kQuicV1);
    CHECK(net.server_for(c)->conn->version() == kQuicV1);
  }
  SECTION("the client does not offer v2") {
    Net net(options([](quic::EndpointConfig& e) { e.conn.versions = {kQuicV2, kQuicV1}; }));
    ClientConn& c = net.connect(net.client_config(), 10'000);
    REQUIRE(net.transfer(c));
    CHECK(c.conn->version() == kQuicV1);
    CHECK(net.server_for(c)->conn->version() == kQuicV1);
  }
}

TEST_CASE("v2: compatible negotiation after a Retry", "[sim][v2]") {
  Net net(options([](quic::EndpointConfig& e) {
    e.conn.versions = {kQuicV2, kQuicV1};
    e.retry_always = true;
  }));
  auto cfg = net.client_config();
  cfg.versions = {kQuicV1, kQuicV2};
  ClientConn& c = net.connect(cfg, 50'000);
  REQUIRE(net.transfer(c));
  CHECK(c.conn->version() == kQuicV2);
  CHECK(net.server_for(c)->conn->version() == kQuicV2);
  CHECK(c.conn->stats().retries == 1);
}

TEST_CASE("version-negotiation: a reserved version alone fails with VERSION_NEGOTIATION_ERROR",
          "[sim][version-negotiation]") {
  Net net(options());
  std::vector<uint32_t> vn_versions;
  net.sim.on_send([&](const Datagram& d) {
    if (d.path.local == Net::kServerAddr && d.data.size() >= 5 && (d.data[0] & 0x80) &&
        be32(d.data.data() + 1) == 0) {
      quic::HeaderParseOptions po;
      auto h = quic::parse_packet_header(d.data, po);
      REQUIRE(h.ok());
      for (size_t i = 0; i < h->version_count(); ++i) vn_versions.push_back(h->version_at(i));
    }
  });
  auto cfg = net.client_config();
  cfg.version = kReserved;
  ClientConn& c = net.connect(cfg, 1000);
  REQUIRE(net.run_until([&] { return c.closed.has_value(); }, 10s));
  CHECK(c.closed->error_code == static_cast<uint64_t>(TransportError::version_negotiation_error));
  CHECK_FALSE(c.closed->by_peer);
  CHECK(c.closed->reason.find("0x00000001") != std::string::npos);
  CHECK(c.conn->is_closed());
  CHECK(c.conn->stats().version_negotiations == 1);
  CHECK(net.server_ep().stats().version_negotiations_sent == 1);
  CHECK(net.server_ep().stats().connections_accepted == 0);
  // RFC 9000 §6.1, §6.3: v1, v2 and one reserved version.
  REQUIRE(vn_versions.size() == 3);
  CHECK(vn_versions[0] == kQuicV1);
  CHECK(vn_versions[1] == kQuicV2);
  CHECK(quic::is_reserved_version(vn_versions[2]));
}

TEST_CASE("version-negotiation: a client that also speaks v1 reconnects on v1",
          "[sim][version-negotiation]") {
  Net net(options());
  auto cfg = net.client_config();
  cfg.version = kReserved;
  cfg.versions = {kQuicV1};
  ClientConn& c = net.connect(cfg, 100'000);
  REQUIRE(net.transfer(c));
  CHECK(c.conn->version() == kQuicV1);
  CHECK(c.conn->original_version() == kReserved);
  CHECK(c.conn->stats().version_negotiations == 1);
  CHECK(net.server_ep().stats().version_negotiations_sent == 1);
  CHECK(net.server_ep().stats().connections_accepted == 1);
  ServerConn* s = net.server_for(c);
  REQUIRE(s);
  CHECK(s->conn->version() == kQuicV1);
  CHECK(s->received == 100'000);
}

TEST_CASE("version-negotiation: after VN the client's next version is negotiated further",
          "[sim][version-negotiation]") {
  Net net(options());
  auto cfg = net.client_config();
  cfg.version = kReserved;
  SECTION("a v2-only client reconnects on v2") {
    cfg.versions = {kQuicV2};
    ClientConn& c = net.connect(cfg, 20'000);
    REQUIRE(net.transfer(c));
    CHECK(c.conn->version() == kQuicV2);
    CHECK(net.server_for(c)->conn->version() == kQuicV2);
  }
  SECTION("the server's preference (v1) wins among compatible versions") {
    // VN -> the client's favourite v2, offering v1 as compatible; the
    // server prefers v1 (its default order) and switches (RFC 9368 §2.3).
    // The downgrade check passes: v2 would still be the client's pick.
    cfg.versions = {kQuicV2, kQuicV1};
    ClientConn& c = net.connect(cfg, 20'000);
    REQUIRE(net.transfer(c));
    CHECK(c.conn->version() == kQuicV1);
    CHECK(net.server_for(c)->conn->version() == kQuicV1);
    CHECK(net.server_for(c)->conn->original_version() == kQuicV2);
  }
}

TEST_CASE("version-negotiation: a forged VN that downgrades is detected",
          "[sim][version-negotiation]") {
  // The client prefers v2 and starts with it. An attacker drops its Initial
  // and claims the server only speaks v1; the server's authenticated
  // version_information lists v2, so the client aborts (RFC 9368 §4).
  Net net(options());
  auto cfg = net.client_config();
  cfg.version = kQuicV2;
  cfg.versions = {kQuicV2, kQuicV1};
  net.sim.link(Net::kClientAddr, Net::kServerAddr)->drop_next(1);
  ClientConn& c = net.connect(cfg, 1000);
  REQUIRE(net.run_until(
      [&] { return net.sim.link(Net::kClientAddr, Net::kServerAddr)->offered_count() > 0; }, 1s));
  auto vn = forge_vn(*c.conn, {kQuicV1});
  net.client_ep().receive(MutBytes{vn}, Path{Net::kClientAddr, Net::kServerAddr}, Ecn::not_ect,
                          net.sim.now());
  CHECK(c.conn->stats().version_negotiations == 1);
  REQUIRE(net.run_until([&] { return c.closed.has_value(); }, 10s));
  CHECK(c.closed->error_code == static_cast<uint64_t>(TransportError::version_negotiation_error));
  CHECK_FALSE(c.done(net.download()));
}

TEST_CASE("version-negotiation: VN listing our version, or after the server answered, is ignored",
          "[sim][version-negotiation]") {
  Net net(options());
  SECTION("lists the client's version") {
    net.sim.link(Net::kClientAddr, Net::kServerAddr)->drop_next(1);
    ClientConn& c = net.connect(net.client_config(), 30'000);
    REQUIRE(net.run_until(
        [&] { return net.sim.link(Net::kClientAddr, Net::kServerAddr)->offered_count() > 0; }, 1s));
    auto vn = forge_vn(*c.conn, {kQuicV2, kQuicV1});
    net.client_ep().receive(MutBytes{vn}, Path{Net::kClientAddr, Net::kServerAddr}, Ecn::not_ect,
                            net.sim.now());
    CHECK(c.conn->stats().version_negotiations == 0);
    CHECK(c.conn->stats().packets_dropped >= 1);
    REQUIRE(net.transfer(c));  // the lost Initial is resent; nothing else changed
    CHECK(c.conn->version() == kQuicV1);
  }
  SECTION("arrives after other packets") {
    auto cfg = net.client_config();
    cfg.versions = {kQuicV1, kQuicV2};
    ClientConn& c = net.connect(cfg, 30'000);
    REQUIRE(net.run_until([&] { return c.conn->is_established(); }, 5s));
    auto vn = forge_vn(*c.conn, {kQuicV2});
    net.client_ep().receive(MutBytes{vn}, Path{Net::kClientAddr, Net::kServerAddr}, Ecn::not_ect,
                            net.sim.now());
    CHECK(c.conn->stats().version_negotiations == 0);
    REQUIRE(net.transfer(c));
    CHECK(c.conn->version() == kQuicV1);
  }
}

TEST_CASE("version-negotiation: the server answers only datagrams of at least 1200 bytes",
          "[sim][version-negotiation]") {
  quic::EndpointConfig ec;
  SeededRandom rng(5);
  ec.server = true;
  ec.conn.tls = tls_pair().server;
  ec.conn.rng = &rng;
  quic::Endpoint ep(ec);
  const Path path{Net::kServerAddr, Net::kClientAddr};
  std::vector<uint8_t> out(2000);
  // A long header of an unknown version: 1 | fixed | ..., version, DCID, SCID.
  auto datagram = [](uint32_t version, size_t size) {
    std::vector<uint8_t> d(size, 0);
    Writer w{MutBytes{d}};
    w.u8(0xc0);
    w.u32(version);
    w.u8(8);
    for (int i = 0; i < 8; ++i) w.u8(static_cast<uint8_t>(0x10 + i));
    w.u8(4);
    for (int i = 0; i < 4; ++i) w.u8(static_cast<uint8_t>(0x20 + i));
    return d;
  };
  const Time t = kSimEpoch;
  for (size_t size : {size_t{40}, size_t{1199}}) {
    auto d = datagram(kReserved, size);
    ep.receive(MutBytes{d}, path, Ecn::not_ect, t);
    CHECK(ep.send(MutBytes{out}, t).bytes == 0);
  }
  CHECK(ep.stats().version_negotiations_sent == 0);
  CHECK(ep.stats().datagrams_dropped == 2);
  // Never answer a Version Negotiation packet (RFC 9000 §6.1).
  auto v0 = datagram(0, 1200);
  ep.receive(MutBytes{v0}, path, Ecn::not_ect, t);
  CHECK(ep.send(MutBytes{out}, t).bytes == 0);

  auto big = datagram(kReserved, 1200);
  ep.receive(MutBytes{big}, path, Ecn::not_ect, t);
  auto b = ep.send(MutBytes{out}, t);
  REQUIRE(b.bytes > 0);
  CHECK(b.path == path);
  CHECK(ep.stats().version_negotiations_sent == 1);
  quic::HeaderParseOptions po;
  auto h = quic::parse_packet_header(Bytes{out}.first(b.bytes), po);
  REQUIRE(h.ok());
  CHECK(h->type == quic::PacketType::version_negotiation);
  // RFC 9000 §17.2.1: the client's CIDs, swapped.
  CHECK(h->dcid.size() == 4);
  CHECK(h->dcid[0] == 0x20);
  CHECK(h->scid.size() == 8);
  CHECK(h->scid[0] == 0x10);
  CHECK(ep.connection_count() == 0);
}

}  // namespace
}  // namespace wt::sim::reconnect
