// The table-driven Huffman coder (h3/huffman.cc) against a bit-by-bit
// reference built from the code table alone (RFC 7541 §5.2, Appendix B):
// every byte value, random strings through the bulk and tail paths, random
// (mostly invalid) input, and every invalid padding.
#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "h3/huffman.h"
#include "lib/random.h"

using namespace wt;
using namespace wt::h3;

namespace {

// Bit-by-bit encoder: appends each code most significant bit first, pads
// with ones.
std::vector<uint8_t> ref_encode(std::string_view s) {
  std::vector<bool> bits;
  for (unsigned char c : s) {
    for (int i = huffman_code_length(c) - 1; i >= 0; --i) bits.push_back((huffman_code(c) >> i) & 1);
  }
  while (bits.size() % 8 != 0) bits.push_back(true);
  std::vector<uint8_t> out(bits.size() / 8);
  for (size_t i = 0; i < bits.size(); ++i) out[i / 8] |= static_cast<uint8_t>(bits[i] << (7 - i % 8));
  return out;
}

// Bit-by-bit decoder: grows a code one bit at a time until it names a symbol.
std::optional<std::string> ref_decode(const std::vector<uint8_t>& in) {
  static const std::map<std::pair<unsigned, uint32_t>, unsigned> codes = [] {
    std::map<std::pair<unsigned, uint32_t>, unsigned> m;
    for (unsigned sym = 0; sym <= kHuffmanEos; ++sym)
      m[{huffman_code_length(sym), huffman_code(sym)}] = sym;
    return m;
  }();
  std::string out;
  uint32_t code = 0;
  unsigned len = 0;
  bool ones = true;  // the pending bits are all ones
  for (size_t i = 0; i < in.size() * 8; ++i) {
    const unsigned bit = (in[i / 8] >> (7 - i % 8)) & 1;
    code = (code << 1) | bit;
    ++len;
    ones = ones && bit;
    auto it = codes.find({len, code});
    if (it == codes.end()) {
      if (len >= 30) return std::nullopt;  // cannot happen: the code is complete
      continue;
    }
    if (it->second == kHuffmanEos) return std::nullopt;  // EOS in a string
    out.push_back(static_cast<char>(it->second));
    code = 0;
    len = 0;
    ones = true;
  }
  // Padding: at most 7 bits, all ones (a prefix of EOS).
  if (len > 7 || !ones) return std::nullopt;
  return out;
}

// Both table-driven entry points, checked against each other.
std::optional<std::string> table_decode(const std::vector<uint8_t>& in) {
  std::string a = "prefix:";
  const bool ok_a = huffman_decode(in, a);
  std::vector<char> buf(huffman_decode_bound(in.size()));
  size_t n = 0;
  const bool ok_b = huffman_decode(in, buf.data(), n);
  REQUIRE(ok_a == ok_b);
  if (!ok_a) return std::nullopt;
  REQUIRE(n <= huffman_decode_bound(in.size()));
  REQUIRE(a.substr(0, 7) == "prefix:");  // appends
  REQUIRE(a.substr(7) == std::string(buf.data(), n));
  return a.substr(7);
}

std::string random_string(SeededRandom& rng, size_t len, bool text) {
  std::string s(len, '\0');
  for (char& c : s) {
    c = text ? static_cast<char>(0x20 + rng.next() % 95) : static_cast<char>(rng.next() & 0xff);
  }
  return s;
}

}  // namespace

