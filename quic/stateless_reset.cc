#include "quic/stateless_reset.h"

#include <algorithm>

#include "lib/random.h"

namespace wt::quic {

size_t stateless_reset_size(size_t trigger_size, Random& rng) {
  if (trigger_size <= kMinStatelessResetSize) return 0;
  // RFC 9000 §10.3: triggers of 43 bytes or less get a reset one byte
  // shorter, so that it cannot be told apart from a packet of that size.
  if (trigger_size <= 43) return trigger_size - 1;
  const size_t hi = std::min(trigger_size - 1, kMaxStatelessResetSize);
  return 42 + static_cast<size_t>(rng.uniform(hi - 42 + 1));
}

size_t encode_stateless_reset(MutBytes out, size_t size, const StatelessResetToken& token,
                              Random& rng) {
  if (size < kMinStatelessResetSize || size > out.size()) return 0;
  MutBytes p = out.first(size);
  rng.fill(p.first(size - token.size()));
  // RFC 9000 §10.3: header form 0, fixed bit 1, the rest unpredictable.
  p[0] = static_cast<uint8_t>(0x40 | (p[0] & 0x3f));
  std::copy(token.begin(), token.end(), p.end() - static_cast<ptrdiff_t>(token.size()));
  return size;
}

bool ResetRateLimiter::allow(Time now) {
  if (!started_) {
    started_ = true;
    last_ = now;
  }
  if (now > last_) {
    const double secs = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + secs * rate_);
    last_ = now;
  }
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

}  // namespace wt::quic
