// Packet headers, coalescing, key schedule and packet protection.
#include <catch2/catch.hpp>
#include <openssl/chacha.h>
#include <openssl/cipher.h>

#include <cstring>
#include <vector>

#include "lib/bytes.h"
#include "lib/hex.h"
#include "lib/random.h"
#include "quic/key_schedule.h"
#include "quic/packet_header.h"
#include "quic/packet_number.h"
#include "quic/packet_protection.h"
#include "quic/retry.h"
#include "quic/version.h"

using namespace wt;
using namespace wt::quic;

namespace {

const std::vector<uint8_t> kDcid = hex("0102030405060708");
const std::vector<uint8_t> kScid = hex("a1a2a3a4");
const std::vector<uint8_t> kToken = hex("746f6b656e");

// Writes a long header packet: header, `payload_size` plaintext bytes (all
// 0x01 = PING), tag space, Length patched. Returns the packet bytes.
std::vector<uint8_t> make_long(PacketType type, uint32_t version, uint64_t pn, size_t pn_len,
                               size_t payload_size, Bytes token = {}, size_t length_size = 2) {
  std::vector<uint8_t> buf(200 + payload_size);
  LongHeaderSpec s;
  s.type = type;
  s.version = version;
  s.dcid = kDcid;
  s.scid = kScid;
  s.token = token;
  s.pn = pn;
  s.pn_len = pn_len;
  s.length_size = length_size;
  auto l = encode_long_header(buf, s);
  REQUIRE(l.ok());
  const size_t size = l->header_size + payload_size + kAeadTagSize;
  std::fill(buf.begin() + static_cast<long>(l->header_size),
            buf.begin() + static_cast<long>(l->header_size + payload_size), 0x01);
  REQUIRE(set_long_header_length(buf, *l, size).ok());
  buf.resize(size);
  return buf;
}

std::vector<uint8_t> make_short(uint64_t pn, size_t pn_len, size_t payload_size,
                                bool key_phase = false, bool spin = false) {
  std::vector<uint8_t> buf(100 + payload_size);
  ShortHeaderSpec s;
  s.dcid = kDcid;
  s.pn = pn;
  s.pn_len = pn_len;
  s.key_phase = key_phase;
  s.spin = spin;
  auto l = encode_short_header(buf, s);
  REQUIRE(l.ok());
  const size_t size = l->header_size + payload_size + kAeadTagSize;
  std::fill(buf.begin() + static_cast<long>(l->header_size),
            buf.begin() + static_cast<long>(l->header_size + payload_size), 0x01);
  buf.resize(size);
  return buf;
}

HeaderParseOptions short_opts() {
  HeaderParseOptions o;
  o.short_dcid_len = kDcid.size();
  return o;
}

PacketCipher cipher_for(CipherSuite suite, uint8_t seed) {
  std::vector<uint8_t> secret(hash_length(cipher_suite_hash(suite)), seed);
  auto c = make_packet_cipher(suite, secret, kQuicV1);
  REQUIRE(c.ok());
  return std::move(c).value();
}

}  // namespace

TEST_CASE("versions", "[packet]") {
  CHECK(is_supported_version(kQuicV1));
  CHECK(is_supported_version(kQuicV2));
  CHECK_FALSE(is_supported_version(0xff00001d));
  CHECK(is_reserved_version(0x0a0a0a0a));
  CHECK(is_reserved_version(0x1a2a3a4a));
  CHECK(is_reserved_version(make_reserved_version(0x12345678)));
  CHECK_FALSE(is_reserved_version(kQuicV1));
  CHECK_FALSE(is_reserved_version(kQuicV2));
  CHECK_FALSE(is_reserved_version(0x0a0a0a0b));
}

TEST_CASE("long header round trip for every type and version", "[packet]") {
  for (uint32_t version : {kQuicV1, kQuicV2}) {
    for (PacketType type : {PacketType::initial, PacketType::zero_rtt, PacketType::handshake}) {
      for (size_t pn_len : {1, 2, 3, 4}) {
        for (size_t length_size : {2, 4}) {
          const Bytes token = type == PacketType::initial ? Bytes{kToken} : Bytes{};
          auto pkt = make_long(type, version, 0x12345678, pn_len, 30, token, length_size);
          auto h = parse_packet_header(pkt, {});
          REQUIRE(h.ok());
          CHECK(h->type == type);
          CHECK(h->is_long());
          CHECK(h->version == version);
          CHECK(to_hex(h->dcid) == to_hex(kDcid));
          CHECK(to_hex(h->scid) == to_hex(kScid));
          CHECK(to_hex(h->token) == to_hex(token));
          CHECK(h->packet_size == pkt.size());
          CHECK(h->length == pkt.size() - h->pn_offset);
          // First byte: long, fixed, type bits, pn length.
          CHECK(((pkt[0] >> 4) & 3) == long_type_bits(version, type));
          CHECK((pkt[0] & 3) == pn_len - 1);
          // The truncated packet number sits at pn_offset.
          uint64_t tpn = 0;
          for (size_t i = 0; i < pn_len; ++i) tpn = tpn << 8 | pkt[h->pn_offset + i];
          CHECK(tpn == (0x12345678 & ((uint64_t{1} << (8 * pn_len)) - 1)));
        }
      }
    }
  }
}

