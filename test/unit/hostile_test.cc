// Hostile and malformed peer input: one test per protocol rule, each checking
// the error code that goes out ON THE WIRE in CONNECTION_CLOSE (RFC 9000
// §10.2, §20.1), that the peer learns it (connection_closed, by_peer), and
// that both sides end up closed.
//
// Connections use the null cipher for 1-RTT (ConnectionConfig::null_cipher),
// so packets are crafted by hand (test/support/packet_forge.h) and injected
// through the endpoint as if they came from the real peer.
#include <catch2/catch.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lib/varint.h"
#include "quic/key_schedule.h"
#include "quic/transport_params.h"
#include "quic/version.h"
#include "test/support/packet_forge.h"
#include "test/support/quic_pair.h"

using namespace wt;
using namespace wt::quic;
using test::Datagram;

namespace {

constexpr uint64_t kFrameEncoding = 0x07, kProtocolViolation = 0x0a, kFlowControl = 0x03,
                   kStreamLimit = 0x04, kStreamState = 0x05, kFinalSize = 0x06,
                   kTransportParameter = 0x08, kCidLimit = 0x09, kCryptoBufferExceeded = 0x0d;

// Raw frame bytes, for frames the encoder refuses to produce.
struct Raw {
  std::vector<uint8_t> b;
  Raw& u8(uint8_t v) {
    b.push_back(v);
    return *this;
  }
  Raw& v(uint64_t x) {
    uint8_t tmp[8];
    uint8_t* e = varint_encode(tmp, x);
    b.insert(b.end(), tmp, e);
    return *this;
  }
  Raw& fill(size_t n, uint8_t byte = 0xab) {
    b.insert(b.end(), n, byte);
    return *this;
  }
  Bytes bytes() const { return Bytes{b}; }
};

enum class Side { server, client };

// An established null-cipher connection pair with both sides quiet, and
// helpers to attack one side and read its answer.
struct Hostile {
  test::QuicPair q;
  std::vector<uint8_t> buf = std::vector<uint8_t>(64 * 1500);

  explicit Hostile(const std::function<void(test::QuicPair&)>& configure = {}) {
    q.client_cfg.conn.null_cipher = true;
    q.server_cfg.conn.null_cipher = true;
    if (configure) configure(q);
    REQUIRE(q.handshake());
    REQUIRE(q.run_until([&] { return q.cconn->handshake_confirmed(); }));
    settle();
    while (q.cconn->poll_event()) {
    }
    while (q.sconn->poll_event()) {
    }
  }

  // Runs until nothing is in flight (HANDSHAKE_DONE, NEW_CONNECTION_ID and
  // their ACKs delivered) without jumping to far-away timers.
  void settle() {
    for (int i = 0; i < 100; ++i) {
      q.flush(*q.client, true);
      q.flush(*q.server, false);
      if (q.wire.empty()) return;
      REQUIRE(q.step());
    }
    FAIL("the pair did not settle");
  }

  Connection& conn(Side s) { return s == Side::server ? *q.sconn : *q.cconn; }
  Endpoint& ep(Side s) { return s == Side::server ? *q.server : *q.client; }
  static Side other(Side s) { return s == Side::server ? Side::client : Side::server; }
  Path path_to(Side s) const {
    return s == Side::server ? Path{q.cpath.remote, q.cpath.local} : q.cpath;
  }
  // Forges 1-RTT packets addressed to `s` (to its first CID).
  test::PacketForge forge(Side s) { return test::PacketForge(conn(s).initial_scid()); }

  void inject(Side s, Datagram d) {
    REQUIRE(!d.empty());
    ep(s).receive(MutBytes{d}, path_to(s), Ecn::not_ect, q.now);
  }
  // Everything `s` wants to send now, as datagrams.
  std::vector<Datagram> capture(Side s) {
    std::vector<Datagram> out;
    for (int i = 0; i < 100; ++i) {
      auto b = ep(s).send(MutBytes{buf}, q.now);
      if (!b.bytes) break;
      for (size_t off = 0; off < b.bytes; off += b.segment_size) {
        size_t n = std::min(b.segment_size, b.bytes - off);
        out.emplace_back(buf.begin() + static_cast<std::ptrdiff_t>(off),
                         buf.begin() + static_cast<std::ptrdiff_t>(off + n));
      }
    }
    return out;
  }
  // Length of the CIDs `s` sends to (its peer's).
  size_t dcid_len_of_output(Side s) const {
    return s == Side::server ? q.client_cfg.conn.cid_length : q.server_cfg.conn.cid_length;
  }

  // The answer of `s` to what was injected: a transport CONNECTION_CLOSE with
  // `code` (and `frame_type`, when given) on the wire; the peer, given those
  // datagrams, reports the same close as by_peer; both sides reach closed.
  void expect_close(Side s, uint64_t code, std::optional<uint64_t> frame_type = std::nullopt) {
    auto out = capture(s);
    auto close = test::find_transport_close(out, dcid_len_of_output(s));
    INFO("datagrams sent: " << out.size());
    REQUIRE(close.has_value());
    CHECK(close->packet_type == PacketType::one_rtt);
    CHECK(close->error_code == code);
    if (frame_type) CHECK(close->frame_type == *frame_type);
    check_close_events(s, code, out);
  }
  // Like expect_close, for a STREAM frame type (0x08-0x0f, flags vary).
  void expect_close_stream_frame(Side s, uint64_t code) {
    auto out = capture(s);
    auto close = test::find_transport_close(out, dcid_len_of_output(s));
    REQUIRE(close.has_value());
    CHECK(close->error_code == code);
    CHECK((close->frame_type & ~uint64_t{7}) == frame_type::stream);
    check_close_events(s, code, out);
  }

