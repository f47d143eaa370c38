// Idle connections and handshake cost: CompactQueue, the TLS connection
// released after the handshake (TlsSession::release_ssl), CRYPTO streams
// freed and continued, idle compaction, and the endpoint's scheduling of
// connections (endpoint_schedule.cc) and freeing of closed ones.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "quic/compact_queue.h"
#include "test/support/hostile_fixture.h"
#include "test/support/quic_pair.h"

using namespace wt;
using namespace wt::quic;
using test::Datagram;
using test::QuicPair;
using test::hostile::Hostile;
using test::hostile::Side;

namespace {

constexpr uint64_t kCryptoUnexpectedMessage = 0x100 + 10;  // RFC 9001 §4.8, §6

// Runs until the client, quiet for a while, has released its TLS connection.
void run_until_idle_compacted(QuicPair& q) {
  REQUIRE(q.run_until([&] {
    return q.cconn->tls().ssl_released() && q.sconn->tls().ssl_released();
  }));
}

std::string read_all(Connection& c, uint64_t id) {
  std::string s;
  std::vector<uint8_t> buf(4096);
  while (true) {
    auto r = c.stream_read(id, MutBytes{buf});
    if (!r.ok() || r->bytes == 0) break;
    s.append(reinterpret_cast<const char*>(buf.data()), r->bytes);
  }
  return s;
}

// The endpoint's deadline is the earliest of its connections'.
Time brute_force_timeout(Endpoint& ep) {
  Time t = kTimeInfinite;
  ep.for_each([&](Connection& c) { t = std::min(t, c.next_timeout()); });
  return t;
}

}  // namespace

// ------------------------------------------------------------ CompactQueue

TEST_CASE("compact queue: FIFO without storage until used, freed by shrink", "[conn_memory]") {
  CompactQueue<std::vector<uint8_t>> q;
  CHECK(q.empty());
  CHECK(q.capacity() == 0);
  for (uint8_t i = 0; i < 5; ++i) q.push_back(std::vector<uint8_t>(100, i));
  CHECK(q.size() == 5);
  CHECK(q.front()[0] == 0);
  CHECK(q.back()[0] == 4);
  CHECK(q[2][0] == 2);
  q.pop_front();
  CHECK(q.front()[0] == 1);
  q.shrink();  // not empty: keeps everything
  CHECK(q.size() == 4);
  while (!q.empty()) q.pop_front();
  CHECK(q.capacity() > 0);  // kept for reuse while busy
  q.shrink();
  CHECK(q.capacity() == 0);
  q.emplace_back(3, uint8_t{7});
  CHECK(q.front() == std::vector<uint8_t>{7, 7, 7});
}

TEST_CASE("compact queue: a queue that never drains stays bounded", "[conn_memory]") {
  CompactQueue<int> q;
  q.push_back(-1);  // never popped until the end
  for (int i = 0; i < 10000; ++i) {
    q.push_back(i);
    CHECK(q[1] == i);
    q.pop_front();   // -1 goes first, then each i right after it is pushed
    q.push_back(-2);
    q.pop_front();
  }
  CHECK(q.size() == 1);
  CHECK(q.capacity() < 200);
}

// ------------------------------------------------------------ TLS release

