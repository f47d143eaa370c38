#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "lib/hex.h"
#include "lib/random.h"
#include "quic/client_hello.h"
#include "quic/connection_id.h"
#include "quic/transport_params.h"

using namespace wt;
using namespace wt::quic;

namespace {

using Buf = std::vector<uint8_t>;

// One raw (id, length, value) element, for building hostile inputs by hand.
Buf raw_param(uint64_t id, const Buf& value) {
  Buf out(16 + value.size());
  Writer w{MutBytes{out}};
  w.varint(id);
  w.varint(value.size());
  w.bytes(value);
  out.resize(w.written());
  return out;
}

Buf int_param(uint64_t id, uint64_t v) {
  Buf val(8);
  Writer w{MutBytes{val}};
  w.varint(v);
  val.resize(w.written());
  return raw_param(id, val);
}

Buf cat(std::initializer_list<Buf> parts) {
  Buf out;
  for (const Buf& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Buf encode(const TransportParameters& tp) {
  auto size = tp.encoded_size();
  REQUIRE(size.ok());
  Buf out(*size);
  Writer w{MutBytes{out}};
  REQUIRE(tp.encode(w).ok());
  CHECK(w.written() == *size);
  return out;
}

ConnectionId cid(std::string_view h) {
  Buf b = hex(h);
  return ConnectionId(Bytes{b});
}

bool is_param_error(const Result<TransportParameters>& r) {
  return !r.ok() && r.error().is(TransportError::transport_parameter_error);
}

TransportParameters full_server_params() {
  TransportParameters tp;
  tp.original_destination_connection_id = cid("0001020304050607");
  tp.max_idle_timeout_ms = kVarintMax;
  StatelessResetToken srt;
  for (size_t i = 0; i < srt.size(); ++i) srt[i] = static_cast<uint8_t>(0xa0 + i);
  tp.stateless_reset_token = srt;
  tp.max_udp_payload_size = kMinMaxUdpPayloadSize;
  tp.initial_max_data = kVarintMax;
  tp.initial_max_stream_data_bidi_local = 63;
  tp.initial_max_stream_data_bidi_remote = 64;
  tp.initial_max_stream_data_uni = 16384;
  tp.initial_max_streams_bidi = kMaxStreamsLimit;
  tp.initial_max_streams_uni = 1;
  tp.ack_delay_exponent = kMaxAckDelayExponent;
  tp.max_ack_delay_ms = kMaxAckDelayLimitMs - 1;
  tp.disable_active_migration = true;
  PreferredAddress pa;
  pa.ipv4_address = {192, 0, 2, 1};
  pa.ipv4_port = 443;
  for (size_t i = 0; i < 16; ++i) pa.ipv6_address[i] = static_cast<uint8_t>(0x20 + i);
  pa.ipv6_port = 65535;
  pa.connection_id = cid("0102030405060708090a0b0c0d0e0f1011121314");  // 20 bytes
  for (size_t i = 0; i < 16; ++i) pa.stateless_reset_token[i] = static_cast<uint8_t>(i);
  tp.preferred_address = pa;
  tp.active_connection_id_limit = kVarintMax;
  tp.initial_source_connection_id = ConnectionId();  // zero-length, but present
  tp.retry_source_connection_id = cid("ffeeddccbbaa99887766554433221100ffeeddcc");
  tp.max_datagram_frame_size = 65535;
  tp.version_information = VersionInformation{0x00000001, {0x6b3343cf, 0x00000001, 0x1a2a3a4a}};
  tp.grease_quic_bit = true;
  return tp;
}

}  // namespace

TEST_CASE("transport parameters: defaults when empty, nothing encoded for defaults", "[tp]") {
  for (Role sender : {Role::client, Role::server}) {
    auto r = TransportParameters::decode({}, sender);
    REQUIRE(r.ok());
    CHECK(*r == TransportParameters{});
    CHECK(r->max_udp_payload_size == 65527);
    CHECK(r->ack_delay_exponent == 3);
    CHECK(r->max_ack_delay_ms == 25);
    CHECK(r->active_connection_id_limit == 2);
    CHECK(r->max_idle_timeout_ms == 0);
    CHECK(r->max_datagram_frame_size == 0);
    CHECK(!r->initial_source_connection_id);
    CHECK(!r->version_information);
  }
  TransportParameters d;
  CHECK(*d.encoded_size() == 0);
  // Explicit default values on the wire decode the same way.
  Buf explicit_defaults = cat({int_param(0x03, 65527), int_param(0x0a, 3), int_param(0x0b, 25),
                               int_param(0x0e, 2), int_param(0x04, 0)});
  auto r = TransportParameters::decode(explicit_defaults, Role::client);
  REQUIRE(r.ok());
  CHECK(*r == TransportParameters{});
}

TEST_CASE("transport parameters: every parameter round trips with edge values", "[tp]") {
  TransportParameters tp = full_server_params();
  Buf wire = encode(tp);
  auto r = TransportParameters::decode(wire, Role::server);
  REQUIRE(r.ok());
  CHECK(*r == tp);
  CHECK(r->initial_source_connection_id.has_value());
  CHECK(r->initial_source_connection_id->empty());
  CHECK(r->preferred_address->connection_id.size() == 20);

  // The other side of each boundary that is still valid.
  tp.max_idle_timeout_ms = 1;
  tp.max_udp_payload_size = kVarintMax;
  tp.initial_max_streams_bidi = 0;
  tp.initial_max_streams_uni = kMaxStreamsLimit;
  tp.ack_delay_exponent = 0;
  tp.max_ack_delay_ms = 0;
  tp.disable_active_migration = false;
  tp.preferred_address->connection_id = cid("01");
  tp.version_information->available_versions.clear();  // a server may list none
  tp.max_datagram_frame_size = kVarintMax;
  r = TransportParameters::decode(encode(tp), Role::server);
  REQUIRE(r.ok());
  CHECK(*r == tp);
}

TEST_CASE("transport parameters: client parameters round trip as sent by a client", "[tp]") {
  TransportParameters tp;
  tp.max_idle_timeout_ms = 30000;
  tp.max_udp_payload_size = 1472;
  tp.initial_max_data = 15728640;
  tp.initial_max_stream_data_bidi_local = 6291456;
  tp.initial_max_stream_data_bidi_remote = 6291456;
  tp.initial_max_stream_data_uni = 6291456;
  tp.initial_max_streams_bidi = 100;
  tp.initial_max_streams_uni = 103;
  tp.initial_source_connection_id = cid("c0ffee");
  tp.max_datagram_frame_size = 65536;
  tp.version_information = VersionInformation{1, {1, 0x0a0a0a0a}};
  auto r = TransportParameters::decode(encode(tp), Role::client);
  REQUIRE(r.ok());
  CHECK(*r == tp);
}

TEST_CASE("transport parameters: RFC 9001 A.2 client parameters", "[tp]") {
  // The quic_transport_parameters extension of the RFC 9001 Appendix A.2 ClientHello.
  Buf wire =
      hex("0408ffffffffffffffff05048000ffff07048000ffff0801100104800075300901100f08"
          "8394c8f03e51570806048000ffff");
  auto r = TransportParameters::decode(wire, Role::client);
  REQUIRE(r.ok());
  CHECK(r->initial_max_data == kVarintMax);
  CHECK(r->initial_max_stream_data_bidi_local == 0xffff);
  CHECK(r->initial_max_stream_data_bidi_remote == 0xffff);
  CHECK(r->initial_max_stream_data_uni == 0xffff);
  CHECK(r->initial_max_streams_bidi == 16);
  CHECK(r->initial_max_streams_uni == 16);
  CHECK(r->max_idle_timeout_ms == 30000);
  CHECK(r->initial_source_connection_id == cid("8394c8f03e515708"));
}

TEST_CASE("transport parameters: GREASE and unknown parameters are skipped", "[tp]") {
  CHECK(is_grease_transport_parameter(27));
  CHECK(is_grease_transport_parameter(31 * 1000 + 27));
  CHECK(!is_grease_transport_parameter(0x20));
  CHECK(!is_grease_transport_parameter(26));
  CHECK(std::string(transport_parameter_name(58)) == "GREASE");
  CHECK(std::string(transport_parameter_name(0x20)) == "max_datagram_frame_size");
  CHECK(std::string(transport_parameter_name(0x7777)) == "unknown");

  Buf wire = cat({raw_param(27, hex("0102030405")), int_param(0x04, 1000),
                  raw_param(31 * 77 + 27, {}), raw_param(0x7777, hex("ff")),
                  raw_param(kVarintMax - ((kVarintMax - 27) % 31), hex("00")), int_param(0x09, 3)});
  for (Role sender : {Role::client, Role::server}) {
    auto r = TransportParameters::decode(wire, sender);
    REQUIRE(r.ok());
    TransportParameters expect;
    expect.initial_max_data = 1000;
    expect.initial_max_streams_uni = 3;
    CHECK(*r == expect);
  }

  // The raw iterator shows every element, GREASE included, in wire order.
  TransportParameterIterator it(wire);
  RawTransportParameter p;
  std::vector<uint64_t> ids;
  for (;;) {
    auto more = it.next(p);
    REQUIRE(more.ok());
    if (!*more) break;
    ids.push_back(p.id);
  }
  CHECK(ids.size() == 6);
  CHECK(ids[0] == 27);
  CHECK(ids[3] == 0x7777);
}

TEST_CASE("transport parameters: encoding a caller-chosen GREASE parameter", "[tp]") {
  TransportParameters tp;
  tp.initial_max_data = 5;
  tp.grease = GreaseTransportParameter{31 * 5 + 27, {9, 8, 7}, 3};
  Buf wire = encode(tp);
  CHECK(wire == cat({int_param(0x04, 5), raw_param(31 * 5 + 27, {9, 8, 7})}));
  auto r = TransportParameters::decode(wire, Role::client);
  REQUIRE(r.ok());
  CHECK(r->initial_max_data == 5);
  CHECK(!r->grease);  // decode never reports the GREASE parameter

  // A non-GREASE id is refused instead of silently sending a real parameter.
  tp.grease->id = 0x04;
  CHECK(!tp.encoded_size().ok());
  Buf big(64);
  Writer w{MutBytes{big}};
  CHECK(!tp.encode(w).ok());

  // make_grease_transport_parameter: valid ids and lengths from injected randomness.
  SeededRandom rng(7);
  bool saw_nonempty = false;
  for (int i = 0; i < 200; ++i) {
    GreaseTransportParameter g = make_grease_transport_parameter(rng);
    CHECK(is_grease_transport_parameter(g.id));
    CHECK(g.id <= kVarintMax);
    CHECK(g.value_len <= 16);
    saw_nonempty |= g.value_len > 0;
    TransportParameters t;
    t.grease = g;
    CHECK(TransportParameters::decode(encode(t), Role::server).ok());
  }
  CHECK(saw_nonempty);
}

TEST_CASE("transport parameters: duplicates are TRANSPORT_PARAMETER_ERROR", "[tp]") {
  CHECK(is_param_error(
      TransportParameters::decode(cat({int_param(0x04, 1), int_param(0x04, 1)}), Role::client)));
  CHECK(is_param_error(TransportParameters::decode(
      cat({int_param(0x04, 1), int_param(0x05, 1), int_param(0x04, 2)}), Role::client)));
  CHECK(is_param_error(
      TransportParameters::decode(cat({raw_param(0x0c, {}), raw_param(0x0c, {})}), Role::server)));
  CHECK(is_param_error(TransportParameters::decode(
      cat({raw_param(0x2ab2, {}), raw_param(0x2ab2, {})}), Role::server)));
  CHECK(is_param_error(TransportParameters::decode(
      cat({int_param(0x20, 1200), int_param(0x20, 1200)}), Role::server)));
  // Unknown and GREASE ids too (RFC 9000 §7.4 applies to any parameter).
  CHECK(is_param_error(TransportParameters::decode(
      cat({raw_param(0x7777, {}), int_param(0x04, 1), raw_param(0x7777, hex("01"))}),
      Role::client)));
  CHECK(is_param_error(
      TransportParameters::decode(cat({raw_param(27, {}), raw_param(27, {})}), Role::client)));
}

TEST_CASE("transport parameters: server-only parameters from a client are refused", "[tp]") {
  const Buf cases[] = {
      raw_param(0x00, hex("0102030405060708")),                  // ODCID
      raw_param(0x02, hex("000102030405060708090a0b0c0d0e0f")),  // reset token
      raw_param(0x10, hex("0102")),                              // retry SCID
      raw_param(0x0d, hex("c0000201 01bb 20010db8000000000000000000000001 01bb 04 01020304"
                          "000102030405060708090a0b0c0d0e0f")),  // preferred address
  };
  for (const Buf& c : cases) {
    CHECK(is_param_error(TransportParameters::decode(c, Role::client)));
    CHECK(TransportParameters::decode(c, Role::server).ok());
  }
  auto r = TransportParameters::decode(cases[3], Role::server);
  REQUIRE(r.ok());
  REQUIRE(r->preferred_address);
  CHECK(r->preferred_address->ipv4_port == 443);
  CHECK(r->preferred_address->ipv4_address == std::array<uint8_t, 4>{192, 0, 2, 1});
  CHECK(r->preferred_address->ipv6_address[15] == 1);
  CHECK(r->preferred_address->connection_id == cid("01020304"));
}

TEST_CASE("transport parameters: invalid values are refused", "[tp]") {
  struct Case {
    const char* what;
    Buf wire;
  };
  const Buf pa_zero_cid =
      raw_param(0x0d, hex("c0000201 01bb 20010db8000000000000000000000001 01bb 00"
                          "000102030405060708090a0b0c0d0e0f"));
  const Case cases[] = {
      {"max_udp_payload_size 1199", int_param(0x03, 1199)},
      {"max_udp_payload_size 0", int_param(0x03, 0)},
      {"ack_delay_exponent 21", int_param(0x0a, 21)},
      {"max_ack_delay 2^14", int_param(0x0b, 16384)},
      {"active_connection_id_limit 1", int_param(0x0e, 1)},
      {"active_connection_id_limit 0", int_param(0x0e, 0)},
      {"initial_max_streams_bidi 2^60+1", int_param(0x08, (uint64_t{1} << 60) + 1)},
      {"initial_max_streams_uni 2^62-1", int_param(0x09, kVarintMax)},
      {"initial_source_connection_id 21 bytes", raw_param(0x0f, Buf(21, 1))},
      {"retry_source_connection_id 21 bytes", raw_param(0x10, Buf(21, 1))},
      {"original_destination_connection_id 21 bytes", raw_param(0x00, Buf(21, 1))},
      {"preferred_address zero-length CID", pa_zero_cid},
      {"version_information chosen 0", raw_param(0x11, hex("00000000 00000001"))},
      {"version_information available 0", raw_param(0x11, hex("00000001 00000000"))},
      {"version_information empty", raw_param(0x11, {})},
      {"version_information 6 bytes", raw_param(0x11, hex("000000010000"))},
      {"version_information 3 bytes", raw_param(0x11, hex("000001"))},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    CHECK(is_param_error(TransportParameters::decode(c.wire, Role::server)));
  }
  // RFC 9368 §4: a client's chosen version must be among its available ones.
  Buf vi = raw_param(0x11, hex("00000001 6b3343cf"));
  CHECK(is_param_error(TransportParameters::decode(vi, Role::client)));
  CHECK(TransportParameters::decode(vi, Role::server).ok());
}

TEST_CASE("transport parameters: malformed lengths are refused", "[tp]") {
  struct Case {
    const char* what;
    Buf wire;
  };
  const Case cases[] = {
      {"integer with trailing byte", raw_param(0x04, hex("0100"))},
      {"integer truncated varint", raw_param(0x04, hex("40"))},
      {"integer empty", raw_param(0x04, {})},
      {"8-byte varint in 4", raw_param(0x01, hex("c0000000"))},
      {"reset token 15 bytes", raw_param(0x02, Buf(15, 0))},
      {"reset token 17 bytes", raw_param(0x02, Buf(17, 0))},
      {"disable_active_migration with value", raw_param(0x0c, hex("00"))},
      {"grease_quic_bit with value", raw_param(0x2ab2, hex("01"))},
      {"preferred_address short",
       raw_param(0x0d, hex("c0000201 01bb 20010db8000000000000000000000001 01bb 04 01020304"
                           "000102030405060708090a0b0c0d0e"))},
      {"preferred_address long",
       raw_param(0x0d, hex("c0000201 01bb 20010db8000000000000000000000001 01bb 04 01020304"
                           "000102030405060708090a0b0c0d0e0f10"))},
      {"preferred_address CID length 21",
       raw_param(0x0d, hex("c0000201 01bb 20010db8000000000000000000000001 01bb 15"
                           "0102030405060708090a0b0c0d0e0f101112131415"
                           "000102030405060708090a0b0c0d0e0f"))},
      {"id without length", hex("04")},
      {"truncated id varint", hex("40")},
      {"length beyond end", hex("0405 40")},
      {"truncated length varint", hex("04 80 00")},
      {"valid then garbage", cat({int_param(0x04, 1), hex("09")})},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    CHECK(is_param_error(TransportParameters::decode(c.wire, Role::server)));
  }
}

TEST_CASE("transport parameters: every truncation of a valid encoding fails cleanly", "[tp]") {
  Buf wire = encode(full_server_params());
  REQUIRE(TransportParameters::decode(wire, Role::server).ok());
  for (size_t n = 1; n < wire.size(); ++n) {
    auto r = TransportParameters::decode(Bytes{wire.data(), n}, Role::server);
    // A prefix may end on an element boundary; then it decodes to fewer parameters.
    if (r.ok()) CHECK(!(*r == full_server_params()));
  }
}

TEST_CASE("transport parameters: encode refuses a short buffer", "[tp]") {
  TransportParameters tp = full_server_params();
  Buf out(*tp.encoded_size() - 1);
  Writer w{MutBytes{out}};
  auto s = tp.encode(w);
  REQUIRE(!s.ok());
  CHECK(s.error().is(TransportError::internal_error));
}

TEST_CASE("transport parameters: connection ID authentication (RFC 9000 §7.3)", "[tp]") {
  const ConnectionId client_scid = cid("c1c1c1c1");
  const ConnectionId server_scid = cid("5e5e5e5e5e5e5e5e");
  const ConnectionId odcid = cid("0d0d0d0d0d0d0d0d");
  const ConnectionId retry = cid("4e4e4e4e");

  TransportParameters c;
  CHECK(!c.authenticate_connection_ids(Role::client, client_scid).ok());
  c.initial_source_connection_id = client_scid;
  CHECK(c.authenticate_connection_ids(Role::client, client_scid).ok());
  CHECK(!c.authenticate_connection_ids(Role::client, server_scid).ok());

  TransportParameters s;
  s.initial_source_connection_id = server_scid;
  CHECK(!s.authenticate_connection_ids(Role::server, server_scid, &odcid).ok());  // no ODCID
  s.original_destination_connection_id = odcid;
  CHECK(s.authenticate_connection_ids(Role::server, server_scid, &odcid).ok());
  CHECK(!s.authenticate_connection_ids(Role::server, server_scid, &retry).ok());
  CHECK(!s.authenticate_connection_ids(Role::server, server_scid, &odcid, &retry).ok());
  s.retry_source_connection_id = retry;
  CHECK(s.authenticate_connection_ids(Role::server, server_scid, &odcid, &retry).ok());
  CHECK(!s.authenticate_connection_ids(Role::server, server_scid, &odcid, &odcid).ok());
  auto e =
      s.authenticate_connection_ids(Role::server, server_scid, &odcid);  // Retry SCID w/o Retry
  REQUIRE(!e.ok());
  CHECK(e.error().is(TransportError::transport_parameter_error));
}

TEST_CASE("stateless reset token: HMAC-SHA256 truncated to 16 bytes", "[tp]") {
  // RFC 4231 test case 1 (key 0x0b x 20, data "Hi There"), first 16 bytes.
  Buf key(20, 0x0b);
  ConnectionId hi(as_bytes("Hi There"));
  StatelessResetToken t = stateless_reset_token(key, hi);
  CHECK(to_hex(t) == "b0344c61d8db38535ca8afceaf0bf12b");
  CHECK(stateless_reset_token(key, hi) == t);
  CHECK(stateless_reset_token(key, cid("4869205468657265")) == t);  // same bytes, same token
  CHECK(stateless_reset_token(key, cid("4869205468657266")) != t);
  Buf key2 = key;
  key2[0] ^= 1;
  CHECK(stateless_reset_token(key2, hi) != t);
}

// ---------------------------------------------------------------------------
// ClientHello

namespace {

// RFC 9001 Appendix A.2: the ClientHello carried in the client's first Initial.
Buf rfc9001_client_hello() {
  return hex(
      "010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e86804fe3a47f06a2b69484c"
      "00000413011302010000c000000010000e00000b6578616d706c652e636f6dff01000100000a"
      "00080006001d0017001800100007000504616c706e000500050100000000003300260024001d"
      "00209370b2c9caa47fbabaf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b0003"
      "020304000d0010000e0403050306030203080408050806002d00020101001c00024001003900"
      "320408ffffffffffffffff05048000ffff07048000ffff0801100104800075300901100f0883"
      "94c8f03e51570806048000ffff");
}

struct Ext {
  uint16_t type;
  Buf data;
};

// A ClientHello with the given extensions and otherwise sane fields.
Buf build_client_hello(const std::vector<Ext>& exts, size_t sid_len = 0, Buf suites = hex("1301"),
                       Buf compression = hex("00")) {
  Buf body(4096);
  Writer w{MutBytes{body}};
  w.u16(0x0303);
  w.zeros(32);
  w.u8(static_cast<uint8_t>(sid_len));
  w.zeros(sid_len);
  w.u16(static_cast<uint16_t>(suites.size()));
  w.bytes(suites);
  w.u8(static_cast<uint8_t>(compression.size()));
  w.bytes(compression);
  size_t ext_len = 0;
  for (const Ext& e : exts) ext_len += 4 + e.data.size();
  w.u16(static_cast<uint16_t>(ext_len));
  for (const Ext& e : exts) {
    w.u16(e.type);
    w.u16(static_cast<uint16_t>(e.data.size()));
    w.bytes(e.data);
  }
  REQUIRE(w.ok());
  Buf msg(4 + w.written());
  Writer h{MutBytes{msg}};
  h.u8(1);
  h.u24(static_cast<uint32_t>(w.written()));
  h.bytes(Bytes{body.data(), w.written()});
  return msg;
}

const Ext kVersions{tls_ext::supported_versions, hex("020304")};

bool is_decode_error(const Result<ClientHello>& r) {
  return !r.ok() && !r.error().application && r.error().code == 0x100 + 50;
}

}  // namespace

TEST_CASE("client hello: RFC 9001 A.2 ClientHello", "[client_hello]") {
  Buf msg = rfc9001_client_hello();
  CHECK(tls_handshake_message_size(msg) == msg.size());
  auto r = parse_client_hello(msg);
  REQUIRE(r.ok());
  const ClientHello& ch = *r;
  CHECK(ch.legacy_version == 0x0303);
  CHECK(to_hex(ch.random) == "ebf8fa56f12939b9584a3896472ec40bb863cfd3e86804fe3a47f06a2b69484c");
  CHECK(ch.legacy_session_id.empty());
  CHECK(ch.cipher_suites.size() == 2);
  CHECK(ch.cipher_suites.contains(0x1301));
  CHECK(ch.cipher_suites.contains(0x1302));
  CHECK(!ch.cipher_suites.contains(0x1303));
  CHECK(to_hex(ch.legacy_compression_methods) == "00");
  REQUIRE(ch.server_name);
  CHECK(*ch.server_name == "example.com");
  REQUIRE(ch.alpn);
  CHECK(ch.alpn->size() == 1);
  CHECK(*ch.alpn->begin() == "alpn");
  CHECK(ch.alpn->contains("alpn"));
  CHECK(!ch.alpn->contains("h3"));
  REQUIRE(ch.supported_groups);
  CHECK(std::vector<uint16_t>(ch.supported_groups->begin(), ch.supported_groups->end()) ==
        std::vector<uint16_t>{0x001d, 0x0017, 0x0018});
  REQUIRE(ch.key_shares);
  REQUIRE(ch.key_shares->size() == 1);
  KeyShareEntry ks = *ch.key_shares->begin();
  CHECK(ks.group == 0x001d);
  CHECK(to_hex(ks.key_exchange) ==
        "9370b2c9caa47fbabaf4559fedba753de171fa71f50f1ce15d43e994ec74d748");
  REQUIRE(ch.supported_versions);
  CHECK(ch.supported_versions->size() == 1);
  CHECK(ch.supported_versions->contains(kTls13Version));
  REQUIRE(ch.signature_algorithms);
  CHECK(ch.signature_algorithms->size() == 7);
  CHECK(ch.signature_algorithms->contains(0x0403));
  REQUIRE(ch.quic_transport_parameters);
  CHECK(ch.quic_transport_parameters->size() == 0x32);

  std::vector<uint16_t> types;
  for (const TlsExtension& e : ch.extensions) types.push_back(e.type);
  CHECK(types == std::vector<uint16_t>{0, 0xff01, 10, 16, 5, 51, 43, 13, 45, 28, 57});
  REQUIRE(ch.extension(28));
  CHECK(to_hex(*ch.extension(28)) == "4001");
  CHECK(!ch.extension(42));

  auto tp = TransportParameters::decode(*ch.quic_transport_parameters, Role::client);
  REQUIRE(tp.ok());
  CHECK(tp->initial_max_streams_bidi == 16);
  CHECK(tp->initial_source_connection_id == cid("8394c8f03e515708"));
}

TEST_CASE("client hello: names for the dissector", "[client_hello]") {
  CHECK(std::string(tls_extension_name(57)) == "quic_transport_parameters");
  CHECK(std::string(tls_extension_name(0x3a3a)) == "GREASE");
  CHECK(tls_extension_name(0x1234) == nullptr);
  CHECK(std::string(tls_group_name(0x11ec)) == "X25519MLKEM768");
  CHECK(std::string(tls_cipher_suite_name(0x1303)) == "TLS_CHACHA20_POLY1305_SHA256");
  CHECK(std::string(tls_signature_scheme_name(0x0807)) == "ed25519");
  CHECK(is_tls_grease(0xfafa));
  CHECK(!is_tls_grease(0x0a1a));
  CHECK(!is_tls_grease(0x1a0a));
}

TEST_CASE("client hello: handshake framing", "[client_hello]") {
  Buf msg = rfc9001_client_hello();
  CHECK(tls_handshake_message_size(Bytes{msg.data(), 3}) == 0);
  CHECK(tls_handshake_message_size(Bytes{msg.data(), 4}) == msg.size());

  Buf wrong_type = msg;
  wrong_type[0] = 2;  // ServerHello
  CHECK(is_decode_error(parse_client_hello(wrong_type)));
  Buf trailing = msg;
  trailing.push_back(0);
  CHECK(is_decode_error(parse_client_hello(trailing)));
  Buf long_len = msg;
  long_len[3] += 1;
  CHECK(is_decode_error(parse_client_hello(long_len)));
  // Body longer than the extension list says: trailing bytes inside the body.
  Buf inner = build_client_hello({kVersions});
  inner.push_back(0);
  inner[3] += 1;
  CHECK(is_decode_error(parse_client_hello(inner)));

  // Every truncation is an error (the length never matches), never a crash.
  for (size_t n = 0; n < msg.size(); ++n)
    CHECK(is_decode_error(parse_client_hello(Bytes{msg.data(), n})));
  // Truncating the body while fixing up the header length: still an error.
  for (size_t n = 4; n < msg.size(); ++n) {
    Buf t(msg.begin(), msg.begin() + static_cast<std::ptrdiff_t>(n));
    t[1] = static_cast<uint8_t>((n - 4) >> 16);
    t[2] = static_cast<uint8_t>((n - 4) >> 8);
    t[3] = static_cast<uint8_t>(n - 4);
    CHECK(!parse_client_hello(t).ok());
  }
}

TEST_CASE("client hello: built messages parse", "[client_hello]") {
  // The parsed ClientHello holds views: keep the message alive.
  const auto msg = build_client_hello(
      {{tls_ext::server_name, hex("000c 01 0003 616263 00 0003 787978")},  // other type skipped
       {tls_ext::alpn, hex("0006 02 6833 02 6832")},
       {0x0a0a, {}},
       {tls_ext::key_share, hex("0000")},  // empty client_shares (allowed)
       kVersions},
      32, hex("1301 1302 1303 0a0a"));
  auto r = parse_client_hello(msg);
  REQUIRE(r.ok());
  CHECK(r->legacy_session_id.size() == 32);
  CHECK(r->cipher_suites.size() == 4);
  CHECK(*r->server_name == "xyx");
  std::vector<std::string_view> alpn(r->alpn->begin(), r->alpn->end());
  CHECK(alpn == std::vector<std::string_view>{"h3", "h2"});
  CHECK(r->key_shares->empty());
  CHECK(r->key_shares->size() == 0);
  CHECK(!r->quic_transport_parameters);
  CHECK(!r->signature_algorithms);
  // pre_shared_key as the last extension is fine.
  CHECK(parse_client_hello(build_client_hello({kVersions, {tls_ext::pre_shared_key, hex("00")}}))
            .ok());
}

TEST_CASE("client hello: malformed messages are decode errors", "[client_hello]") {
  struct Case {
    const char* what;
    Buf msg;
  };
  const Case cases[] = {
      {"session id 33 bytes", build_client_hello({kVersions}, 33)},
      {"no cipher suites", build_client_hello({kVersions}, 0, {})},
      {"odd cipher suites", build_client_hello({kVersions}, 0, hex("130113"))},
      {"no compression methods", build_client_hello({kVersions}, 0, hex("1301"), {})},
      {"extension list too short", build_client_hello({{0x7777, {}}})},
      {"duplicate extension", build_client_hello({kVersions, {0x7777, {}}, {0x7777, {}}})},
      {"pre_shared_key not last",
       build_client_hello({{tls_ext::pre_shared_key, hex("00")}, kVersions})},
      {"supported_versions odd",
       build_client_hello({{tls_ext::supported_versions, hex("03030403")}})},
      {"supported_versions empty",
       build_client_hello({{tls_ext::supported_versions, hex("00")}, kVersions})},
      {"supported_versions overrun",
       build_client_hello({{tls_ext::supported_versions, hex("040304")}})},
      {"supported_groups odd",
       build_client_hello({kVersions, {tls_ext::supported_groups, hex("0001 1d")}})},
      {"supported_groups empty",
       build_client_hello({kVersions, {tls_ext::supported_groups, hex("0000")}})},
      {"signature_algorithms trailing",
       build_client_hello({kVersions, {tls_ext::signature_algorithms, hex("0002 0403 00")}})},
      {"alpn empty list", build_client_hello({kVersions, {tls_ext::alpn, hex("0000")}})},
      {"alpn empty name", build_client_hello({kVersions, {tls_ext::alpn, hex("0004 02 6833 00")}})},
      {"alpn name overrun", build_client_hello({kVersions, {tls_ext::alpn, hex("0003 03 6833")}})},
      {"alpn list overrun", build_client_hello({kVersions, {tls_ext::alpn, hex("0004 02 6833")}})},
      {"sni two host names",
       build_client_hello({kVersions, {tls_ext::server_name, hex("0008 00 0001 61 00 0001 62")}})},
      {"sni empty host",
       build_client_hello({kVersions, {tls_ext::server_name, hex("0003 00 0000")}})},
      {"sni empty list", build_client_hello({kVersions, {tls_ext::server_name, hex("0000")}})},
      {"sni truncated",
       build_client_hello({kVersions, {tls_ext::server_name, hex("0004 00 0002 61")}})},
      {"key_share empty key",
       build_client_hello({kVersions, {tls_ext::key_share, hex("0004 001d 0000")}})},
      {"key_share overrun",
       build_client_hello({kVersions, {tls_ext::key_share, hex("0006 001d 0003 0102")}})},
      {"key_share trailing",
       build_client_hello({kVersions, {tls_ext::key_share, hex("0005 001d 0001 01 00")}})},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    CHECK(is_decode_error(parse_client_hello(c.msg)));
  }
  // An extension header whose length runs past the list.
  Buf m = build_client_hello({kVersions, {0x7777, hex("0102")}});
  m[m.size() - 3] = 3;  // 0x7777's length 2 -> 3
  CHECK(is_decode_error(parse_client_hello(m)));
}

TEST_CASE("client hello: random corruption never crashes", "[client_hello]") {
  const Buf base = rfc9001_client_hello();
  SeededRandom rng(1234);
  int parsed = 0;
  for (int i = 0; i < 5000; ++i) {
    Buf m = base;
    int flips = 1 + static_cast<int>(rng.uniform(4));
    for (int k = 0; k < flips; ++k) m[rng.uniform(m.size())] = static_cast<uint8_t>(rng.u64());
    auto r = parse_client_hello(m);
    if (!r.ok()) continue;
    ++parsed;
    // Everything reported must be inside the input.
    for (const TlsExtension& e : r->extensions) {
      CHECK(e.data.data() >= m.data());
      CHECK(e.data.data() + e.data.size() <= m.data() + m.size());
    }
    if (r->quic_transport_parameters)
      (void)TransportParameters::decode(*r->quic_transport_parameters, Role::client);
  }
  CHECK(parsed > 0);
}
