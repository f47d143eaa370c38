// QUIC variable-length integers, RFC 9000 §16.
#pragma once
#include <cstddef>
#include <cstdint>

namespace wt {

inline constexpr uint64_t kVarintMax = (uint64_t{1} << 62) - 1;

// Encoded size of v; v must be <= kVarintMax.
constexpr size_t varint_size(uint64_t v) {
  return v < 64 ? 1 : v < 16384 ? 2 : v < 1073741824 ? 4 : 8;
}

// Size of a varint from its first byte (the two-bit prefix).
constexpr size_t varint_size_from_first(uint8_t b) { return size_t{1} << (b >> 6); }

// Writes v in exactly `len` bytes (1, 2, 4 or 8; len >= varint_size(v)).
inline uint8_t* varint_encode_len(uint8_t* p, uint64_t v, size_t len) {
  static constexpr uint8_t kPrefix[9] = {0, 0x00, 0x40, 0, 0x80, 0, 0, 0, 0xc0};
  for (size_t i = len; i-- > 0;) {
    p[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
  p[0] |= kPrefix[len];
  return p + len;
}

inline uint8_t* varint_encode(uint8_t* p, uint64_t v) {
  return varint_encode_len(p, v, varint_size(v));
}

// Decodes from [p, end). Returns bytes consumed, 0 if truncated.
inline size_t varint_decode(const uint8_t* p, const uint8_t* end, uint64_t& out) {
  if (p >= end) return 0;
  size_t len = varint_size_from_first(p[0]);
  if (static_cast<size_t>(end - p) < len) return 0;
  uint64_t v = p[0] & 0x3f;
  for (size_t i = 1; i < len; ++i) v = (v << 8) | p[i];
  out = v;
  return len;
}

}  // namespace wt