  void check_close_events(Side s, uint64_t code, std::vector<Datagram>& out) {
    // The attacked side reports its own close.
    std::optional<CloseInfo> own;
    while (auto e = conn(s).poll_event())
      if (e->type == Event::Type::connection_closed) own = e->close;
    REQUIRE(own.has_value());
    CHECK(own->error_code == code);
    CHECK_FALSE(own->by_peer);
    CHECK_FALSE(own->application);
    // The peer receives the CONNECTION_CLOSE.
    Side p = other(s);
    for (auto& d : out) ep(p).receive(MutBytes{d}, path_to(p), Ecn::not_ect, q.now);
    std::optional<CloseInfo> peer;
    while (auto e = conn(p).poll_event())
      if (e->type == Event::Type::connection_closed) peer = e->close;
    REQUIRE(peer.has_value());
    CHECK(peer->by_peer);
    CHECK(peer->error_code == code);
    CHECK_FALSE(peer->application);
    // Closing and draining periods end (RFC 9000 §10.2).
    CHECK(q.run_until([&] { return q.cconn->is_closed() && q.sconn->is_closed(); }));
  }

  // No CONNECTION_CLOSE went out and the connection is still up.
  void expect_no_close(Side s) {
    auto out = capture(s);
    CHECK(test::find_connection_closes(out, dcid_len_of_output(s)).empty());
    CHECK(conn(s).is_established());
  }
};

}  // namespace

// ------------------------------------------------------------ the forge works

TEST_CASE("hostile: a forged valid packet is accepted (control)", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::server);
  std::string msg = "forged but valid";
  h.inject(Side::server, f.frames({StreamFrame{0, 0, as_bytes(msg), true, true}, PingFrame{}}));
  bool opened = false, readable = false;
  while (auto e = h.q.sconn->poll_event()) {
    opened |= e->type == Event::Type::stream_opened && e->stream_id == 0;
    readable |= e->type == Event::Type::stream_readable && e->stream_id == 0;
  }
  CHECK(opened);
  CHECK(readable);
  std::vector<uint8_t> got(64);
  auto r = h.q.sconn->stream_read(0, MutBytes{got});
  REQUIRE(r.ok());
  CHECK(r->fin);
  CHECK(std::string(got.begin(), got.begin() + static_cast<std::ptrdiff_t>(r->bytes)) == msg);
  // The server acknowledges the forged packet number in a null-cipher packet.
  auto out = h.capture(Side::server);
  bool acked = false;
  for (auto& p : test::open_packets(out, 8))
    for (auto& fr : p.frames)
      if (auto* a = std::get_if<AckFrame>(&fr)) acked |= a->largest_acknowledged == 1'000'000;
  CHECK(acked);
  CHECK(h.q.sconn->is_established());
}

TEST_CASE("hostile: HANDSHAKE_DONE from the server is accepted by the client (control)", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::client);
  h.inject(Side::client, f.frames({HandshakeDoneFrame{}}));
  h.expect_no_close(Side::client);
}

// ------------------------------------------------------ FRAME_ENCODING_ERROR

TEST_CASE("hostile: truncated STREAM frame is FRAME_ENCODING_ERROR", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::server);
  // STREAM with LEN: stream 0, length 100, only 3 bytes of data.
  h.inject(Side::server, f.raw(Raw{}.u8(0x0a).v(0).v(100).fill(3).bytes()));
  h.expect_close(Side::server, kFrameEncoding, 0x0a);
}

TEST_CASE("hostile: STREAM frame cut inside its header is FRAME_ENCODING_ERROR", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::server);
  // STREAM with OFF+LEN: the offset is a 4-byte varint of which 2 bytes are present.
  h.inject(Side::server, f.raw({0x0e, 0x00, 0x80, 0x01}));
  h.expect_close(Side::server, kFrameEncoding, 0x0e);
}

TEST_CASE("hostile: unknown frame types are FRAME_ENCODING_ERROR", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::server);
  uint64_t type = GENERATE(as<uint64_t>{}, 0x21, 0x2f, 0x40, 0x3fff, 0x1234567);
  h.inject(Side::server, f.raw(Raw{}.v(type).fill(8, 0).bytes()));
  h.expect_close(Side::server, kFrameEncoding, type);
}

TEST_CASE("hostile: a frame type with a non-minimal encoding is PROTOCOL_VIOLATION", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::server);
  // RFC 9000 §12.4: PING (0x01) as a 2-byte varint.
  h.inject(Side::server, f.raw({0x40, 0x01}));
  h.expect_close(Side::server, kProtocolViolation);
}

TEST_CASE("hostile: ACK range underflow is FRAME_ENCODING_ERROR", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::server);
  Raw ack;
  SECTION("First ACK Range larger than Largest Acknowledged") {
    ack.u8(0x02).v(5).v(0).v(0).v(6);
  }
  SECTION("Gap below zero") {
    ack.u8(0x02).v(5).v(0).v(1).v(0).v(4).v(0);  // next largest = 5 - 4 - 2 < 0
  }
  SECTION("ACK Range Length below zero") {
    ack.u8(0x02).v(10).v(0).v(1).v(0).v(0).v(9);  // next largest 8, smallest 8 - 9 < 0
  }
  SECTION("ACK_ECN with a range underflow") {
    ack.u8(0x03).v(1).v(0).v(0).v(2).v(0).v(0).v(0);
  }
  h.inject(Side::server, f.raw(ack.bytes()));
  h.expect_close(Side::server, kFrameEncoding, ack.b[0]);
}

TEST_CASE("hostile: NEW_CONNECTION_ID with length 0 or 21 is FRAME_ENCODING_ERROR", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::server);
  const size_t len = GENERATE(as<size_t>{}, 0, 21);
  // RFC 9000 §19.15: Length below 1 or above 20.
  h.inject(Side::server, f.raw(Raw{}.u8(0x18).v(7).v(0).u8(static_cast<uint8_t>(len)).fill(len).fill(16, 0x5a).bytes()));
  h.expect_close(Side::server, kFrameEncoding, frame_type::new_connection_id);
}

