// HKDF (RFC 5869) and TLS 1.3 HKDF-Expand-Label (RFC 8446 §7.1) over BoringSSL,
// as QUIC uses them for its key schedule (RFC 9001 §5.1).
#pragma once
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "lib/bytes.h"
#include "lib/result.h"

namespace wt::quic {

enum class HashAlg : uint8_t { sha256, sha384 };

constexpr size_t hash_length(HashAlg h) { return h == HashAlg::sha384 ? 48 : 32; }

// A traffic secret or PRK: up to one SHA-384 output, kept inline.
class Secret {
 public:
  static constexpr size_t kMaxSize = 48;
  Secret() = default;
  // `b.size()` must be <= kMaxSize; longer input is truncated.
  explicit Secret(Bytes b) : len_(static_cast<uint8_t>(std::min(b.size(), kMaxSize))) {
    if (len_) std::memcpy(data_.data(), b.data(), len_);
  }
  size_t size() const { return len_; }
  bool empty() const { return len_ == 0; }
  Bytes bytes() const { return {data_.data(), len_}; }
  MutBytes mutable_bytes(size_t len) {
    len_ = static_cast<uint8_t>(std::min(len, kMaxSize));
    return {data_.data(), len_};
  }
  friend bool operator==(const Secret& a, const Secret& b) {
    return a.len_ == b.len_ && std::memcmp(a.data_.data(), b.data_.data(), a.len_) == 0;
  }

 private:
  std::array<uint8_t, kMaxSize> data_{};
  uint8_t len_ = 0;
};

// HKDF-Extract(salt, ikm) -> PRK of hash_length(h) bytes.
Result<Secret> hkdf_extract(HashAlg h, Bytes salt, Bytes ikm);

// HKDF-Expand-Label(secret, label, context, out.size()) with the "tls13 "
// prefix (RFC 8446 §7.1). `label` excludes the prefix; out.size() <= 255*hash.
Status hkdf_expand_label(HashAlg h, Bytes secret, std::string_view label, Bytes context,
                         MutBytes out);

// As above, returning a Secret of `len` bytes (len <= Secret::kMaxSize).
Result<Secret> hkdf_expand_label_secret(HashAlg h, Bytes secret, std::string_view label,
                                        size_t len);

}  // namespace wt::quic
