// Shared checks for the RFC 9001 / RFC 9369 Appendix A packet protection
// vectors (owned by the packets module; included by rfc9001_test.cc and
// rfc9369_test.cc).
#pragma once
#include <catch2/catch.hpp>

#include <cstdint>
#include <string_view>
#include <vector>

#include "lib/bytes.h"
#include "lib/hex.h"
#include "quic/key_schedule.h"
#include "quic/packet_header.h"
#include "quic/packet_number.h"
#include "quic/packet_protection.h"
#include "quic/retry.h"

namespace wt::quic::test {

inline std::vector<uint8_t> vec(Bytes b) { return {b.begin(), b.end()}; }

// An Initial packet example: the unprotected header, the frames (padded with
// PADDING to payload_size), and the protected packet the RFC prints.
struct InitialExample {
  uint32_t version;
  bool client;            // sent by the client (else by the server)
  std::string_view dcid;  // client-chosen DCID the keys come from
  std::string_view header;
  std::string_view frames;
  size_t payload_size;
  uint64_t pn;
  std::string_view packet;
};

inline void check_initial_example(const InitialExample& ex) {
  const auto key_dcid = hex(ex.dcid);
  auto ciphers = make_initial_ciphers(ex.version, key_dcid);
  REQUIRE(ciphers.ok());
  const PacketCipher& cipher = ex.client ? ciphers->client : ciphers->server;
  const auto header = hex(ex.header);
  const auto frames = hex(ex.frames);
  const auto expected = hex(ex.packet);
  REQUIRE(expected.size() == header.size() + ex.payload_size + kAeadTagSize);

  // Our encoder writes the RFC's unprotected header byte for byte.
  // (The header alone fails parse_packet_header: its Length exceeds it.)
  CHECK_FALSE(parse_packet_header(header, {}).ok());
  auto parsed_plain = parse_invariant_header(header, 0);
  REQUIRE(parsed_plain.ok());
  REQUIRE(parsed_plain->version == ex.version);
  std::vector<uint8_t> pkt(expected.size(), 0);
  LongHeaderSpec spec;
  spec.type = PacketType::initial;
  spec.version = ex.version;
  spec.dcid = parsed_plain->dcid;
  spec.scid = parsed_plain->scid;
  spec.pn = ex.pn;
  spec.pn_len = (header[0] & 3) + 1;
  spec.length_size = 2;
  auto layout = encode_long_header(pkt, spec);
  REQUIRE(layout.ok());
  REQUIRE(layout->header_size == header.size());
  REQUIRE(set_long_header_length(pkt, *layout, pkt.size()).ok());
  CHECK(to_hex(Bytes{pkt}.first(header.size())) == to_hex(header));

  // Protect: frames then PADDING (zeros) to payload_size, tag space after.
  std::copy(frames.begin(), frames.end(), pkt.begin() + static_cast<long>(header.size()));
  REQUIRE(protect_packet(pkt, layout->pn_offset, ex.pn, cipher).ok());
  CHECK(to_hex(pkt) == to_hex(expected));

  // Unprotect the RFC's bytes in place.
  auto rx = expected;
  auto h = parse_packet_header(rx, {});
  REQUIRE(h.ok());
  CHECK(h->type == PacketType::initial);
  CHECK(h->version == ex.version);
  CHECK(to_hex(h->dcid) == to_hex(parsed_plain->dcid));
  CHECK(to_hex(h->scid) == to_hex(parsed_plain->scid));
  CHECK(h->token.empty());
  CHECK(h->pn_offset == layout->pn_offset);
  CHECK(h->packet_size == rx.size());
  CHECK(h->length == rx.size() - h->pn_offset);
  auto u = unprotect_packet(rx, h->pn_offset, ex.pn > 0 ? ex.pn - 1 : kNoPacketNumber, cipher);
  REQUIRE(u.ok());
  CHECK(u->pn == ex.pn);
  CHECK(u->header_size == header.size());
  CHECK(to_hex(Bytes{rx}.first(header.size())) == to_hex(header));
  REQUIRE(u->payload.size() == ex.payload_size);
  std::vector<uint8_t> want_payload(ex.payload_size, 0);
  std::copy(frames.begin(), frames.end(), want_payload.begin());
  CHECK(to_hex(u->payload) == to_hex(want_payload));

  // The other direction's keys do not open it.
  auto rx2 = expected;
  auto wrong = unprotect_packet(rx2, h->pn_offset, kNoPacketNumber,
                                ex.client ? ciphers->server : ciphers->client);
  CHECK(!wrong.ok());
}

// A Retry example: the packet answers an Initial with DCID `odcid`.
inline void check_retry_example(uint32_t version, std::string_view odcid_hex,
                                std::string_view packet_hex) {
  const auto odcid = hex(odcid_hex);
  const auto packet = hex(packet_hex);
  auto h = parse_packet_header(packet, {});
  REQUIRE(h.ok());
  CHECK(h->type == PacketType::retry);
  CHECK(h->version == version);
  CHECK(h->packet_size == packet.size());
  CHECK(h->retry_tag.size() == kRetryIntegrityTagSize);
  CHECK(verify_retry_integrity_tag(version, odcid, packet));

  // Compute: our encoder reproduces the packet, tag included.
  std::vector<uint8_t> out(packet.size() + 10);
  auto n = encode_retry_packet(out, version, h->dcid, h->scid, h->token, odcid, packet[0] & 0x0f);
  REQUIRE(n.ok());
  CHECK(to_hex(Bytes{out}.first(*n)) == to_hex(packet));

  // Any other ODCID, version, or a flipped bit fails verification.
  auto other = odcid;
  other[0] ^= 1;
  CHECK(!verify_retry_integrity_tag(version, other, packet));
  CHECK(!verify_retry_integrity_tag(version == kQuicV1 ? kQuicV2 : kQuicV1, odcid, packet));
  for (size_t i : {size_t{0}, size_t{5}, packet.size() - 1}) {
    auto bad = packet;
    bad[i] ^= 0x01;
    CHECK(!verify_retry_integrity_tag(version, odcid, bad));
  }
}

// A ChaCha20-Poly1305 short header example (App. A.5 of both RFCs).
struct ChachaExample {
  uint32_t version;
  std::string_view secret, key, iv, hp, ku;
  uint64_t pn;
  std::string_view nonce, header, plaintext, ciphertext, packet;
};

inline void check_chacha_example(const ChachaExample& ex) {
  const auto secret = hex(ex.secret);
  auto keys = derive_packet_keys(CipherSuite::chacha20_poly1305, secret, ex.version);
  REQUIRE(keys.ok());
  CHECK(to_hex(keys->key_bytes()) == ex.key);
  CHECK(to_hex(keys->iv_bytes()) == ex.iv);
  CHECK(to_hex(keys->hp_bytes()) == ex.hp);
  auto ku = next_key_update_secret(CipherSuite::chacha20_poly1305, secret, ex.version);
  REQUIRE(ku.ok());
  CHECK(to_hex(ku->bytes()) == ex.ku);

  auto cipher = make_packet_cipher(CipherSuite::chacha20_poly1305, secret, ex.version);
  REQUIRE(cipher.ok());
  uint8_t nonce[kAeadIvSize];
  cipher->make_nonce(ex.pn, nonce);
  CHECK(to_hex(nonce) == ex.nonce);

  // Header: empty DCID, 3-byte packet number (0x00bff4 = 49140 is written).
  const auto header = hex(ex.header);
  const auto plaintext = hex(ex.plaintext);
  const auto expected = hex(ex.packet);
  std::vector<uint8_t> pkt(header.size() + plaintext.size() + kAeadTagSize);
  ShortHeaderSpec spec;
  spec.pn = ex.pn;
  spec.pn_len = 3;
  auto layout = encode_short_header(pkt, spec);
  REQUIRE(layout.ok());
  CHECK(to_hex(Bytes{pkt}.first(layout->header_size)) == to_hex(header));
  std::copy(plaintext.begin(), plaintext.end(), pkt.begin() + static_cast<long>(header.size()));
  REQUIRE(protect_packet(pkt, layout->pn_offset, ex.pn, *cipher).ok());
  CHECK(to_hex(Bytes{pkt}.subspan(header.size())) == ex.ciphertext);
  CHECK(to_hex(pkt) == to_hex(expected));

  auto rx = expected;
  HeaderParseOptions opts;
  opts.short_dcid_len = 0;
  auto h = parse_packet_header(rx, opts);
  REQUIRE(h.ok());
  CHECK(h->type == PacketType::one_rtt);
  CHECK(h->pn_offset == 1);
  CHECK(h->packet_size == rx.size());
  auto u = unprotect_packet(rx, h->pn_offset, ex.pn - 1, *cipher);
  REQUIRE(u.ok());
  CHECK(u->pn == ex.pn);
  CHECK(u->pn_len == 3);
  CHECK_FALSE(u->key_phase);
  CHECK(to_hex(u->payload) == ex.plaintext);
  CHECK(to_hex(Bytes{rx}.first(header.size())) == to_hex(header));
}

}  // namespace wt::quic::test