TEST_CASE("hostile: NEW_CONNECTION_ID with Retire Prior To above the sequence number is FRAME_ENCODING_ERROR", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::server);
  // RFC 9000 §19.15
  h.inject(Side::server, f.raw(Raw{}.u8(0x18).v(7).v(8).u8(8).fill(8).fill(16, 0x5a).bytes()));
  h.expect_close(Side::server, kFrameEncoding, frame_type::new_connection_id);
}

TEST_CASE("hostile: MAX_STREAMS and STREAMS_BLOCKED above 2^60 are FRAME_ENCODING_ERROR", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::server);
  // RFC 9000 §19.11, §19.14
  const uint8_t type = GENERATE(as<uint8_t>{}, 0x12, 0x13, 0x16, 0x17);
  h.inject(Side::server, f.raw(Raw{}.u8(type).v((uint64_t{1} << 60) + 1).bytes()));
  h.expect_close(Side::server, kFrameEncoding, type);
}

TEST_CASE("hostile: NEW_TOKEN with an empty token is FRAME_ENCODING_ERROR", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::client);
  // RFC 9000 §19.7
  h.inject(Side::client, f.raw({0x07, 0x00}));
  h.expect_close(Side::client, kFrameEncoding, frame_type::new_token);
}

TEST_CASE("hostile: STREAM data ending beyond 2^62-1 is a connection error", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::server);
  // RFC 9000 §19.8: FRAME_ENCODING_ERROR or FLOW_CONTROL_ERROR.
  h.inject(Side::server, f.raw(Raw{}.u8(0x0e).v(0).v(kVarintMax - 1).v(4).fill(4).bytes()));
  auto out = h.capture(Side::server);
  auto close = test::find_transport_close(out, 8);
  REQUIRE(close.has_value());
  CHECK((close->error_code == kFrameEncoding || close->error_code == kFlowControl));
}

// -------------------------------------------------------- PROTOCOL_VIOLATION

TEST_CASE("hostile: a packet with no frames is PROTOCOL_VIOLATION", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::server);
  // RFC 9000 §12.4
  h.inject(Side::server, f.raw(Bytes{}));
  h.expect_close(Side::server, kProtocolViolation);
}

TEST_CASE("hostile: reserved bits set in a short header are PROTOCOL_VIOLATION", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::server);
  auto d = f.frames({PingFrame{}});
  // The null cipher's header protection mask is zero: set the bits directly.
  d[0] |= 0x18;  // RFC 9000 §17.3.1
  h.inject(Side::server, d);
  h.expect_close(Side::server, kProtocolViolation);
}

TEST_CASE("hostile: HANDSHAKE_DONE from a client is PROTOCOL_VIOLATION", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::server);
  // RFC 9000 §19.20
  h.inject(Side::server, f.frames({HandshakeDoneFrame{}}));
  h.expect_close(Side::server, kProtocolViolation, frame_type::handshake_done);
}

TEST_CASE("hostile: NEW_TOKEN from a client is PROTOCOL_VIOLATION", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::server);
  std::vector<uint8_t> token(20, 0x77);
  // RFC 9000 §19.7
  h.inject(Side::server, f.frames({NewTokenFrame{Bytes{token}}}));
  h.expect_close(Side::server, kProtocolViolation, frame_type::new_token);
}

TEST_CASE("hostile: frames not allowed in an Initial packet are PROTOCOL_VIOLATION", "[hostile]") {
  test::QuicPair q;
  q.client_cfg.conn.null_cipher = q.server_cfg.conn.null_cipher = true;
  q.start();
  // The client's Initial reaches the server, which creates its connection.
  REQUIRE(q.step());
  REQUIRE(q.sconn != nullptr);
  const ConnectionId odcid = q.sconn->original_dcid();
  auto keys = make_initial_ciphers(kQuicV1, odcid.bytes());
  REQUIRE(keys.ok());

  std::string data = "stream data in an Initial";
  std::vector<uint8_t> token(8, 1);
  std::vector<Frame> frames;
  uint64_t expected_type = 0;
  SECTION("STREAM") {
    frames = {StreamFrame{0, 0, as_bytes(data), false, true}};
    expected_type = 0x0a;
  }
  SECTION("HANDSHAKE_DONE") {
    frames = {HandshakeDoneFrame{}};
    expected_type = frame_type::handshake_done;
  }
  SECTION("NEW_TOKEN") {
    frames = {NewTokenFrame{Bytes{token}}};
    expected_type = frame_type::new_token;
  }
  SECTION("CONNECTION_CLOSE of type 0x1d") {
    frames = {ConnectionCloseFrame{true, 7, 0, {}}};
    expected_type = frame_type::connection_close_app;
  }
  SECTION("MAX_DATA") {
    frames = {MaxDataFrame{100000}};
    expected_type = frame_type::max_data;
  }
  auto payload = test::encode_frames(frames);
  REQUIRE(!payload.empty());
  test::LongPacketSpec spec;
  spec.type = PacketType::initial;
  spec.dcid = odcid.bytes();
  const ConnectionId cscid = q.cconn->initial_scid();
  spec.scid = cscid.bytes();
  spec.pn = 1000;
  spec.min_size = 1200;
  auto d = test::forge_long_packet(spec, Bytes{payload}, keys->client);
  REQUIRE(d.size() == 1200);
  q.server->receive(MutBytes{d}, Path{q.cpath.remote, q.cpath.local}, Ecn::not_ect, q.now);

  std::vector<Datagram> out;
  std::vector<uint8_t> buf(64 * 1500);
  while (true) {
    auto b = q.server->send(MutBytes{buf}, q.now);
    if (!b.bytes) break;
    for (size_t off = 0; off < b.bytes; off += b.segment_size)
      out.emplace_back(buf.begin() + static_cast<std::ptrdiff_t>(off),
                       buf.begin() + static_cast<std::ptrdiff_t>(std::min(b.bytes, off + b.segment_size)));
  }
  test::OpenKeys open;
  open.initial = &keys->server;
  auto closes = test::find_connection_closes(out, 8, open);
  REQUIRE(!closes.empty());
  bool in_initial = false;
  for (auto& c : closes) {
    CHECK_FALSE(c.application);
    CHECK(c.error_code == kProtocolViolation);
    CHECK(c.frame_type == expected_type);
    in_initial |= c.packet_type == PacketType::initial;
  }
  CHECK(in_initial);
  // The client, still in its handshake, learns of it from the Initial.
  for (auto& dg : out) q.client->receive(MutBytes{dg}, q.cpath, Ecn::not_ect, q.now);
  std::optional<CloseInfo> peer;
  while (auto e = q.cconn->poll_event())
    if (e->type == Event::Type::connection_closed) peer = e->close;
  REQUIRE(peer.has_value());
  CHECK(peer->by_peer);
  CHECK(peer->error_code == kProtocolViolation);
  CHECK(q.run_until([&] { return q.cconn->is_closed() && q.sconn->is_closed(); }));
}

