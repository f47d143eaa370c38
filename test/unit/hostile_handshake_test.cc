// Hostile peer input during the handshake: frames not allowed in Initial
// packets, transport parameter errors from a hand-made client (a real TLS
// ClientHello with forged quic_transport_parameters in a hand-made Initial),
// connection ID authentication, and the Initial-packet rules of RFC 9000
// §7.2, §8.1, §14.1, §17.2.2 and RFC 9001 §5.7. Errors are read on the wire
// with the Initial keys derived from the client's original DCID.
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

  auto out = test::take_datagrams(*q.server, q.now);
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

// ------------------------------------------------ TRANSPORT_PARAMETER_ERROR
//
// A hand-made client: a real TLS ClientHello whose quic_transport_parameters
// carry whatever the test wants, sent in a hand-made Initial. The server's
// answer is read with the server's Initial keys.

namespace {

// Removes extension `type` from a ClientHello handshake message (RFC 8446
// §4.1.2) and fixes the length fields. False if the message does not parse
// or has no such extension.
bool remove_extension(std::vector<uint8_t>& ch, uint16_t type) {
  auto be = [&](size_t at, size_t n) {
    size_t v = 0;
    for (size_t i = 0; i < n; ++i) v = v << 8 | ch[at + i];
    return v;
  };
  auto put = [&](size_t at, size_t n, size_t v) {
    for (size_t i = n; i-- > 0; v >>= 8) ch[at + i] = static_cast<uint8_t>(v);
  };
  if (ch.size() < 4 + 2 + 32 + 1 || ch[0] != 0x01) return false;
  size_t p = 4 + 2 + 32;      // type, length, legacy_version, random
  p += 1 + ch[p];             // legacy_session_id
  if (p + 2 > ch.size()) return false;
  p += 2 + be(p, 2);          // cipher_suites
  if (p + 1 > ch.size()) return false;
  p += 1 + ch[p];             // legacy_compression_methods
  if (p + 2 > ch.size()) return false;
  const size_t ext_len_at = p;
  const size_t end = p + 2 + be(p, 2);
  if (end != ch.size()) return false;
  for (p += 2; p + 4 <= end;) {
    const size_t len = be(p + 2, 2);
    if (be(p, 2) == type) {
      ch.erase(ch.begin() + static_cast<std::ptrdiff_t>(p),
               ch.begin() + static_cast<std::ptrdiff_t>(p + 4 + len));
      put(ext_len_at, 2, be(ext_len_at, 2) - 4 - len);
      put(1, 3, ch.size() - 4);
      return true;
    }
    p += 4 + len;
  }
  return false;
}

struct ForgedClient {
  SeededRandom rng{99};
  EndpointConfig cfg;
  std::unique_ptr<Endpoint> server;
  std::vector<uint8_t> odcid = std::vector<uint8_t>(8), scid = std::vector<uint8_t>(8);
  Path path{test::addr(1, 50000), test::addr(2, 443)};
  Time now = from_ns(1'000'000'000);
  std::vector<Datagram> sent;  // the server's answer to the last hello()

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
    // BoringSSL will not send a ClientHello without the extension: send one
    // with it and cut it out afterwards.
    o.transport_params = tp_bytes ? *tp_bytes : std::vector<uint8_t>{0x04, 0x01, 0x10};
    auto tls = TlsSession::create(test::client_tls(), o);
    REQUIRE(tls.ok());
    auto progress = (*tls)->do_handshake();
    REQUIRE(progress.ok());
    auto ch = (*tls)->take_crypto(EncryptionLevel::initial);
    REQUIRE(ch.size() > 100);
    if (!tp_bytes) REQUIRE(remove_extension(ch, 0x39));
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

    sent = test::take_datagrams(*server, now);
    test::OpenKeys open;
    open.initial = &keys->server;
    auto closes = test::find_connection_closes(sent, 8, open);
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

// ------------------------------------------------------ during the handshake

namespace {

// A pair stopped at a chosen point of the handshake, with the Initial keys.
struct Handshaking {
  test::QuicPair q;
  ConnectionId odcid;
  std::optional<InitialCiphers> keys;

  Handshaking() {
    q.client_cfg.conn.null_cipher = q.server_cfg.conn.null_cipher = true;
    q.start();
  }
  // The server has the client's first Initial; nothing sent back yet.
  void until_server_accepted() {
    REQUIRE(q.step());
    REQUIRE(q.sconn != nullptr);
    derive_keys();
  }
  // The client has the server's whole first flight (it is established) but
  // has not answered, so it still holds its Initial keys.
  void until_client_has_server_flight() {
    REQUIRE(q.run_until([&] { return q.cconn->is_established(); }));
    REQUIRE(q.sconn != nullptr);
    derive_keys();
  }
  void derive_keys() {
    odcid = q.cconn->original_dcid();
    auto k = make_initial_ciphers(kQuicV1, odcid.bytes());
    REQUIRE(k.ok());
    keys.emplace(std::move(*k));
  }
  Path to_server() const { return Path{q.cpath.remote, q.cpath.local}; }
};

}  // namespace

TEST_CASE("hostile: an Initial in a datagram smaller than 1200 bytes is discarded", "[hostile]") {
  Handshaking hs;
  hs.until_server_accepted();
  // The client sends CONNECTION_CLOSE: it is obeyed only in a full-size datagram.
  auto payload = test::encode_frames({ConnectionCloseFrame{false, 0x1, 0, {}}});
  test::LongPacketSpec spec;
  spec.dcid = hs.odcid.bytes();
  const ConnectionId cscid = hs.q.cconn->initial_scid();
  spec.scid = cscid.bytes();
  spec.pn = 1000;
  const bool full_size = GENERATE(false, true);
  spec.min_size = full_size ? 1200 : 0;
  auto d = test::forge_long_packet(spec, Bytes{payload}, hs.keys->client);
  REQUIRE((d.size() < 1200) != full_size);
  hs.q.server->receive(MutBytes{d}, hs.to_server(), Ecn::not_ect, hs.q.now);
  // RFC 9000 §14.1: servers MUST discard Initial packets in datagrams < 1200 bytes.
  if (full_size) {
    CHECK(hs.q.sconn->state() == Connection::State::draining);
  } else {
    CHECK(hs.q.sconn->state() == Connection::State::handshaking);
    CHECK(hs.q.run_until([&] { return hs.q.cconn->handshake_confirmed() && hs.q.sconn->is_established(); }));
  }
}

TEST_CASE("hostile: a server does not process 1-RTT packets before the handshake completes", "[hostile]") {
  Handshaking hs;
  hs.until_server_accepted();
  REQUIRE_FALSE(hs.q.sconn->is_established());
  test::PacketForge f(hs.q.sconn->initial_scid());
  std::string data = "too early";
  // RFC 9001 §5.7: a server MUST NOT process 1-RTT packets before the
  // handshake is complete. HANDSHAKE_DONE would close it if processed.
  auto d = f.frames({StreamFrame{0, 0, as_bytes(data), true, true}, HandshakeDoneFrame{}});
  hs.q.server->receive(MutBytes{d}, hs.to_server(), Ecn::not_ect, hs.q.now);
  CHECK(hs.q.sconn->state() == Connection::State::handshaking);
  while (auto e = hs.q.sconn->poll_event()) CHECK(e->type != Event::Type::stream_opened);
  CHECK(hs.q.run_until([&] { return hs.q.cconn->handshake_confirmed() && hs.q.sconn->is_established(); }));
}

TEST_CASE("hostile: a client discards server packets with another Source Connection ID", "[hostile]") {
  Handshaking hs;
  hs.until_client_has_server_flight();
  // A second "server" Initial with a different SCID carrying CONNECTION_CLOSE.
  auto payload = test::encode_frames({ConnectionCloseFrame{false, 0x1, 0, {}}});
  std::vector<uint8_t> other(8, 0xee);
  const ConnectionId cscid = hs.q.cconn->initial_scid();
  test::LongPacketSpec spec;
  spec.dcid = cscid.bytes();
  spec.scid = Bytes{other};
  spec.pn = 1000;
  auto d = test::forge_long_packet(spec, Bytes{payload}, hs.keys->server);
  hs.q.client->receive(MutBytes{d}, hs.q.cpath, Ecn::not_ect, hs.q.now);
  // RFC 9000 §7.2: once a client has received a valid Initial from the
  // server, it MUST discard packets with a different Source Connection ID.
  CHECK(hs.q.cconn->is_established());
  CHECK(hs.q.run_until([&] { return hs.q.cconn->handshake_confirmed(); }));
}

TEST_CASE("hostile: a server Initial with a token is discarded or a PROTOCOL_VIOLATION", "[hostile]") {
  Handshaking hs;
  hs.until_client_has_server_flight();
  auto payload = test::encode_frames({ConnectionCloseFrame{false, 0x1, 0, {}}});
  std::vector<uint8_t> token(16, 0x42);
  const ConnectionId cscid = hs.q.cconn->initial_scid();
  const ConnectionId sscid = hs.q.sconn->initial_scid();
  test::LongPacketSpec spec;
  spec.dcid = cscid.bytes();
  spec.scid = sscid.bytes();
  spec.token = Bytes{token};
  spec.pn = 1000;
  auto d = test::forge_long_packet(spec, Bytes{payload}, hs.keys->server);
  hs.q.client->receive(MutBytes{d}, hs.q.cpath, Ecn::not_ect, hs.q.now);
  // RFC 9000 §17.2.2: the client MUST either discard the packet or close
  // with PROTOCOL_VIOLATION; obeying its CONNECTION_CLOSE is neither.
  if (hs.q.cconn->is_established()) {
    CHECK(hs.q.run_until([&] { return hs.q.cconn->handshake_confirmed(); }));
  } else {
    CHECK_FALSE(hs.q.cconn->close_info().by_peer);
    CHECK(hs.q.cconn->close_info().error_code == kProtocolViolation);
  }
}

TEST_CASE("hostile: a server sends at most 3x what an unvalidated client sent", "[hostile]") {
  ForgedClient fc;
  // A valid ClientHello, then silence: the client never proves its address.
  auto close = fc.hello(fc.client_params());
  REQUIRE_FALSE(close.has_value());
  size_t total = 0;
  for (auto& d : fc.sent) total += d.size();
  CHECK(total > 0);
  // PTO probes keep coming for a while; none may exceed the budget, and
  // the timers must not fire again at the same instant (a busy loop).
  int stuck = 0;
  for (int i = 0; i < 30; ++i) {
    Time t = fc.server->next_timeout();
    if (t == kTimeInfinite) break;
    if (t <= fc.now) ++stuck;
    fc.now = std::max(fc.now, t);
    fc.server->on_timeout(fc.now);
    for (auto& d : test::take_datagrams(*fc.server, fc.now)) total += d.size();
  }
  // RFC 9000 §8.1: three times the 1200 bytes received.
  CHECK(total <= 3 * 1200);
  CHECK(stuck == 0);
}