TEST_CASE("long header encoder rejects bad input", "[packet]") {
  std::vector<uint8_t> buf(100);
  LongHeaderSpec s;
  s.version = kQuicV1;
  s.type = PacketType::retry;
  CHECK_FALSE(encode_long_header(buf, s).ok());
  s.type = PacketType::initial;
  s.version = 0x0a0a0a0a;
  CHECK_FALSE(encode_long_header(buf, s).ok());
  s.version = kQuicV1;
  s.pn_len = 5;
  CHECK_FALSE(encode_long_header(buf, s).ok());
  s.pn_len = 2;
  const std::vector<uint8_t> long_cid(21, 7);
  s.dcid = long_cid;
  CHECK_FALSE(encode_long_header(buf, s).ok());
  s.dcid = {};
  s.type = PacketType::handshake;
  s.token = kToken;
  CHECK_FALSE(encode_long_header(buf, s).ok());
  s.token = {};
  std::vector<uint8_t> tiny(5);
  CHECK_FALSE(encode_long_header(tiny, s).ok());
  // Length must fit its field: 2 bytes hold < 16384.
  auto l = encode_long_header(buf, s);
  REQUIRE(l.ok());
  std::vector<uint8_t> big(20000);
  CHECK_FALSE(set_long_header_length(big, *l, 16384 + l->pn_offset).ok());
  CHECK(set_long_header_length(big, *l, 16383 + l->pn_offset).ok());
}

TEST_CASE("short header round trip", "[packet]") {
  for (bool spin : {false, true}) {
    for (bool kp : {false, true}) {
      auto pkt = make_short(77, 2, 10, kp, spin);
      auto h = parse_packet_header(pkt, short_opts());
      REQUIRE(h.ok());
      CHECK(h->type == PacketType::one_rtt);
      CHECK_FALSE(h->is_long());
      CHECK(h->spin == spin);
      CHECK(to_hex(h->dcid) == to_hex(kDcid));
      CHECK(h->pn_offset == 1 + kDcid.size());
      CHECK(h->packet_size == pkt.size());
      CHECK(((pkt[0] & kKeyPhaseBit) != 0) == kp);
    }
  }
}

TEST_CASE("Retry round trip for both versions", "[packet]") {
  const auto odcid = hex("0011223344556677");
  for (uint32_t version : {kQuicV1, kQuicV2}) {
    std::vector<uint8_t> buf(200);
    auto n = encode_retry_packet(buf, version, kScid, kDcid, kToken, odcid, 0x5);
    REQUIRE(n.ok());
    buf.resize(*n);
    auto h = parse_packet_header(buf, {});
    REQUIRE(h.ok());
    CHECK(h->type == PacketType::retry);
    CHECK(h->version == version);
    CHECK_FALSE(h->has_packet_number());
    CHECK(to_hex(h->dcid) == to_hex(kScid));
    CHECK(to_hex(h->scid) == to_hex(kDcid));
    CHECK(to_hex(h->token) == to_hex(kToken));
    CHECK(h->retry_tag.size() == 16);
    CHECK(h->packet_size == buf.size());
    CHECK((buf[0] & 0x0f) == 0x5);
    CHECK(verify_retry_integrity_tag(version, odcid, buf));
    CHECK_FALSE(verify_retry_integrity_tag(version, kDcid, buf));
  }
  std::vector<uint8_t> buf(200);
  CHECK_FALSE(encode_retry_packet(buf, kQuicV1, kScid, kDcid, {}, kDcid).ok());
  std::vector<uint8_t> tiny(20);
  CHECK_FALSE(encode_retry_packet(tiny, kQuicV1, kScid, kDcid, kToken, kDcid).ok());
}

TEST_CASE("Retry without a token or tag is rejected", "[packet]") {
  // Header only plus a 16-byte tag: empty token.
  auto pkt = hex("f0000000010008f067a5502a4262b5 00112233445566778899aabbccddeeff");
  CHECK_FALSE(parse_packet_header(pkt, {}).ok());
  pkt.resize(pkt.size() - 1);  // not even the tag
  CHECK_FALSE(parse_packet_header(pkt, {}).ok());
}

