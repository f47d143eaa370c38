#include "h3/huffman.h"

#include <array>
#include <bit>
#include <cstring>

namespace wt::h3 {
namespace {

// RFC 7541 Appendix B: code (right-aligned) and length of each symbol.
constexpr uint32_t kCode[257] = {
    0x1ff8,     0x7fffd8,   0xfffffe2,  0xfffffe3,  0xfffffe4,  0xfffffe5,  0xfffffe6,
    0xfffffe7,  0xfffffe8,  0xffffea,   0x3ffffffc, 0xfffffe9,  0xfffffea,  0x3ffffffd,
    0xfffffeb,  0xfffffec,  0xfffffed,  0xfffffee,  0xfffffef,  0xffffff0,  0xffffff1,
    0xffffff2,  0x3ffffffe, 0xffffff3,  0xffffff4,  0xffffff5,  0xffffff6,  0xffffff7,
    0xffffff8,  0xffffff9,  0xffffffa,  0xffffffb,  0x14,       0x3f8,      0x3f9,
    0xffa,      0x1ff9,     0x15,       0xf8,       0x7fa,      0x3fa,      0x3fb,
    0xf9,       0x7fb,      0xfa,       0x16,       0x17,       0x18,       0x0,
    0x1,        0x2,        0x19,       0x1a,       0x1b,       0x1c,       0x1d,
    0x1e,       0x1f,       0x5c,       0xfb,       0x7ffc,     0x20,       0xffb,
    0x3fc,      0x1ffa,     0x21,       0x5d,       0x5e,       0x5f,       0x60,
    0x61,       0x62,       0x63,       0x64,       0x65,       0x66,       0x67,
    0x68,       0x69,       0x6a,       0x6b,       0x6c,       0x6d,       0x6e,
    0x6f,       0x70,       0x71,       0x72,       0xfc,       0x73,       0xfd,
    0x1ffb,     0x7fff0,    0x1ffc,     0x3ffc,     0x22,       0x7ffd,     0x3,
    0x23,       0x4,        0x24,       0x5,        0x25,       0x26,       0x27,
    0x6,        0x74,       0x75,       0x28,       0x29,       0x2a,       0x7,
    0x2b,       0x76,       0x2c,       0x8,        0x9,        0x2d,       0x77,
    0x78,       0x79,       0x7a,       0x7b,       0x7ffe,     0x7fc,      0x3ffd,
    0x1ffd,     0xffffffc,  0xfffe6,    0x3fffd2,   0xfffe7,    0xfffe8,    0x3fffd3,
    0x3fffd4,   0x3fffd5,   0x7fffd9,   0x3fffd6,   0x7fffda,   0x7fffdb,   0x7fffdc,
    0x7fffdd,   0x7fffde,   0xffffeb,   0x7fffdf,   0xffffec,   0xffffed,   0x3fffd7,
    0x7fffe0,   0xffffee,   0x7fffe1,   0x7fffe2,   0x7fffe3,   0x7fffe4,   0x1fffdc,
    0x3fffd8,   0x7fffe5,   0x3fffd9,   0x7fffe6,   0x7fffe7,   0xffffef,   0x3fffda,
    0x1fffdd,   0xfffe9,    0x3fffdb,   0x3fffdc,   0x7fffe8,   0x7fffe9,   0x1fffde,
    0x7fffea,   0x3fffdd,   0x3fffde,   0xfffff0,   0x1fffdf,   0x3fffdf,   0x7fffeb,
    0x7fffec,   0x1fffe0,   0x1fffe1,   0x3fffe0,   0x1fffe2,   0x7fffed,   0x3fffe1,
    0x7fffee,   0x7fffef,   0xfffea,    0x3fffe2,   0x3fffe3,   0x3fffe4,   0x7ffff0,
    0x3fffe5,   0x3fffe6,   0x7ffff1,   0x3ffffe0,  0x3ffffe1,  0xfffeb,    0x7fff1,
    0x3fffe7,   0x7ffff2,   0x3fffe8,   0x1ffffec,  0x3ffffe2,  0x3ffffe3,  0x3ffffe4,
    0x7ffffde,  0x7ffffdf,  0x3ffffe5,  0xfffff1,   0x1ffffed,  0x7fff2,    0x1fffe3,
    0x3ffffe6,  0x7ffffe0,  0x7ffffe1,  0x3ffffe7,  0x7ffffe2,  0xfffff2,   0x1fffe4,
    0x1fffe5,   0x3ffffe8,  0x3ffffe9,  0xffffffd,  0x7ffffe3,  0x7ffffe4,  0x7ffffe5,
    0xfffec,    0xfffff3,   0xfffed,    0x1fffe6,   0x3fffe9,   0x1fffe7,   0x1fffe8,
    0x7ffff3,   0x3fffea,   0x3fffeb,   0x1ffffee,  0x1ffffef,  0xfffff4,   0xfffff5,
    0x3ffffea,  0x7ffff4,   0x3ffffeb,  0x7ffffe6,  0x3ffffec,  0x3ffffed,  0x7ffffe7,
    0x7ffffe8,  0x7ffffe9,  0x7ffffea,  0x7ffffeb,  0xffffffe,  0x7ffffec,  0x7ffffed,
    0x7ffffee,  0x7ffffef,  0x7fffff0,  0x3ffffee,  0x3fffffff,
};

constexpr uint8_t kLength[257] = {
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28,
    30, 28, 28, 28, 28, 28, 28, 28, 28, 28, 6,  10, 10, 12, 13, 6,  8,  11, 10, 10, 8,  11,
    8,  6,  6,  6,  5,  5,  5,  6,  6,  6,  6,  6,  6,  6,  7,  8,  15, 6,  12, 10, 13, 6,
    7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,
    8,  7,  8,  13, 19, 13, 14, 6,  15, 5,  6,  5,  6,  5,  6,  6,  6,  5,  7,  7,  6,  6,
    6,  5,  6,  7,  6,  5,  5,  6,  7,  7,  7,  7,  7,  15, 11, 14, 13, 28, 20, 22, 20, 20,
    22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21,
    22, 23, 22, 23, 23, 24, 22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
    21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, 26, 26, 20, 19, 22, 23,
    22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26,
    28, 27, 27, 27, 20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27,
    26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, 30,
};

// Decoder: a 12-bit lookahead table resolves every code of up to 12 bits
// (nearly all of text) and, when it fits, the one after it; longer codes go
// through canonical decoding by length. Built at compile time.
constexpr unsigned kPeek = 12;

struct Entry {
  uint8_t sym[2];
  uint8_t len1;   // bits of the first symbol; 0: its code is longer than kPeek
  uint8_t total;  // bits of both symbols (== len1 if only one)
};

struct Decoder {
  std::array<Entry, 1u << kPeek> table{};
  // Canonical code (RFC 7541 Appendix B is canonical): for each length, the
  // first code, how many codes, and where its symbols start in `sorted`.
  std::array<uint32_t, 31> first{};
  std::array<uint16_t, 31> count{};
  std::array<uint16_t, 31> offset{};
  std::array<uint16_t, 257> sorted{};

