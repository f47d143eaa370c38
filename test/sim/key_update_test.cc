// Key update (RFC 9001 §6) in the simulator: updates started by the client,
// by the server and automatically by packet count, during a 50 MB transfer
// over a lossy, reordering path; the data stays byte-exact.
#include <catch2/catch.hpp>

#include "test/sim/feature_transfer.h"
#include "test/support/packet_forge.h"
#include "test/support/quic_pair.h"

namespace wt::sim {
namespace {

using namespace std::chrono_literals;
using quic::Connection;

TEST_CASE("keyupdate: the key phase flips many times during a 50 MB transfer", "[sim][keyupdate]") {
  ScenarioOptions o;
  o.seed = 41;
  for (LinkConfig* l : {&o.c2s, &o.s2c}) {
    *l = feature_link(10ms, 100'000'000, 250'000, 0.002);
    l->reorder = 0.05;
    l->reorder_delay = 8ms;
  }
  // The server also updates by itself every 4000 packets.
  o.tweak = [](quic::ConnectionConfig& c, bool server) {
    if (server) c.key_update_interval_packets = 4000;
  };
  Scenario s(o);
  TwoWayTransfer t(1'000'000, 50'000'000);
  t.attach(s);
  // Explicit requests: the client at 0.5 s and 1.5 s, the server at 1 s
  // and 2 s (each takes effect once RFC 9001 §6.1 allows it).
  int client_requests = 0, server_requests = 0;
  bool request_failed = false;
  t.client_extra = [&](Connection& c, Time now) {
    if (client_requests < 2 && now - s.start >= 500ms + client_requests * 1s) {
      request_failed |= !c.initiate_key_update().ok();
      ++client_requests;
    }
  };
  t.server_extra = [&](Connection& c, Time now) {
    if (server_requests < 2 && now - s.start >= 1s + server_requests * 1s) {
      request_failed |= !c.initiate_key_update().ok();
      ++server_requests;
    }
  };
  const bool ok = s.run_until([&] { return t.finished_or_failed(); }, 600s);
  INFO(s.sim.summary() << "stop: " << stop_reason_name(s.sim.last_stop()) << " down "
                       << t.downloaded() << " up " << t.uploaded());
  REQUIRE(ok);
  CHECK_FALSE(request_failed);
  CHECK(client_requests == 2);
  CHECK(server_requests == 2);
  CHECK_FALSE(t.error);
  CHECK_FALSE(t.corrupt());
  CHECK(t.downloaded() == 50'000'000);
  CHECK(t.uploaded() == 1'000'000);
  CHECK_FALSE(s.client_closed);
  CHECK_FALSE(s.server_closed);

  const quic::KeyUpdateInfo& c = s.client_conn->key_update_info();
  const quic::KeyUpdateInfo& v = s.server_conn->key_update_info();
  INFO("client: tx " << c.tx_generation << " rx " << c.rx_generation << " local "
                     << c.initiated_locally << " peer " << c.initiated_by_peer << " old "
                     << c.old_key_packets);
  INFO("server: tx " << v.tx_generation << " rx " << v.rx_generation << " local "
                     << v.initiated_locally << " peer " << v.initiated_by_peer << " old "
                     << v.old_key_packets);
  // Both explicit client requests were carried out and answered.
  CHECK(c.initiated_locally == 2);
  CHECK(v.initiated_by_peer == 2);
  // The server's two requests plus its automatic updates (50 MB is about
  // 35,000 packets: several intervals of 4000).
  CHECK(v.initiated_locally >= 6);
  CHECK(c.initiated_by_peer == v.initiated_locally);
  // Every update is one generation, and both sides agree on where they are.
  CHECK(c.tx_generation == c.initiated_locally + c.initiated_by_peer);
  CHECK(c.tx_generation == v.tx_generation);
  CHECK(c.rx_generation == v.tx_generation);
  CHECK(v.rx_generation == c.tx_generation);
  // Reordering across updates: some packets needed the previous keys.
  CHECK(c.old_key_packets + v.old_key_packets > 0);
}

TEST_CASE("keyupdate: not before the handshake is confirmed", "[sim][keyupdate]") {
  ScenarioOptions o;
  o.c2s = feature_link(10ms, 0, 0);
  o.s2c = feature_link(10ms, 0, 0);
  Scenario s(o);
  // RFC 9001 §6.1: refused until the handshake is confirmed.
  CHECK_FALSE(s.client_conn->initiate_key_update().ok());
  REQUIRE(s.run_until([&] { return s.client_conn->handshake_confirmed(); }, 5s));
  CHECK(s.client_conn->initiate_key_update().ok());
  // It takes effect once a packet of the current phase was acknowledged.
  TwoWayTransfer t(200'000, 200'000);
  t.attach(s);
  REQUIRE(s.run_until([&] { return t.finished_or_failed(); }, 30s));
  CHECK_FALSE(t.corrupt());
  CHECK(s.client_conn->key_update_info().tx_generation == 1);
  CHECK(s.server_conn->key_update_info().rx_generation == 1);
  CHECK(s.server_conn->key_update_info().initiated_by_peer == 1);
}

TEST_CASE("keyupdate: an ACK with old keys for packets with new keys is KEY_UPDATE_ERROR",
          "[sim][keyupdate]") {
  // Null 1-RTT cipher: the test forges the server's packets, key phase bit
  // included (RFC 9001 §6.2).
  test::QuicPair q;
  q.client_cfg.conn.null_cipher = true;
  q.server_cfg.conn.null_cipher = true;
  REQUIRE(q.handshake());
  auto id = q.cconn->open_stream(true);
  REQUIRE(id.ok());
  const std::vector<uint8_t> data(5000, 0x42);
  REQUIRE(q.cconn->stream_write(*id, Bytes(data), false).ok());
  // Acknowledged packets of the current phase: a key update is allowed.
  REQUIRE(q.run_until([&] { return q.cconn->handshake_confirmed() && q.wire.empty(); }));
  REQUIRE(q.cconn->initiate_key_update().ok());
  REQUIRE(q.cconn->stream_write(*id, Bytes(data), false).ok());
  // The client's packets with the new keys; none reaches the server.
  auto sent = test::take_datagrams(*q.client, q.now);
  REQUIRE(q.cconn->key_update_info().tx_generation == 1);
  uint64_t largest = 0;
  for (const auto& p : test::open_packets(sent, 8)) largest = std::max(largest, p.pn);
  REQUIRE(largest > 0);

  quic::AckFrame ack;
  ack.largest_acknowledged = largest;
  const bool new_phase = GENERATE(false, true);
  auto d = test::forge_short_packet(q.cconn->initial_scid().bytes(), 1000,
                                    Bytes(test::encode_frames({ack})), 4, test::null_cipher(),
                                    new_phase);
  REQUIRE_FALSE(d.empty());
  q.client->receive(MutBytes(d), q.cpath, Ecn::not_ect, q.now);
  if (new_phase) {
    // The peer answered the update before acknowledging: all is well.
    CHECK(q.cconn->is_established());
    CHECK(q.cconn->key_update_info().rx_generation == 1);
  } else {
    // RFC 9001 §6.2: acknowledged in a packet with the old keys.
    CHECK(q.cconn->state() == Connection::State::closing);
    CHECK(q.cconn->close_info().error_code ==
          static_cast<uint64_t>(TransportError::key_update_error));
  }
}

}  // namespace
}  // namespace wt::sim