TEST_CASE("Version Negotiation packets", "[packet]") {
  const uint32_t versions[] = {kQuicV2, kQuicV1, 0x1a2a3a4a};
  std::vector<uint8_t> buf(100);
  auto n = encode_version_negotiation(buf, kScid, kDcid, versions, 0x15);
  REQUIRE(n.ok());
  buf.resize(*n);
  CHECK(buf[0] == (0x80 | 0x40 | 0x15));
  auto h = parse_packet_header(buf, {});
  REQUIRE(h.ok());
  CHECK(h->type == PacketType::version_negotiation);
  CHECK(h->version == 0);
  CHECK_FALSE(h->has_packet_number());
  CHECK(to_hex(h->dcid) == to_hex(kScid));
  CHECK(to_hex(h->scid) == to_hex(kDcid));
  REQUIRE(h->version_count() == 3);
  CHECK(h->version_at(0) == kQuicV2);
  CHECK(h->version_at(1) == kQuicV1);
  CHECK(h->version_at(2) == 0x1a2a3a4a);
  CHECK(h->packet_size == buf.size());
  // The fixed bit is not checked on VN: clients must ignore the unused bits.
  buf[0] = 0x80;
  CHECK(parse_packet_header(buf, {}).ok());
  // A version list that is not a multiple of 4 is malformed.
  buf.push_back(0);
  CHECK_FALSE(parse_packet_header(buf, {}).ok());
}

TEST_CASE("every truncation is rejected cleanly", "[packet]") {
  std::vector<std::vector<uint8_t>> packets;
  for (uint32_t v : {kQuicV1, kQuicV2}) {
    packets.push_back(make_long(PacketType::initial, v, 1, 4, 20, kToken));
    packets.push_back(make_long(PacketType::zero_rtt, v, 1, 2, 20));
    packets.push_back(make_long(PacketType::handshake, v, 1, 1, 20));
  }
  for (const auto& pkt : packets) {
    REQUIRE(parse_packet_header(pkt, {}).ok());
    for (size_t n = 0; n < pkt.size(); ++n) {
      // Exactly n bytes on the heap: ASan catches any over-read.
      std::vector<uint8_t> cut(pkt.begin(), pkt.begin() + static_cast<long>(n));
      CHECK_FALSE(parse_packet_header(cut, {}).ok());
      CHECK(parse_invariant_header(cut, 0).ok() == (n >= 7 + kDcid.size() + kScid.size()));
    }
  }
  // Short header: shorter than 1 + DCID fails; longer parses (takes the rest).
  auto pkt = make_short(1, 1, 5);
  for (size_t n = 0; n <= kDcid.size(); ++n) {
    std::vector<uint8_t> cut(pkt.begin(), pkt.begin() + static_cast<long>(n));
    CHECK_FALSE(parse_packet_header(cut, short_opts()).ok());
  }
  // Version Negotiation cut inside the CIDs.
  const uint32_t versions[] = {kQuicV1};
  std::vector<uint8_t> vn(64);
  auto n = encode_version_negotiation(vn, kScid, kDcid, versions, 0);
  REQUIRE(n.ok());
  for (size_t k = 0; k < 7 + kScid.size() + kDcid.size(); ++k) {
    std::vector<uint8_t> cut(vn.begin(), vn.begin() + static_cast<long>(k));
    CHECK_FALSE(parse_packet_header(cut, {}).ok());
  }
}

TEST_CASE("connection IDs longer than 20 bytes are rejected", "[packet]") {
  // Initial, v1, DCID length 21.
  std::vector<uint8_t> pkt = {0xc0, 0, 0, 0, 1, 21};
  pkt.insert(pkt.end(), 21, 0xaa);
  pkt.push_back(0);                  // SCID length
  pkt.push_back(0);                  // token length
  pkt.push_back(20);                 // Length
  pkt.insert(pkt.end(), 20, 0x00);   // pn + payload
  auto r = parse_packet_header(pkt, {});
  CHECK_FALSE(r.ok());
  // 20 is fine.
  std::vector<uint8_t> ok20 = {0xc0, 0, 0, 0, 1, 20};
  ok20.insert(ok20.end(), 20, 0xaa);
  ok20.insert(ok20.end(), {0, 0, 20});
  ok20.insert(ok20.end(), 20, 0x00);
  CHECK(parse_packet_header(ok20, {}).ok());
  // SCID length 21.
  std::vector<uint8_t> s21 = {0xc0, 0, 0, 0, 1, 0, 21};
  s21.insert(s21.end(), 21, 0xaa);
  s21.insert(s21.end(), {0, 20});
  s21.insert(s21.end(), 20, 0x00);
  CHECK_FALSE(parse_packet_header(s21, {}).ok());
  // The invariants allow up to 255 (RFC 8999) so VN can still be sent.
  auto inv = parse_invariant_header(pkt, 0);
  REQUIRE(inv.ok());
  CHECK(inv->dcid.size() == 21);
  // Short header with a configured length of 21.
  HeaderParseOptions o;
  o.short_dcid_len = 21;
  std::vector<uint8_t> sh(60, 0x40);
  CHECK_FALSE(parse_packet_header(sh, o).ok());
}

