// Packet types and packet number spaces (RFC 9000 §12.3, §17).
#pragma once
#include <cstdint>

namespace wt::quic {

enum class PacketType : uint8_t {
  initial,
  zero_rtt,
  handshake,
  retry,
  one_rtt,
  version_negotiation,
};

// RFC 9000 §12.3: three packet number spaces.
enum class PnSpace : uint8_t { initial = 0, handshake = 1, application = 2 };
inline constexpr int kNumPnSpaces = 3;

constexpr PnSpace pn_space_of(PacketType t) {
  switch (t) {
    case PacketType::initial: return PnSpace::initial;
    case PacketType::handshake: return PnSpace::handshake;
    default: return PnSpace::application;
  }
}

// Encryption levels as TLS sees them (RFC 9001 §4).
enum class EncryptionLevel : uint8_t { initial = 0, early_data = 1, handshake = 2, application = 3 };

const char* packet_type_name(PacketType t);

}  // namespace wt::quic
