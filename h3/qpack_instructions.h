// QPACK primitives: prefixed integers (RFC 7541 §5.1, RFC 9204 §4.1.1) and
// N-bit prefix string literals (RFC 9204 §4.1.2), from which the encoder and
// decoder build the instructions of §4.3-§4.5.
//
// Readers work on a byte range that may end mid-instruction (streams deliver
// bytes in pieces): they return `incomplete` and leave the cursor untouched.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wt::h3 {

enum class QpackParse : uint8_t { ok, incomplete, error };

// RFC 9204 §4.1.1: integers up to 62 bits; larger ones are rejected.
inline constexpr uint64_t kQpackIntMax = (uint64_t{1} << 62) - 1;

// Appends `value` as an integer with a `prefix_bits`-bit prefix (1..8);
// `first` carries the bits above the prefix.
void qpack_put_int_multibyte(std::vector<uint8_t>& out, uint8_t first, unsigned prefix_bits,
                             uint64_t value);
inline void qpack_put_int(std::vector<uint8_t>& out, uint8_t first, unsigned prefix_bits,
                          uint64_t value) {
  const uint64_t max_prefix = (1u << prefix_bits) - 1;
  if (value < max_prefix) {
    out.push_back(static_cast<uint8_t>(first | value));  // the common case: one byte
    return;
  }
  qpack_put_int_multibyte(out, first, prefix_bits, value);
}
size_t qpack_int_size(unsigned prefix_bits, uint64_t value);

// Reads an integer with a `prefix_bits`-bit prefix starting at `p` (the bits
// above the prefix are ignored). On ok, advances `p`. Error on a value above
// kQpackIntMax or more than 10 continuation bytes.
QpackParse qpack_get_int_multibyte(const uint8_t*& p, const uint8_t* end, unsigned prefix_bits,
                                   uint64_t& out);
inline QpackParse qpack_get_int(const uint8_t*& p, const uint8_t* end, unsigned prefix_bits,
                                uint64_t& out) {
  if (p == end) return QpackParse::incomplete;
  const uint8_t max_prefix = static_cast<uint8_t>((1u << prefix_bits) - 1);
  const uint8_t v = *p & max_prefix;
  if (v != max_prefix) {  // the common case: the value fits the prefix
    ++p;
    out = v;
    return QpackParse::ok;
  }
  return qpack_get_int_multibyte(p, end, prefix_bits, out);
}

// Appends a string literal with an N-bit prefix (N = `prefix_bits`, 2..8):
// the H bit is bit N-1 of the first byte, the length an (N-1)-bit prefix
// integer; `first` carries the bits above. Huffman-coded when `huffman` and
// that is shorter.
void qpack_put_string(std::vector<uint8_t>& out, uint8_t first, unsigned prefix_bits,
                      std::string_view s, bool huffman);
size_t qpack_string_size(unsigned prefix_bits, std::string_view s, bool huffman);

enum class QpackStringError : uint8_t { none, too_long, bad_huffman };

// Reads a string literal with an N-bit prefix into `out` (replacing it).
// `max_len` bounds the encoded length (checked before waiting for the bytes).
// On incomplete, `missing` is a lower bound on the bytes still needed.
// On error, `why` says which.
QpackParse qpack_get_string(const uint8_t*& p, const uint8_t* end, unsigned prefix_bits,
                            uint64_t max_len, std::string& out, size_t& missing,
                            QpackStringError& why);

}  // namespace wt::h3