TEST_CASE("fixed bit, unsupported versions, Length overrun", "[packet]") {
  auto pkt = make_long(PacketType::handshake, kQuicV1, 9, 2, 20);
  pkt[0] &= ~kFixedBit;
  CHECK_FALSE(parse_packet_header(pkt, {}).ok());
  HeaderParseOptions grease;
  grease.grease_quic_bit = true;
  CHECK(parse_packet_header(pkt, grease).ok());

  auto sh = make_short(1, 1, 5);
  sh[0] &= ~kFixedBit;
  CHECK_FALSE(parse_packet_header(sh, short_opts()).ok());
  grease.short_dcid_len = kDcid.size();
  CHECK(parse_packet_header(sh, grease).ok());

  // Unknown version: parse fails, invariants give what VN needs.
  auto unk = make_long(PacketType::initial, kQuicV1, 0, 1, 20);
  unk[1] = 0x1a;
  unk[2] = 0x2a;
  unk[3] = 0x3a;
  unk[4] = 0x4a;
  CHECK_FALSE(parse_packet_header(unk, {}).ok());
  auto inv = parse_invariant_header(unk, 0);
  REQUIRE(inv.ok());
  CHECK(inv->long_header);
  CHECK(inv->version == 0x1a2a3a4a);
  CHECK(to_hex(inv->dcid) == to_hex(kDcid));
  CHECK(to_hex(inv->scid) == to_hex(kScid));
  auto inv_short = parse_invariant_header(sh, kDcid.size());
  REQUIRE(inv_short.ok());
  CHECK_FALSE(inv_short->long_header);
  CHECK(to_hex(inv_short->dcid) == to_hex(kDcid));

  // Length one byte beyond the datagram.
  auto lp = make_long(PacketType::handshake, kQuicV2, 9, 2, 20);
  auto h = parse_packet_header(lp, {});
  REQUIRE(h.ok());
  varint_encode_len(lp.data() + h->pn_offset - 2, h->length + 1, 2);
  CHECK_FALSE(parse_packet_header(lp, {}).ok());
  // An oversize token length.
  auto ti = make_long(PacketType::initial, kQuicV1, 9, 2, 20, kToken);
  ti[7 + kDcid.size() + kScid.size()] = 0x3f;
  CHECK_FALSE(parse_packet_header(ti, {}).ok());
  CHECK_FALSE(parse_packet_header(Bytes{}, {}).ok());
}

TEST_CASE("coalesced packets are walked in order", "[packet]") {
  auto ini = make_long(PacketType::initial, kQuicV1, 0, 1, 40, kToken);
  auto zrtt = make_long(PacketType::zero_rtt, kQuicV1, 1, 2, 30);
  auto hs = make_long(PacketType::handshake, kQuicV1, 2, 3, 25);
  auto one = make_short(3, 4, 50);
  std::vector<uint8_t> dgram;
  for (auto* p : {&ini, &zrtt, &hs, &one}) dgram.insert(dgram.end(), p->begin(), p->end());

  DatagramSplitter split(dgram, short_opts());
  std::vector<PacketType> types;
  std::vector<size_t> sizes, offsets;
  while (!split.done()) {
    auto h = split.next();
    REQUIRE(h.ok());
    types.push_back(h->type);
    sizes.push_back(split.packet().size());
    offsets.push_back(split.packet_offset());
    CHECK(split.packet().data() == dgram.data() + split.packet_offset());
  }
  CHECK(types == std::vector<PacketType>{PacketType::initial, PacketType::zero_rtt,
                                         PacketType::handshake, PacketType::one_rtt});
  CHECK(sizes == std::vector<size_t>{ini.size(), zrtt.size(), hs.size(), one.size()});
  CHECK(offsets[3] == ini.size() + zrtt.size() + hs.size());
  CHECK_FALSE(split.next().ok());

  SECTION("trailing zero bytes end the walk with an error") {
    std::vector<uint8_t> d2 = ini;
    d2.insert(d2.end(), 30, 0);
    DatagramSplitter s2(d2, short_opts());
    CHECK(s2.next().ok());
    CHECK_FALSE(s2.done());
    CHECK_FALSE(s2.next().ok());
    CHECK(s2.done());
  }
  SECTION("a packet for another connection is skipped") {
    auto other = make_long(PacketType::handshake, kQuicV1, 2, 3, 25);
    other[6] ^= 0xff;  // first DCID byte
    std::vector<uint8_t> d3 = ini;
    d3.insert(d3.end(), other.begin(), other.end());
    d3.insert(d3.end(), hs.begin(), hs.end());
    DatagramSplitter s3(d3, short_opts());
    CHECK(s3.next().ok());
    CHECK_FALSE(s3.next().ok());
    CHECK(s3.packet().size() == other.size());
    CHECK_FALSE(s3.done());
    auto h = s3.next();
    REQUIRE(h.ok());
    CHECK(h->type == PacketType::handshake);
    CHECK(s3.done());
  }
  SECTION("a malformed packet abandons the rest") {
    std::vector<uint8_t> d4 = ini;
    d4.insert(d4.end(), {0xe0, 0, 0, 0, 1, 30});  // Handshake with DCID len 30
    d4.insert(d4.end(), hs.begin(), hs.end());
    DatagramSplitter s4(d4, short_opts());
    CHECK(s4.next().ok());
    CHECK_FALSE(s4.next().ok());
    CHECK(s4.done());
  }
}

