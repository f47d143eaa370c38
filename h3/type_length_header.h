// The type and length varints that start an HTTP/3 frame (RFC 9114 §7.1)
// and a capsule (RFC 9297 §3.2), gathered across reads. Only the missing
// header bytes are taken from the input, so no payload byte is copied here.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "lib/bytes.h"
#include "lib/varint.h"

namespace wt::h3 {

class TypeLengthHeader {
 public:
  // Bytes the header still needs before its next varint ends (1 while that
  // varint's size is not known yet).
  size_t missing() const {
    if (len_ == 0) return 1;
    const size_t tl = varint_size_from_first(buf_[0]);
    if (len_ < tl) return tl - len_;
    if (len_ == tl) return 1;
    return tl + varint_size_from_first(buf_[tl]) - len_;
  }

  // Takes header bytes from the front of `in`; true once type and length
  // are complete (then type()/length() hold them and the header is empty
  // again for the next one).
  bool feed(Bytes& in) {
    const size_t n = std::min(missing(), in.size());
    std::copy_n(in.begin(), n, buf_ + len_);
    len_ += n;
    in = in.subspan(n);
    const size_t tl = varint_size_from_first(buf_[0]);
    if (len_ < tl + 1) return false;
    const size_t ll = varint_size_from_first(buf_[tl]);
    if (len_ < tl + ll) return false;
    varint_decode(buf_, buf_ + tl, type_);
    varint_decode(buf_ + tl, buf_ + tl + ll, length_);
    len_ = 0;
    return true;
  }

  bool empty() const { return len_ == 0; }
  void reset() { len_ = 0; }
  uint64_t type() const { return type_; }
  uint64_t length() const { return length_; }

 private:
  uint8_t buf_[16];  // two varints of at most 8 bytes
  size_t len_ = 0;
  uint64_t type_ = 0, length_ = 0;
};

}  // namespace wt::h3