TEST_CASE("conn memory: the server frees its TLS connection at once, the client once quiet",
          "[conn_memory]") {
  QuicPair q;
  q.client_cfg.conn.server_name = "localhost";
  REQUIRE(q.handshake());
  // A server needs nothing from TLS after the handshake (its tickets are out).
  CHECK(q.sconn->tls().ssl_released());
  CHECK(q.sconn->tls().native_handle() == nullptr);
  // A client may still receive tickets: it keeps TLS until it goes quiet.
  CHECK_FALSE(q.cconn->tls().ssl_released());
  const uint16_t suite = q.cconn->tls().cipher_suite();
  const uint16_t group = q.cconn->tls().key_exchange_group();
  const auto cert = q.cconn->tls().peer_certificate();
  REQUIRE(cert.has_value());
  run_until_idle_compacted(q);
  CHECK(q.cconn->is_established());
  CHECK(q.sconn->is_established());

  // What was negotiated is still there on both sides.
  for (Connection* c : {q.cconn, q.sconn}) {
    CHECK(c->alpn() == "test");
    CHECK(c->tls().alpn() == "test");
    CHECK(c->tls().cipher_suite() == suite);
    CHECK(c->tls().key_exchange_group() == group);
    CHECK(c->tls().handshake_complete());
    CHECK_FALSE(c->tls().is_resumed());
    CHECK_FALSE(c->tls().early_data_accepted());
    CHECK(c->tls().read_level() == EncryptionLevel::application);
  }
  CHECK(q.sconn->tls().server_name() == "localhost");
  CHECK_FALSE(q.sconn->tls().peer_certificate().has_value());  // no client certificate
  // The client's view of the server certificate survives, from the tickets
  // that carry it and after the application took them.
  auto after = q.cconn->tls().peer_certificate();
  REQUIRE(after.has_value());
  CHECK(after->der == cert->der);
  CHECK(after->der == test::test_certificate().cert_der);
  CHECK(after->subject == cert->subject);
  CHECK(after->chain_length == cert->chain_length);

  // The server still issued its tickets (num_tickets = 2), kept for the
  // application after TLS is gone.
  auto t1 = q.cconn->take_session_ticket();
  REQUIRE(t1.has_value());
  CHECK(q.cconn->tls().peer_certificate()->der == cert->der);
  auto t2 = q.cconn->take_session_ticket();
  REQUIRE(t2.has_value());
  CHECK_FALSE(q.cconn->take_session_ticket().has_value());
  auto last = q.cconn->tls().peer_certificate();
  REQUIRE(last.has_value());
  CHECK(last->der == cert->der);
  CHECK(last->subject.find("localhost") != std::string::npos);
}

TEST_CASE("conn memory: streams and key updates work after both sides freed TLS", "[conn_memory]") {
  QuicPair q;
  REQUIRE(q.handshake());
  run_until_idle_compacted(q);
  for (Connection* c : {q.cconn, q.sconn}) REQUIRE(c->tls().ssl_released());

  // Each side starts one key update (RFC 9001 §6); the keys come from the
  // secrets the connection kept, not from TLS.
  REQUIRE(q.cconn->initiate_key_update().ok());
  uint64_t id = *q.cconn->open_stream(true);
  std::string msg(20000, 'k');
  REQUIRE(*q.cconn->stream_write(id, as_bytes(msg), true) == msg.size());
  std::string got;
  REQUIRE(q.run_until([&] {
    got += read_all(*q.sconn, id);
    return got.size() == msg.size();
  }));
  CHECK(got == msg);
  CHECK(q.cconn->key_update_info().tx_generation == 1);
  CHECK(q.sconn->key_update_info().rx_generation == 1);
  CHECK(q.sconn->key_update_info().initiated_by_peer == 1);

  // Now the server: it updates once 3 PTO have passed since the last one,
  // with whatever it sends next.
  REQUIRE(q.sconn->initiate_key_update().ok());
  uint64_t back = *q.sconn->open_stream(false);
  REQUIRE(*q.sconn->stream_write(back, as_bytes(msg), true) == msg.size());
  std::string got2;
  std::string ping = "ping";
  REQUIRE(q.run_until([&] {
    got2 += read_all(*q.cconn, back);
    if (q.sconn->key_update_info().tx_generation < 2) (void)q.sconn->send_datagram(as_bytes(ping));
    return got2.size() == msg.size() && q.cconn->key_update_info().rx_generation == 2;
  }));
  CHECK(got2 == msg);
  CHECK(q.sconn->key_update_info().tx_generation == 2);
  CHECK(q.cconn->is_established());
  CHECK(q.sconn->is_established());
}