TEST_CASE("protect/unprotect round trip with every cipher", "[packet]") {
  for (CipherSuite suite : {CipherSuite::aes_128_gcm, CipherSuite::aes_256_gcm,
                            CipherSuite::chacha20_poly1305, CipherSuite::null}) {
    INFO(cipher_suite_name(suite));
    PacketCipher c = cipher_for(suite, 0x42);
    REQUIRE(c.valid());
    CHECK(c.suite() == suite);
    for (size_t pn_len : {1, 2, 3, 4}) {
      for (bool is_long : {true, false}) {
        const uint64_t pn = 0x1000 + pn_len;
        const size_t payload = 3 + min_payload_size(pn_len);
        auto pkt = is_long ? make_long(PacketType::handshake, kQuicV1, pn, pn_len, payload)
                           : make_short(pn, pn_len, payload, pn_len % 2 == 1);
        const auto plain = pkt;
        auto h = parse_packet_header(pkt, short_opts());
        REQUIRE(h.ok());
        REQUIRE(protect_packet(pkt, h->pn_offset, pn, c).ok());
        if (suite != CipherSuite::null) CHECK(pkt != plain);
        auto h2 = parse_packet_header(pkt, short_opts());
        REQUIRE(h2.ok());
        auto u = unprotect_packet(pkt, h2->pn_offset, pn - 1, c);
        REQUIRE(u.ok());
        CHECK(u->pn == pn);
        CHECK(u->pn_len == pn_len);
        CHECK(u->key_phase == (!is_long && pn_len % 2 == 1));
        CHECK(u->payload.size() == payload);
        CHECK(u->header_size == h->pn_offset + pn_len);
        CHECK(std::vector<uint8_t>(pkt.begin(), pkt.end() - 16) ==
              std::vector<uint8_t>(plain.begin(), plain.end() - 16));
      }
    }
  }
}

TEST_CASE("tampering is detected", "[packet]") {
  for (CipherSuite suite : {CipherSuite::aes_128_gcm, CipherSuite::aes_256_gcm,
                            CipherSuite::chacha20_poly1305}) {
    INFO(cipher_suite_name(suite));
    PacketCipher c = cipher_for(suite, 7);
    auto pkt = make_short(500, 2, 40);
    REQUIRE(protect_packet(pkt, 1 + kDcid.size(), 500, c).ok());
    // Flip each byte in turn: header (AAD, pn via HP), ciphertext, tag.
    for (size_t i = 0; i < pkt.size(); ++i) {
      if (i >= 1 && i < 1 + kDcid.size()) continue;  // DCID is AAD too; covered below
      auto bad = pkt;
      bad[i] ^= 0x10;
      auto u = unprotect_packet(bad, 1 + kDcid.size(), 499, c);
      CHECK_FALSE(u.ok());
    }
    auto bad = pkt;
    bad[2] ^= 1;  // DCID byte
    auto u = unprotect_packet(bad, 1 + kDcid.size(), 499, c);
    REQUIRE_FALSE(u.ok());
    CHECK(is_decryption_failure(u.error()));
    CHECK_FALSE(is_connection_error(u.error()));
    // Other keys fail.
    auto other = pkt;
    CHECK_FALSE(unprotect_packet(other, 1 + kDcid.size(), 499, cipher_for(suite, 8)).ok());
    // The untouched packet opens.
    CHECK(unprotect_packet(pkt, 1 + kDcid.size(), 499, c).ok());
  }
  // The null cipher still checks its zero tag.
  PacketCipher n = PacketCipher::null_cipher();
  auto pkt = make_short(5, 1, 10);
  REQUIRE(protect_packet(pkt, 1 + kDcid.size(), 5, n).ok());
  pkt.back() = 1;
  CHECK_FALSE(unprotect_packet(pkt, 1 + kDcid.size(), 4, n).ok());
}

