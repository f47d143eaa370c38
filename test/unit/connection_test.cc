#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>

#include "quic/key_schedule.h"
#include "quic/version.h"
#include "quic/packet_protection.h"
#include "test/support/quic_pair.h"

using namespace wt;
using namespace wt::quic;

static std::vector<Event> drain(Connection& c) {
  std::vector<Event> v;
  while (auto e = c.poll_event()) v.push_back(std::move(*e));
  return v;
}

TEST_CASE("client and server complete the handshake", "[conn]") {
  test::QuicPair q;
  REQUIRE(q.handshake());
  CHECK(q.cconn->alpn() == "test");
  CHECK(q.sconn->alpn() == "test");
  auto ev = drain(*q.cconn);
  REQUIRE(!ev.empty());
  CHECK(ev.front().type == Event::Type::handshake_done);
  // The client learns of confirmation through HANDSHAKE_DONE.
  CHECK(q.run_until([&] { return q.cconn->handshake_confirmed(); }));
}

TEST_CASE("a stream carries data both ways byte for byte", "[conn]") {
  test::QuicPair q;
  REQUIRE(q.handshake());
  auto id = q.cconn->open_stream(true);
  REQUIRE(id.ok());
  std::vector<uint8_t> msg(300000);
  for (size_t i = 0; i < msg.size(); ++i) msg[i] = static_cast<uint8_t>(i * 7 + 3);
  size_t sent = 0;
  std::vector<uint8_t> got, echoed;
  bool server_fin = false, client_fin = false;
  std::vector<uint8_t> tmp(65536);
  REQUIRE(q.run_until([&] {
    if (sent < msg.size()) {
      auto n = q.cconn->stream_write(*id, Bytes{msg}.subspan(sent), true);
      REQUIRE(n.ok());
      sent += *n;
    }
    if (q.sconn && !server_fin) {
      while (auto r = q.sconn->stream_read(*id, MutBytes{tmp})) {
        if (!r.ok() || (r->bytes == 0 && !r->fin)) break;
        got.insert(got.end(), tmp.begin(), tmp.begin() + r->bytes);
        if (r->fin) {
          server_fin = true;
          REQUIRE(q.sconn->stream_write(*id, Bytes{got}, true).ok());
          break;
        }
      }
    }
    if (server_fin && !client_fin) {
      while (true) {
        auto r = q.cconn->stream_read(*id, MutBytes{tmp});
        REQUIRE(r.ok());
        if (r->bytes == 0 && !r->fin) break;
        echoed.insert(echoed.end(), tmp.begin(), tmp.begin() + r->bytes);
        if (r->fin) {
          client_fin = true;
          break;
        }
      }
    }
    return client_fin;
  }));
  CHECK(got == msg);
  CHECK(echoed == msg);
}

TEST_CASE("stream_peek/stream_consume read a stream in place, FIN and reset included", "[conn][peek]") {
  test::QuicPair q;
  REQUIRE(q.handshake());
  auto id = q.cconn->open_stream(true);
  REQUIRE(id.ok());
  std::vector<uint8_t> msg(100000);
  for (size_t i = 0; i < msg.size(); ++i) msg[i] = static_cast<uint8_t>(i * 13 + 1);
  size_t sent = 0;
  std::vector<uint8_t> got;
  bool fin = false;
  size_t peeks = 0;
  REQUIRE(q.run_until([&] {
    if (sent < msg.size()) {
      auto n = q.cconn->stream_write(*id, Bytes{msg}.subspan(sent), true);
      REQUIRE(n.ok());
      sent += *n;
    }
    while (q.sconn && !fin) {
      auto p = q.sconn->stream_peek(*id);
      if (!p.ok()) break;  // not opened yet
      if (p->data.empty() && !p->fin) break;
      ++peeks;
      // Consume in uneven pieces: a prefix, then the rest of the view.
      const size_t first = std::min<size_t>(p->data.size(), 1 + peeks % 700);
      got.insert(got.end(), p->data.begin(), p->data.begin() + static_cast<ptrdiff_t>(first));
      auto c1 = q.sconn->stream_consume(*id, first);
      REQUIRE(c1.ok());
      REQUIRE(c1->bytes == first);
      if (first < p->data.size()) {
        CHECK_FALSE(c1->fin);
        auto p2 = q.sconn->stream_peek(*id);
        REQUIRE(p2.ok());
        REQUIRE(p2->data.size() >= p->data.size() - first);
        got.insert(got.end(), p2->data.begin(), p2->data.end());
        auto c2 = q.sconn->stream_consume(*id, p2->data.size());
        REQUIRE(c2.ok());
        CHECK(c2->fin == p2->fin);
        fin = c2->fin;
      } else {
        CHECK(c1->fin == p->fin);
        fin = c1->fin;
      }
    }
    return fin;
  }));
  CHECK(got == msg);
  CHECK(peeks > 1);
  // After the FIN: an empty view that still says fin, like stream_read.
  auto p = q.sconn->stream_peek(*id);
  REQUIRE(p.ok());
  CHECK(p->data.empty());
  CHECK(p->fin);

  // A reset stream: peek reports the peer's error code, as a read would.
  auto id2 = q.cconn->open_stream(true);
  REQUIRE(id2.ok());
  REQUIRE(q.cconn->stream_write(*id2, Bytes{msg}.first(100), false).ok());
  REQUIRE(q.run_until([&] {
    auto r = q.sconn->stream_peek(*id2);
    return r.ok() && r->data.size() == 100;
  }));
  REQUIRE(q.cconn->stream_reset(*id2, 77).ok());
  REQUIRE(q.run_until([&] { return !q.sconn->stream_peek(*id2).ok(); }));
  auto r = q.sconn->stream_peek(*id2);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().application);
  CHECK(r.error().code == 77);
  // Unknown stream: an error, not a crash.
  CHECK_FALSE(q.sconn->stream_consume(1000, 1).ok());
}

