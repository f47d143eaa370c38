// Bounds-checked reader and writer over std::span. Both are "sticky": after
// the first out-of-bounds access ok() is false and further reads yield zero,
// so a parser may read a whole structure and check once.
#pragma once
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "lib/varint.h"

namespace wt {

using Bytes = std::span<const uint8_t>;
using MutBytes = std::span<uint8_t>;

inline Bytes as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_string(Bytes b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

class Reader {
 public:
  Reader() = default;
  explicit Reader(Bytes b) : p_(b.data()), begin_(b.data()), end_(b.data() + b.size()) {}

  bool ok() const { return ok_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  bool empty() const { return p_ == end_; }
  size_t offset() const { return static_cast<size_t>(p_ - begin_); }
  const uint8_t* pos() const { return p_; }
  Bytes rest() const { return {p_, remaining()}; }

  uint8_t u8() {
    if (!need(1)) return 0;
    return *p_++;
  }
  uint16_t u16() { return static_cast<uint16_t>(be(2)); }
  uint32_t u24() { return static_cast<uint32_t>(be(3)); }
  uint32_t u32() { return static_cast<uint32_t>(be(4)); }
  uint64_t u64() { return be(8); }
  uint64_t uint_n(size_t n) { return be(n); }

  // Returns false (and marks the reader failed) on truncation.
  bool varint(uint64_t& out) {
    if (!ok_) return false;
    size_t n = varint_decode(p_, end_, out);
    if (n == 0) return fail();
    p_ += n;
    return true;
  }
  uint64_t varint() {
    uint64_t v = 0;
    varint(v);
    return v;
  }
  // A view of the next n bytes (empty span and failure if not present).
  Bytes bytes(size_t n) {
    if (!need(n)) return {};
    Bytes b{p_, n};
    p_ += n;
    return b;
  }
  bool skip(size_t n) {
    if (!need(n)) return false;
    p_ += n;
    return true;
  }
  bool fail() {
    ok_ = false;
    p_ = end_;
    return false;
  }

 private:
  bool need(size_t n) {
    if (!ok_ || remaining() < n) return fail();
    return true;
  }
  uint64_t be(size_t n) {
    if (!need(n)) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | p_[i];
    p_ += n;
    return v;
  }
  const uint8_t* p_ = nullptr;
  const uint8_t* begin_ = nullptr;
  const uint8_t* end_ = nullptr;
  bool ok_ = true;
};

class Writer {
 public:
  Writer() = default;
  explicit Writer(MutBytes b) : p_(b.data()), begin_(b.data()), end_(b.data() + b.size()) {}

  bool ok() const { return ok_; }
  size_t written() const { return static_cast<size_t>(p_ - begin_); }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  uint8_t* pos() { return p_; }
  MutBytes written_span() { return {begin_, written()}; }

  bool u8(uint8_t v) {
    if (!need(1)) return false;
    *p_++ = v;
    return true;
  }
  bool u16(uint16_t v) { return be(v, 2); }
  bool u24(uint32_t v) { return be(v, 3); }
  bool u32(uint32_t v) { return be(v, 4); }
  bool u64(uint64_t v) { return be(v, 8); }
  bool uint_n(uint64_t v, size_t n) { return be(v, n); }
  bool varint(uint64_t v) {
    if (v > kVarintMax) return fail();
    size_t n = varint_size(v);
    if (!need(n)) return false;
    p_ = varint_encode_len(p_, v, n);
    return true;
  }
  // Varint forced to `len` bytes, e.g. a length field patched in later.
  bool varint_len(uint64_t v, size_t len) {
    if (v > kVarintMax || len < varint_size(v)) return fail();
    if (!need(len)) return false;
    p_ = varint_encode_len(p_, v, len);
    return true;
  }
  bool bytes(Bytes b) {
    if (!need(b.size())) return false;
    if (!b.empty()) std::memcpy(p_, b.data(), b.size());
    p_ += b.size();
    return true;
  }
  bool zeros(size_t n) {
    if (!need(n)) return false;
    std::memset(p_, 0, n);
    p_ += n;
    return true;
  }
  bool skip(size_t n) {
    if (!need(n)) return false;
    p_ += n;
    return true;
  }
  bool fail() {
    ok_ = false;
    return false;
  }

 private:
  bool need(size_t n) {
    if (!ok_ || remaining() < n) return fail();
    return true;
  }
  bool be(uint64_t v, size_t n) {
    if (!need(n)) return false;
    for (size_t i = n; i-- > 0;) {
      p_[i] = static_cast<uint8_t>(v);
      v >>= 8;
    }
    p_ += n;
    return true;
  }
  uint8_t* p_ = nullptr;
  uint8_t* begin_ = nullptr;
  uint8_t* end_ = nullptr;
  bool ok_ = true;
};

}  // namespace wt
