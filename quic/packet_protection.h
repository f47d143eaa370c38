// Whole-packet protection in place (RFC 9001 §5.3, §5.4), no allocation.
//
// Sending: write the header (packet number of pn_len bytes at pn_offset; for
// long headers the final Length), then the plaintext payload, and leave
// kAeadTagSize bytes after it; protect_packet() seals and masks the header.
//
// Receiving is two steps so a connection can pick the key phase between
// them (RFC 9001 §6.3): remove_header_protection() uses the header
// protection key, which never changes with key updates, and yields the full
// packet number and key phase bit; decrypt_payload() then opens with the
// chosen generation's AEAD. unprotect_packet() does both with one cipher.
#pragma once
#include <cstddef>
#include <cstdint>

#include "lib/bytes.h"
#include "lib/result.h"
#include "quic/packet_cipher.h"

namespace wt::quic {

// Error details, compared by address (inline variables are unique).
inline constexpr char kPacketTooShort[] = "packet too short for header protection sample";
inline constexpr char kDecryptionFailed[] = "packet decryption failed";
inline constexpr char kReservedBitsSet[] = "reserved header bits set";

// AEAD failure: drop the packet and count it against the integrity limit
// (RFC 9001 §6.6).
inline bool is_decryption_failure(const Error& e) { return e.detail == kDecryptionFailed; }
// Non-zero reserved bits in an authenticated packet: a PROTOCOL_VIOLATION
// connection error (RFC 9000 §17.2, §17.3.1). Every other error is a drop.
inline bool is_connection_error(const Error& e) { return e.detail == kReservedBitsSet; }

// RFC 9001 §5.4.2: the sample starts 4 bytes after pn_offset and is 16 bytes,
// so with a 16-byte tag the plaintext must be at least 4 - pn_len bytes.
constexpr size_t min_payload_size(size_t pn_len) { return pn_len >= 4 ? 0 : 4 - pn_len; }
// PADDING bytes to add to a `payload_size`-byte plaintext to reach that minimum.
constexpr size_t sample_padding_needed(size_t pn_len, size_t payload_size) {
  const size_t min = min_payload_size(pn_len);
  return payload_size >= min ? 0 : min - payload_size;
}

// `packet` = header (pn_len from its first byte) + plaintext + kAeadTagSize
// bytes for the tag; `pn` is the full packet number.
Status protect_packet(MutBytes packet, size_t pn_offset, uint64_t pn, const PacketCipher& cipher);

struct UnprotectedHeader {
  uint64_t pn = 0;           // full packet number
  size_t pn_len = 0;
  size_t header_size = 0;    // pn_offset + pn_len: the AEAD's associated data
  uint8_t first_byte = 0;    // with header protection removed
  bool key_phase = false;    // short headers only
};

// Removes header protection in place. `largest_pn` is the largest packet
// number received in the space (kNoPacketNumber if none).
Result<UnprotectedHeader> remove_header_protection(MutBytes packet, size_t pn_offset,
                                                   uint64_t largest_pn, const PacketCipher& hp);

// Opens the payload in place and returns the plaintext (a view into
// `packet`); then checks the reserved bits (only after authentication,
// RFC 9000 §17.2). On AEAD failure the payload bytes are zeroed.
Result<MutBytes> decrypt_payload(MutBytes packet, const UnprotectedHeader& h,
                                 const PacketCipher& aead);

struct UnprotectedPacket {
  uint64_t pn = 0;
  size_t pn_len = 0;
  size_t header_size = 0;
  bool key_phase = false;
  MutBytes payload;  // plaintext frames
};
Result<UnprotectedPacket> unprotect_packet(MutBytes packet, size_t pn_offset, uint64_t largest_pn,
                                           const PacketCipher& cipher);

}  // namespace wt::quic
