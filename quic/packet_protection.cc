#include "quic/packet_protection.h"

#include "quic/packet_header.h"
#include "quic/packet_number.h"

namespace wt::quic {

namespace {

// RFC 9001 §5.4.1: bits of the first byte covered by header protection.
constexpr uint8_t protected_bits(uint8_t first) { return (first & kHeaderFormLong) ? 0x0f : 0x1f; }
// RFC 9000 §17.2 / §17.3.1: reserved bits.
constexpr uint8_t reserved_bits(uint8_t first) { return (first & kHeaderFormLong) ? 0x0c : 0x18; }

}  // namespace

Status protect_packet(MutBytes packet, size_t pn_offset, uint64_t pn, const PacketCipher& cipher) {
  if (packet.empty()) return Error(TransportError::internal_error, kPacketTooShort);
  const size_t pn_len = (packet[0] & 0x03) + 1;
  const size_t header_size = pn_offset + pn_len;
  if (packet.size() < pn_offset + 4 + kHpSampleSize ||
      packet.size() < header_size + kAeadTagSize) {
    return Error(TransportError::internal_error, kPacketTooShort);
  }
  uint8_t* p = packet.data();
  const size_t payload_size = packet.size() - header_size - kAeadTagSize;
  if (!cipher.seal(pn, Bytes{p, header_size}, MutBytes{p + header_size, payload_size},
                   p + header_size + payload_size)) {
    return Error(TransportError::internal_error, "packet encryption failed");
  }
  // RFC 9001 §5.4.2: sample the ciphertext as if the pn were 4 bytes long.
  uint8_t mask[kHpMaskSize];
  cipher.header_mask(p + pn_offset + 4, mask);
  p[0] ^= mask[0] & protected_bits(p[0]);
  for (size_t i = 0; i < pn_len; ++i) p[pn_offset + i] ^= mask[1 + i];
  return {};
}

Result<UnprotectedHeader> remove_header_protection(MutBytes packet, size_t pn_offset,
                                                   uint64_t largest_pn, const PacketCipher& hp) {
  if (packet.size() < pn_offset + 4 + kHpSampleSize) {
    return Error(TransportError::protocol_violation, kPacketTooShort);
  }
  uint8_t* p = packet.data();
  uint8_t mask[kHpMaskSize];
  hp.header_mask(p + pn_offset + 4, mask);
  UnprotectedHeader h;
  p[0] ^= mask[0] & protected_bits(p[0]);
  h.first_byte = p[0];
  h.pn_len = (p[0] & 0x03) + 1;
  uint64_t truncated = 0;
  for (size_t i = 0; i < h.pn_len; ++i) {
    p[pn_offset + i] ^= mask[1 + i];
    truncated = (truncated << 8) | p[pn_offset + i];
  }
  h.pn = decode_packet_number(largest_pn, truncated, h.pn_len);
  h.header_size = pn_offset + h.pn_len;
  h.key_phase = !(p[0] & kHeaderFormLong) && (p[0] & kKeyPhaseBit);
  return h;
}

Result<MutBytes> decrypt_payload(MutBytes packet, const UnprotectedHeader& h,
                                 const PacketCipher& aead) {
  if (packet.size() < h.header_size + kAeadTagSize) {
    return Error(TransportError::protocol_violation, kPacketTooShort);
  }
  uint8_t* p = packet.data();
  const size_t payload_size = packet.size() - h.header_size - kAeadTagSize;
  MutBytes payload{p + h.header_size, payload_size};
  if (!aead.open(h.pn, Bytes{p, h.header_size}, payload, p + h.header_size + payload_size)) {
    return Error(TransportError::protocol_violation, kDecryptionFailed);
  }
  // RFC 9000 §17.2, §17.3.1: non-zero reserved bits after removing protection
  // is a PROTOCOL_VIOLATION, checked only once the packet is authenticated.
  if (h.first_byte & reserved_bits(h.first_byte)) {
    return Error(TransportError::protocol_violation, kReservedBitsSet);
  }
  return payload;
}

Result<UnprotectedPacket> unprotect_packet(MutBytes packet, size_t pn_offset, uint64_t largest_pn,
                                           const PacketCipher& cipher) {
  WT_ASSIGN(UnprotectedHeader h, remove_header_protection(packet, pn_offset, largest_pn, cipher));
  WT_ASSIGN(MutBytes payload, decrypt_payload(packet, h, cipher));
  UnprotectedPacket u;
  u.pn = h.pn;
  u.pn_len = h.pn_len;
  u.header_size = h.header_size;
  u.key_phase = h.key_phase;
  u.payload = payload;
  return u;
}

}  // namespace wt::quic
