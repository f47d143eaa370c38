// libFuzzer target for packet headers: parse the invariants, walk the
// coalesced packets of an arbitrary datagram, and check that every parsed
// packet lies inside the datagram and that its header re-encodes to one that
// parses to the same fields. Any violation aborts.
// Input: byte 0 picks the options (short DCID length, grease_quic_bit),
// the rest is the datagram.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "lib/bytes.h"
#include "quic/packet_header.h"
#include "quic/packet_protection.h"
#include "quic/retry.h"
#include "quic/version.h"

using namespace wt;
using namespace wt::quic;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

bool inside(Bytes part, Bytes whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

bool same(Bytes a, Bytes b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

void check_reencode(const PacketHeader& h, Bytes packet, const HeaderParseOptions& opts) {
  if (h.type != PacketType::initial && h.type != PacketType::zero_rtt &&
      h.type != PacketType::handshake) {
    return;
  }
  LongHeaderSpec s;
  s.type = h.type;
  s.version = h.version;
  s.dcid = h.dcid;
  s.scid = h.scid;
  s.token = h.token;
  s.pn_len = (packet[0] & 3) + 1;
  s.length_size = 4;
  s.fixed_bit = (packet[0] & kFixedBit) != 0;
  std::vector<uint8_t> out(h.token.size() + 128);
  auto l = encode_long_header(out, s);
  check(l.ok());
  if (h.length > (uint64_t{1} << 30) - 1) return;
  const size_t size = l->pn_offset + static_cast<size_t>(h.length);
  if (size < l->header_size) return;  // Length shorter than the pn: not re-encodable
  out.resize(size);
  check(set_long_header_length(out, *l, size).ok());
  auto r = parse_packet_header(out, opts);
  check(r.ok());
  check(r->type == h.type && r->version == h.version && r->length == h.length);
  check(same(r->dcid, h.dcid) && same(r->scid, h.scid) && same(r->token, h.token));
  check(r->packet_size == size);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  HeaderParseOptions opts;
  opts.short_dcid_len = data[0] % 21;
  opts.grease_quic_bit = (data[0] & 0x80) != 0;
  // An exact-size heap copy so ASan sees any over-read.
  std::vector<uint8_t> dgram(data + 1, data + size);

  auto inv = parse_invariant_header(dgram, opts.short_dcid_len);
  if (inv) check(inside(inv->dcid, dgram) && inside(inv->scid, dgram));

  static const PacketCipher null_cipher = PacketCipher::null_cipher();
  DatagramSplitter split(dgram, opts);
  size_t total = 0;
  int guard = 0;
  while (!split.done()) {
    check(++guard <= static_cast<int>(dgram.size()) + 1);
    auto h = split.next();
    MutBytes pkt = split.packet();
    check(split.packet_offset() == total || !h);
    if (!h) {
      total = split.packet_offset() + pkt.size();
      continue;
    }
    check(pkt.size() == h->packet_size && h->packet_size > 0);
    total += pkt.size();
    check(total <= dgram.size());
    const Bytes whole{pkt};
    check(inside(h->dcid, whole) && inside(h->scid, whole) && inside(h->token, whole) &&
          inside(h->retry_tag, whole) && inside(h->versions, whole));
    if (h->has_packet_number()) {
      check(h->pn_offset > 0 && h->pn_offset <= pkt.size());
      check(h->pn_offset + h->length == pkt.size());
      check_reencode(*h, whole, opts);
      // The null cipher exercises header protection removal and bounds.
      std::vector<uint8_t> copy(pkt.begin(), pkt.end());
      auto u = unprotect_packet(copy, h->pn_offset, kNoPacketNumber, null_cipher);
      if (u) check(inside(Bytes{u->payload}, Bytes{copy}));
    }
    if (h->type == PacketType::retry) {
      check(h->retry_tag.size() == kRetryIntegrityTagSize && !h->token.empty());
      (void)verify_retry_integrity_tag(h->version, h->scid, whole);
    }
    if (h->type == PacketType::version_negotiation) {
      check(h->versions.size() % 4 == 0);
      for (size_t i = 0; i < h->version_count(); ++i) (void)h->version_at(i);
    }
  }
  check(total <= dgram.size());
  return 0;
}
