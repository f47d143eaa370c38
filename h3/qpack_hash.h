// A fast non-cryptographic string hash for QPACK table lookups (8 bytes per
// step). Matches are always confirmed by comparing the strings.
#pragma once
#include <cstdint>
#include <cstring>
#include <string_view>

namespace wt::h3 {

inline uint64_t qpack_hash(std::string_view s, uint64_t seed = 0) {
  constexpr uint64_t k = 0x9e3779b97f4a7c15ull;
  uint64_t h = seed ^ (s.size() * k);
  const char* p = s.data();
  size_t n = s.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * k;
    h ^= h >> 29;
  }
  if (n > 0) {
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = (h ^ w) * k;
    h ^= h >> 29;
  }
  h *= k;
  return h ^ (h >> 32);
}

}  // namespace wt::h3
