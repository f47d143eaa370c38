#include "quic/connection_id.h"

#include <openssl/digest.h>
#include <openssl/hmac.h>

#include <cstdlib>

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

StatelessResetToken stateless_reset_token(std::span<const uint8_t> static_key,
                                          const ConnectionId& cid) {
  uint8_t mac[EVP_MAX_MD_SIZE];
  unsigned mac_len = 0;
  // BoringSSL's one-shot HMAC works on a stack context: it does not fail for
  // SHA-256. Should it ever, a predictable token must not be issued.
  if (HMAC(EVP_sha256(), static_key.data(), static_key.size(), cid.data(), cid.size(), mac,
           &mac_len) == nullptr ||
      mac_len < 16)
    std::abort();
  StatelessResetToken token;
  std::memcpy(token.data(), mac, token.size());
  return token;
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