  constexpr Decoder() {
    uint16_t n = 0;
    for (unsigned len = 1; len <= 30; ++len) {
      offset[len] = n;
      for (unsigned sym = 0; sym <= kHuffmanEos; ++sym) {
        if (kLength[sym] != len) continue;
        if (count[len]++ == 0) first[len] = kCode[sym];
        sorted[n++] = static_cast<uint16_t>(sym);
      }
    }
    // Single symbols first, then a second one where it fits.
    for (unsigned sym = 0; sym <= kHuffmanEos; ++sym) {
      const unsigned len = kLength[sym];
      if (len > kPeek) continue;
      const unsigned lo = kCode[sym] << (kPeek - len);
      for (unsigned v = lo; v < lo + (1u << (kPeek - len)); ++v) {
        table[v] = {{static_cast<uint8_t>(sym), 0}, static_cast<uint8_t>(len),
                    static_cast<uint8_t>(len)};
      }
    }
    for (unsigned v = 0; v < table.size(); ++v) {
      Entry& e = table[v];
      if (e.len1 == 0) continue;
      const Entry& next = table[(v << e.len1) & (table.size() - 1)];
      if (next.len1 != 0 && e.len1 + next.len1 <= kPeek) {
        e.sym[1] = next.sym[0];
        e.total = static_cast<uint8_t>(e.len1 + next.len1);
      }
    }
  }

  // Decodes the long code at the top of `bits32`: its symbol and length.
  void slow(uint32_t bits32, unsigned& sym, unsigned& len) const {
    for (len = kPeek + 1; len <= 30; ++len) {
      const uint32_t code = bits32 >> (32 - len);
      if (code - first[len] < count[len]) {
        sym = sorted[offset[len] + (code - first[len])];
        return;
      }
    }
    sym = kHuffmanEos;  // unreachable: the code is complete
    len = 30;
  }
};

constexpr Decoder kDecoder;

// The n (1..7) bytes at p, the first in the top byte, zeros below.
uint64_t load_be_upto7(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  if (n >= 4) {
    uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    if constexpr (std::endian::native == std::endian::little) {
      a = __builtin_bswap32(a);
      b = __builtin_bswap32(b);
    }
    v = uint64_t{a} << 32 | uint64_t{b} << (64 - 8 * n);  // overlapping bytes agree
  } else {
    v = uint64_t{p[0]} << 56 | uint64_t{p[n / 2]} << (56 - 8 * (n / 2)) |
        uint64_t{p[n - 1]} << (56 - 8 * (n - 1));
  }
  return v;
}

uint64_t load_be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];  // compiles to a load + bswap
  return v;
}

}  // namespace

