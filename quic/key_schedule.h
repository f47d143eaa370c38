// QUIC key derivation (RFC 9001 §5.1, §5.2, §6.1; RFC 9369 §3.3): Initial
// secrets from the client's Destination Connection ID, packet keys from a
// traffic secret with each version's labels, and key update secrets.
#pragma once
#include <array>
#include <cstdint>

#include "lib/bytes.h"
#include "lib/result.h"
#include "quic/hkdf.h"
#include "quic/packet_cipher.h"

namespace wt::quic {

// Labels used with HKDF-Expand-Label for a version (RFC 9001 §5.1, §6.1;
// RFC 9369 §3.3.2). Unsupported versions get the v1 labels.
struct VersionLabels {
  const char* key;
  const char* iv;
  const char* hp;
  const char* ku;
};
VersionLabels version_labels(uint32_t version);

// RFC 9001 §5.2 / RFC 9369 §3.3.1 (20 bytes); empty for unsupported versions.
Bytes initial_salt(uint32_t version);

// Key, IV and header protection key derived from one traffic secret.
struct PacketKeyMaterial {
  std::array<uint8_t, 32> key{};
  std::array<uint8_t, kAeadIvSize> iv{};
  std::array<uint8_t, 32> hp{};
  size_t key_size = 0;
  Bytes key_bytes() const { return {key.data(), key_size}; }
  Bytes iv_bytes() const { return {iv.data(), iv.size()}; }
  Bytes hp_bytes() const { return {hp.data(), key_size}; }
};
Result<PacketKeyMaterial> derive_packet_keys(CipherSuite suite, Bytes secret, uint32_t version);

// A PacketCipher for (suite, traffic secret, version).
Result<PacketCipher> make_packet_cipher(CipherSuite suite, Bytes secret, uint32_t version);

// RFC 9001 §6.1: secret_<n+1> = HKDF-Expand-Label(secret_<n>, "quic ku", "",
// Hash.length) ("quicv2 ku" for v2).
Result<Secret> next_key_update_secret(CipherSuite suite, Bytes secret, uint32_t version);

// The cipher for the next key phase from its secret: new key and IV, and the
// header protection key of `current`, which never changes (RFC 9001 §6).
Result<PacketCipher> make_key_update_cipher(CipherSuite suite, Bytes next_secret,
                                            uint32_t version, const PacketCipher& current);

// RFC 9001 §5.2: Initial secrets for a version and the client's first DCID.
struct InitialSecrets {
  Secret client;
  Secret server;
};
Result<InitialSecrets> derive_initial_secrets(uint32_t version, Bytes client_dcid);

// Initial packet ciphers (AES-128-GCM) for both directions.
struct InitialCiphers {
  PacketCipher client;  // protects what the client sends
  PacketCipher server;  // protects what the server sends
};
Result<InitialCiphers> make_initial_ciphers(uint32_t version, Bytes client_dcid);

}  // namespace wt::quic
