#include "quic/connection_id.h"

#include "lib/hex.h"
#include "lib/random.h"
#include "quic/packet_type.h"

namespace wt::quic {

std::string ConnectionId::hex() const { return to_hex(bytes()); }

ConnectionId ConnectionId::random(Random& rng, size_t len) {
  std::array<uint8_t, kMaxCidLength> b{};
  len = std::min(len, kMaxCidLength);
  rng.fill({b.data(), len});
  return ConnectionId({b.data(), len});
}

const char* packet_type_name(PacketType t) {
  switch (t) {
    case PacketType::initial: return "Initial";
    case PacketType::zero_rtt: return "0-RTT";
    case PacketType::handshake: return "Handshake";
    case PacketType::retry: return "Retry";
    case PacketType::one_rtt: return "1-RTT";
    case PacketType::version_negotiation: return "VersionNegotiation";
  }
  return "?";
}

}  // namespace wt::quic