TEST_CASE("hostile: RETIRE_CONNECTION_ID of a never-issued sequence number is PROTOCOL_VIOLATION", "[hostile]") {
  Side side = GENERATE(Side::server, Side::client);
  Hostile h;
  auto f = h.forge(side);
  // RFC 9000 §19.16
  h.inject(side, f.frames({RetireConnectionIdFrame{1000}}));
  h.expect_close(side, kProtocolViolation, frame_type::retire_connection_id);
}

TEST_CASE("hostile: DATAGRAM when max_datagram_frame_size was not offered is PROTOCOL_VIOLATION", "[hostile]") {
  Hostile h([](test::QuicPair& q) { q.server_cfg.conn.max_datagram_frame_size = 0; });
  auto f = h.forge(Side::server);
  std::string data = "unsolicited";
  const bool with_len = GENERATE(true, false);
  // RFC 9221 §3
  h.inject(Side::server, f.frames({DatagramFrame{as_bytes(data), with_len}}));
  h.expect_close(Side::server, kProtocolViolation, with_len ? 0x31 : 0x30);
}

TEST_CASE("hostile: DATAGRAM larger than max_datagram_frame_size is PROTOCOL_VIOLATION", "[hostile]") {
  Hostile h([](test::QuicPair& q) { q.server_cfg.conn.max_datagram_frame_size = 100; });
  auto f = h.forge(Side::server);
  std::vector<uint8_t> data(200, 0x33);
  // RFC 9221 §3
  h.inject(Side::server, f.frames({DatagramFrame{Bytes{data}, true}}));
  h.expect_close(Side::server, kProtocolViolation, 0x31);
}

TEST_CASE("hostile: ACK of a packet number never sent is PROTOCOL_VIOLATION", "[hostile]") {
  Side side = GENERATE(Side::server, Side::client);
  Hostile h;
  auto f = h.forge(side);
  // RFC 9000 §13.1: largest acknowledged 1,000,000 was never sent.
  h.inject(side, f.raw(Raw{}.u8(0x02).v(1'000'000).v(0).v(0).v(0).bytes()));
  h.expect_close(side, kProtocolViolation, frame_type::ack);
}

TEST_CASE("hostile: NEW_CONNECTION_ID reusing a sequence number for another CID is PROTOCOL_VIOLATION", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::server);
  std::vector<uint8_t> a(8, 0x11), b(8, 0x22);
  StatelessResetToken t{};
  // RFC 9000 §19.15
  h.inject(Side::server, f.frames({NewConnectionIdFrame{9, 0, ConnectionId(Bytes{a}), t}}));
  h.inject(Side::server, f.frames({NewConnectionIdFrame{9, 0, ConnectionId(Bytes{b}), t}}));
  h.expect_close(Side::server, kProtocolViolation, frame_type::new_connection_id);
}

// -------------------------------------------------------- FLOW_CONTROL_ERROR

TEST_CASE("hostile: STREAM data beyond initial_max_stream_data is FLOW_CONTROL_ERROR", "[hostile]") {
  Hostile h([](test::QuicPair& q) { q.server_cfg.conn.initial_max_stream_data = 1000; });
  auto f = h.forge(Side::server);
  std::vector<uint8_t> data(1000, 0x44);
  // Exactly the limit is fine...
  h.inject(Side::server, f.frames({StreamFrame{0, 0, Bytes{data}, false, true}}));
  h.expect_no_close(Side::server);
  // ...one byte more is not (RFC 9000 §4.1), even with a gap before it.
  std::vector<uint8_t> one(1, 0x45);
  h.inject(Side::server, f.frames({StreamFrame{4, 1000, Bytes{one}, false, true}}));
  h.expect_close_stream_frame(Side::server, kFlowControl);
}

TEST_CASE("hostile: STREAM data beyond initial_max_data across streams is FLOW_CONTROL_ERROR", "[hostile]") {
  Hostile h([](test::QuicPair& q) {
    q.server_cfg.conn.initial_max_data = 3000;
    q.server_cfg.conn.max_connection_window = 3000;
    q.server_cfg.conn.initial_max_stream_data = 2000;
  });
  auto f = h.forge(Side::server);
  std::vector<uint8_t> data(1000, 0x44);
  h.inject(Side::server, f.frames({StreamFrame{0, 0, Bytes{data}, false, true},
                                   StreamFrame{4, 0, Bytes{data}, false, true}}));
  h.inject(Side::server, f.frames({StreamFrame{8, 0, Bytes{data}, false, true}}));
  h.expect_no_close(Side::server);
  // RFC 9000 §4.1: the connection-level limit counts the highest offsets.
  std::vector<uint8_t> one(1, 0x45);
  h.inject(Side::server, f.frames({StreamFrame{2, 0, Bytes{one}, false, true}}));
  h.expect_close_stream_frame(Side::server, kFlowControl);
}