uint32_t huffman_code(unsigned sym) { return sym <= kHuffmanEos ? kCode[sym] : 0; }
uint8_t huffman_code_length(unsigned sym) { return sym <= kHuffmanEos ? kLength[sym] : 0; }

size_t huffman_encoded_size(std::string_view s) {
  size_t bits = 0;
  for (unsigned char c : s) bits += kLength[c];
  return (bits + 7) / 8;
}

void huffman_encode(std::string_view s, uint8_t* out) {
  uint64_t acc = 0;  // the low `bits` bits are pending, at most 61
  unsigned bits = 0;
  for (unsigned char c : s) {
    acc = (acc << kLength[c]) | kCode[c];
    bits += kLength[c];
    if (bits >= 32) {
      bits -= 32;
      const uint32_t w = static_cast<uint32_t>(acc >> bits);
      out[0] = static_cast<uint8_t>(w >> 24);
      out[1] = static_cast<uint8_t>(w >> 16);
      out[2] = static_cast<uint8_t>(w >> 8);
      out[3] = static_cast<uint8_t>(w);
      out += 4;
    }
  }
  while (bits >= 8) {
    bits -= 8;
    *out++ = static_cast<uint8_t>(acc >> bits);
  }
  if (bits > 0) {
    // Padding: the most significant bits of EOS (all ones), RFC 7541 §5.2.
    *out = static_cast<uint8_t>((acc << (8 - bits)) | (0xffu >> bits));
  }
}

bool huffman_decode(std::span<const uint8_t> in, char* out, size_t& out_len) {
  const Decoder& d = kDecoder;
  char* w = out;
  const uint8_t* p = in.data();
  const uint8_t* const end = p + in.size();
  uint64_t buf = 0;  // the next `bits` bits, left-aligned
  unsigned bits = 0;
  // Bulk: refill 7-8 bytes at once while 8 remain, then decode while any
  // code fits (30 bits) without end-of-input checks. Bits below the counted
  // ones are the next input bits, which the next refill ORs in again.
  while (end - p >= 8) {
    buf |= load_be64(p) >> bits;
    p += (63 - bits) >> 3;
    bits |= 56;
    do {
      const Entry& e = d.table[buf >> (64 - kPeek)];
      if (e.len1 != 0) {
        w[0] = static_cast<char>(e.sym[0]);
        w[1] = static_cast<char>(e.sym[1]);  // the bound leaves room
        w += 1 + (e.total != e.len1);
        buf <<= e.total;
        bits -= e.total;
      } else {
        unsigned sym = 0, len = 0;
        d.slow(static_cast<uint32_t>(buf >> 32), sym, len);
        if (sym == kHuffmanEos) return false;  // RFC 7541 §5.2
        *w++ = static_cast<char>(sym);
        buf <<= len;
        bits -= len;
      }
    } while (bits >= 30);
  }
  buf = bits == 0 ? 0 : buf & (~uint64_t{0} << (64 - bits));  // zeros below
  // Tail: fewer than 8 bytes left; every step checks what is really there.
  // When they all fit (always, for a short string), load them at once.
  if (const size_t rest = static_cast<size_t>(end - p); rest > 0 && bits + 8 * rest <= 64) {
    buf |= load_be_upto7(p, rest) >> bits;
    bits += static_cast<unsigned>(8 * rest);
    p = end;
  }
  for (;;) {
    while (bits <= 56 && p < end) {
      buf |= uint64_t{*p++} << (56 - bits);
      bits += 8;
    }
    // With no bits left the entry (of code 0...) is longer than 0 bits.
    const Entry& e = d.table[buf >> (64 - kPeek)];
    if (e.len1 != 0) {
      if (e.len1 > bits) break;  // only padding is left
      w[0] = static_cast<char>(e.sym[0]);
      w[1] = static_cast<char>(e.sym[1]);  // kept only if its bits are there
      const unsigned used = e.total <= bits ? e.total : e.len1;
      w += 1 + (used != e.len1);
      buf <<= used;
      bits -= used;
    } else {
      unsigned sym = 0, len = 0;
      d.slow(static_cast<uint32_t>(buf >> 32), sym, len);
      if (len > bits) break;  // only padding is left
      if (sym == kHuffmanEos) return false;  // RFC 7541 §5.2
      *w++ = static_cast<char>(sym);
      buf <<= len;
      bits -= len;
    }
  }
  out_len = static_cast<size_t>(w - out);
  // RFC 7541 §5.2: at most 7 bits of padding, all ones.
  return bits <= 7 && (bits == 0 || (buf >> (64 - bits)) == (uint64_t{1} << bits) - 1);
}

bool huffman_decode(std::span<const uint8_t> in, std::string& out) {
  const size_t start = out.size();
  out.resize(start + huffman_decode_bound(in.size()));
  size_t n = 0;
  const bool ok = huffman_decode(in, out.data() + start, n);
  out.resize(start + n);
  return ok;
}

}  // namespace wt::h3
