// Session resumption and 0-RTT in the simulator (RFC 9001 §4.5, §4.6;
// RFC 9000 §7.4.1): a first connection hands out a session, a second one
// resumes it, with early data accepted or rejected. Every connection moves
// verified data both ways; with 0-RTT the upload starts before the
// handshake completes.
#include <catch2/catch.hpp>

#include "quic/session_state.h"
#include "quic/version.h"
#include "test/sim/reconnect_fixture.h"

namespace wt::sim::reconnect {
namespace {

using namespace std::chrono_literals;

LinkConfig link(Duration delay, double loss = 0) {
  LinkConfig c;
  c.delay = delay;
  c.loss = loss;
  return c;
}

// Server with 0-RTT enabled; the client asks for it when `client_early`.
NetOptions options(bool server_early, bool client_early) {
  NetOptions o;
  o.c2s = o.s2c = link(20ms);
  o.server = [=](quic::EndpointConfig& e) { e.conn.early_data = server_early; };
  o.client = [=](quic::EndpointConfig& e) { e.conn.early_data = client_early; };
  return o;
}

// Runs a first, full connection and returns a session from it.
std::vector<uint8_t> first_session(Net& net) {
  ClientConn& first = net.connect(net.client_config(), 20'000);
  REQUIRE(net.transfer(first));
  REQUIRE(net.run_until([&] { return !first.tickets.empty(); }, 2s));
  CHECK_FALSE(first.conn->tls().is_resumed());
  CHECK_FALSE(first.conn->early_data_attempted());
  auto state = quic::SessionState::decode(first.tickets.front());
  REQUIRE(state.ok());
  CHECK(state->version == first.conn->version());
  // RFC 9000 §7.4.1: the server's limits travel with the ticket.
  CHECK(state->params.initial_max_data == first.conn->peer_params().initial_max_data);
  CHECK(state->params.initial_max_streams_bidi ==
        first.conn->peer_params().initial_max_streams_bidi);
  return first.tickets.front();
}

TEST_CASE("resumption: a second connection resumes the first one's session", "[sim][resumption]") {
  Net net(options(false, false));
  auto session = first_session(net);
  auto cfg = net.client_config();
  cfg.resume_session = session;
  ClientConn& second = net.connect(cfg, 60'000);
  REQUIRE(net.transfer(second));
  ServerConn* s = net.server_for(second);
  REQUIRE(s);
  CHECK(second.conn->tls().is_resumed());
  CHECK(s->conn->tls().is_resumed());
  CHECK_FALSE(second.conn->early_data_attempted());
  CHECK_FALSE(second.conn->early_data_accepted());
  CHECK(s->received == 60'000);
  // A session is bytes: anything else is refused at connect time.
  cfg.resume_session = {1, 2, 3};
  CHECK_FALSE(
      net.client_ep().connect(Path{Net::kClientAddr, Net::kServerAddr}, net.sim.now(), cfg).ok());
}

TEST_CASE("resumption: a session the server cannot decrypt gives a full handshake",
          "[sim][resumption]") {
  // Another server (another ticket key) does not resume, but connects.
  std::vector<uint8_t> session;
  {
    Net other(options(false, false));
    session = first_session(other);
  }
  // A new TLS context (same certificate) has new ticket keys.
  Net net(options(false, false));
  auto fresh = [&] {
    auto cert = tls_pair().server->options();
    cert.role = quic::TlsRole::server;
    auto c = quic::TlsConfig::create(cert);
    REQUIRE(c.ok());
    return *c;
  }();
  net.server_ep().config().conn.tls = fresh;
  auto cfg = net.client_config();
  cfg.resume_session = session;
  ClientConn& c = net.connect(cfg, 10'000);
  REQUIRE(net.transfer(c));
  CHECK_FALSE(c.conn->tls().is_resumed());
  CHECK_FALSE(net.server_for(c)->conn->tls().is_resumed());
}

TEST_CASE("resumption: sessions belong to one QUIC version (RFC 9369 §5)", "[sim][resumption]") {
  using quic::kQuicV1;
  using quic::kQuicV2;
  SECTION("a client that speaks the session's version starts in it, with 0-RTT") {
    NetOptions o = options(true, true);
    o.server = [](quic::EndpointConfig& e) {
      e.conn.early_data = true;
      e.conn.versions = {kQuicV2, kQuicV1};
    };
    o.client = [](quic::EndpointConfig& e) {
      e.conn.early_data = true;
      e.conn.versions = {kQuicV1, kQuicV2};
    };
    Net net(o);
    auto session = first_session(net);  // v1 upgraded to v2
    REQUIRE(quic::SessionState::decode(session)->version == kQuicV2);
    auto cfg = net.client_config();
    cfg.resume_session = session;
    ClientConn& c = net.connect(cfg, 50'000, /*start_early=*/true);
    REQUIRE(net.transfer(c));
    CHECK(c.conn->original_version() == kQuicV2);
    CHECK(c.conn->version() == kQuicV2);
    CHECK(c.conn->tls().is_resumed());
    CHECK(c.conn->early_data_accepted());
    CHECK(net.server_for(c)->data_before_handshake);
  }
  SECTION("a client that does not speak it makes a full handshake") {
    Net net(options(false, false));
    auto session = first_session(net);  // v1
    auto cfg = net.client_config();
    cfg.version = kQuicV2;
    cfg.resume_session = session;
    ClientConn& c = net.connect(cfg, 10'000);
    REQUIRE(net.transfer(c));
    CHECK(c.conn->version() == kQuicV2);
    CHECK_FALSE(c.conn->tls().is_resumed());
    CHECK_FALSE(net.server_for(c)->conn->tls().is_resumed());
  }
  SECTION("the server refuses a ticket when it negotiates another version") {
    NetOptions o = options(true, true);
    o.client = [](quic::EndpointConfig& e) {
      e.conn.early_data = true;
      e.conn.versions = {kQuicV1, kQuicV2};
    };
    Net net(o);
    auto session = first_session(net);  // the server preferred v1: a v1 session
    REQUIRE(quic::SessionState::decode(session)->version == kQuicV1);
    net.server_ep().config().conn.versions = {kQuicV2, kQuicV1};
    auto cfg = net.client_config();
    cfg.resume_session = session;
    ClientConn& c = net.connect(cfg, 80'000, /*start_early=*/true);
    REQUIRE(net.transfer(c));
    ServerConn* s = net.server_for(c);
    CHECK(c.conn->original_version() == kQuicV1);
    CHECK(c.conn->version() == kQuicV2);
    CHECK(s->conn->version() == kQuicV2);
    CHECK_FALSE(c.conn->tls().is_resumed());
    CHECK_FALSE(s->conn->tls().is_resumed());
    CHECK(c.conn->early_data_attempted());
    CHECK_FALSE(c.conn->early_data_accepted());
    CHECK(c.conn->stats().zero_rtt_bytes_resent > 0);
    CHECK(s->received == 80'000);
    CHECK_FALSE(s->corrupt);
  }
}

TEST_CASE("0rtt: early data accepted: stream data arrives before the server's handshake completes",
          "[sim][0rtt]") {
  Net net(options(true, true));
  auto session = first_session(net);
  auto cfg = net.client_config();
  cfg.resume_session = session;
  const uint64_t upload = GENERATE(as<uint64_t>{}, 3000, 300'000);
  CAPTURE(upload);
  ClientConn& c = net.connect(cfg, upload, /*start_early=*/true);
  REQUIRE(net.transfer(c));
  ServerConn* s = net.server_for(c);
  REQUIRE(s);
  CHECK(c.opened_before_handshake);
  CHECK(c.conn->early_data_attempted());
  CHECK(c.conn->early_data_accepted());
  CHECK(s->conn->early_data_accepted());
  CHECK(c.conn->tls().is_resumed());
  CHECK(s->conn->tls().is_resumed());
  CHECK(s->data_before_handshake);
  CHECK(c.conn->stats().zero_rtt_packets_sent > 0);
  CHECK(s->conn->stats().zero_rtt_packets_received == c.conn->stats().zero_rtt_packets_sent);
  CHECK(c.conn->stats().zero_rtt_bytes_resent == 0);
  CHECK(s->received == upload);
  CHECK_FALSE(s->corrupt);
}

TEST_CASE("0rtt: the request reaches the server one round trip earlier", "[sim][0rtt]") {
  // Without 0-RTT the request leaves after the handshake and arrives 1.5
  // RTT after the start; with it, in the first flight, after 0.5 RTT.
  auto run = [](bool early) {
    Net net(options(true, true));
    auto session = first_session(net);
    auto cfg = net.client_config();
    cfg.resume_session = session;
    cfg.early_data = early;
    const Time start = net.sim.now();
    ClientConn& c = net.connect(cfg, 1000, /*start_early=*/true);
    auto request_in = [&] {
      ServerConn* s = net.server_for(c);
      return s && !s->streams.empty() && s->streams.begin()->second.reader.fin();
    };
    REQUIRE(net.run_until(request_in, 5s));
    const Duration arrival = net.sim.now() - start;
    REQUIRE(net.transfer(c));
    CHECK(c.conn->early_data_accepted() == early);
    CHECK(net.server_for(c)->received == 1000);
    return arrival;
  };
  const Duration with = run(true), without = run(false);
  CAPTURE(with.count(), without.count());
  CHECK(with < 25ms);             // one-way delay is 20 ms
  CHECK(without - with >= 39ms);  // one 40 ms round trip saved
}

TEST_CASE("0rtt: early data rejected by the server is resent in 1-RTT", "[sim][0rtt]") {
  Net net(options(true, true));
  auto session = first_session(net);
  SECTION("server no longer accepts 0-RTT") { net.server_ep().config().conn.early_data = false; }
  SECTION("server changed its transport parameters since the ticket") {
    // RFC 9001 §4.6.1: the 0-RTT context no longer matches.
    net.server_ep().config().conn.initial_max_data += 1;
  }
  auto cfg = net.client_config();
  cfg.resume_session = session;
  const uint64_t upload = 200'000;
  ClientConn& c = net.connect(cfg, upload, /*start_early=*/true);
  REQUIRE(net.transfer(c));
  ServerConn* s = net.server_for(c);
  REQUIRE(s);
  CHECK(c.opened_before_handshake);
  CHECK(c.conn->early_data_attempted());
  CHECK_FALSE(c.conn->early_data_accepted());
  CHECK_FALSE(s->conn->early_data_accepted());
  CHECK(c.conn->tls().is_resumed());  // the session resumes; only its early data is refused
  CHECK(c.conn->stats().zero_rtt_packets_sent > 0);
  CHECK(s->conn->stats().zero_rtt_packets_received == 0);
  CHECK(c.conn->stats().zero_rtt_bytes_resent > 0);
  CHECK_FALSE(s->data_before_handshake);
  CHECK(s->received == upload);
  CHECK_FALSE(s->corrupt);
}

TEST_CASE("0rtt: a ticket from a server without 0-RTT offers none", "[sim][0rtt]") {
  Net net(options(false, true));
  auto session = first_session(net);
  auto cfg = net.client_config();
  cfg.resume_session = session;
  ClientConn& c = net.connect(cfg, 10'000, /*start_early=*/true);
  REQUIRE(net.transfer(c));
  CHECK_FALSE(c.conn->early_data_attempted());
  CHECK_FALSE(c.opened_before_handshake);  // no remembered limits in use: waits for 1-RTT
  CHECK(c.conn->tls().is_resumed());
  CHECK(c.conn->stats().zero_rtt_packets_sent == 0);
}

TEST_CASE("0rtt: with Retry and with loss, early data still arrives intact", "[sim][0rtt]") {
  NetOptions o = options(true, true);
  // Seed 0: no loss. Others: 10% loss both ways, which also loses the
  // client's Finished behind a window full of 0-RTT data (no deadlock).
  const uint64_t seed = GENERATE(range(0, 9));
  CAPTURE(seed);
  if (seed) {
    o.c2s = link(20ms, 0.1);
    o.s2c = link(20ms, 0.1);
    o.seed = seed;
  }
  o.server = [](quic::EndpointConfig& e) {
    e.conn.early_data = true;
    e.retry_always = true;
    e.send_new_token = false;
  };
  Net net(o);
  auto session = first_session(net);
  auto cfg = net.client_config();
  cfg.resume_session = session;
  ClientConn& c = net.connect(cfg, 100'000, /*start_early=*/true);
  REQUIRE(net.transfer(c, 60s));
  ServerConn* s = net.server_for(c);
  REQUIRE(s);
  CHECK(c.conn->stats().retries == 1);
  CHECK(c.conn->early_data_accepted());
  CHECK(s->received == 100'000);
  CHECK_FALSE(s->corrupt);
}

}  // namespace
}  // namespace wt::sim::reconnect
