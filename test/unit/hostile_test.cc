// Hostile and malformed peer input on an established connection: one test
// per protocol rule, each checking the error code that goes out ON THE WIRE
// in CONNECTION_CLOSE (RFC 9000 §10.2, §20.1), that the peer learns it
// (connection_closed, by_peer) and drains, and that both sides end up closed.
//
// Connections use the null cipher for 1-RTT (ConnectionConfig::null_cipher),
// so packets are crafted by hand (test/support/packet_forge.h) and injected
// through the endpoint as if they came from the real peer
// (test/support/hostile_fixture.h). Handshake-time rules are in
// hostile_handshake_test.cc.
#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "quic/key_schedule.h"
#include "quic/transport_params.h"
#include "quic/version.h"
#include "test/support/hostile_fixture.h"

using namespace wt;
using namespace wt::quic;
using namespace wt::test::hostile;
using test::Datagram;

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

TEST_CASE("hostile: MAX_STREAMS above 2^60 is FRAME_ENCODING_ERROR", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::server);
  // RFC 9000 §19.11
  const uint8_t type = GENERATE(as<uint8_t>{}, 0x12, 0x13);
  h.inject(Side::server, f.raw(Raw{}.u8(type).v((uint64_t{1} << 60) + 1).bytes()));
  h.expect_close(Side::server, kFrameEncoding, type);
}

TEST_CASE("hostile: STREAMS_BLOCKED above 2^60 is a connection error", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::server);
  const uint8_t type = GENERATE(as<uint8_t>{}, 0x16, 0x17);
  h.inject(Side::server, f.raw(Raw{}.u8(type).v((uint64_t{1} << 60) + 1).bytes()));
  auto out = h.capture(Side::server);
  auto close = test::find_transport_close(out, 8);
  REQUIRE(close.has_value());
  // RFC 9000 §19.14: STREAM_LIMIT_ERROR or FRAME_ENCODING_ERROR.
  CHECK((close->error_code == kStreamLimit || close->error_code == kFrameEncoding));
  CHECK(close->frame_type == type);
  h.check_close_events(Side::server, close->error_code, out);
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
  h.check_close_events(Side::server, close->error_code, out);
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
  // Sequence 4 retiring 0 stays within the limit of 4 active CIDs; the same
  // sequence number again for another CID is the violation (RFC 9000 §19.15).
  h.inject(Side::server, f.frames({NewConnectionIdFrame{4, 1, ConnectionId(Bytes{a}), t}}));
  h.expect_no_close(Side::server);
  h.inject(Side::server, f.frames({NewConnectionIdFrame{4, 1, ConnectionId(Bytes{b}), t}}));
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

namespace {
std::shared_ptr<TlsConfig> server_tls_without_tickets() {
  TlsConfigOptions o;
  o.role = TlsRole::server;
  o.alpn = {"test"};
  o.cert_chain_pem = test::test_certificate().cert_pem;
  o.private_key_pem = test::test_certificate().key_pem;
  o.session_tickets = false;
  auto c = TlsConfig::create(o);
  REQUIRE(c.ok());
  return *c;
}
}  // namespace

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
  INFO("attacked side: " << (side == Side::server ? "server" : "client"));
  // No NewSessionTicket: the client's 1-RTT CRYPTO stream stays empty, so
  // offset 0 is new data.
  Hostile h([](test::QuicPair& q) { q.server_cfg.conn.tls = server_tls_without_tickets(); });
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

// ---------------------------------------------------------- KEY_UPDATE_ERROR