TEST_CASE("hostile: RESET_STREAM with a final size beyond the stream limit is FLOW_CONTROL_ERROR", "[hostile]") {
  Hostile h([](test::QuicPair& q) { q.server_cfg.conn.initial_max_stream_data = 1000; });
  auto f = h.forge(Side::server);
  // RFC 9000 §4.5: the final size counts against flow control.
  h.inject(Side::server, f.frames({ResetStreamFrame{0, 1, 1001}}));
  h.expect_close(Side::server, kFlowControl, frame_type::reset_stream);
}

// -------------------------------------------------------- STREAM_LIMIT_ERROR

TEST_CASE("hostile: opening a stream above initial_max_streams is STREAM_LIMIT_ERROR", "[hostile]") {
  Hostile h([](test::QuicPair& q) {
    q.server_cfg.conn.max_streams_bidi = 3;
    q.server_cfg.conn.max_streams_uni = 2;
  });
  auto f = h.forge(Side::server);
  std::string data = "x";
  const bool bidi = GENERATE(true, false);
  const uint64_t limit = bidi ? 3 : 2;
  const uint64_t type_bits = bidi ? 0 : 2;
  // The last permitted index opens (and with it every lower one, RFC 9000 §3.2).
  h.inject(Side::server,
           f.frames({StreamFrame{(limit - 1) * 4 + type_bits, 0, as_bytes(data), false, true}}));
  h.expect_no_close(Side::server);
  // RFC 9000 §4.6: the next index exceeds the limit.
  h.inject(Side::server, f.frames({StreamFrame{limit * 4 + type_bits, 0, as_bytes(data), false, true}}));
  h.expect_close_stream_frame(Side::server, kStreamLimit);
}

TEST_CASE("hostile: frames other than STREAM that open a stream above the limit are STREAM_LIMIT_ERROR", "[hostile]") {
  Hostile h([](test::QuicPair& q) { q.server_cfg.conn.max_streams_bidi = 3; });
  auto f = h.forge(Side::server);
  Frame fr = PingFrame{};
  uint64_t type = 0;
  SECTION("RESET_STREAM") {
    fr = ResetStreamFrame{12, 0, 0};
    type = frame_type::reset_stream;
  }
  SECTION("STOP_SENDING") {
    fr = StopSendingFrame{12, 0};
    type = frame_type::stop_sending;
  }
  SECTION("MAX_STREAM_DATA") {
    fr = MaxStreamDataFrame{12, 5000};
    type = frame_type::max_stream_data;
  }
  SECTION("STREAM_DATA_BLOCKED") {
    fr = StreamDataBlockedFrame{12, 0};
    type = frame_type::stream_data_blocked;
  }
  h.inject(Side::server, f.frames({fr}));
  h.expect_close(Side::server, kStreamLimit, type);
}

// -------------------------------------------------------- STREAM_STATE_ERROR

TEST_CASE("hostile: STREAM on our own unidirectional (send-only) stream is STREAM_STATE_ERROR", "[hostile]") {
  Hostile h;
  const bool opened = GENERATE(true, false);
  if (opened) {
    auto id = h.q.sconn->open_stream(false);
    REQUIRE(id.ok());
    REQUIRE(*id == 3);
  }
  auto f = h.forge(Side::server);
  std::string data = "not yours to send";
  // RFC 9000 §19.8: server-initiated unidirectional stream 3.
  h.inject(Side::server, f.frames({StreamFrame{3, 0, as_bytes(data), false, true}}));
  h.expect_close_stream_frame(Side::server, kStreamState);
}

TEST_CASE("hostile: STREAM on the client's own unidirectional stream is STREAM_STATE_ERROR", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::client);
  std::string data = "x";
  h.inject(Side::client, f.frames({StreamFrame{2, 0, as_bytes(data), false, true}}));
  h.expect_close_stream_frame(Side::client, kStreamState);
}

TEST_CASE("hostile: STREAM on a local bidirectional stream not yet opened is STREAM_STATE_ERROR", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::server);
  std::string data = "x";
  // RFC 9000 §19.8: server-initiated bidirectional stream 1, never opened.
  h.inject(Side::server, f.frames({StreamFrame{1, 0, as_bytes(data), false, true}}));
  h.expect_close_stream_frame(Side::server, kStreamState);
}

TEST_CASE("hostile: MAX_STREAM_DATA on a receive-only stream is STREAM_STATE_ERROR", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::server);
  std::string data = "x";
  // The client's unidirectional stream 2 is receive-only for the server.
  h.inject(Side::server, f.frames({StreamFrame{2, 0, as_bytes(data), false, true}}));
  h.expect_no_close(Side::server);
  // RFC 9000 §19.10
  h.inject(Side::server, f.frames({MaxStreamDataFrame{2, 100000}}));
  h.expect_close(Side::server, kStreamState, frame_type::max_stream_data);
}

TEST_CASE("hostile: STOP_SENDING on a receive-only stream is STREAM_STATE_ERROR", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::server);
  // RFC 9000 §19.5: the client's unidirectional stream 2.
  h.inject(Side::server, f.frames({StopSendingFrame{2, 0}}));
  h.expect_close(Side::server, kStreamState, frame_type::stop_sending);
}

