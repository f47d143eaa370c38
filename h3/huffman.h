// HPACK Huffman code (RFC 7541 §5.2, Appendix B), used by QPACK string
// literals (RFC 9204 §4.1.2).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace wt::h3 {

inline constexpr unsigned kHuffmanEos = 256;

// The code of symbol `sym` (0..256), right-aligned, and its length in bits.
uint32_t huffman_code(unsigned sym);
uint8_t huffman_code_length(unsigned sym);

// Bytes the Huffman encoding of `s` takes (padding included).
size_t huffman_encoded_size(std::string_view s);
// Writes exactly huffman_encoded_size(s) bytes at `out`, padded with the most
// significant bits of EOS (RFC 7541 §5.2).
void huffman_encode(std::string_view s, uint8_t* out);
// Upper bound on the bytes huffman_decode writes for `n` input bytes: at
// most 8/5 symbols per byte (the shortest code has 5 bits), plus slack.
inline constexpr size_t huffman_decode_bound(size_t n) { return n * 8 / 5 + 2; }
// Decodes `in` into out[0, huffman_decode_bound(in.size())) (it may write
// anywhere in that range) and sets `out_len` to the decoded length. False
// on a decoding error, as below.
bool huffman_decode(std::span<const uint8_t> in, char* out, size_t& out_len);
// Appends the decoding of `in` to `out`. False (and `out` unspecified) on a
// decoding error: EOS in the string, padding longer than 7 bits, or padding
// that is not a prefix of EOS (RFC 7541 §5.2).
bool huffman_decode(std::span<const uint8_t> in, std::string& out);

}  // namespace wt::h3
