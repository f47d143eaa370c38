#include "quic/retry.h"

#include <openssl/aead.h>
#include <openssl/mem.h>

#include <cstring>
#include <vector>

#include "quic/connection_id.h"
#include "quic/version.h"

namespace wt::quic {

namespace {

// RFC 9001 §5.8.
constexpr uint8_t kRetryKeyV1[16] = {0xbe, 0x0c, 0x69, 0x0b, 0x9f, 0x66, 0x57, 0x5a,
                                     0x1d, 0x76, 0x6b, 0x54, 0xe3, 0x68, 0xc8, 0x4e};
constexpr uint8_t kRetryNonceV1[12] = {0x46, 0x15, 0x99, 0xd3, 0x5d, 0x63,
                                       0x2b, 0xf2, 0x23, 0x98, 0x25, 0xbb};
// RFC 9369 §3.3.3.
constexpr uint8_t kRetryKeyV2[16] = {0x8f, 0xb4, 0xb0, 0x1b, 0x56, 0xac, 0x48, 0xe2,
                                     0x60, 0xfb, 0xcb, 0xce, 0xad, 0x7c, 0xcc, 0x92};
constexpr uint8_t kRetryNonceV2[12] = {0xd8, 0x69, 0x69, 0xbc, 0x2d, 0x7c,
                                       0x6d, 0x99, 0x90, 0xef, 0xb0, 0x4a};

// AES-128-GCM contexts for the fixed keys, initialised once (thread-safe
// statics; EVP_AEAD_CTX_seal may be called concurrently).
struct RetryAead {
  EVP_AEAD_CTX ctx;
  bool ok = false;
  explicit RetryAead(const uint8_t* key) {
    EVP_AEAD_CTX_zero(&ctx);
    ok = EVP_AEAD_CTX_init(&ctx, EVP_aead_aes_128_gcm(), key, 16, kRetryIntegrityTagSize,
                           nullptr) == 1;
  }
  ~RetryAead() { EVP_AEAD_CTX_cleanup(&ctx); }
};

const RetryAead& retry_aead(uint32_t version) {
  static const RetryAead v1(kRetryKeyV1);
  static const RetryAead v2(kRetryKeyV2);
  return version == kQuicV2 ? v2 : v1;
}

}  // namespace

Status compute_retry_integrity_tag(uint32_t version, Bytes odcid, Bytes retry_without_tag,
                                   uint8_t tag[kRetryIntegrityTagSize]) {
  if (!is_supported_version(version)) {
    return Error(TransportError::internal_error, "Retry tag for unsupported version");
  }
  if (odcid.size() > kMaxCidLength) {
    return Error(TransportError::internal_error, "original DCID too long");
  }
  // RFC 9001 §5.8: AAD = Retry Pseudo-Packet. Retry is not on the per-packet
  // hot path, but keep the usual sizes on the stack.
  uint8_t stack_buf[1600];
  std::vector<uint8_t> heap_buf;
  const size_t aad_len = 1 + odcid.size() + retry_without_tag.size();
  uint8_t* aad = stack_buf;
  if (aad_len > sizeof(stack_buf)) {
    heap_buf.resize(aad_len);
    aad = heap_buf.data();
  }
  aad[0] = static_cast<uint8_t>(odcid.size());
  if (!odcid.empty()) std::memcpy(aad + 1, odcid.data(), odcid.size());
  if (!retry_without_tag.empty()) {
    std::memcpy(aad + 1 + odcid.size(), retry_without_tag.data(), retry_without_tag.size());
  }
  const RetryAead& a = retry_aead(version);
  const uint8_t* nonce = version == kQuicV2 ? kRetryNonceV2 : kRetryNonceV1;
  size_t tag_len = 0;
  // Empty plaintext: the output is just the tag.
  if (!a.ok || EVP_AEAD_CTX_seal_scatter(&a.ctx, nullptr, tag, &tag_len, kRetryIntegrityTagSize,
                                         nonce, 12, nullptr, 0, nullptr, 0, aad, aad_len) != 1 ||
      tag_len != kRetryIntegrityTagSize) {
    return Error(TransportError::internal_error, "Retry tag computation failed");
  }
  return {};
}

bool verify_retry_integrity_tag(uint32_t version, Bytes odcid, Bytes retry_packet) {
  if (retry_packet.size() < kRetryIntegrityTagSize) return false;
  const size_t body = retry_packet.size() - kRetryIntegrityTagSize;
  uint8_t expected[kRetryIntegrityTagSize];
  if (!compute_retry_integrity_tag(version, odcid, retry_packet.first(body), expected)) {
    return false;
  }
  return CRYPTO_memcmp(expected, retry_packet.data() + body, kRetryIntegrityTagSize) == 0;
}

Result<size_t> encode_retry_packet(MutBytes out, uint32_t version, Bytes dcid, Bytes scid,
                                   Bytes token, Bytes odcid, uint8_t unused_bits) {
  if (!is_supported_version(version)) {
    return Error(TransportError::internal_error, "Retry for unsupported version");
  }
  if (dcid.size() > kMaxCidLength || scid.size() > kMaxCidLength) {
    return Error(TransportError::internal_error, "connection ID too long");
  }
  // RFC 9000 §17.2.5.2: a Retry must carry a non-empty token.
  if (token.empty()) return Error(TransportError::internal_error, "Retry without token");
  Writer w{out};
  w.u8(static_cast<uint8_t>(kHeaderFormLong | kFixedBit |
                            long_type_bits(version, PacketType::retry) << 4 |
                            (unused_bits & 0x0f)));
  w.u32(version);
  w.u8(static_cast<uint8_t>(dcid.size()));
  w.bytes(dcid);
  w.u8(static_cast<uint8_t>(scid.size()));
  w.bytes(scid);
  w.bytes(token);
  const size_t body = w.written();
  if (!w.skip(kRetryIntegrityTagSize)) {
    return Error(TransportError::internal_error, "no room for Retry");
  }
  WT_TRY(compute_retry_integrity_tag(version, odcid, Bytes{out.first(body)}, out.data() + body));
  return w.written();
}

}  // namespace wt::quic
