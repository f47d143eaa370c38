// Connection IDs and stateless reset tokens (RFC 9000 §5.1, §10.3).
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>

namespace wt {
class Random;
}

namespace wt::quic {

inline constexpr size_t kMaxCidLength = 20;  // RFC 9000 §17.2 (v1)

class ConnectionId {
 public:
  ConnectionId() = default;
  // `b.size()` must be <= kMaxCidLength; longer input is truncated.
  explicit ConnectionId(std::span<const uint8_t> b)
      : len_(static_cast<uint8_t>(std::min(b.size(), kMaxCidLength))) {
    if (len_) std::memcpy(data_.data(), b.data(), len_);
  }
  size_t size() const { return len_; }
  bool empty() const { return len_ == 0; }
  const uint8_t* data() const { return data_.data(); }
  std::span<const uint8_t> bytes() const { return {data_.data(), len_}; }
  std::string hex() const;

  // Random CID of `len` bytes.
  static ConnectionId random(Random& rng, size_t len);

  friend bool operator==(const ConnectionId& a, const ConnectionId& b) {
    return a.len_ == b.len_ && std::memcmp(a.data_.data(), b.data_.data(), a.len_) == 0;
  }

 private:
  uint8_t len_ = 0;
  std::array<uint8_t, kMaxCidLength> data_{};
};

using StatelessResetToken = std::array<uint8_t, 16>;

// RFC 9000 §10.3.2: a token that only the issuer can compute, derived from a
// static key (at least 32 random bytes, kept across restarts) and the CID:
// HMAC-SHA256(static_key, cid) truncated to 16 bytes.
StatelessResetToken stateless_reset_token(std::span<const uint8_t> static_key,
                                          const ConnectionId& cid);

struct ConnectionIdHash {
  size_t operator()(const ConnectionId& c) const {
    // FNV-1a; CIDs we issue are random, so this is enough for a hash table.
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < c.size(); ++i) h = (h ^ c.data()[i]) * 1099511628211ULL;
    return static_cast<size_t>(h);
  }
};

}  // namespace wt::quic