TEST_CASE("reserved bits are a connection error only after authentication", "[packet]") {
  PacketCipher c = cipher_for(CipherSuite::aes_128_gcm, 3);
  for (bool is_long : {true, false}) {
    auto pkt = is_long ? make_long(PacketType::handshake, kQuicV1, 10, 2, 20)
                       : make_short(10, 2, 20);
    pkt[0] |= is_long ? 0x04 : 0x08;  // one reserved bit
    auto h = parse_packet_header(pkt, short_opts());
    REQUIRE(h.ok());
    REQUIRE(protect_packet(pkt, h->pn_offset, 10, c).ok());
    auto tampered = pkt;
    tampered.back() ^= 1;
    auto t = unprotect_packet(tampered, h->pn_offset, 9, c);
    REQUIRE_FALSE(t.ok());
    CHECK(is_decryption_failure(t.error()));  // dropped, not a connection error
    auto u = unprotect_packet(pkt, h->pn_offset, 9, c);
    REQUIRE_FALSE(u.ok());
    CHECK(is_connection_error(u.error()));
    CHECK(u.error().is(TransportError::protocol_violation));
  }
}

TEST_CASE("header protection sample needs enough payload", "[packet]") {
  PacketCipher c = cipher_for(CipherSuite::aes_128_gcm, 1);
  for (size_t pn_len : {1, 2, 3, 4}) {
    CHECK(min_payload_size(pn_len) == 4 - pn_len);
    CHECK(sample_padding_needed(pn_len, 0) == 4 - pn_len);
    CHECK(sample_padding_needed(pn_len, 10) == 0);
    auto ok = make_short(1, pn_len, min_payload_size(pn_len));
    CHECK(protect_packet(ok, 1 + kDcid.size(), 1, c).ok());
    CHECK(unprotect_packet(ok, 1 + kDcid.size(), 0, c).ok());
    if (pn_len < 4) {
      auto shortp = make_short(1, pn_len, min_payload_size(pn_len) - 1);
      CHECK_FALSE(protect_packet(shortp, 1 + kDcid.size(), 1, c).ok());
      auto u = unprotect_packet(shortp, 1 + kDcid.size(), 0, c);
      REQUIRE_FALSE(u.ok());
      CHECK_FALSE(is_decryption_failure(u.error()));
    }
  }
  std::vector<uint8_t> tiny(3);
  CHECK_FALSE(unprotect_packet(tiny, 1, 0, c).ok());
}