TEST_CASE("hostile: MAX_STREAM_DATA or STOP_SENDING on a local stream not yet created is STREAM_STATE_ERROR", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::server);
  const bool stop = GENERATE(true, false);
  // RFC 9000 §19.5, §19.10: server-initiated bidirectional stream 5 (index 1).
  if (stop) {
    h.inject(Side::server, f.frames({StopSendingFrame{5, 0}}));
    h.expect_close(Side::server, kStreamState, frame_type::stop_sending);
  } else {
    h.inject(Side::server, f.frames({MaxStreamDataFrame{5, 100000}}));
    h.expect_close(Side::server, kStreamState, frame_type::max_stream_data);
  }
}

TEST_CASE("hostile: RESET_STREAM or STREAM_DATA_BLOCKED on our send-only stream is STREAM_STATE_ERROR", "[hostile]") {
  Hostile h;
  auto id = h.q.sconn->open_stream(false);
  REQUIRE(id.ok());
  std::string data = "hello";
  REQUIRE(h.q.sconn->stream_write(*id, as_bytes(data), false).ok());
  auto f = h.forge(Side::server);
  const bool reset = GENERATE(true, false);
  // RFC 9000 §19.4, §19.13
  if (reset) {
    h.inject(Side::server, f.frames({ResetStreamFrame{*id, 9, 5}}));
    h.expect_close(Side::server, kStreamState, frame_type::reset_stream);
  } else {
    h.inject(Side::server, f.frames({StreamDataBlockedFrame{*id, 5}}));
    h.expect_close(Side::server, kStreamState, frame_type::stream_data_blocked);
  }
}

// -------------------------------------------------------- FINAL_SIZE_ERROR

TEST_CASE("hostile: data beyond the final size is FINAL_SIZE_ERROR", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::server);
  std::vector<uint8_t> data(10, 0x61), more(5, 0x62);
  h.inject(Side::server, f.frames({StreamFrame{0, 0, Bytes{data}, true, true}}));
  h.expect_no_close(Side::server);
  // RFC 9000 §4.5
  h.inject(Side::server, f.frames({StreamFrame{0, 10, Bytes{more}, false, true}}));
  h.expect_close_stream_frame(Side::server, kFinalSize);
}

TEST_CASE("hostile: RESET_STREAM with a final size below the data received is FINAL_SIZE_ERROR", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::server);
  std::vector<uint8_t> data(100, 0x61);
  h.inject(Side::server, f.frames({StreamFrame{0, 0, Bytes{data}, false, true}}));
  h.expect_no_close(Side::server);
  // RFC 9000 §4.5
  h.inject(Side::server, f.frames({ResetStreamFrame{0, 3, 50}}));
  h.expect_close(Side::server, kFinalSize, frame_type::reset_stream);
}

TEST_CASE("hostile: two different final sizes are FINAL_SIZE_ERROR", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::server);
  std::vector<uint8_t> data(10, 0x61);
  h.inject(Side::server, f.frames({StreamFrame{0, 0, Bytes{data}, true, true}}));
  h.expect_no_close(Side::server);
  // RFC 9000 §4.5
  SECTION("a second FIN, smaller") {
    h.inject(Side::server, f.frames({StreamFrame{0, 0, Bytes{data}.first(5), true, true}}));
    h.expect_close_stream_frame(Side::server, kFinalSize);
  }
  SECTION("a second FIN, larger") {
    h.inject(Side::server, f.frames({StreamFrame{0, 5, Bytes{data}, true, true}}));
    h.expect_close_stream_frame(Side::server, kFinalSize);
  }
  SECTION("RESET_STREAM with another final size") {
    h.inject(Side::server, f.frames({ResetStreamFrame{0, 3, 11}}));
    h.expect_close(Side::server, kFinalSize, frame_type::reset_stream);
  }
}

TEST_CASE("hostile: a FIN below data already received is FINAL_SIZE_ERROR", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::server);
  std::vector<uint8_t> data(100, 0x61);
  h.inject(Side::server, f.frames({StreamFrame{0, 0, Bytes{data}, false, true}}));
  h.inject(Side::server, f.frames({StreamFrame{0, 0, Bytes{data}.first(50), true, true}}));
  h.expect_close_stream_frame(Side::server, kFinalSize);
}

TEST_CASE("hostile: a duplicate FIN of the same size is accepted (control)", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::server);
  std::vector<uint8_t> data(10, 0x61);
  h.inject(Side::server, f.frames({StreamFrame{0, 0, Bytes{data}, true, true}}));
  h.inject(Side::server, f.frames({StreamFrame{0, 0, Bytes{data}, true, true}}));
  h.inject(Side::server, f.frames({ResetStreamFrame{0, 3, 10}}));
  h.expect_no_close(Side::server);
}

// ---------------------------------------------------- CRYPTO in 1-RTT

TEST_CASE("hostile: CRYPTO data in 1-RTT beyond the buffer limit is CRYPTO_BUFFER_EXCEEDED", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::server);
  std::vector<uint8_t> data(10, 0x16);
  // RFC 9000 §7.5
  h.inject(Side::server, f.frames({CryptoFrame{uint64_t{1} << 24, Bytes{data}}}));
  h.expect_close(Side::server, kCryptoBufferExceeded, frame_type::crypto);
}

TEST_CASE("hostile: a garbage TLS message in 1-RTT CRYPTO is a CRYPTO_ERROR", "[hostile]") {
  Side side = GENERATE(Side::server, Side::client);
  Hostile h;
  auto f = h.forge(side);
  // An unknown handshake message type (0xfe) with a 4-byte body.
  std::vector<uint8_t> msg{0xfe, 0x00, 0x00, 0x04, 1, 2, 3, 4};
  h.inject(side, f.frames({CryptoFrame{0, Bytes{msg}}}));
  auto out = h.capture(side);
  auto close = test::find_transport_close(out, 8);
  REQUIRE(close.has_value());
  // RFC 9001 §4.8: 0x0100 + TLS alert.
  CHECK(close->error_code >= 0x100);
  CHECK(close->error_code <= 0x1ff);
  h.check_close_events(side, close->error_code, out);
}

