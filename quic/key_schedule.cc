#include "quic/key_schedule.h"

#include "quic/version.h"

namespace wt::quic {

namespace {

// RFC 9001 §5.2.
constexpr uint8_t kInitialSaltV1[20] = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34,
                                        0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8,
                                        0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
// RFC 9369 §3.3.1.
constexpr uint8_t kInitialSaltV2[20] = {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6,
                                        0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26,
                                        0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9};

}  // namespace

VersionLabels version_labels(uint32_t version) {
  // RFC 9369 §3.3.2.
  if (version == kQuicV2) return {"quicv2 key", "quicv2 iv", "quicv2 hp", "quicv2 ku"};
  return {"quic key", "quic iv", "quic hp", "quic ku"};
}

Bytes initial_salt(uint32_t version) {
  if (version == kQuicV1) return Bytes{kInitialSaltV1};
  if (version == kQuicV2) return Bytes{kInitialSaltV2};
  return {};
}

Result<PacketKeyMaterial> derive_packet_keys(CipherSuite suite, Bytes secret, uint32_t version) {
  PacketKeyMaterial m;
  m.key_size = cipher_suite_key_size(suite);
  if (suite == CipherSuite::null) return m;
  const HashAlg h = cipher_suite_hash(suite);
  const VersionLabels l = version_labels(version);
  // RFC 9001 §5.1: key and iv; §5.4.1: hp, all with an empty context.
  WT_TRY(hkdf_expand_label(h, secret, l.key, {}, MutBytes{m.key.data(), m.key_size}));
  WT_TRY(hkdf_expand_label(h, secret, l.iv, {}, MutBytes{m.iv}));
  WT_TRY(hkdf_expand_label(h, secret, l.hp, {}, MutBytes{m.hp.data(), m.key_size}));
  return m;
}

Result<PacketCipher> make_packet_cipher(CipherSuite suite, Bytes secret, uint32_t version) {
  if (suite == CipherSuite::null) return PacketCipher::null_cipher();
  WT_ASSIGN(PacketKeyMaterial m, derive_packet_keys(suite, secret, version));
  return PacketCipher::create(suite, m.key_bytes(), m.iv_bytes(), m.hp_bytes());
}

Result<Secret> next_key_update_secret(CipherSuite suite, Bytes secret, uint32_t version) {
  const HashAlg h = cipher_suite_hash(suite);
  return hkdf_expand_label_secret(h, secret, version_labels(version).ku, hash_length(h));
}

Result<PacketCipher> make_key_update_cipher(CipherSuite suite, Bytes next_secret,
                                            uint32_t version, const PacketCipher& current) {
  if (suite == CipherSuite::null) return PacketCipher::null_cipher();
  if (!current.valid() || current.suite() != suite) {
    return Error(TransportError::internal_error, "key update across cipher suites");
  }
  WT_ASSIGN(PacketKeyMaterial m, derive_packet_keys(suite, next_secret, version));
  return PacketCipher::create(suite, m.key_bytes(), m.iv_bytes(), current.hp_key());
}

Result<InitialSecrets> derive_initial_secrets(uint32_t version, Bytes client_dcid) {
  Bytes salt = initial_salt(version);
  if (salt.empty()) return Error(TransportError::internal_error, "no Initial salt for version");
  // RFC 9001 §5.2: initial_secret = HKDF-Extract(initial_salt, client_dst_connection_id).
  WT_ASSIGN(Secret initial, hkdf_extract(HashAlg::sha256, salt, client_dcid));
  InitialSecrets s;
  WT_ASSIGN(s.client, hkdf_expand_label_secret(HashAlg::sha256, initial.bytes(), "client in", 32));
  WT_ASSIGN(s.server, hkdf_expand_label_secret(HashAlg::sha256, initial.bytes(), "server in", 32));
  return s;
}

Result<InitialCiphers> make_initial_ciphers(uint32_t version, Bytes client_dcid) {
  WT_ASSIGN(InitialSecrets s, derive_initial_secrets(version, client_dcid));
  // RFC 9001 §5.2: Initial packets use AEAD_AES_128_GCM.
  InitialCiphers c;
  WT_ASSIGN(c.client, make_packet_cipher(CipherSuite::aes_128_gcm, s.client.bytes(), version));
  WT_ASSIGN(c.server, make_packet_cipher(CipherSuite::aes_128_gcm, s.server.bytes(), version));
  return c;
}

}  // namespace wt::quic
