// Packet number encoding and decoding (RFC 9000 §17.1, Appendix A.2/A.3).
#pragma once
#include <cstddef>
#include <cstdint>

namespace wt::quic {

// RFC 9000 §12.3: packet numbers are in 0..2^62-1.
inline constexpr uint64_t kMaxPacketNumber = (uint64_t{1} << 62) - 1;
// "Nothing acknowledged / received yet in this space."
inline constexpr uint64_t kNoPacketNumber = UINT64_MAX;

// Bytes (1..4) to encode `pn` so that a peer whose largest acknowledged packet
// is `largest_acked` (kNoPacketNumber if none) decodes it unambiguously:
// the range must cover more than twice the number of unacknowledged packets
// (RFC 9000 §17.1, App. A.2).
constexpr size_t packet_number_length(uint64_t pn, uint64_t largest_acked) {
  uint64_t num_unacked = largest_acked == kNoPacketNumber ? pn + 1
                         : pn > largest_acked             ? pn - largest_acked
                                                          : 1;
  // Smallest n with 2 * num_unacked <= 2^(8n), i.e. num_unacked <= 2^(8n-1).
  for (size_t n = 1; n < 4; ++n) {
    if (num_unacked <= (uint64_t{1} << (8 * n - 1))) return n;
  }
  return 4;
}

// Recovers the full packet number from its `pn_len`-byte truncation, given the
// largest packet number received in the space (kNoPacketNumber if none).
// RFC 9000 App. A.3.
constexpr uint64_t decode_packet_number(uint64_t largest_pn, uint64_t truncated_pn,
                                        size_t pn_len) {
  const uint64_t expected = largest_pn + 1;  // wraps to 0 for kNoPacketNumber
  const uint64_t win = uint64_t{1} << (8 * pn_len);
  const uint64_t hwin = win / 2;
  const uint64_t mask = win - 1;
  const uint64_t candidate = (expected & ~mask) | (truncated_pn & mask);
  // candidate <= expected - hwin, written without unsigned underflow.
  if (candidate + hwin <= expected && candidate < (uint64_t{1} << 62) - win) {
    return candidate + win;
  }
  if (candidate > expected + hwin && candidate >= win) return candidate - win;
  return candidate;
}

}  // namespace wt::quic