// --------------------------------------------------- CONNECTION_ID_LIMIT_ERROR

TEST_CASE("hostile: more NEW_CONNECTION_IDs than active_connection_id_limit is CONNECTION_ID_LIMIT_ERROR", "[hostile]") {
  Side side = GENERATE(Side::server, Side::client);
  Hostile h;  // active_connection_id_limit 4 on both sides
  REQUIRE(h.conn(side).local_params().active_connection_id_limit == 4);
  auto f = h.forge(side);
  StatelessResetToken t{};
  std::vector<uint8_t> a(8, 0x31), b(8, 0x32);
  // The peer issued sequence numbers 0-3. Sequence 4 retiring 0 keeps 4 active.
  h.inject(side, f.frames({NewConnectionIdFrame{4, 1, ConnectionId(Bytes{a}), t}}));
  h.expect_no_close(side);
  // RFC 9000 §5.1.1: a fifth active CID.
  t[0] = 1;
  h.inject(side, f.frames({NewConnectionIdFrame{5, 1, ConnectionId(Bytes{b}), t}}));
  h.expect_close(side, kCidLimit, frame_type::new_connection_id);
}

// ------------------------------------------------ TRANSPORT_PARAMETER_ERROR
//
// A hand-made client: a real TLS ClientHello whose quic_transport_parameters
// carry whatever the test wants, sent in a hand-made Initial. The server's
// answer is read with the server's Initial keys.