TEST_CASE("conn memory: a ticket taken after TLS was freed resumes the session", "[conn_memory]") {
  QuicPair first;
  REQUIRE(first.handshake());
  run_until_idle_compacted(first);
  auto ticket = first.cconn->take_session_ticket();
  REQUIRE(ticket.has_value());

  QuicPair second;
  second.client_cfg.conn.tls = first.client_cfg.conn.tls;
  second.server_cfg.conn.tls = first.server_cfg.conn.tls;  // same ticket keys
  second.client_cfg.conn.resume_session = *ticket;
  REQUIRE(second.handshake());
  CHECK(second.cconn->tls().is_resumed());
  CHECK(second.sconn->tls().is_resumed());
  // A resumed connection also issues tickets and frees TLS.
  run_until_idle_compacted(second);
  CHECK(second.cconn->tls().is_resumed());
  CHECK(second.sconn->tls().is_resumed());
  CHECK(second.cconn->take_session_ticket().has_value());
}

// ------------------------------------------------------------ post-handshake CRYPTO

namespace {

// A 1-RTT CRYPTO frame from stream offset 0, longer than all the CRYPTO data
// the connection has seen at 1-RTT: what lies below its consumed offset is
// a retransmission and is skipped; the rest is new, filled with `fill`.
Datagram crypto_from_zero(Hostile& h, Side to, uint8_t fill) {
  static std::vector<uint8_t> data;
  data.assign(1000, fill);
  return h.forge(to).frames({CryptoFrame{0, Bytes{data}}});
}

void quiet_until_client_released(Hostile& h) {
  REQUIRE(h.q.run_until([&] { return h.q.cconn->tls().ssl_released(); }));
  REQUIRE(h.q.sconn->tls().ssl_released());
  while (h.q.cconn->poll_event()) {
  }
  while (h.q.sconn->poll_event()) {
  }
}

}  // namespace

TEST_CASE("conn memory: after TLS is freed a client skips later tickets", "[conn_memory]") {
  Hostile h;
  quiet_until_client_released(h);
  // 0x04 0x04 0x04 0x04...: a NewSessionTicket of 0x040404 bytes.
  h.inject(Side::client, crypto_from_zero(h, Side::client, 0x04));
  h.expect_no_close(Side::client);
  // A retransmission of data already read is ignored.
  std::vector<uint8_t> old(5, 0x18);
  h.inject(Side::client, h.forge(Side::client).frames({CryptoFrame{0, Bytes{old}}}));
  h.expect_no_close(Side::client);
}

TEST_CASE("conn memory: a TLS KeyUpdate after TLS is freed is CRYPTO_ERROR 0x10a", "[conn_memory]") {
  Hostile h;
  quiet_until_client_released(h);
  // RFC 9001 §6: KeyUpdate (24) is forbidden in QUIC.
  h.inject(Side::client, crypto_from_zero(h, Side::client, 0x18));
  h.expect_close(Side::client, kCryptoUnexpectedMessage);
}

TEST_CASE("conn memory: a server that freed TLS rejects any post-handshake message",
          "[conn_memory]") {
  Hostile h;
  REQUIRE(h.q.sconn->tls().ssl_released());
  h.inject(Side::server, crypto_from_zero(h, Side::server, 0x04));
  h.expect_close(Side::server, kCryptoUnexpectedMessage);
}

namespace {

// Two TlsSessions talking directly (no QUIC): CRYPTO data moved per level.
struct TlsPair {
  std::unique_ptr<TlsSession> client, server;
  TlsPair() {
    TlsSessionOptions o;
    o.transport_params = {0x01, 0x02, 0x40, 0x64};  // opaque to TLS
    o.server_name = "localhost";
    auto c = TlsSession::create(test::client_tls(), o);
    auto s = TlsSession::create(test::server_tls(), o);
    REQUIRE(c.ok());
    REQUIRE(s.ok());
    client = std::move(*c);
    server = std::move(*s);
  }
  static void advance(TlsSession& t) {
    REQUIRE(t.do_handshake().ok());
    TlsSecret secret;
    while (t.poll_secret(secret)) {
    }
  }
  // TLS reads one level at a time: each level's data, then a step.
  void pump() {
    advance(*client);
    for (int round = 0; round < 4; ++round) {
      for (auto [from, to] : {std::pair{client.get(), server.get()}, {server.get(), client.get()}}) {
        for (EncryptionLevel l : {EncryptionLevel::initial, EncryptionLevel::handshake,
                                  EncryptionLevel::application}) {
          auto data = from->take_crypto(l);
          if (data.empty()) continue;
          REQUIRE(to->provide_data(l, Bytes{data}).ok());
          advance(*to);
        }
      }
    }
  }
};

}  // namespace

