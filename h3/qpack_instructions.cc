#include "h3/qpack_instructions.h"

#include <cstring>

#include "h3/huffman.h"

namespace wt::h3 {

void qpack_put_int_multibyte(std::vector<uint8_t>& out, uint8_t first, unsigned prefix_bits,
                             uint64_t value) {
  const uint64_t max_prefix = (1u << prefix_bits) - 1;
  if (value < max_prefix) {
    out.push_back(static_cast<uint8_t>(first | value));
    return;
  }
  out.push_back(static_cast<uint8_t>(first | max_prefix));
  value -= max_prefix;
  while (value >= 0x80) {
    out.push_back(static_cast<uint8_t>(0x80 | (value & 0x7f)));
    value >>= 7;
  }
  out.push_back(static_cast<uint8_t>(value));
}

size_t qpack_int_size(unsigned prefix_bits, uint64_t value) {
  const uint64_t max_prefix = (1u << prefix_bits) - 1;
  if (value < max_prefix) return 1;
  value -= max_prefix;
  size_t n = 2;
  while (value >= 0x80) {
    value >>= 7;
    ++n;
  }
  return n;
}

QpackParse qpack_get_int_multibyte(const uint8_t*& p, const uint8_t* end, unsigned prefix_bits,
                                   uint64_t& out) {
  if (p == end) return QpackParse::incomplete;
  const uint64_t max_prefix = (1u << prefix_bits) - 1;
  uint64_t v = *p & max_prefix;
  const uint8_t* q = p + 1;
  if (v == max_prefix) {
    // RFC 7541 §5.1: continuation bytes, 7 bits each, least significant first.
    for (unsigned shift = 0;; shift += 7) {
      if (shift > 63) return QpackParse::error;  // over-long encoding
      if (q == end) return QpackParse::incomplete;
      const uint8_t b = *q++;
      const uint64_t chunk = b & 0x7f;
      if (chunk != 0) {
        if (shift >= 62 || chunk > ((kQpackIntMax - v) >> shift)) return QpackParse::error;
        v += chunk << shift;
      }
      if (!(b & 0x80)) break;
    }
  }
  p = q;
  out = v;
  return QpackParse::ok;
}

size_t qpack_string_size(unsigned prefix_bits, std::string_view s, bool huffman) {
  size_t len = s.size();
  if (huffman) {
    const size_t h = huffman_encoded_size(s);
    if (h < len) len = h;
  }
  return qpack_int_size(prefix_bits - 1, len) + len;
}

void qpack_put_string(std::vector<uint8_t>& out, uint8_t first, unsigned prefix_bits,
                      std::string_view s, bool huffman) {
  const unsigned len_bits = prefix_bits - 1;
  const uint8_t h_bit = static_cast<uint8_t>(1u << len_bits);
  if (huffman) {
    const size_t h = huffman_encoded_size(s);
    if (h < s.size()) {
      qpack_put_int(out, first | h_bit, len_bits, h);
      const size_t at = out.size();
      out.resize(at + h);
      huffman_encode(s, out.data() + at);
      return;
    }
  }
  qpack_put_int(out, first, len_bits, s.size());
  const size_t at = out.size();
  out.resize(at + s.size());
  if (!s.empty()) std::memcpy(out.data() + at, s.data(), s.size());
}

QpackParse qpack_get_string(const uint8_t*& p, const uint8_t* end, unsigned prefix_bits,
                            uint64_t max_len, std::string& out, size_t& missing,
                            QpackStringError& why) {
  missing = 1;
  why = QpackStringError::none;
  if (p == end) return QpackParse::incomplete;
  const bool huff = (*p >> (prefix_bits - 1)) & 1;
  const uint8_t* q = p;
  uint64_t len = 0;
  const QpackParse r = qpack_get_int(q, end, prefix_bits - 1, len);
  if (r == QpackParse::error) {
    why = QpackStringError::too_long;
    return r;
  }
  if (r == QpackParse::incomplete) return r;
  if (len > max_len) {
    why = QpackStringError::too_long;
    return QpackParse::error;
  }
  const size_t avail = static_cast<size_t>(end - q);
  if (len > avail) {
    missing = static_cast<size_t>(len - avail);
    return QpackParse::incomplete;
  }
  const size_t n = static_cast<size_t>(len);
  out.clear();
  if (huff) {
    if (!huffman_decode({q, n}, out)) {
      why = QpackStringError::bad_huffman;
      return QpackParse::error;
    }
  } else {
    out.assign(reinterpret_cast<const char*>(q), n);
  }
  p = q + n;
  return QpackParse::ok;
}

}  // namespace wt::h3