TEST_CASE("datagrams are delivered and application close reaches the peer", "[conn]") {
  test::QuicPair q;
  REQUIRE(q.handshake());
  REQUIRE(q.cconn->max_datagram_payload() > 1000);
  REQUIRE(q.cconn->send_datagram(as_bytes("hello datagram")).ok());
  std::string got;
  REQUIRE(q.run_until([&] {
    while (auto e = q.sconn->poll_event())
      if (e->type == Event::Type::datagram_received) got.assign(e->data.begin(), e->data.end());
    return !got.empty();
  }));
  CHECK(got == "hello datagram");
  q.cconn->close(0x42, "bye now");
  CloseInfo info;
  REQUIRE(q.run_until([&] {
    while (auto e = q.sconn->poll_event())
      if (e->type == Event::Type::connection_closed) info = e->close;
    return info.by_peer;
  }));
  CHECK(info.application);
  CHECK(info.error_code == 0x42);
  CHECK(info.reason == "bye now");
  // Both sides eventually leave the closing/draining periods.
  CHECK(q.run_until([&] { return q.cconn->is_closed() && q.sconn->is_closed(); }));
}

static std::vector<uint8_t> read_file(const std::string& name) {
  std::ifstream f(std::string(WT_TEST_DATA_DIR) + "/" + name, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

// A server endpoint that has received the two real Chromium 156 Initials.
struct ChromiumServer {
  SeededRandom rng{7};
  EndpointConfig cfg;
  std::unique_ptr<Endpoint> server;
  Time now = from_ns(5'000'000'000);
  std::vector<uint8_t> d1 = read_file("chromium156-initial-1.bin");
  std::vector<uint8_t> d2 = read_file("chromium156-initial-2.bin");
  ConnectionId odcid;
  ChromiumServer() {
    cfg.server = true;
    cfg.conn.tls = test::server_tls({"h3"});
    cfg.conn.rng = &rng;
    server = std::make_unique<Endpoint>(cfg);
    REQUIRE(d1.size() == 1250);
    odcid = ConnectionId(Bytes{d1}.subspan(6, d1[5]));
    // The datagrams are decrypted in place: feed copies.
    auto c1 = d1, c2 = d2;
    Path path{test::addr(1, 443), test::addr(2, 55555)};
    server->receive(MutBytes{c1}, path, Ecn::not_ect, now);
    server->receive(MutBytes{c2}, path, Ecn::not_ect, now);
    REQUIRE(server->connection_count() == 1);
  }
};

TEST_CASE("server answers Chromium 156 Initials with a ServerHello", "[conn][chromium]") {
  ChromiumServer cs;
  Endpoint& server = *cs.server;
  Time now = cs.now;
  const ConnectionId& odcid = cs.odcid;

  std::vector<uint8_t> out(64 * 1500);
  auto b = server.send(MutBytes{out}, now);
  REQUIRE(b.bytes >= 1200);
  // Decrypt the first packet with the server's Initial keys.
  auto keys = make_initial_ciphers(kQuicV1, odcid.bytes());
  REQUIRE(keys.ok());
  MutBytes first{out.data(), b.segment_size};
  HeaderParseOptions opts;
  opts.short_dcid_len = 8;
  DatagramSplitter split(first, opts);
  auto hdr = split.next();
  REQUIRE(hdr.ok());
  REQUIRE(hdr->type == PacketType::initial);
  CHECK(hdr->dcid.empty());  // Chromium's zero-length SCID
  auto up = unprotect_packet(split.packet(), hdr->pn_offset, kNoPacketNumber, keys->server);
  REQUIRE(up.ok());
  Reader r{Bytes{up->payload.data(), up->payload.size()}};
  bool saw_ack = false, saw_server_hello = false;
  while (!r.empty()) {
    auto f = decode_frame(r);
    REQUIRE(f.ok());
    if (std::holds_alternative<AckFrame>(*f)) {
      // Chromium's packet numbers were 1 and 2.
      CHECK(std::get<AckFrame>(*f).largest_acknowledged == 2);
      saw_ack = true;
    }
    if (auto* c = std::get_if<CryptoFrame>(&*f)) {
      REQUIRE(c->offset == 0);
      REQUIRE(c->data.size() > 40);
      CHECK(c->data[0] == 0x02);  // handshake type server_hello (RFC 8446 §4)
      saw_server_hello = true;
    }
  }
  CHECK(saw_ack);
  CHECK(saw_server_hello);
}

TEST_CASE("server respects the 3x anti-amplification limit before validation", "[conn][chromium]") {
  ChromiumServer cs;
  Endpoint& server = *cs.server;
  Time now = cs.now;
  const auto& d1 = cs.d1;
  const auto& d2 = cs.d2;
  std::vector<uint8_t> out(64 * 1500);
  size_t sent = 0;
  // Keep pulling, including across PTO expirations: the client never answers.
  for (int i = 0; i < 50; ++i) {
    while (true) {
      auto b = server.send(MutBytes{out}, now);
      if (!b.bytes) break;
      sent += b.bytes;
    }
    now = std::max(now, server.next_timeout());
    if (now == kTimeInfinite) break;
    server.on_timeout(now);
  }
  CHECK(sent > 0);
  CHECK(sent <= 3 * (d1.size() + d2.size()));  // RFC 9000 §8.1
}

TEST_CASE("keep-alive PINGs hold an idle connection open", "[conn]") {
  test::QuicPair q;
  q.client_cfg.conn.idle_timeout = std::chrono::seconds(2);
  q.client_cfg.conn.keep_alive = std::chrono::milliseconds(500);
  q.server_cfg.conn.idle_timeout = std::chrono::seconds(2);
  REQUIRE(q.handshake());
  Time start = q.now;
  // Ten idle seconds: far beyond the idle timeout.
  q.run_until([&] { return q.now > start + std::chrono::seconds(10); }, std::chrono::seconds(20));
  CHECK(!q.cconn->is_closed());
  CHECK(!q.sconn->is_closed());
  CHECK(q.cconn->state() == Connection::State::established);

  // Without keep-alive the same connection would close: check the contrast.
  test::QuicPair p;
  p.client_cfg.conn.idle_timeout = std::chrono::seconds(2);
  p.server_cfg.conn.idle_timeout = std::chrono::seconds(2);
  REQUIRE(p.handshake());
  Time s2 = p.now;
  p.run_until([&] { return p.cconn->is_closed(); }, std::chrono::seconds(20));
  CHECK(p.cconn->is_closed());
  CHECK(p.cconn->close_info().idle_timeout);
  CHECK(p.now - s2 >= std::chrono::seconds(2));
}

namespace {
struct MemoryQlog : QlogSink {
  std::vector<std::string> records;
  void write(std::string_view r) override { records.emplace_back(r); }
};
}  // namespace

TEST_CASE("qlog records the connection as JSON-SEQ", "[conn][qlog]") {
  test::QuicPair q;
  auto sink = std::make_shared<MemoryQlog>();
  q.client_cfg.conn.qlog = sink;
  REQUIRE(q.handshake());
  REQUIRE(q.cconn->send_datagram(as_bytes("x")).ok());
  q.run_until([&] { return false; }, std::chrono::milliseconds(100));
  REQUIRE(sink->records.size() > 5);
  const std::string& header = sink->records.front();
  CHECK(header.find("\"qlog_format\":\"JSON-SEQ\"") != std::string::npos);
  CHECK(header.find("\"vantage_point\":{\"type\":\"client\"}") != std::string::npos);
  int sent = 0, received = 0, metrics = 0;
  for (const auto& r : sink->records) {
    REQUIRE(r.front() == '\x1e');
    REQUIRE(r.back() == '\n');
    // Balanced braces: each record is one JSON object.
    int depth = 0;
    for (char c : r) depth += c == '{' ? 1 : c == '}' ? -1 : 0;
    CHECK(depth == 0);
    sent += r.find("transport:packet_sent") != std::string::npos;
    received += r.find("transport:packet_received") != std::string::npos;
    metrics += r.find("recovery:metrics_updated") != std::string::npos;
  }
  CHECK(sent >= 3);
  CHECK(received >= 3);
  CHECK(metrics >= 1);
}