TEST_CASE("key update derivation", "[packet]") {
  for (CipherSuite suite : {CipherSuite::aes_128_gcm, CipherSuite::aes_256_gcm,
                            CipherSuite::chacha20_poly1305}) {
    INFO(cipher_suite_name(suite));
    const std::vector<uint8_t> secret(hash_length(cipher_suite_hash(suite)), 0x5a);
    auto s1 = next_key_update_secret(suite, secret, kQuicV1);
    REQUIRE(s1.ok());
    CHECK(s1->size() == secret.size());
    CHECK(to_hex(s1->bytes()) != to_hex(secret));
    auto s2 = next_key_update_secret(suite, s1->bytes(), kQuicV1);
    REQUIRE(s2.ok());
    CHECK_FALSE(*s2 == *s1);
    auto s1v2 = next_key_update_secret(suite, secret, kQuicV2);
    REQUIRE(s1v2.ok());
    CHECK_FALSE(*s1v2 == *s1);  // "quicv2 ku" differs from "quic ku"

    auto k0 = derive_packet_keys(suite, secret, kQuicV1);
    auto k1 = derive_packet_keys(suite, s1->bytes(), kQuicV1);
    REQUIRE(k0.ok());
    REQUIRE(k1.ok());
    CHECK(to_hex(k0->key_bytes()) != to_hex(k1->key_bytes()));
    CHECK(to_hex(k0->iv_bytes()) != to_hex(k1->iv_bytes()));

    auto c0 = make_packet_cipher(suite, secret, kQuicV1);
    REQUIRE(c0.ok());
    auto c1 = make_key_update_cipher(suite, s1->bytes(), kQuicV1, *c0);
    REQUIRE(c1.ok());
    // RFC 9001 §6: the header protection key is not updated.
    CHECK(to_hex(c1->hp_key()) == to_hex(c0->hp_key()));
    CHECK(to_hex(c1->iv()) == to_hex(k1->iv_bytes()));

    // A packet sealed with the new keys: HP removal with the old cipher gives
    // the key phase; only the new AEAD opens it.
    auto pkt = make_short(1000, 2, 30, true);
    REQUIRE(protect_packet(pkt, 1 + kDcid.size(), 1000, *c1).ok());
    auto copy = pkt;
    auto hdr = remove_header_protection(pkt, 1 + kDcid.size(), 999, *c0);
    REQUIRE(hdr.ok());
    CHECK(hdr->key_phase);
    CHECK(hdr->pn == 1000);
    auto with_old = decrypt_payload(pkt, *hdr, *c0);
    CHECK_FALSE(with_old.ok());
    auto hdr2 = remove_header_protection(copy, 1 + kDcid.size(), 999, *c0);
    REQUIRE(hdr2.ok());
    auto with_new = decrypt_payload(copy, *hdr2, *c1);
    REQUIRE(with_new.ok());
    CHECK(with_new->size() == 30);
    CHECK((*with_new)[0] == 0x01);
  }
  auto aes = make_packet_cipher(CipherSuite::aes_128_gcm, std::vector<uint8_t>(32, 1), kQuicV1);
  REQUIRE(aes.ok());
  CHECK_FALSE(make_key_update_cipher(CipherSuite::chacha20_poly1305,
                                     std::vector<uint8_t>(32, 2), kQuicV1, *aes)
                  .ok());
}

TEST_CASE("Initial ciphers per version and DCID", "[packet]") {
  auto v1 = make_initial_ciphers(kQuicV1, kDcid);
  auto v2 = make_initial_ciphers(kQuicV2, kDcid);
  auto other = make_initial_ciphers(kQuicV1, kScid);
  REQUIRE(v1.ok());
  REQUIRE(v2.ok());
  REQUIRE(other.ok());
  CHECK(v1->client.suite() == CipherSuite::aes_128_gcm);
  CHECK(to_hex(v1->client.iv()) != to_hex(v2->client.iv()));
  CHECK(to_hex(v1->client.iv()) != to_hex(other->client.iv()));
  CHECK(to_hex(v1->client.iv()) != to_hex(v1->server.iv()));
  CHECK_FALSE(make_initial_ciphers(0x0a0a0a0a, kDcid).ok());
  CHECK(initial_salt(0x0a0a0a0a).empty());
}

TEST_CASE("packet cipher construction", "[packet]") {
  CHECK_FALSE(PacketCipher().valid());
  CHECK(PacketCipher::null_cipher().valid());
  CHECK(PacketCipher::null_cipher().aead_context() == nullptr);
  const std::vector<uint8_t> k16(16, 1), k32(32, 1), iv(12, 2);
  CHECK_FALSE(PacketCipher::create(CipherSuite::aes_128_gcm, k32, iv, k32).ok());
  CHECK_FALSE(PacketCipher::create(CipherSuite::aes_128_gcm, k16, k16, k16).ok());
  auto c = PacketCipher::create(CipherSuite::aes_128_gcm, k16, iv, k16);
  REQUIRE(c.ok());
  CHECK(c->aead_context() != nullptr);
  // Moving keeps the keys usable.
  PacketCipher moved = std::move(c).value();
  auto pkt = make_short(1, 4, 4);
  REQUIRE(protect_packet(pkt, 1 + kDcid.size(), 1, moved).ok());
  PacketCipher again;
  again = std::move(moved);
  CHECK(unprotect_packet(pkt, 1 + kDcid.size(), 0, again).ok());

  CHECK(cipher_suite_from_tls_id(0x1301) == CipherSuite::aes_128_gcm);
  CHECK(cipher_suite_from_tls_id(0x1302) == CipherSuite::aes_256_gcm);
  CHECK(cipher_suite_from_tls_id(0x1303) == CipherSuite::chacha20_poly1305);
  CHECK_FALSE(cipher_suite_from_tls_id(0x1304).has_value());
  for (auto s : {CipherSuite::aes_128_gcm, CipherSuite::aes_256_gcm,
                 CipherSuite::chacha20_poly1305}) {
    CHECK(cipher_suite_from_tls_id(tls_cipher_suite_id(s)) == s);
  }
  CHECK(cipher_suite_hash(CipherSuite::aes_256_gcm) == HashAlg::sha384);
  CHECK(confidentiality_limit(CipherSuite::aes_128_gcm) == uint64_t{1} << 23);
  CHECK(integrity_limit(CipherSuite::chacha20_poly1305) == uint64_t{1} << 36);
}