TEST_CASE("tls session: release_ssl only when the handshake is done and output taken",
          "[conn_memory]") {
  TlsPair p;
  CHECK_FALSE(p.client->release_ssl());  // before the handshake
  TlsPair::advance(*p.client);
  CHECK_FALSE(p.client->release_ssl());  // ClientHello not taken
  p.pump();
  REQUIRE(p.server->handshake_complete());
  REQUIRE(p.client->handshake_complete());
  CHECK(p.server->release_ssl());
  CHECK(p.server->release_ssl());  // idempotent
  CHECK(p.client->release_ssl());
  std::vector<uint8_t> ticket;
  CHECK(p.client->poll_session_ticket(ticket));
  CHECK(p.client->poll_session_ticket(ticket));
  CHECK_FALSE(p.client->poll_session_ticket(ticket));
  CHECK(p.client->peer_certificate()->der == test::test_certificate().cert_der);
  CHECK(p.server->server_name() == "localhost");
  CHECK(p.client->alpn() == "test");
  // CRYPTO data at another level after the handshake: PROTOCOL_VIOLATION.
  const uint8_t junk[] = {1, 2, 3};
  auto st = p.client->provide_data(EncryptionLevel::handshake, Bytes{junk});
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code == static_cast<uint64_t>(TransportError::protocol_violation));
}

TEST_CASE("tls session: after release, post-handshake messages are walked across pieces",
          "[conn_memory]") {
  TlsPair p;
  p.pump();
  REQUIRE(p.client->release_ssl());
  auto feed = [&](std::initializer_list<uint8_t> b) {
    std::vector<uint8_t> v(b);
    return p.client->provide_data(EncryptionLevel::application, Bytes{v});
  };
  // A NewSessionTicket of 3 bytes, its header split across calls, then a
  // second one in the same piece as the end of the first: skipped.
  REQUIRE(feed({4, 0}).ok());
  REQUIRE(feed({0, 3, 9}).ok());
  REQUIRE(feed({9, 9, 4, 0, 0, 1}).ok());
  REQUIRE(feed({0xaa}).ok());
  CHECK_FALSE(p.client->failed());
  // RFC 9001 §6: a KeyUpdate (24), even with its header in pieces, is a
  // connection error 0x10a.
  REQUIRE(feed({24, 0}).ok());
  auto st = feed({0, 1, 0});
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code == kCryptoUnexpectedMessage);
  CHECK(p.client->alert_sent() == 10);
  CHECK(p.client->failed());
  CHECK_FALSE(feed({4, 0, 0, 0}).ok());  // stays failed
}

TEST_CASE("tls session: a released server takes no post-handshake message", "[conn_memory]") {
  TlsPair p;
  p.pump();
  REQUIRE(p.server->release_ssl());
  std::vector<uint8_t> nst{4, 0, 0, 0};
  auto st = p.server->provide_data(EncryptionLevel::application, Bytes{nst});
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code == kCryptoUnexpectedMessage);
}

// ------------------------------------------------------------ compaction timer

