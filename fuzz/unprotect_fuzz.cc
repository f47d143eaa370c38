// libFuzzer target for the whole receive path of one datagram, as a
// connection runs it with the NULL cipher (zero header-protection mask, tag
// of 16 zero bytes): split the coalesced packets (RFC 9000 §12.2), remove
// header protection and decode the packet number against per-space state,
// open the payload, then decode every frame and check it is allowed in the
// packet type (RFC 9000 §12.4 Table 3).
//
// Every packet that opens is also round-tripped through real AES-128-GCM
// protection (RFC 9001 §5.3, §5.4): protect, unprotect, and compare.
//
// The input is one raw datagram; the short header DCID length is 8 (what our
// endpoints issue). Seeds: fuzz/corpus/unprotect/ (tools: unprotect_seed_gen).
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <variant>
#include <vector>

#include "lib/bytes.h"
#include "quic/frame.h"
#include "quic/packet_cipher.h"
#include "quic/packet_header.h"
#include "quic/packet_number.h"
#include "quic/packet_protection.h"

using namespace wt;
using namespace wt::quic;

namespace {

constexpr size_t kShortDcidLen = 8;

void check(bool ok) {
  if (!ok) std::abort();
}

const PacketCipher& null_cipher() {
  static const PacketCipher c = PacketCipher::null_cipher();
  return c;
}

const PacketCipher& aes_cipher() {
  static const PacketCipher c = [] {
    std::array<uint8_t, 16> key{}, hp{};
    std::array<uint8_t, kAeadIvSize> iv{};
    for (size_t i = 0; i < key.size(); ++i) {
      key[i] = static_cast<uint8_t>(i * 7 + 1);
      hp[i] = static_cast<uint8_t>(i * 13 + 5);
    }
    for (size_t i = 0; i < iv.size(); ++i) iv[i] = static_cast<uint8_t>(0xa0 + i);
    auto r = PacketCipher::create(CipherSuite::aes_128_gcm, key, iv, hp);
    check(r.ok());
    return std::move(*r);
  }();
  return c;
}

// Frames of one authenticated payload. Returns false where a connection
// would close with an error (the datagram's remaining packets are dropped).
bool decode_frames(Bytes payload, PacketType type) {
  // RFC 9000 §12.4: a packet with no frames is a PROTOCOL_VIOLATION.
  if (payload.empty()) return false;
  Reader r{payload};
  while (!r.empty()) {
    const size_t before = r.remaining();
    auto d = decode_frame(r);
    if (!d.ok()) {
      check(d.error().is(TransportError::frame_encoding_error) ||
            d.error().is(TransportError::protocol_violation));
      check(!r.ok());
      return false;
    }
    check(r.ok());
    const size_t consumed = before - r.remaining();
    check(consumed > 0);
    const Frame& f = *d;
    const uint64_t t = frame_type_of(f);
    check(is_known_frame_type(t));
    // Minimal encoding never takes more than what the peer sent.
    check(encoded_size(f) <= consumed);
    // Views point into the payload.
    auto inside = [&](Bytes b) {
      return b.empty() || (b.data() >= payload.data() &&
                           b.data() + b.size() <= payload.data() + payload.size());
    };
    if (const auto* s = std::get_if<StreamFrame>(&f)) {
      check(inside(s->data));
      if (!s->has_length) check(r.empty());  // runs to the end of the packet
      check(s->offset + s->data.size() <= kVarintMax);
    } else if (const auto* c = std::get_if<CryptoFrame>(&f)) {
      check(inside(c->data));
    } else if (const auto* g = std::get_if<DatagramFrame>(&f)) {
      check(inside(g->data));
      if (!g->has_length) check(r.empty());
    } else if (const auto* a = std::get_if<AckFrame>(&f)) {
      uint64_t n = 0;
      for (const AckRange& range : *a) {
        check(range.smallest <= range.largest && range.largest <= a->largest_acknowledged);
        ++n;
      }
      check(n == a->range_count + 1);
    }
    // RFC 9000 §12.4: a frame not allowed in this packet type is a
    // PROTOCOL_VIOLATION connection error.
    if (!frame_allowed_in(t, type)) return false;
  }
  return true;
}

// Protects the plaintext packet with AES-128-GCM and opens it again.
void aes_round_trip(Bytes plain_packet, size_t pn_offset, uint64_t largest_pn,
                    const UnprotectedPacket& u) {
  static std::vector<uint8_t> buf;
  buf.assign(plain_packet.begin(), plain_packet.end());
  MutBytes p{buf};
  check(protect_packet(p, pn_offset, u.pn, aes_cipher()).ok());
  auto again = unprotect_packet(p, pn_offset, largest_pn, aes_cipher());
  check(again.ok());
  check(again->pn == u.pn && again->pn_len == u.pn_len && again->header_size == u.header_size &&
        again->key_phase == u.key_phase);
  check(std::memcmp(buf.data(), plain_packet.data(), plain_packet.size() - kAeadTagSize) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The splitter works in place: unprotect writes into the datagram.
  std::vector<uint8_t> datagram(data, data + size);
  HeaderParseOptions opts;
  opts.short_dcid_len = kShortDcidLen;
  DatagramSplitter split(MutBytes{datagram}, opts);
  std::array<uint64_t, kNumPnSpaces> largest{kNoPacketNumber, kNoPacketNumber, kNoPacketNumber};
  std::vector<uint8_t> plain;

  size_t packets = 0;
  while (!split.done()) {
    check(++packets <= size);  // the splitter always advances
    auto h = split.next();
    if (!h.ok()) continue;  // dropped; done() may now be true
    MutBytes pkt = split.packet();
    check(split.packet_offset() + pkt.size() <= datagram.size());
    check(pkt.size() == h->packet_size);
    if (!h->has_packet_number()) continue;  // Retry / Version Negotiation
    check(h->pn_offset > 0 && h->pn_offset <= pkt.size());

    const uint64_t largest_pn = largest[static_cast<size_t>(pn_space_of(h->type))];
    auto u = unprotect_packet(pkt, h->pn_offset, largest_pn, null_cipher());
    if (!u.ok()) {
      if (is_connection_error(u.error())) break;
      continue;  // undecryptable or too short: dropped (RFC 9001 §5.5)
    }
    check(u->pn_len >= 1 && u->pn_len <= 4);
    check(u->header_size == h->pn_offset + u->pn_len);
    check(u->payload.data() == pkt.data() + u->header_size);
    check(u->header_size + u->payload.size() + kAeadTagSize == pkt.size());
    check(!u->key_phase || h->type == PacketType::one_rtt);
    // The truncated packet number is the low pn_len bytes of the full one.
    uint64_t truncated = 0;
    for (size_t i = 0; i < u->pn_len; ++i) truncated = truncated << 8 | pkt[h->pn_offset + i];
    check((u->pn & ((uint64_t{1} << (8 * u->pn_len)) - 1)) == truncated);

    plain.assign(pkt.begin(), pkt.end());
    aes_round_trip(Bytes{plain}, h->pn_offset, largest_pn, *u);

    uint64_t& l = largest[static_cast<size_t>(pn_space_of(h->type))];
    if (l == kNoPacketNumber || u->pn > l) l = u->pn;
    if (!decode_frames(u->payload, h->type)) break;  // connection error
  }
  return 0;
}
