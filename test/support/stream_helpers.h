// Helpers shared by the stream tests: patterned data and reading helpers.
#pragma once
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "lib/bytes.h"
#include "quic/stream_range_set.h"
#include "quic/stream_recv.h"
#include "quic/stream_send.h"

namespace wt::test {

inline constexpr uint64_t kInf = ~uint64_t{0};

// Byte i of a test stream.
inline uint8_t pat(uint64_t i) { return static_cast<uint8_t>((i * 7 + 3) % 251); }

inline std::vector<uint8_t> pattern(uint64_t start, size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = pat(start + i);
  return v;
}

inline std::string copy_str(const quic::SendStream& s, const quic::StreamFrameSpec& f) {
  std::string out(f.length, '\0');
  s.copy_data(f.offset, MutBytes(reinterpret_cast<uint8_t*>(out.data()), out.size()));
  return out;
}

inline std::string read_str(quic::RecvStream& r, size_t max = 1 << 20, bool* fin = nullptr) {
  std::string out(max, '\0');
  auto res = r.read(MutBytes(reinterpret_cast<uint8_t*>(out.data()), out.size()));
  REQUIRE(res.ok());
  out.resize(res->bytes);
  if (fin) *fin = res->fin;
  return out;
}

using RV = std::vector<std::pair<uint64_t, uint64_t>>;

inline RV ranges(const quic::StreamRangeSet& s) {
  RV v;
  s.for_each([&](uint64_t a, uint64_t b) { v.emplace_back(a, b); });
  return v;
}

}  // namespace wt::test
