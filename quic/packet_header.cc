#include "quic/packet_header.h"

#include <cstring>

#include "quic/connection_id.h"
#include "quic/version.h"

namespace wt::quic {

namespace {

Error drop(const char* detail) { return Error(TransportError::protocol_violation, detail); }

Result<PacketHeader> parse_long(Bytes data, const HeaderParseOptions& opts) {
  Reader r{data};
  PacketHeader h;
  const uint8_t first = r.u8();
  h.version = r.u32();
  const size_t dcid_len = r.u8();
  h.dcid = r.bytes(dcid_len);
  const size_t scid_len = r.u8();
  h.scid = r.bytes(scid_len);
  if (!r.ok()) return drop("truncated long header");

  if (h.version == kVersionNegotiationVersion) {
    // RFC 9000 §17.2.1: the fixed bit is unused; CIDs follow RFC 8999 (<= 255).
    h.type = PacketType::version_negotiation;
    h.versions = r.rest();
    if (h.versions.size() % 4 != 0) return drop("version list not a multiple of 4");
    h.packet_size = data.size();
    return h;
  }
  if (!is_supported_version(h.version)) return drop("unsupported version");
  // RFC 9000 §17.2: packets with the fixed bit 0 are discarded (RFC 9287 aside).
  if (!(first & kFixedBit) && !opts.grease_quic_bit) return drop("fixed bit is 0");
  // RFC 9000 §17.2: v1 (and v2) CIDs are at most 20 bytes.
  if (dcid_len > kMaxCidLength || scid_len > kMaxCidLength) {
    return drop("connection ID longer than 20 bytes");
  }
  h.type = *long_type_from_bits(h.version, static_cast<uint8_t>(first >> 4));

  if (h.type == PacketType::retry) {
    // RFC 9000 §17.2.5: Retry Token, then the 16-byte integrity tag, to the
    // end of the datagram (no Length field).
    if (r.remaining() < kRetryIntegrityTagSize) return drop("truncated Retry");
    h.token = r.bytes(r.remaining() - kRetryIntegrityTagSize);
    h.retry_tag = r.bytes(kRetryIntegrityTagSize);
    // RFC 9000 §17.2.5.2: a Retry with an empty token is discarded.
    if (h.token.empty()) return drop("Retry without token");
    h.packet_size = data.size();
    return h;
  }
  if (h.type == PacketType::initial) {
    uint64_t token_len = 0;
    // RFC 9000 §17.2.2: Token Length, Token.
    if (!r.varint(token_len) || token_len > r.remaining()) return drop("truncated Initial token");
    h.token = r.bytes(static_cast<size_t>(token_len));
  }
  // RFC 9000 §17.2: Length covers the packet number and the payload.
  if (!r.varint(h.length)) return drop("truncated Length");
  if (h.length > r.remaining()) return drop("Length exceeds datagram");
  h.pn_offset = r.offset();
  h.packet_size = h.pn_offset + static_cast<size_t>(h.length);
  return h;
}

Result<PacketHeader> parse_short(Bytes data, const HeaderParseOptions& opts) {
  PacketHeader h;
  const uint8_t first = data[0];
  if (!(first & kFixedBit) && !opts.grease_quic_bit) return drop("fixed bit is 0");
  if (opts.short_dcid_len > kMaxCidLength) return drop("connection ID longer than 20 bytes");
  // RFC 9000 §17.3.1: 1 byte, DCID, then the packet number.
  if (data.size() < 1 + opts.short_dcid_len) return drop("truncated short header");
  h.type = PacketType::one_rtt;
  h.spin = (first & kSpinBit) != 0;
  h.dcid = data.subspan(1, opts.short_dcid_len);
  h.pn_offset = 1 + opts.short_dcid_len;
  h.length = data.size() - h.pn_offset;
  h.packet_size = data.size();  // a short header packet takes the rest (§12.2)
  return h;
}

}  // namespace

Result<PacketHeader> parse_packet_header(Bytes data, const HeaderParseOptions& opts) {
  if (data.empty()) return drop("empty packet");
  return (data[0] & kHeaderFormLong) ? parse_long(data, opts) : parse_short(data, opts);
}

Result<InvariantHeader> parse_invariant_header(Bytes datagram, size_t short_dcid_len) {
  Reader r{datagram};
  InvariantHeader h;
  const uint8_t first = r.u8();
  if (!r.ok()) return drop("empty packet");
  h.long_header = (first & kHeaderFormLong) != 0;
  if (h.long_header) {
    // RFC 8999 §5.1.
    h.version = r.u32();
    h.dcid = r.bytes(r.u8());
    h.scid = r.bytes(r.u8());
  } else {
    // RFC 8999 §5.2.
    h.dcid = r.bytes(short_dcid_len);
  }
  if (!r.ok()) return drop("truncated header");
  return h;
}

Result<PacketHeader> DatagramSplitter::next() {
  cur_off_ = off_;
  cur_size_ = 0;
  if (done()) return drop("no more packets");
  auto h = parse_packet_header(Bytes{d_.subspan(off_)}, opts_);
  if (!h) {
    off_ = d_.size();  // the rest of the datagram cannot be delimited
    return h;
  }
  cur_size_ = h->packet_size;
  off_ += h->packet_size;
  if (!have_first_) {
    have_first_ = true;
    first_dcid_ = h->dcid.data();
    first_dcid_len_ = h->dcid.size();
  } else if (h->dcid.size() != first_dcid_len_ ||
             (first_dcid_len_ != 0 &&
              std::memcmp(h->dcid.data(), first_dcid_, first_dcid_len_) != 0)) {
    // RFC 9000 §12.2: ignore coalesced packets for another connection.
    return drop("coalesced packet with a different DCID");
  }
  return h;
}

Result<HeaderLayout> encode_long_header(MutBytes out, const LongHeaderSpec& s) {
  if (s.type != PacketType::initial && s.type != PacketType::zero_rtt &&
      s.type != PacketType::handshake) {
    return Error(TransportError::internal_error, "not a long header type with Length");
  }
  if (!is_supported_version(s.version)) {
    return Error(TransportError::internal_error, "unsupported version");
  }
  if (s.dcid.size() > kMaxCidLength || s.scid.size() > kMaxCidLength) {
    return Error(TransportError::internal_error, "connection ID too long");
  }
  if (s.pn_len < 1 || s.pn_len > kMaxPacketNumberLength ||
      (s.length_size != 1 && s.length_size != 2 && s.length_size != 4)) {
    return Error(TransportError::internal_error, "bad packet number or Length size");
  }
  if (s.type != PacketType::initial && !s.token.empty()) {
    return Error(TransportError::internal_error, "token on a non-Initial packet");
  }
  Writer w{out};
  HeaderLayout l;
  // RFC 9000 §17.2: 1 | fixed | type(2) | reserved(2) = 0 | pn length - 1 (2).
  w.u8(static_cast<uint8_t>(kHeaderFormLong | (s.fixed_bit ? kFixedBit : 0) |
                            long_type_bits(s.version, s.type) << 4 | (s.pn_len - 1)));
  w.u32(s.version);
  w.u8(static_cast<uint8_t>(s.dcid.size()));
  w.bytes(s.dcid);
  w.u8(static_cast<uint8_t>(s.scid.size()));
  w.bytes(s.scid);
  if (s.type == PacketType::initial) {
    w.varint(s.token.size());
    w.bytes(s.token);
  }
  l.length_offset = w.written();
  l.length_size = s.length_size;
  w.varint_len(0, s.length_size);
  l.pn_offset = w.written();
  l.pn_len = s.pn_len;
  w.uint_n(s.pn, s.pn_len);  // truncated to its low pn_len bytes
  l.header_size = w.written();
  if (!w.ok()) return Error(TransportError::internal_error, "no room for long header");
  return l;
}

Status set_long_header_length(MutBytes packet, const HeaderLayout& l, size_t packet_size) {
  if (l.length_size == 0 || packet_size < l.header_size || packet_size > packet.size()) {
    return Error(TransportError::internal_error, "bad packet size for Length");
  }
  const uint64_t length = packet_size - l.pn_offset;
  if (varint_size(length) > l.length_size) {
    return Error(TransportError::internal_error, "Length does not fit its field");
  }
  varint_encode_len(packet.data() + l.length_offset, length, l.length_size);
  return {};
}

Result<HeaderLayout> encode_short_header(MutBytes out, const ShortHeaderSpec& s) {
  if (s.dcid.size() > kMaxCidLength || s.pn_len < 1 || s.pn_len > kMaxPacketNumberLength) {
    return Error(TransportError::internal_error, "bad short header");
  }
  Writer w{out};
  HeaderLayout l;
  // RFC 9000 §17.3.1: 0 | fixed | spin | reserved(2) = 0 | key phase | pn length - 1.
  w.u8(static_cast<uint8_t>((s.fixed_bit ? kFixedBit : 0) | (s.spin ? kSpinBit : 0) |
                            (s.key_phase ? kKeyPhaseBit : 0) | (s.pn_len - 1)));
  w.bytes(s.dcid);
  l.pn_offset = w.written();
  l.pn_len = s.pn_len;
  w.uint_n(s.pn, s.pn_len);
  l.header_size = w.written();
  if (!w.ok()) return Error(TransportError::internal_error, "no room for short header");
  return l;
}

Result<size_t> encode_version_negotiation(MutBytes out, Bytes dcid, Bytes scid,
                                          std::span<const uint32_t> versions,
                                          uint8_t unused_bits) {
  if (dcid.size() > 255 || scid.size() > 255) {
    return Error(TransportError::internal_error, "connection ID too long");
  }
  Writer w{out};
  w.u8(static_cast<uint8_t>(kHeaderFormLong | kFixedBit | (unused_bits & 0x7f)));
  w.u32(kVersionNegotiationVersion);
  w.u8(static_cast<uint8_t>(dcid.size()));
  w.bytes(dcid);
  w.u8(static_cast<uint8_t>(scid.size()));
  w.bytes(scid);
  for (uint32_t v : versions) w.u32(v);
  if (!w.ok()) return Error(TransportError::internal_error, "no room for Version Negotiation");
  return w.written();
}

}  // namespace wt::quic