namespace {

struct ForgedClient {
  SeededRandom rng{99};
  EndpointConfig cfg;
  std::unique_ptr<Endpoint> server;
  std::vector<uint8_t> odcid = std::vector<uint8_t>(8), scid = std::vector<uint8_t>(8);
  Path path{test::addr(1, 50000), test::addr(2, 443)};
  Time now = from_ns(1'000'000'000);

  ForgedClient() {
    cfg.server = true;
    cfg.conn.tls = test::server_tls();
    cfg.conn.rng = &rng;
    cfg.conn.null_cipher = true;
    server = std::make_unique<Endpoint>(cfg);
    for (size_t i = 0; i < 8; ++i) {
      odcid[i] = static_cast<uint8_t>(0xd0 + i);
      scid[i] = static_cast<uint8_t>(0xc0 + i);
    }
  }

  // Default client parameters, valid for this ForgedClient.
  TransportParameters client_params() const {
    TransportParameters tp;
    tp.initial_max_data = 100000;
    tp.initial_max_stream_data_bidi_local = 10000;
    tp.initial_max_stream_data_bidi_remote = 10000;
    tp.initial_max_streams_bidi = 10;
    tp.initial_source_connection_id = ConnectionId(Bytes{scid});
    return tp;
  }

  // Sends a ClientHello carrying `tp_bytes` (or no transport parameters
  // extension at all) and returns the transport CONNECTION_CLOSE sent back.
  std::optional<test::WireClose> hello(std::optional<std::vector<uint8_t>> tp_bytes) {
    TlsSessionOptions o;
    o.server_name = "localhost";
    if (tp_bytes) o.transport_params = *tp_bytes;
    auto tls = TlsSession::create(test::client_tls(), o);
    REQUIRE(tls.ok());
    auto progress = (*tls)->do_handshake();
    REQUIRE(progress.ok());
    auto ch = (*tls)->take_crypto(EncryptionLevel::initial);
    REQUIRE(ch.size() > 100);
    auto payload = test::encode_frames({CryptoFrame{0, Bytes{ch}}});
    auto keys = make_initial_ciphers(kQuicV1, Bytes{odcid});
    REQUIRE(keys.ok());
    test::LongPacketSpec spec;
    spec.dcid = Bytes{odcid};
    spec.scid = Bytes{scid};
    spec.min_size = 1200;
    auto d = test::forge_long_packet(spec, Bytes{payload}, keys->client);
    server->receive(MutBytes{d}, Path{path.remote, path.local}, Ecn::not_ect, now);
    REQUIRE(server->connection_count() == 1);

    std::vector<Datagram> out;
    std::vector<uint8_t> buf(64 * 1500);
    for (int i = 0; i < 10; ++i) {
      auto b = server->send(MutBytes{buf}, now);
      if (!b.bytes) break;
      for (size_t off = 0; off < b.bytes; off += b.segment_size)
        out.emplace_back(buf.begin() + static_cast<std::ptrdiff_t>(off),
                         buf.begin() + static_cast<std::ptrdiff_t>(std::min(b.bytes, off + b.segment_size)));
    }
    test::OpenKeys open;
    open.initial = &keys->server;
    auto closes = test::find_connection_closes(out, 8, open);
    std::optional<test::WireClose> initial_close;
    for (auto& c : closes)
      if (c.packet_type == PacketType::initial && !c.application) initial_close = c;
    return initial_close;
  }

  std::optional<test::WireClose> hello(const TransportParameters& tp) {
    std::vector<uint8_t> b(1024);
    Writer w{MutBytes{b}};
    REQUIRE(tp.encode(w).ok());
    b.resize(w.written());
    return hello(std::optional<std::vector<uint8_t>>(std::move(b)));
  }

  // The server's own report of the close.
  std::optional<CloseInfo> server_close() {
    std::optional<CloseInfo> info;
    server->for_each([&](Connection& c) {
      while (auto e = c.poll_event())
        if (e->type == Event::Type::connection_closed) info = e->close;
    });
    return info;
  }
};

}  // namespace

TEST_CASE("hostile: a forged client with valid parameters completes the server's first flight (control)", "[hostile]") {
  ForgedClient fc;
  auto close = fc.hello(fc.client_params());
  CHECK_FALSE(close.has_value());
  bool established_or_handshaking = false;
  fc.server->for_each([&](Connection& c) { established_or_handshaking = !c.is_closed() && c.state() != Connection::State::closing; });
  CHECK(established_or_handshaking);
}

TEST_CASE("hostile: a client sending server-only transport parameters gets TRANSPORT_PARAMETER_ERROR", "[hostile]") {
  ForgedClient fc;
  auto tp = fc.client_params();
  SECTION("original_destination_connection_id") {
    tp.original_destination_connection_id = ConnectionId(Bytes{fc.odcid});
  }
  SECTION("stateless_reset_token") { tp.stateless_reset_token = StatelessResetToken{}; }
  SECTION("retry_source_connection_id") { tp.retry_source_connection_id = ConnectionId(Bytes{fc.scid}); }
  SECTION("preferred_address") {
    PreferredAddress pa;
    std::vector<uint8_t> cid(8, 0x99);
    pa.connection_id = ConnectionId(Bytes{cid});
    tp.preferred_address = pa;
  }
  // RFC 9000 §18.2
  auto close = fc.hello(tp);
  REQUIRE(close.has_value());
  CHECK(close->error_code == kTransportParameter);
  auto own = fc.server_close();
  REQUIRE(own.has_value());
  CHECK(own->error_code == kTransportParameter);
}

TEST_CASE("hostile: invalid transport parameter values get TRANSPORT_PARAMETER_ERROR", "[hostile]") {
  ForgedClient fc;
  // The encoder writes whatever is in the struct; the server must validate.
  auto tp = fc.client_params();
  SECTION("max_udp_payload_size below 1200") { tp.max_udp_payload_size = 1199; }
  SECTION("ack_delay_exponent above 20") { tp.ack_delay_exponent = 21; }
  SECTION("max_ack_delay of 2^14 or more") { tp.max_ack_delay_ms = 1u << 14; }
  SECTION("active_connection_id_limit below 2") { tp.active_connection_id_limit = 1; }
  SECTION("initial_max_streams_bidi above 2^60") { tp.initial_max_streams_bidi = (uint64_t{1} << 60) + 1; }
  // RFC 9000 §18.2
  auto close = fc.hello(tp);
  REQUIRE(close.has_value());
  CHECK(close->error_code == kTransportParameter);
}

TEST_CASE("hostile: a malformed transport parameter list gets TRANSPORT_PARAMETER_ERROR", "[hostile]") {
  ForgedClient fc;
  std::vector<uint8_t> raw;
  SECTION("truncated element") { raw = {0x04, 0x04, 0x80}; }
  SECTION("duplicate parameter") {
    // RFC 9000 §7.4: a parameter may appear once. initial_source_connection_id first.
    raw = {0x0f, 0x08};
    raw.insert(raw.end(), fc.scid.begin(), fc.scid.end());
    raw.insert(raw.end(), {0x04, 0x02, 0x40, 0x10, 0x04, 0x02, 0x40, 0x20});
  }
  SECTION("integer parameter with trailing bytes") {
    raw = {0x0f, 0x08};
    raw.insert(raw.end(), fc.scid.begin(), fc.scid.end());
    raw.insert(raw.end(), {0x04, 0x03, 0x01, 0x02, 0x03});
  }
  auto close = fc.hello(std::optional<std::vector<uint8_t>>(raw));
  REQUIRE(close.has_value());
  CHECK(close->error_code == kTransportParameter);
}

TEST_CASE("hostile: connection ID authentication failures get TRANSPORT_PARAMETER_ERROR", "[hostile]") {
  ForgedClient fc;
  auto tp = fc.client_params();
  // RFC 9000 §7.3
  SECTION("initial_source_connection_id differs from the Initial's SCID") {
    std::vector<uint8_t> other(8, 0xee);
    tp.initial_source_connection_id = ConnectionId(Bytes{other});
  }
  SECTION("initial_source_connection_id absent") { tp.initial_source_connection_id.reset(); }
  auto close = fc.hello(tp);
  REQUIRE(close.has_value());
  CHECK(close->error_code == kTransportParameter);
}

TEST_CASE("hostile: a ClientHello without quic_transport_parameters gets 0x016d", "[hostile]") {
  ForgedClient fc;
  // RFC 9001 §8.2: missing_extension alert (109) as CRYPTO_ERROR.
  auto close = fc.hello(std::optional<std::vector<uint8_t>>());
  REQUIRE(close.has_value());
  CHECK(close->error_code == 0x16d);
}

TEST_CASE("hostile: TransportParameters::decode rejects server-only parameters from a client", "[hostile]") {
  // The same rule at the codec level, for every server-only parameter.
  TransportParameters tp;
  tp.initial_source_connection_id = ConnectionId(Bytes{std::vector<uint8_t>(8, 1)});
  SECTION("original_destination_connection_id") {
    tp.original_destination_connection_id = ConnectionId(Bytes{std::vector<uint8_t>(8, 2)});
  }
  SECTION("stateless_reset_token") { tp.stateless_reset_token = StatelessResetToken{}; }
  SECTION("retry_source_connection_id") {
    tp.retry_source_connection_id = ConnectionId(Bytes{std::vector<uint8_t>(8, 3)});
  }
  std::vector<uint8_t> b(512);
  Writer w{MutBytes{b}};
  REQUIRE(tp.encode(w).ok());
  Bytes enc{b.data(), w.written()};
  auto as_server = TransportParameters::decode(enc, Role::server);
  CHECK(as_server.ok());
  auto as_client = TransportParameters::decode(enc, Role::client);
  REQUIRE_FALSE(as_client.ok());
  CHECK(as_client.error().is(TransportError::transport_parameter_error));
}
