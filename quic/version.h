// QUIC versions (RFC 9000 §15, RFC 9369) and the per-version long header
// packet type bits.
#pragma once
#include <cstdint>
#include <optional>

#include "quic/packet_type.h"

namespace wt::quic {

inline constexpr uint32_t kQuicV1 = 0x00000001;  // RFC 9000
inline constexpr uint32_t kQuicV2 = 0x6b3343cf;  // RFC 9369 §3.1
// RFC 9000 §17.2.1: the version field of a Version Negotiation packet.
inline constexpr uint32_t kVersionNegotiationVersion = 0;

constexpr bool is_supported_version(uint32_t v) { return v == kQuicV1 || v == kQuicV2; }

// RFC 9000 §15: versions 0x?a?a?a?a are reserved to exercise version
// negotiation (greasing); no implementation ever supports them.
constexpr bool is_reserved_version(uint32_t v) { return (v & 0x0f0f0f0f) == 0x0a0a0a0a; }

// A reserved version from any 32 bits (for greasing VN and transport parameters).
constexpr uint32_t make_reserved_version(uint32_t random) {
  return (random & 0xf0f0f0f0) | 0x0a0a0a0a;
}

// Two-bit Long Packet Type field (RFC 9000 §17.2, RFC 9369 §3.2).
// `t` must be initial, zero_rtt, handshake or retry.
constexpr uint8_t long_type_bits(uint32_t version, PacketType t) {
  uint8_t v1 = 0;
  switch (t) {
    case PacketType::initial: v1 = 0; break;
    case PacketType::zero_rtt: v1 = 1; break;
    case PacketType::handshake: v1 = 2; break;
    case PacketType::retry: v1 = 3; break;
    default: v1 = 0; break;
  }
  // RFC 9369 §3.2: v2 rotates the codes by one (Initial=0b01 ... Retry=0b00).
  return version == kQuicV2 ? static_cast<uint8_t>((v1 + 1) & 3) : v1;
}

// Inverse of long_type_bits for a supported version; nullopt otherwise.
constexpr std::optional<PacketType> long_type_from_bits(uint32_t version, uint8_t bits) {
  if (!is_supported_version(version)) return std::nullopt;
  uint8_t v1 = bits & 3;
  if (version == kQuicV2) v1 = static_cast<uint8_t>((v1 + 3) & 3);
  constexpr PacketType kTypes[4] = {PacketType::initial, PacketType::zero_rtt,
                                    PacketType::handshake, PacketType::retry};
  return kTypes[v1];
}

}  // namespace wt::quic