TEST_CASE("random packets survive protect/unprotect through the splitter", "[packet]") {
  SeededRandom rng(2024);
  auto ciphers = make_initial_ciphers(kQuicV2, kDcid);
  REQUIRE(ciphers.ok());
  PacketCipher app = cipher_for(CipherSuite::chacha20_poly1305, 9);
  for (int iter = 0; iter < 50; ++iter) {
    const uint64_t pn = rng.uniform(1u << 30);
    const size_t pn_len = 1 + rng.uniform(4);
    auto ini = make_long(PacketType::initial, kQuicV2, pn, pn_len,
                         min_payload_size(pn_len) + rng.uniform(100), kToken);
    auto one = make_short(pn, pn_len, min_payload_size(pn_len) + rng.uniform(100));
    std::vector<uint8_t> d = ini;
    d.insert(d.end(), one.begin(), one.end());
    {
      auto h = parse_packet_header(d, short_opts());
      REQUIRE(h.ok());
      MutBytes first{d.data(), h->packet_size};
      REQUIRE(protect_packet(first, h->pn_offset, pn, ciphers->client).ok());
      MutBytes second{d.data() + h->packet_size, d.size() - h->packet_size};
      REQUIRE(protect_packet(second, 1 + kDcid.size(), pn, app).ok());
    }
    const uint64_t largest = pn > 3 ? pn - 3 : kNoPacketNumber;
    DatagramSplitter split(d, short_opts());
    auto h1 = split.next();
    REQUIRE(h1.ok());
    auto u1 = unprotect_packet(split.packet(), h1->pn_offset, largest, ciphers->client);
    REQUIRE(u1.ok());
    CHECK(u1->pn == pn);
    auto h2 = split.next();
    REQUIRE(h2.ok());
    auto u2 = unprotect_packet(split.packet(), h2->pn_offset, largest, app);
    REQUIRE(u2.ok());
    CHECK(u2->pn == pn);
    CHECK(split.done());
  }
}

TEST_CASE("header protection masks match BoringSSL's primitives", "[packet]") {
  // Differential check of the ChaCha20 block (RFC 8439 §2.3) and AES-ECB
  // masks (RFC 9001 §5.4.3/§5.4.4) over random keys and samples.
  SeededRandom rng(99);
  for (int i = 0; i < 200; ++i) {
    uint8_t key[32], iv[12], sample[16], mask[kHpMaskSize], want[kHpMaskSize] = {};
    rng.fill(key);
    rng.fill(iv);
    rng.fill(sample);
    if (i % 10 == 0) std::memset(sample, 0xff, 4);  // counter at its maximum

    auto cc = PacketCipher::create(CipherSuite::chacha20_poly1305, key, iv, key);
    REQUIRE(cc.ok());
    cc->header_mask(sample, mask);
    const uint32_t counter = uint32_t{sample[0]} | uint32_t{sample[1]} << 8 |
                             uint32_t{sample[2]} << 16 | uint32_t{sample[3]} << 24;
    const uint8_t zeros[kHpMaskSize] = {};
    CRYPTO_chacha_20(want, zeros, kHpMaskSize, key, sample + 4, counter);
    CHECK(to_hex(mask) == to_hex(want));

    for (CipherSuite suite : {CipherSuite::aes_128_gcm, CipherSuite::aes_256_gcm}) {
      const size_t n = cipher_suite_key_size(suite);
      auto ac = PacketCipher::create(suite, Bytes{key, n}, iv, Bytes{key, n});
      REQUIRE(ac.ok());
      ac->header_mask(sample, mask);
      EVP_CIPHER_CTX ctx;
      EVP_CIPHER_CTX_init(&ctx);
      REQUIRE(EVP_EncryptInit_ex(&ctx, n == 16 ? EVP_aes_128_ecb() : EVP_aes_256_ecb(), nullptr,
                                 key, nullptr) == 1);
      uint8_t block[32];
      int len = 0;
      REQUIRE(EVP_EncryptUpdate(&ctx, block, &len, sample, 16) == 1);
      EVP_CIPHER_CTX_cleanup(&ctx);
      REQUIRE(len == 16);
      CHECK(to_hex(mask) == to_hex(Bytes{block, kHpMaskSize}));
    }
  }
  uint8_t sample[16] = {}, mask[kHpMaskSize] = {1, 2, 3, 4, 5};
  PacketCipher::null_cipher().header_mask(sample, mask);
  CHECK(to_hex(mask) == "0000000000");
}
