// One direction's packet protection keys for one key phase: an AEAD for the
// payload (RFC 9001 §5.3) and a header protection cipher (RFC 9001 §5.4),
// both expanded once when the keys are installed so that per-packet work is
// just the seal/open and one block of HP. A null suite (no encryption, zero
// tag, zero mask) isolates protocol cost in benchmarks and fuzzing.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "lib/bytes.h"
#include "lib/result.h"
#include "quic/hkdf.h"

struct evp_aead_ctx_st;  // BoringSSL's EVP_AEAD_CTX

namespace wt::quic {

enum class CipherSuite : uint8_t { aes_128_gcm, aes_256_gcm, chacha20_poly1305, null };

inline constexpr size_t kAeadTagSize = 16;   // all QUIC v1/v2 AEADs (RFC 9001 §5.3)
inline constexpr size_t kAeadIvSize = 12;    // RFC 9001 §5.3: iv length = nonce length
inline constexpr size_t kHpSampleSize = 16;  // RFC 9001 §5.4.2
inline constexpr size_t kHpMaskSize = 5;     // first-byte bits + up to 4 PN bytes

// TLS 1.3 cipher suite IDs (RFC 8446 §B.4).
inline constexpr uint16_t kTlsAes128GcmSha256 = 0x1301;
inline constexpr uint16_t kTlsAes256GcmSha384 = 0x1302;
inline constexpr uint16_t kTlsChacha20Poly1305Sha256 = 0x1303;

// TLS cipher-suite ID (0 for null).
constexpr uint16_t tls_cipher_suite_id(CipherSuite s) {
  switch (s) {
    case CipherSuite::aes_128_gcm: return kTlsAes128GcmSha256;
    case CipherSuite::aes_256_gcm: return kTlsAes256GcmSha384;
    case CipherSuite::chacha20_poly1305: return kTlsChacha20Poly1305Sha256;
    case CipherSuite::null: return 0;
  }
  return 0;
}
constexpr std::optional<CipherSuite> cipher_suite_from_tls_id(uint16_t id) {
  switch (id) {
    case kTlsAes128GcmSha256: return CipherSuite::aes_128_gcm;
    case kTlsAes256GcmSha384: return CipherSuite::aes_256_gcm;
    case kTlsChacha20Poly1305Sha256: return CipherSuite::chacha20_poly1305;
    default: return std::nullopt;
  }
}
// Hash of the suite's HKDF (the TLS suite's hash; SHA-256 for null).
constexpr HashAlg cipher_suite_hash(CipherSuite s) {
  return s == CipherSuite::aes_256_gcm ? HashAlg::sha384 : HashAlg::sha256;
}
// AEAD key length; RFC 9001 §5.4.3/5.4.4: the HP key has the same length.
constexpr size_t cipher_suite_key_size(CipherSuite s) {
  switch (s) {
    case CipherSuite::aes_128_gcm: return 16;
    case CipherSuite::aes_256_gcm: return 32;
    case CipherSuite::chacha20_poly1305: return 32;
    case CipherSuite::null: return 0;
  }
  return 0;
}
// RFC 9001 §6.6: packets one key may protect, and forgeries it may see,
// before a key update (confidentiality) or closing the connection (integrity).
constexpr uint64_t confidentiality_limit(CipherSuite s) {
  return s == CipherSuite::aes_128_gcm || s == CipherSuite::aes_256_gcm ? uint64_t{1} << 23
                                                                        : uint64_t{1} << 62;
}
constexpr uint64_t integrity_limit(CipherSuite s) {
  switch (s) {
    case CipherSuite::aes_128_gcm:
    case CipherSuite::aes_256_gcm: return uint64_t{1} << 52;
    case CipherSuite::chacha20_poly1305: return uint64_t{1} << 36;
    case CipherSuite::null: return uint64_t{1} << 62;
  }
  return 0;
}
const char* cipher_suite_name(CipherSuite s);

class PacketCipher {
 public:
  PacketCipher();  // empty: valid() is false
  ~PacketCipher();
  PacketCipher(PacketCipher&&) noexcept;
  PacketCipher& operator=(PacketCipher&&) noexcept;
  PacketCipher(const PacketCipher&) = delete;
  PacketCipher& operator=(const PacketCipher&) = delete;

  // key and hp_key of cipher_suite_key_size(suite) bytes, iv of kAeadIvSize.
  static Result<PacketCipher> create(CipherSuite suite, Bytes key, Bytes iv, Bytes hp_key);
  static PacketCipher null_cipher();

  bool valid() const { return s_ != nullptr; }
  CipherSuite suite() const;
  Bytes iv() const;
  Bytes hp_key() const;  // kept so a key update can reuse it (RFC 9001 §6)

  // RFC 9001 §5.3: nonce = iv XOR left-padded packet number.
  void make_nonce(uint64_t pn, uint8_t nonce[kAeadIvSize]) const;

  // Encrypts `payload` in place and writes the kAeadTagSize-byte tag to `tag`
  // (which must not overlap payload or aad). No allocation.
  [[nodiscard]] bool seal(uint64_t pn, Bytes aad, MutBytes payload, uint8_t* tag) const;
  // Authenticates and decrypts `payload` in place against `tag`. On failure
  // the payload bytes are zeroed (BoringSSL), so a second attempt with other
  // keys needs its own copy of the ciphertext.
  [[nodiscard]] bool open(uint64_t pn, Bytes aad, MutBytes payload, const uint8_t* tag) const;

  // RFC 9001 §5.4.3/§5.4.4: the 5-byte mask from a 16-byte sample.
  void header_mask(const uint8_t* sample, uint8_t mask[kHpMaskSize]) const;

  // The initialised BoringSSL context (nullptr for the null suite), for
  // benchmarks that compare raw EVP_AEAD_CTX_seal with protect().
  const evp_aead_ctx_st* aead_context() const;

 private:
  struct State;
  explicit PacketCipher(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

}  // namespace wt::quic
