#include "quic/packet_cipher.h"

#include <openssl/aead.h>
#include <openssl/aes.h>
#include <openssl/mem.h>

#include <cstring>

namespace wt::quic {

namespace {

inline uint32_t load_le32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
inline uint32_t rotl32(uint32_t v, int n) { return (v << n) | (v >> (32 - n)); }
inline void quarter_round(uint32_t& a, uint32_t& b, uint32_t& c, uint32_t& d) {
  a += b; d ^= a; d = rotl32(d, 16);
  c += d; b ^= c; b = rotl32(b, 12);
  a += b; d ^= a; d = rotl32(d, 8);
  c += d; b ^= c; b = rotl32(b, 7);
}

// RFC 9001 §5.4.4 with the ChaCha20 block function of RFC 8439 §2.3: the
// mask is the first 5 bytes of the keystream block for (key, counter =
// sample[0..3] LE, nonce = sample[4..15]). One scalar block is ~2.5x faster
// here than BoringSSL's CRYPTO_chacha_20, whose setup targets long inputs.
void chacha20_mask(const uint32_t key[8], const uint8_t* sample, uint8_t mask[kHpMaskSize]) {
  const uint32_t in[16] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574,
                           key[0], key[1], key[2], key[3], key[4], key[5], key[6], key[7],
                           load_le32(sample), load_le32(sample + 4), load_le32(sample + 8),
                           load_le32(sample + 12)};
  uint32_t x[16];
  std::memcpy(x, in, sizeof(x));
  for (int i = 0; i < 10; ++i) {
    quarter_round(x[0], x[4], x[8], x[12]);
    quarter_round(x[1], x[5], x[9], x[13]);
    quarter_round(x[2], x[6], x[10], x[14]);
    quarter_round(x[3], x[7], x[11], x[15]);
    quarter_round(x[0], x[5], x[10], x[15]);
    quarter_round(x[1], x[6], x[11], x[12]);
    quarter_round(x[2], x[7], x[8], x[13]);
    quarter_round(x[3], x[4], x[9], x[14]);
  }
  const uint32_t w0 = x[0] + in[0];
  const uint32_t w1 = x[1] + in[1];
  mask[0] = static_cast<uint8_t>(w0);
  mask[1] = static_cast<uint8_t>(w0 >> 8);
  mask[2] = static_cast<uint8_t>(w0 >> 16);
  mask[3] = static_cast<uint8_t>(w0 >> 24);
  mask[4] = static_cast<uint8_t>(w1);
}

}  // namespace

struct PacketCipher::State {
  CipherSuite suite = CipherSuite::null;
  EVP_AEAD_CTX aead;
  AES_KEY hp_aes;
  uint8_t iv[kAeadIvSize] = {};
  uint8_t hp_key[32] = {};
  size_t hp_key_len = 0;
  uint32_t hp_chacha_words[8] = {};  // ChaCha20 HP key as little-endian words

  State() { EVP_AEAD_CTX_zero(&aead); }
  ~State() {
    EVP_AEAD_CTX_cleanup(&aead);
    OPENSSL_cleanse(&hp_aes, sizeof(hp_aes));
    OPENSSL_cleanse(hp_key, sizeof(hp_key));
    OPENSSL_cleanse(hp_chacha_words, sizeof(hp_chacha_words));
    OPENSSL_cleanse(iv, sizeof(iv));
  }
  State(const State&) = delete;
  State& operator=(const State&) = delete;
};

const char* cipher_suite_name(CipherSuite s) {
  switch (s) {
    case CipherSuite::aes_128_gcm: return "TLS_AES_128_GCM_SHA256";
    case CipherSuite::aes_256_gcm: return "TLS_AES_256_GCM_SHA384";
    case CipherSuite::chacha20_poly1305: return "TLS_CHACHA20_POLY1305_SHA256";
    case CipherSuite::null: return "NULL";
  }
  return "?";
}

PacketCipher::PacketCipher() = default;
PacketCipher::~PacketCipher() = default;
PacketCipher::PacketCipher(PacketCipher&&) noexcept = default;
PacketCipher& PacketCipher::operator=(PacketCipher&&) noexcept = default;
PacketCipher::PacketCipher(std::unique_ptr<State> s) : s_(std::move(s)) {}

