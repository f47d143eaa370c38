// Short-string helpers for QPACK table lookups: unaligned loads, equality and
// a fast non-cryptographic hash (8 bytes per step) that never call into libc
// for the short names and values of header fields, and a flat hash index.
// Hash matches are always confirmed by comparing the strings.
#pragma once
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace wt::h3 {

namespace qpack_detail {

// Little-endian loads: byte i of the string is bits 8i..8i+7, on any host.
inline uint64_t load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}
inline uint32_t load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
  return v;
}

// The n (0..8) bytes at p as a little-endian integer, zero-extended; reads
// only p[0..n).
inline uint64_t load_upto8(const char* p, size_t n) {
  if (n >= 4) {
    const uint64_t lo = load32(p);
    const uint64_t hi = load32(p + n - 4);
    return lo | (hi << ((n - 4) * 8));  // overlapping bytes agree
  }
  if (n == 0) return 0;
  const auto b = [p](size_t i) { return uint64_t{static_cast<uint8_t>(p[i])} << (i * 8); };
  return b(0) | b(n / 2) | b(n - 1);
}

}  // namespace qpack_detail

// A string's length and its first and last 8 bytes (little-endian, the
// first zero-padded when shorter): equal packs mean equal strings up to 16
// bytes. Computable at compile time for constant tables.
struct QpackPacked {
  uint64_t head = 0;
  uint64_t tail = 0;
  size_t len = 0;
};

constexpr QpackPacked qpack_pack_constexpr(std::string_view s) {
  QpackPacked k;
  k.len = s.size();
  const auto word = [&](size_t from, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= uint64_t{static_cast<uint8_t>(s[from + i])} << (8 * i);
    return v;
  };
  k.head = word(0, s.size() < 8 ? s.size() : 8);
  k.tail = s.size() < 8 ? k.head : word(s.size() - 8, 8);
  return k;
}

inline QpackPacked qpack_pack(std::string_view s) {
  using namespace qpack_detail;
  if (s.size() >= 8) return {load64(s.data()), load64(s.data() + s.size() - 8), s.size()};
  const uint64_t v = load_upto8(s.data(), s.size());
  return {v, v, s.size()};
}

// Whether the n bytes at a and b are equal.
inline bool qpack_bytes_equal(const char* a, const char* b, size_t n) {
  using namespace qpack_detail;
  if (n <= 8) return load_upto8(a, n) == load_upto8(b, n);
  for (; n > 8; a += 8, b += 8, n -= 8) {
    if (load64(a) != load64(b)) return false;
  }
  return load64(a + n - 8) == load64(b + n - 8);  // the last 8, overlapping
}

inline bool qpack_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && qpack_bytes_equal(a.data(), b.data(), a.size());
}

inline uint64_t qpack_hash(std::string_view s, uint64_t seed = 0) {
  using namespace qpack_detail;
  constexpr uint64_t k = 0x9e3779b97f4a7c15ull;
  uint64_t h = seed ^ (s.size() * k);
  const char* p = s.data();
  size_t n = s.size();
  if (n <= 16) {  // most names and values: two overlapping words
    const QpackPacked w = qpack_pack(s);
    h = (h ^ w.head) * k;
    h = (h ^ (h >> 29) ^ w.tail) * k;
    return h ^ (h >> 32);
  }
  for (; n >= 8; p += 8, n -= 8) {
    h = (h ^ load64(p)) * k;
    h ^= h >> 29;
  }
  if (n > 0) {
    h = (h ^ load_upto8(p, n)) * k;
    h ^= h >> 29;
  }
  h *= k;
  return h ^ (h >> 32);
}

// Sets `s` to `v`. When both are short (the usual name or value, in the
// small-string buffer) the bytes move with fixed-size copies instead of the
// calls to memcpy that std::string's assign, copy and move make.
inline void qpack_set_string(std::string& s, std::string_view v) {
  constexpr size_t kLocal = 15;  // libstdc++ and libc++ both hold >= 15 in place
  if (v.size() > kLocal || s.capacity() > kLocal) {
    s.assign(v.data(), v.size());
    return;
  }
  char buf[16] = {};
  const char* p = v.data();
  const size_t n = v.size();
  // Two overlapping fixed-size copies cover any length in [k, 2k].
  if (n >= 8) {
    std::memcpy(buf, p, 8);
    std::memcpy(buf + n - 8, p + n - 8, 8);
  } else if (n >= 4) {
    std::memcpy(buf, p, 4);
    std::memcpy(buf + n - 4, p + n - 4, 4);
  } else if (n > 0) {
    buf[0] = p[0];
    buf[n / 2] = p[n / 2];
    buf[n - 1] = p[n - 1];
  }
  // Rebuilt in place from a constant length (an inline copy), then cut.
  std::destroy_at(&s);
  std::construct_at(&s, buf, kLocal);
  s.erase(n);
}

// An open-addressed map from a 64-bit hash to an absolute table index, for
// the encoder's "latest entry with this field / name" lookups: one probe
// in the common case and no allocation once grown.
class QpackHashIndex {
 public:
  bool find(uint64_t hash, uint64_t& value) const {
    if (slots_.empty()) return false;
    const uint64_t key = norm(hash);
    for (size_t i = home(key);; i = (i + 1) & mask()) {
      const Slot& s = slots_[i];
      if (s.key == key) {
        value = s.value;
        return true;
      }
      if (s.key == 0) return false;
    }
  }
  // Inserts or overwrites.
  void set(uint64_t hash, uint64_t value) {
    if ((count_ + 1) * 2 > slots_.size()) grow();
    const uint64_t key = norm(hash);
    size_t i = home(key);
    while (slots_[i].key != 0 && slots_[i].key != key) i = (i + 1) & mask();
    if (slots_[i].key == 0) ++count_;
    slots_[i] = {key, value};
  }
  // Removes the entry for `hash` if it maps to `value`.
  void erase(uint64_t hash, uint64_t value) {
    if (slots_.empty()) return;
    const uint64_t key = norm(hash);
    size_t i = home(key);
    while (slots_[i].key != key) {
      if (slots_[i].key == 0) return;
      i = (i + 1) & mask();
    }
    if (slots_[i].value != value) return;
    // Backward-shift deletion keeps every probe chain unbroken.
    for (size_t j = (i + 1) & mask();; j = (j + 1) & mask()) {
      if (slots_[j].key == 0) break;
      const size_t h = home(slots_[j].key);
      // Move slots_[j] into the hole unless its home lies in (i, j].
      const bool stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);
      if (!stays) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = {};
    --count_;
  }
  size_t size() const { return count_; }

 private:
  struct Slot {
    uint64_t key = 0;  // 0: empty
    uint64_t value = 0;
  };
  static uint64_t norm(uint64_t hash) { return hash == 0 ? 1 : hash; }
  size_t mask() const { return slots_.size() - 1; }
  size_t home(uint64_t key) const { return static_cast<size_t>(key >> 32) & mask(); }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
    count_ = 0;
    for (const Slot& s : old) {
      if (s.key != 0) set(s.key, s.value);
    }
  }

  std::vector<Slot> slots_;  // power-of-two size, at most half full
  size_t count_ = 0;
};

}  // namespace wt::h3