TEST_CASE("conn memory: idle compaction fires once and does not spin", "[conn_memory]") {
  Hostile h;
  Connection& c = *h.q.cconn;
  REQUIRE_FALSE(c.tls().ssl_released());
  // Quiet: compaction is due within a few seconds, long before the idle
  // timeout (30 s). Driven by its own timers alone, each deadline lies
  // ahead of the last (as an event loop would call it).
  const Time start = h.q.now;
  int wakeups = 0;
  while (!c.tls().ssl_released() && wakeups < 50) {
    (void)h.capture(Side::client);
    const Time t = c.next_timeout();
    REQUIRE(t > h.q.now);
    h.q.now = t;
    h.ep(Side::client).on_timeout(h.q.now);
    ++wakeups;
  }
  CHECK(c.tls().ssl_released());
  CHECK(h.q.now < start + std::chrono::seconds(5));
  for (int i = 0; i < 5 && c.is_established(); ++i) {
    (void)h.capture(Side::client);
    const Time t = c.next_timeout();
    REQUIRE(t > h.q.now);
    h.q.now = t;
    h.ep(Side::client).on_timeout(h.q.now);
  }
}

// ------------------------------------------------------------ endpoint scheduling

namespace {

// One client endpoint with several connections to one server endpoint.
struct Fleet {
  QuicPair q;  // its endpoints, clock and wire
  std::vector<Connection*> clients;
  std::vector<Connection*> servers;

  explicit Fleet(size_t n, uint64_t stream_window = 0) {
    if (stream_window) {
      q.client_cfg.conn.initial_max_stream_data = stream_window;
      q.client_cfg.conn.max_stream_window = stream_window;
      q.server_cfg.conn.initial_max_stream_data = stream_window;
      q.server_cfg.conn.max_stream_window = stream_window;
    }
    q.start();
    clients.push_back(q.cconn);
    // One client socket: connections told apart by their connection IDs.
    for (size_t i = 1; i < n; ++i) {
      auto c = q.client->connect(q.cpath, q.now);
      REQUIRE(c.ok());
      clients.push_back(*c);
    }
    REQUIRE(q.run_until([&] {
      bool all = q.server->connection_count() == n;
      for (Connection* c : clients) all = all && c->handshake_confirmed();
      return all;
    }));
    q.server->for_each([&](Connection& c) { servers.push_back(&c); });
    settle();
  }
  // Nothing in flight, nothing to send.
  void settle() {
    for (int i = 0; i < 200; ++i) {
      q.flush(*q.client, true);
      q.flush(*q.server, false);
      if (q.wire.empty()) return;
      REQUIRE(q.step());
    }
    FAIL("did not settle");
  }
  void check_timers() {
    CHECK(q.client->next_timeout() == brute_force_timeout(*q.client));
    CHECK(q.server->next_timeout() == brute_force_timeout(*q.server));
  }
};

}  // namespace

TEST_CASE("endpoint: every application call wakes an idle connection", "[conn_memory]") {
  Fleet f(5);
  f.check_timers();
  Connection& c = *f.clients[3];
  // The endpoint visits a connection only when told: each call that makes
  // something to send must tell it, or the data would wait for a timer.
  auto sends_now = [&] { return !test::take_datagrams(*f.q.client, f.q.now).empty(); };
  CHECK_FALSE(sends_now());
  const uint64_t id = *c.open_stream(true);
  f.settle();
  CHECK_FALSE(sends_now());

  std::string hello = "hello";
  SECTION("stream_write") { REQUIRE(c.stream_write(id, as_bytes(hello), false).ok()); }
  SECTION("send_datagram") { REQUIRE(c.send_datagram(as_bytes(hello)).ok()); }
  SECTION("stream_reset") {
    REQUIRE(c.stream_write(id, as_bytes(hello), false).ok());
    f.settle();
    REQUIRE(c.stream_reset(id, 7).ok());
  }
  SECTION("stream_stop_sending") {
    REQUIRE(c.stream_write(id, as_bytes(hello), false).ok());  // the peer learns of the stream
    f.settle();
    REQUIRE(c.stream_stop_sending(id, 8).ok());
  }
  SECTION("close") { c.close(0, "bye"); }
  CHECK(sends_now());
  f.check_timers();
  // The others never noticed.
  for (size_t i = 0; i < f.clients.size(); ++i)
    if (i != 3) CHECK(f.clients[i]->is_established());
}