TEST_CASE("huffman: every byte value, alone and in runs, matches the reference", "[huffman]") {
  for (unsigned c = 0; c < 256; ++c) {
    for (size_t run : {1, 2, 7, 8, 9, 17, 40}) {
      const std::string s(run, static_cast<char>(c));
      const auto enc = ref_encode(s);
      std::vector<uint8_t> mine(huffman_encoded_size(s));
      REQUIRE(mine.size() == enc.size());
      huffman_encode(s, mine.data());
      REQUIRE(mine == enc);
      REQUIRE(table_decode(enc) == s);
    }
  }
  std::string all;
  for (unsigned c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  for (unsigned c = 0; c < 256; ++c) all.push_back(static_cast<char>(255 - c));
  CHECK(table_decode(ref_encode(all)) == all);
}

TEST_CASE("huffman: random strings round trip through both paths", "[huffman]") {
  SeededRandom rng(7);
  for (int i = 0; i < 3000; ++i) {
    const size_t len = rng.next() % (i % 10 == 0 ? 400 : 40);
    const std::string s = random_string(rng, len, i % 2 == 0);
    const auto enc = ref_encode(s);
    std::vector<uint8_t> mine(huffman_encoded_size(s));
    huffman_encode(s, mine.data());
    REQUIRE(mine == enc);
    REQUIRE(table_decode(enc) == s);
    REQUIRE(ref_decode(enc) == s);
  }
}

TEST_CASE("huffman: random input decodes exactly as the bit-by-bit reference", "[huffman]") {
  SeededRandom rng(11);
  for (int i = 0; i < 40000; ++i) {
    std::vector<uint8_t> in(rng.next() % 24);
    for (uint8_t& b : in) {
      // Mostly ones, so that long codes, EOS and long padding come up often.
      const uint64_t r = rng.next();
      b = (r & 3) != 0 ? static_cast<uint8_t>(0xff & ~(1u << (r >> 8) % 9)) : static_cast<uint8_t>(r >> 16);
    }
    INFO("input " << i);
    REQUIRE(table_decode(in) == ref_decode(in));
  }
}

TEST_CASE("huffman: padding must be at most 7 bits, all ones", "[huffman]") {
  SeededRandom rng(3);
  for (int i = 0; i < 400; ++i) {
    const std::string s = random_string(rng, 1 + rng.next() % 30, i % 2 == 0);
    size_t bits = 0;
    for (unsigned char c : s) bits += huffman_code_length(c);
    const unsigned pad = static_cast<unsigned>((8 - bits % 8) % 8);
    std::vector<uint8_t> enc = ref_encode(s);
    REQUIRE(table_decode(enc) == s);
    // Any other pattern of the padding bits is not padding (RFC 7541 §5.2):
    // an error, or, from 5 bits on, possibly one more symbol.
    for (unsigned p = 0; p + 1 < (1u << pad); ++p) {
      std::vector<uint8_t> bad = enc;
      bad.back() = static_cast<uint8_t>((bad.back() & ~((1u << pad) - 1)) | p);
      const auto got = table_decode(bad);
      REQUIRE(got == ref_decode(bad));
      REQUIRE(got != s);
      if (pad < 5) REQUIRE_FALSE(got);  // shorter than any code
    }
    // A whole extra byte of ones is padding longer than 7 bits.
    std::vector<uint8_t> longer = enc;
    longer.push_back(0xff);
    REQUIRE_FALSE(table_decode(longer));
  }
  // The empty string has no padding.
  CHECK(table_decode({}) == "");
  for (unsigned b = 0; b < 256; ++b) {
    // A lone byte: a 5..8-bit symbol with valid padding, or an error.
    CHECK(table_decode({static_cast<uint8_t>(b)}) == ref_decode({static_cast<uint8_t>(b)}));
  }
}

TEST_CASE("huffman: EOS inside a string is an error", "[huffman]") {
  // EOS (30 ones) followed by 2 bits of padding, alone and after symbols,
  // short (tail path) and long (bulk path).
  CHECK_FALSE(table_decode({0xff, 0xff, 0xff, 0xff}));
  for (size_t before : {1, 5, 12, 40}) {
    const std::string s(before, 'a');  // 'a' = 00011 (5 bits)
    std::vector<bool> bits;
    for (size_t i = 0; i < before; ++i)
      for (int k = 4; k >= 0; --k) bits.push_back((0x3 >> k) & 1);
    for (int k = 0; k < 30; ++k) bits.push_back(true);  // EOS
    for (size_t i = 0; i < 16; ++i)
      for (int k = 4; k >= 0; --k) bits.push_back((0x3 >> k) & 1);
    while (bits.size() % 8) bits.push_back(true);
    std::vector<uint8_t> in(bits.size() / 8);
    for (size_t i = 0; i < bits.size(); ++i) in[i / 8] |= static_cast<uint8_t>(bits[i] << (7 - i % 8));
    INFO("symbols before EOS: " << before);
    CHECK_FALSE(table_decode(in));
    CHECK_FALSE(ref_decode(in));
  }
}

TEST_CASE("huffman: the decode bound holds for the densest input", "[huffman]") {
  for (size_t len = 0; len < 100; ++len) {
    const std::string s(len, '0');  // 5-bit code: 8/5 symbols per byte
    const auto enc = ref_encode(s);
    REQUIRE(s.size() <= huffman_decode_bound(enc.size()));
    REQUIRE(table_decode(enc) == s);
  }
}