Result<PacketCipher> PacketCipher::create(CipherSuite suite, Bytes key, Bytes iv, Bytes hp_key) {
  if (suite == CipherSuite::null) return null_cipher();
  const size_t key_size = cipher_suite_key_size(suite);
  if (key.size() != key_size || hp_key.size() != key_size || iv.size() != kAeadIvSize) {
    return Error(TransportError::internal_error, "packet key of wrong length");
  }
  auto s = std::make_unique<State>();
  s->suite = suite;
  std::memcpy(s->iv, iv.data(), kAeadIvSize);
  std::memcpy(s->hp_key, hp_key.data(), key_size);
  s->hp_key_len = key_size;
  const EVP_AEAD* aead = suite == CipherSuite::aes_128_gcm   ? EVP_aead_aes_128_gcm()
                         : suite == CipherSuite::aes_256_gcm ? EVP_aead_aes_256_gcm()
                                                             : EVP_aead_chacha20_poly1305();
  if (!EVP_AEAD_CTX_init(&s->aead, aead, key.data(), key.size(), kAeadTagSize, nullptr)) {
    return Error(TransportError::internal_error, "EVP_AEAD_CTX_init failed");
  }
  if (suite == CipherSuite::chacha20_poly1305) {
    for (size_t i = 0; i < 8; ++i) s->hp_chacha_words[i] = load_le32(hp_key.data() + 4 * i);
  }
  // RFC 9001 §5.4.3: AES-based HP is one AES-ECB block; expand the key once.
  if (suite != CipherSuite::chacha20_poly1305 &&
      AES_set_encrypt_key(hp_key.data(), static_cast<unsigned>(key_size * 8), &s->hp_aes) != 0) {
    return Error(TransportError::internal_error, "AES_set_encrypt_key failed");
  }
  return PacketCipher(std::move(s));
}

PacketCipher PacketCipher::null_cipher() {
  auto s = std::make_unique<State>();
  s->suite = CipherSuite::null;
  return PacketCipher(std::move(s));
}

CipherSuite PacketCipher::suite() const { return s_ ? s_->suite : CipherSuite::null; }
Bytes PacketCipher::iv() const { return s_ ? Bytes{s_->iv, kAeadIvSize} : Bytes{}; }
Bytes PacketCipher::hp_key() const { return s_ ? Bytes{s_->hp_key, s_->hp_key_len} : Bytes{}; }

const evp_aead_ctx_st* PacketCipher::aead_context() const {
  return s_ && s_->suite != CipherSuite::null ? &s_->aead : nullptr;
}

void PacketCipher::make_nonce(uint64_t pn, uint8_t nonce[kAeadIvSize]) const {
  std::memcpy(nonce, s_->iv, kAeadIvSize);
  for (size_t i = 0; i < 8; ++i) {
    nonce[kAeadIvSize - 1 - i] ^= static_cast<uint8_t>(pn >> (8 * i));
  }
}

bool PacketCipher::seal(uint64_t pn, Bytes aad, MutBytes payload, uint8_t* tag) const {
  if (!s_) return false;
  if (s_->suite == CipherSuite::null) {
    std::memset(tag, 0, kAeadTagSize);
    return true;
  }
  uint8_t nonce[kAeadIvSize];
  make_nonce(pn, nonce);
  size_t tag_len = 0;
  return EVP_AEAD_CTX_seal_scatter(&s_->aead, payload.data(), tag, &tag_len, kAeadTagSize, nonce,
                                   kAeadIvSize, payload.data(), payload.size(), nullptr, 0,
                                   aad.data(), aad.size()) == 1 &&
         tag_len == kAeadTagSize;
}

bool PacketCipher::open(uint64_t pn, Bytes aad, MutBytes payload, const uint8_t* tag) const {
  if (!s_) return false;
  if (s_->suite == CipherSuite::null) {
    uint8_t acc = 0;
    for (size_t i = 0; i < kAeadTagSize; ++i) acc |= tag[i];
    return acc == 0;
  }
  uint8_t nonce[kAeadIvSize];
  make_nonce(pn, nonce);
  return EVP_AEAD_CTX_open_gather(&s_->aead, payload.data(), nonce, kAeadIvSize, payload.data(),
                                  payload.size(), tag, kAeadTagSize, aad.data(),
                                  aad.size()) == 1;
}

void PacketCipher::header_mask(const uint8_t* sample, uint8_t mask[kHpMaskSize]) const {
  switch (s_ ? s_->suite : CipherSuite::null) {
    case CipherSuite::aes_128_gcm:
    case CipherSuite::aes_256_gcm: {
      // RFC 9001 §5.4.3: mask = AES-ECB(hp_key, sample).
      uint8_t block[16];
      AES_encrypt(sample, block, &s_->hp_aes);
      std::memcpy(mask, block, kHpMaskSize);
      return;
    }
    case CipherSuite::chacha20_poly1305:
      chacha20_mask(s_->hp_chacha_words, sample, mask);
      return;
    case CipherSuite::null: std::memset(mask, 0, kHpMaskSize); return;
  }
}

}  // namespace wt::quic