TEST_CASE("endpoint: reading a stream sends the window update it makes due", "[conn_memory]") {
  Fleet f(3, 32 * 1024);
  Connection& client = *f.clients[1];
  Connection* server = nullptr;
  for (Connection* s : f.servers)
    if (s->original_dcid() == client.original_dcid()) server = s;
  REQUIRE(server != nullptr);
  // The peer's window (32 KiB) holds only part of it.
  const uint64_t id = *client.open_stream(false);
  std::string big(256 * 1024, 'w');
  REQUIRE(*client.stream_write(id, as_bytes(big), true) == big.size());
  f.q.run_until([] { return false; }, std::chrono::seconds(1));  // flow control stops it
  f.settle();
  CHECK(test::take_datagrams(*f.q.server, f.q.now).empty());  // quiet
  // Reading alone (no datagram, no timer) makes MAX_STREAM_DATA due: it
  // goes out with the very next send().
  std::string got = read_all(*server, id);
  CHECK(got.size() <= 32 * 1024);
  CHECK_FALSE(test::take_datagrams(*f.q.server, f.q.now).empty());
  REQUIRE(f.q.run_until([&] {
    got += read_all(*server, id);
    return got.size() == big.size();
  }, std::chrono::seconds(10)));
  CHECK(got == big);
}

TEST_CASE("endpoint: timers of many connections fire from the heap", "[conn_memory]") {
  Fleet f(8);
  // Different keep-alive schedules: some connections send PINGs, others not.
  for (size_t i = 0; i < f.clients.size(); i += 2) {
    uint64_t id = *f.clients[i]->open_stream(false);
    std::string x(100 + 1000 * i, 'x');
    REQUIRE(f.clients[i]->stream_write(id, as_bytes(x), true).ok());
  }
  for (int step = 0; step < 300 && f.q.step(); ++step) f.check_timers();
  // Idle timeouts (30 s) close everything; each connection's timer fired.
  REQUIRE(f.q.run_until([&] {
    bool all = true;
    for (Connection* c : f.clients) all = all && c->is_closed();
    for (Connection* c : f.servers) all = all && c->is_closed();
    return all;
  }, std::chrono::seconds(120)));
  for (Connection* c : f.clients) CHECK(c->close_info().idle_timeout);
  f.check_timers();
}

TEST_CASE("endpoint: freed connections leave no route behind", "[conn_memory]") {
  Fleet f(4);
  Connection& gone = *f.servers[2];
  const ConnectionId cid = gone.initial_scid();
  std::vector<ConnectionId> cids;
  gone.routing_cids(cids);
  CHECK(cids.size() >= 3);  // original DCID, our SCID, the CIDs we issued
  gone.close(0, "done");
  REQUIRE(f.q.run_until([&] { return gone.is_closed(); }));
  while (gone.poll_event()) {
  }
  const size_t before = f.q.server->connection_count();
  f.q.server->remove_closed();
  CHECK(f.q.server->connection_count() == before - 1);
  // A packet to its CID now finds no connection: the endpoint answers with a
  // stateless reset (RFC 9000 §10.3) instead of touching freed memory.
  const uint64_t resets = f.q.server->stats().stateless_resets_sent;
  std::vector<uint8_t> payload(40, 0);
  payload[0] = 0x01;  // PING
  auto d = test::forge_short_packet(cid.bytes(), 5000, Bytes{payload});
  f.q.server->receive(MutBytes{d}, {f.q.cpath.remote, f.q.cpath.local}, Ecn::not_ect, f.q.now);
  CHECK(f.q.server->stats().stateless_resets_sent == resets + 1);
  f.check_timers();
  // The others still work.
  Connection& c = *f.clients[0];
  uint64_t id = *c.open_stream(false);
  std::string msg = "still here";
  REQUIRE(c.stream_write(id, as_bytes(msg), true).ok());
  REQUIRE(f.q.run_until([&] {
    for (Connection* s : f.servers)
      if (s != &gone && read_all(*s, id) == msg) return true;
    return false;
  }));
}
