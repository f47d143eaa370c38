// QUIC packet headers (RFC 9000 §17, RFC 9369 §3.2, RFC 8999): parsing the
// unprotected part of every packet type, walking the packets coalesced in
// one datagram (RFC 9000 §12.2), and writing headers. Parsing never reads
// out of bounds; a packet that fails to parse is dropped by the caller.
// The protected bits (reserved bits, packet number length, key phase) and the
// packet number itself are handled by packet_protection.h.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "lib/bytes.h"
#include "lib/result.h"
#include "quic/packet_number.h"
#include "quic/packet_type.h"

namespace wt::quic {

inline constexpr uint8_t kHeaderFormLong = 0x80;  // RFC 9000 §17.2
inline constexpr uint8_t kFixedBit = 0x40;        // RFC 9000 §17.2, §17.3.1
inline constexpr uint8_t kSpinBit = 0x20;         // RFC 9000 §17.3.1
inline constexpr uint8_t kKeyPhaseBit = 0x04;     // RFC 9000 §17.3.1
inline constexpr size_t kMaxPacketNumberLength = 4;
inline constexpr size_t kRetryIntegrityTagSize = 16;  // RFC 9001 §5.8

struct HeaderParseOptions {
  // Length of the connection IDs this endpoint issues: short headers carry no
  // DCID length (RFC 9000 §17.3.1).
  size_t short_dcid_len = 0;
  // RFC 9287: we advertised grease_quic_bit, so the fixed bit may be 0.
  bool grease_quic_bit = false;
};

struct PacketHeader {
  PacketType type = PacketType::one_rtt;
  uint32_t version = 0;  // 0 for Version Negotiation and short headers
  Bytes dcid;
  Bytes scid;            // empty for short headers
  Bytes token;           // Initial token or Retry token
  Bytes retry_tag;       // Retry Integrity Tag (16 bytes)
  Bytes versions;        // Version Negotiation: supported versions, 4 bytes each
  uint64_t length = 0;   // Length field: packet number + payload (+ tag) bytes;
                         // for short headers the bytes after pn_offset
  size_t pn_offset = 0;  // where the (protected) packet number starts; 0 if none
  size_t packet_size = 0;  // bytes of this packet in the datagram
  bool spin = false;       // short header spin bit (not header-protected)

  bool is_long() const { return type != PacketType::one_rtt; }
  // Initial, 0-RTT, Handshake and 1-RTT packets carry a packet number.
  bool has_packet_number() const {
    return type != PacketType::retry && type != PacketType::version_negotiation;
  }
  size_t version_count() const { return versions.size() / 4; }
  uint32_t version_at(size_t i) const {
    const uint8_t* p = versions.data() + 4 * i;
    return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
  }
};

// Parses the header of the packet that starts at `data[0]`; `data` extends
// to the end of the datagram. Rejects (for the caller to drop): truncation,
// fixed bit 0 (unless opts.grease_quic_bit), CIDs longer than 20 bytes, a
// Length beyond the datagram, unsupported versions (use
// parse_invariant_header to answer those with Version Negotiation).
Result<PacketHeader> parse_packet_header(Bytes data, const HeaderParseOptions& opts);

// The version-independent fields (RFC 8999 §5): enough to route a datagram
// and to send Version Negotiation for a version we do not support.
struct InvariantHeader {
  bool long_header = false;
  uint32_t version = 0;  // long headers only
  Bytes dcid;            // long: up to 255 bytes; short: short_dcid_len bytes
  Bytes scid;            // long headers only
};
Result<InvariantHeader> parse_invariant_header(Bytes datagram, size_t short_dcid_len);

// Walks the packets coalesced in a datagram (RFC 9000 §12.2):
//
//   DatagramSplitter split(datagram, opts);
//   while (!split.done()) {
//     auto h = split.next();
//     if (!h) continue;            // this packet is dropped; done() may now be true
//     process(*h, split.packet());  // the packet's bytes, mutable for unprotect
//   }
//
// A packet with a different DCID from the first one is rejected but skipped
// over (RFC 9000 §12.2); any other error abandons the rest of the datagram.
class DatagramSplitter {
 public:
  DatagramSplitter(MutBytes datagram, const HeaderParseOptions& opts)
      : d_(datagram), opts_(opts) {}
  bool done() const { return off_ >= d_.size(); }
  Result<PacketHeader> next();
  // Bytes of the packet last returned (or skipped) by next().
  MutBytes packet() const { return d_.subspan(cur_off_, cur_size_); }
  size_t packet_offset() const { return cur_off_; }

 private:
  MutBytes d_;
  HeaderParseOptions opts_;
  size_t off_ = 0;
  size_t cur_off_ = 0;
  size_t cur_size_ = 0;
  const uint8_t* first_dcid_ = nullptr;
  size_t first_dcid_len_ = 0;
  bool have_first_ = false;
};

// Where the parts of a written header are, for protection and patching.
struct HeaderLayout {
  size_t header_size = 0;    // through the packet number: where the payload starts
  size_t pn_offset = 0;
  size_t pn_len = 0;
  size_t length_offset = 0;  // long headers: the Length field
  size_t length_size = 0;    // 0 for short headers
};

struct LongHeaderSpec {
  PacketType type = PacketType::initial;  // initial, zero_rtt or handshake
  uint32_t version = 0;                   // a supported version
  Bytes dcid;
  Bytes scid;
  Bytes token;             // Initial only
  uint64_t pn = 0;         // full packet number; its low pn_len bytes are written
  size_t pn_len = 4;       // 1..4 (packet_number_length())
  size_t length_size = 2;  // bytes reserved for Length: 2 (< 16384) or 4
  bool fixed_bit = true;   // false only to grease it (RFC 9287)
};

// Writes a long header with a zero Length placeholder; the caller writes the
// payload, then calls set_long_header_length(). Reserved bits are 0.
Result<HeaderLayout> encode_long_header(MutBytes out, const LongHeaderSpec& spec);

// Patches Length once the packet's total size (header + payload + AEAD tag)
// is known: Length = packet_size - pn_offset (RFC 9000 §17.2).
Status set_long_header_length(MutBytes packet, const HeaderLayout& layout, size_t packet_size);

struct ShortHeaderSpec {
  Bytes dcid;
  uint64_t pn = 0;
  size_t pn_len = 4;
  bool spin = false;
  bool key_phase = false;
  bool fixed_bit = true;
};
Result<HeaderLayout> encode_short_header(MutBytes out, const ShortHeaderSpec& spec);

// RFC 9000 §17.2.1: Version Negotiation. `dcid`/`scid` are the client's SCID
// and DCID; `unused_bits` fills the low 7 bits of the first byte (random),
// of which 0x40 is always set (RFC 9000 §17.2.1, for demultiplexing).
// Returns the packet size.
Result<size_t> encode_version_negotiation(MutBytes out, Bytes dcid, Bytes scid,
                                          std::span<const uint32_t> versions,
                                          uint8_t unused_bits);

// Retry packets are written by encode_retry_packet() in quic/retry.h.

}  // namespace wt::quic
