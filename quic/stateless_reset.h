// Stateless reset (RFC 9000 §10.3): building the packet an endpoint sends
// for a short-header packet it cannot route, and limiting how often.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lib/bytes.h"
#include "lib/clock.h"
#include "quic/connection_id.h"

namespace wt {
class Random;
}

namespace wt::quic {

// RFC 9000 §10.3: 1 byte of header, at least 38 unpredictable bits and the
// 16-byte token; smaller datagrams are never taken for a reset.
inline constexpr size_t kMinStatelessResetSize = 21;
inline constexpr size_t kMaxStatelessResetSize = 64;
using ResetKey = std::array<uint8_t, 32>;  // RFC 9000 §10.3.2 static key

// The size of a reset answering a datagram of `trigger_size` bytes, or 0 if
// none may be sent: it must be smaller than the trigger (RFC 9000 §10.3.3,
// no loops) and is one byte smaller for triggers of 43 bytes or less
// (RFC 9000 §10.3), else a random size in [42, 64].
size_t stateless_reset_size(size_t trigger_size, Random& rng);

// Writes a reset of `size` bytes (>= kMinStatelessResetSize, <= out.size()):
// 0b01 then unpredictable bits, the token last. Returns `size`, or 0.
size_t encode_stateless_reset(MutBytes out, size_t size, const StatelessResetToken& token,
                              Random& rng);

// The token a datagram would carry if it were a stateless reset: its last
// 16 bytes, if it is at least 21 bytes and starts like a short header.
inline bool stateless_reset_tail(Bytes datagram, StatelessResetToken& token) {
  if (datagram.size() < kMinStatelessResetSize || (datagram[0] & 0x80)) return false;
  std::memcpy(token.data(), datagram.data() + datagram.size() - token.size(), token.size());
  return true;
}

// A token bucket: at most `burst` resets at once, refilled at `per_second`.
class ResetRateLimiter {
 public:
  ResetRateLimiter(double per_second = 100, double burst = 20)
      : rate_(per_second), burst_(burst), tokens_(burst) {}
  bool allow(Time now);

 private:
  double rate_, burst_, tokens_;
  Time last_ = kTimeZero;
  bool started_ = false;
};

struct StatelessResetTokenHash {
  size_t operator()(const StatelessResetToken& t) const {
    // Tokens are HMAC outputs: any 8 bytes are a good hash.
    uint64_t h;
    std::memcpy(&h, t.data(), sizeof h);
    return static_cast<size_t>(h);
  }
};

}  // namespace wt::quic