TEST_CASE("hostile: an ACK with old keys for packets sent with new keys is KEY_UPDATE_ERROR", "[hostile]") {
  Hostile h;
  REQUIRE(h.q.sconn->initiate_key_update().ok());
  auto id = h.q.sconn->open_stream(false);
  REQUIRE(id.ok());
  std::string data = "after the key update";
  REQUIRE(h.q.sconn->stream_write(*id, as_bytes(data), false).ok());
  // The server's packets now carry Key Phase 1.
  uint64_t largest = 0;
  bool updated = false;
  for (auto& p : test::open_packets(h.capture(Side::server), 8)) {
    if (p.key_phase) {
      updated = true;
      largest = std::max(largest, p.pn);
    }
  }
  REQUIRE(updated);
  auto f = h.forge(Side::server);
  auto ack = Raw{}.u8(0x02).v(largest).v(0).v(0).v(0);
  const bool peer_updated = GENERATE(true, false);
  f.set_key_phase(peer_updated);
  h.inject(Side::server, f.raw(ack.bytes()));
  if (peer_updated) {
    h.expect_no_close(Side::server);  // the peer answered the update (RFC 9001 §6.2)
  } else {
    // RFC 9001 §6.2: the acknowledgment came with the old keys.
    h.expect_close(Side::server, 0x0e, frame_type::ack);
  }
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

// ------------------------------------------------ resource bounds

TEST_CASE("hostile: NEW_CONNECTION_ID frames below Retire Prior To are retired once", "[hostile]") {
  Hostile h;
  auto f = h.forge(Side::server);
  StatelessResetToken t{};
  std::vector<uint8_t> a(8, 0x51), b(8, 0x52);
  // Sequence 4 with Retire Prior To 4: the server retires 0-3.
  h.inject(Side::server, f.frames({NewConnectionIdFrame{4, 4, ConnectionId(Bytes{a}), t}}));
  // The same stale sequence number 1 again and again.
  std::vector<Frame> stale(40, NewConnectionIdFrame{1, 0, ConnectionId(Bytes{b}), t});
  h.inject(Side::server, f.frames(stale));
  h.inject(Side::server, f.frames(stale));
  auto out = h.capture(Side::server);
  std::map<uint64_t, int> retired;
  for (auto& p : test::open_packets(out, 8))
    for (auto& fr : p.frames)
      if (auto* r = std::get_if<RetireConnectionIdFrame>(&fr)) ++retired[r->sequence_number];
  // RFC 9000 §19.15: a RETIRE_CONNECTION_ID "unless it has already done so
  // for that sequence number"; §5.1.2: bound the retirements in flight.
  CHECK(retired.size() == 4);
  for (auto& [seq, n] : retired) {
    INFO("sequence number " << seq);
    CHECK(n == 1);
  }
  CHECK(h.q.sconn->is_established());
}

TEST_CASE("hostile: NEW_CONNECTION_ID to an endpoint whose peer uses zero-length CIDs is PROTOCOL_VIOLATION", "[hostile]") {
  // The server uses zero-length CIDs, so the client sends it empty DCIDs.
  Hostile h([](test::QuicPair& q) { q.server_cfg.conn.cid_length = 0; });
  REQUIRE(h.q.cconn->peer_params().initial_source_connection_id.has_value());
  REQUIRE(h.q.cconn->peer_params().initial_source_connection_id->empty());
  auto f = h.forge(Side::client);
  std::vector<uint8_t> cid(8, 0x61);
  // RFC 9000 §19.15
  h.inject(Side::client, f.frames({NewConnectionIdFrame{1, 0, ConnectionId(Bytes{cid}), {}}}));
  h.expect_close(Side::client, kProtocolViolation, frame_type::new_connection_id);
}


// ------------------------------------------------ timers make progress
//
// Found by fuzz/connection_fuzz.cc ("timer does not advance past now"): an
// event loop calls on_timeout(next_timeout()) and send(); if next_timeout()
// is still not in the future, it fires again at once, forever.

namespace {

// Drives `s` alone from its timers (its output is lost) and counts the
// wake-ups after which its next deadline was not in the future.
int stuck_wakeups(Hostile& h, Side s, int wakeups) {
  int stuck = 0;
  for (int i = 0; i < wakeups && h.conn(s).is_established(); ++i) {
    (void)h.capture(s);
    const Time t = h.ep(s).next_timeout();
    if (t == kTimeInfinite) break;
    if (t <= h.q.now) ++stuck;
    h.q.now = std::max(h.q.now, t);
    h.ep(s).on_timeout(h.q.now);
  }
  return stuck;
}

}  // namespace

TEST_CASE("hostile: a server blocked by the amplification limit on a new path does not spin its timers", "[hostile]") {
  Hostile h;
  // A small packet from the client arrives from a new port (NAT rebinding,
  // or an attacker replaying it from a spoofed address): the server may send
  // only 3x its size on the new path until the path is validated (RFC 9000
  // §8, §9.3), and its PATH_CHALLENGE is never answered.
  std::string one = "x";
  REQUIRE(h.q.cconn->send_datagram(as_bytes(one)).ok());
  auto from_client = h.capture(Side::client);
  REQUIRE(from_client.size() == 1);
  REQUIRE(from_client[0].size() < 100);
  Path rebound{h.q.cpath.remote, h.q.cpath.local};
  rebound.remote.port = static_cast<uint16_t>(rebound.remote.port + 1);
  h.q.server->receive(MutBytes{from_client[0]}, rebound, Ecn::not_ect, h.q.now);
  // The ACK it owes cannot go out; its deadline must not keep firing
  // (RFC 9002 §6.2.2.1 disarms the PTO while amplification-blocked).
  CHECK(stuck_wakeups(h, Side::server, 200) == 0);
}
