// QPACK primitives and RFC vectors: prefixed integers (RFC 7541 §5.1, C.1),
// string literals and Huffman coding (RFC 7541 §5.2, Appendix B, C.4, C.6),
// the static table (RFC 9204 Appendix A) and the exchanges of RFC 9204
// Appendix B, byte for byte. Encoder/decoder behaviour: qpack_codec_test.cc.
#include <catch2/catch.hpp>

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

#include "h3/huffman.h"
#include "h3/qpack_decoder.h"
#include "h3/qpack_encoder.h"
#include "h3/qpack_error.h"
#include "h3/qpack_instructions.h"
#include "h3/qpack_static_table.h"
#include "lib/bytes.h"
#include "lib/hex.h"
#include "lib/random.h"

namespace wt::h3 {
// For Catch's messages.
inline std::ostream& operator<<(std::ostream& os, const HeaderField& f) {
  return os << f.name << ": " << f.value << (f.never_index ? " (never indexed)" : "");
}
}  // namespace wt::h3

using namespace wt;
using namespace wt::h3;

namespace {

Bytes B(const std::vector<uint8_t>& v) { return Bytes{v}; }

std::vector<uint8_t> put_int(uint8_t first, unsigned prefix, uint64_t v) {
  std::vector<uint8_t> out;
  qpack_put_int(out, first, prefix, v);
  return out;
}

QpackParse get_int(const std::vector<uint8_t>& in, unsigned prefix, uint64_t& v,
                   size_t* used = nullptr) {
  const uint8_t* p = in.data();
  const QpackParse r = qpack_get_int(p, in.data() + in.size(), prefix, v);
  if (used) *used = static_cast<size_t>(p - in.data());
  return r;
}

std::vector<uint8_t> huff(std::string_view s) {
  std::vector<uint8_t> out(huffman_encoded_size(s));
  huffman_encode(s, out.data());
  return out;
}

bool unhuff(const std::vector<uint8_t>& in, std::string& out) {
  out.clear();
  return huffman_decode(in, out);
}

HeaderList only(const Result<QpackDecoder::Decoded>& r) {
  REQUIRE(r.ok());
  REQUIRE(std::holds_alternative<HeaderList>(*r));
  return std::get<HeaderList>(*r);
}

}  // namespace

TEST_CASE("prefixed integers: RFC 7541 C.1 examples", "[qpack]") {
  CHECK(put_int(0xe0, 5, 10) == hex("ea"));        // C.1.1, bits above the prefix kept
  CHECK(put_int(0x00, 5, 1337) == hex("1f9a0a"));  // C.1.2
  CHECK(put_int(0x00, 8, 42) == hex("2a"));        // C.1.3
  uint64_t v = 0;
  size_t used = 0;
  CHECK(get_int(hex("ea"), 5, v, &used) == QpackParse::ok);
  CHECK(v == 10);
  CHECK(used == 1);
  CHECK(get_int(hex("ff9a0aff"), 5, v, &used) == QpackParse::ok);
  CHECK(v == 1337);
  CHECK(used == 3);
  CHECK(get_int(hex("2a"), 8, v) == QpackParse::ok);
  CHECK(v == 42);
}

TEST_CASE("prefixed integers: boundaries for every prefix round trip", "[qpack]") {
  for (unsigned prefix = 1; prefix <= 8; ++prefix) {
    const uint64_t m = (1u << prefix) - 1;
    for (uint64_t x : {uint64_t{0}, m - 1, m, m + 1, m + 127, m + 128, m + 16383, m + 16384,
                       uint64_t{1} << 32, kQpackIntMax - 1, kQpackIntMax}) {
      const auto enc = put_int(0, prefix, x);
      CHECK(enc.size() == qpack_int_size(prefix, x));
      uint64_t v = 0;
      size_t used = 0;
      REQUIRE(get_int(enc, prefix, v, &used) == QpackParse::ok);
      CHECK(v == x);
      CHECK(used == enc.size());
      // Every proper prefix of the encoding is incomplete, not an error.
      for (size_t n = 0; n < enc.size(); ++n) {
        std::vector<uint8_t> cut(enc.begin(), enc.begin() + static_cast<long>(n));
        CHECK(get_int(cut, prefix, v) == QpackParse::incomplete);
      }
    }
  }
}

TEST_CASE("prefixed integers: values above 62 bits and over-long encodings rejected", "[qpack]") {
  uint64_t v = 0;
  // 2^62 itself (RFC 9204 §4.1.1 requires 62 bits; we accept no more).
  CHECK(get_int(put_int(0, 5, kQpackIntMax + 1), 5, v) == QpackParse::error);
  CHECK(get_int(put_int(0, 8, UINT64_MAX), 8, v) == QpackParse::error);
  CHECK(get_int(hex("1fffffffffffffffffffff7f"), 5, v) == QpackParse::error);
  // Zero continuation bytes are tolerated up to the 64-bit horizon...
  CHECK(get_int(hex("1f8000"), 5, v) == QpackParse::ok);
  CHECK(v == 31);
  // ...but not beyond it.
  CHECK(get_int(hex("1f8080808080808080808000"), 5, v) == QpackParse::error);
  CHECK(get_int(hex("1f80808080808080808080"), 5, v) == QpackParse::error);
}

TEST_CASE("huffman: code table is the canonical code of RFC 7541 Appendix B", "[qpack]") {
  std::vector<unsigned> syms(257);
  for (unsigned i = 0; i < 257; ++i) syms[i] = i;
  std::stable_sort(syms.begin(), syms.end(), [](unsigned a, unsigned b) {
    return huffman_code_length(a) < huffman_code_length(b);
  });
  uint64_t code = 0;
  for (size_t i = 0; i < syms.size(); ++i) {
    if (i > 0) code = (code + 1) << (huffman_code_length(syms[i]) - huffman_code_length(syms[i - 1]));
    INFO("symbol " << syms[i]);
    CHECK(huffman_code(syms[i]) == code);
  }
  CHECK(huffman_code(kHuffmanEos) == 0x3fffffff);
  CHECK(huffman_code_length(kHuffmanEos) == 30);
  CHECK(huffman_code('0') == 0x0);
  CHECK(huffman_code_length('0') == 5);
  CHECK(huffman_code('/') == 0x18);
  CHECK(huffman_code(255) == 0x3ffffee);
}

TEST_CASE("huffman: RFC 7541 C.4 and C.6 strings", "[qpack]") {
  const std::pair<const char*, const char*> vectors[] = {
      {"www.example.com", "f1e3c2e5f23a6ba0ab90f4ff"},
      {"no-cache", "a8eb10649cbf"},
      {"custom-key", "25a849e95ba97d7f"},
      {"custom-value", "25a849e95bb8e8b4bf"},
      {"302", "6402"},
      {"private", "aec3771a4b"},
      {"Mon, 21 Oct 2013 20:13:21 GMT", "d07abe941054d444a8200595040b8166e082a62d1bff"},
      {"https://www.example.com", "9d29ad171863c78f0b97c8e9ae82ae43d3"},
  };
  for (const auto& [text, coded] : vectors) {
    INFO(text);
    CHECK(to_hex(huff(text)) == coded);
    CHECK(huffman_encoded_size(text) == hex(coded).size());
    std::string out;
    REQUIRE(unhuff(hex(coded), out));
    CHECK(out == text);
  }
}

TEST_CASE("huffman: all 256 symbols round trip", "[qpack]") {
  std::string all;
  for (int c = 0; c < 256; ++c) {
    const std::string one(1, static_cast<char>(c));
    std::string out;
    REQUIRE(unhuff(huff(one), out));
    CHECK(out == one);
    all.push_back(static_cast<char>(c));
  }
  std::string out;
  REQUIRE(unhuff(huff(all), out));
  CHECK(out == all);
  std::string rev(all.rbegin(), all.rend());
  REQUIRE(unhuff(huff(rev), out));
  CHECK(out == rev);

  SeededRandom rng(7);
  for (int i = 0; i < 300; ++i) {
    std::string s(rng.uniform(64), '\0');
    for (char& c : s) c = static_cast<char>(rng.uniform(256));
    REQUIRE(unhuff(huff(s), out));
    CHECK(out == s);
  }
  REQUIRE(unhuff({}, out));
  CHECK(out.empty());
}

TEST_CASE("huffman: EOS, long padding and non-EOS padding are rejected", "[qpack]") {
  std::string out;
  CHECK_FALSE(unhuff(hex("fffffffc"), out));    // EOS (30 ones), then 00
  CHECK_FALSE(unhuff(hex("1fffffffff"), out));  // 'a', EOS, padding
  CHECK(unhuff(hex("1f"), out));                // 'a' + 3 bits of padding
  CHECK(out == "a");
  CHECK_FALSE(unhuff(hex("1fff"), out));  // 'a' + 11 bits of padding
  CHECK_FALSE(unhuff(hex("f8ff"), out));  // '&' (8 bits) + 8 bits of padding
  CHECK_FALSE(unhuff(hex("18"), out));    // 'a' + 000: padding not a prefix of EOS
  CHECK_FALSE(unhuff(hex("fe"), out));    // 7 bits that are no symbol, but 1111111 0
  CHECK(unhuff(hex("ff"), out) == false);  // a whole byte of padding
  CHECK(unhuff(hex("07"), out));           // '0' + 111
  CHECK(out == "0");
}

// Bit-by-bit reference decoder straight from RFC 7541 §5.2: match codes
// from the table one bit at a time.
bool reference_decode(const std::vector<uint8_t>& in, std::string& out) {
  out.clear();
  uint32_t code = 0;
  unsigned len = 0;
  for (size_t i = 0; i < in.size() * 8; ++i) {
    code = (code << 1) | ((in[i / 8] >> (7 - i % 8)) & 1);
    ++len;
    for (unsigned sym = 0; sym <= kHuffmanEos; ++sym) {
      if (huffman_code_length(sym) == len && huffman_code(sym) == code) {
        if (sym == kHuffmanEos) return false;
        out.push_back(static_cast<char>(sym));
        code = 0;
        len = 0;
        break;
      }
    }
  }
  return len <= 7 && code == (1u << len) - 1;
}

TEST_CASE("huffman: decoder agrees with a bit-by-bit reference", "[qpack]") {
  SeededRandom rng(11);
  size_t accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> in;
    if (i % 2 == 0) {
      // A valid encoding, sometimes with its tail damaged or extended.
      std::string s(rng.uniform(24), '\0');
      for (char& c : s) c = static_cast<char>(rng.uniform(i % 4 == 0 ? 256 : 128));
      in = huff(s);
      if (!in.empty() && rng.chance(0.3)) in.back() ^= static_cast<uint8_t>(1u << rng.uniform(8));
      if (rng.chance(0.2)) in.push_back(static_cast<uint8_t>(rng.chance(0.5) ? 0xff : rng.uniform(256)));
    } else {
      in.resize(rng.uniform(12));
      for (auto& b : in) b = static_cast<uint8_t>(rng.chance(0.5) ? 0xff : rng.uniform(256));
    }
    std::string want, got;
    const bool ok_want = reference_decode(in, want);
    const bool ok_got = unhuff(in, got);
    INFO(to_hex(in));
    REQUIRE(ok_got == ok_want);
    if (ok_want) {
      CHECK(got == want);
      ++accepted;
    }
  }
  CHECK(accepted > 1000);
  CHECK(accepted < 2900);
}

TEST_CASE("string literals: prefixes, Huffman when shorter, limits", "[qpack]") {
  for (unsigned prefix : {4u, 6u, 8u}) {
    for (std::string s : {std::string(""), std::string("www.example.com"),
                          std::string("\xff\xfe\xfd", 3), std::string(300, 'x')}) {
      for (bool h : {false, true}) {
        std::vector<uint8_t> enc;
        const uint8_t above = static_cast<uint8_t>(0xff << prefix);
        qpack_put_string(enc, above, prefix, s, h);
        CHECK(enc.size() == qpack_string_size(prefix, s, h));
        CHECK((enc[0] & above) == above);
        const bool used_h = (enc[0] >> (prefix - 1)) & 1;
        CHECK(used_h == (h && huffman_encoded_size(s) < s.size()));
        std::string out;
        size_t missing = 0;
        QpackStringError why;
        const uint8_t* p = enc.data();
        REQUIRE(qpack_get_string(p, enc.data() + enc.size(), prefix, 1000, out, missing, why) ==
                QpackParse::ok);
        CHECK(out == s);
        CHECK(p == enc.data() + enc.size());
        if (!enc.empty() && enc.size() > 1) {
          p = enc.data();
          CHECK(qpack_get_string(p, enc.data() + enc.size() - 1, prefix, 1000, out, missing,
                                 why) == QpackParse::incomplete);
          CHECK(p == enc.data());
          CHECK(missing >= 1);
        }
        if (s.size() > 10) {
          // Rejected from the length alone, before the body arrives.
          const size_t body = used_h ? huffman_encoded_size(s) : s.size();
          p = enc.data();
          CHECK(qpack_get_string(p, enc.data() + enc.size() - body, prefix, 5, out, missing,
                                 why) == QpackParse::error);
          CHECK(why == QpackStringError::too_long);
        }
      }
    }
  }
  // Incomplete reports how much of the body is missing.
  std::vector<uint8_t> enc;
  qpack_put_string(enc, 0, 8, std::string(20, 'z'), false);
  const uint8_t* p = enc.data();
  size_t missing = 0;
  QpackStringError why;
  std::string out;
  CHECK(qpack_get_string(p, enc.data() + 6, 8, 100, out, missing, why) == QpackParse::incomplete);
  CHECK(missing == 15);
  // A bad Huffman body is an error.
  const auto bad = hex("81ff");
  p = bad.data();
  CHECK(qpack_get_string(p, bad.data() + bad.size(), 8, 100, out, missing, why) ==
        QpackParse::error);
  CHECK(why == QpackStringError::bad_huffman);
}

TEST_CASE("static table: RFC 9204 Appendix A", "[qpack]") {
  const auto t = qpack_static_table();
  CHECK(t.size() == 99);
  CHECK(t[0].name == ":authority");
  CHECK(t[0].value.empty());
  CHECK(t[1].name == ":path");
  CHECK(t[1].value == "/");
  CHECK(t[17].name == ":method");
  CHECK(t[17].value == "GET");
  CHECK(t[25].value == "200");
  CHECK(t[31].value == "gzip, deflate, br");
  CHECK(t[85].value == "script-src 'none'; object-src 'none'; base-uri 'none'");
  CHECK(t[95].name == "user-agent");
  CHECK(t[98].name == "x-frame-options");
  CHECK(t[98].value == "sameorigin");
  for (size_t i = 0; i < t.size(); ++i) {
    const QpackStaticMatch m = qpack_static_find(t[i].name, t[i].value);
    CHECK(m.exact == static_cast<int>(i));
    CHECK(t[static_cast<size_t>(m.name)].name == t[i].name);
    CHECK(m.name <= m.exact);
  }
  CHECK(qpack_static_find(":status", "418").exact == -1);
  CHECK(qpack_static_find(":status", "418").name == 24);
  CHECK(qpack_static_find(":status", "500").exact == 71);
  CHECK(qpack_static_find("x-custom", "1").name == -1);
  CHECK(qpack_static_find("", "").name == -1);
}

TEST_CASE("RFC 9204 B.1-B.5: decoder, byte for byte", "[qpack]") {
  QpackDecoder dec(220, 1);
  // B.1 Literal Field Line with Name Reference.
  {
    const auto& h = only(dec.decode(0, B(hex("0000510b2f696e6465782e68746d6c"))));
    CHECK(h == HeaderList{{":path", "/index.html"}});
    CHECK_FALSE(dec.has_decoder_stream_bytes());
  }
  // B.2 Dynamic Table.
  REQUIRE(dec.on_encoder_stream_bytes(
                 B(hex("3fbd01c00f7777772e6578616d706c652e636f6dc10c2f73616d706c652f70617468")))
              .ok());
  CHECK(dec.table().capacity() == 220);
  CHECK(dec.table().insert_count() == 2);
  CHECK(dec.table().size() == 106);
  {
    const auto& h = only(dec.decode(4, B(hex("03811011"))));
    CHECK(h == HeaderList{{":authority", "www.example.com"}, {":path", "/sample/path"}});
  }
  CHECK(to_hex(dec.take_decoder_stream_bytes()) == "84");  // Section Acknowledgment (stream=4)
  // B.3 Speculative Insert.
  REQUIRE(dec.on_encoder_stream_bytes(
                 B(hex("4a637573746f6d2d6b65790c637573746f6d2d76616c7565")))
              .ok());
  CHECK(dec.table().size() == 160);
  // The buffer-reusing variant: stale contents of `out` are dropped.
  std::vector<uint8_t> out = {0xde, 0xad};
  dec.take_decoder_stream_bytes(out);
  CHECK(to_hex(out) == "01");  // Insert Count Increment (1)
  // B.4 Duplicate Instruction, Stream Cancellation: the field section
  // arrives before the Duplicate and blocks.
  {
    auto r = dec.decode(8, B(hex("050080c181")));
    REQUIRE(r.ok());
    CHECK(std::holds_alternative<QpackDecoder::Blocked>(*r));
    CHECK(dec.blocked_streams() == 1);
  }
  dec.cancel_stream(8);
  CHECK(dec.blocked_streams() == 0);
  dec.take_decoder_stream_bytes(out);
  CHECK(to_hex(out) == "48");  // Stream Cancellation (Stream=8)
  dec.take_decoder_stream_bytes(out);
  CHECK(out.empty());
  REQUIRE(dec.on_encoder_stream_bytes(B(hex("02"))).ok());
  CHECK_FALSE(dec.has_unblocked());
  CHECK(dec.table().size() == 217);
  CHECK(dec.table().at(3).name == ":authority");
  CHECK(dec.table().at(3).value == "www.example.com");
  // The same section, now decodable (on another stream).
  {
    const auto& h = only(dec.decode(12, B(hex("050080c181"))));
    CHECK(h == HeaderList{{":authority", "www.example.com"},
                          {":path", "/"},
                          {"custom-key", "custom-value"}});
  }
  // B.5 Dynamic Table Insert, Eviction.
  REQUIRE(dec.on_encoder_stream_bytes(B(hex("810d637573746f6d2d76616c756532"))).ok());
  CHECK(dec.table().size() == 215);
  CHECK(dec.table().dropped() == 1);
  CHECK(dec.table().insert_count() == 5);
  CHECK(dec.table().at(4).name == "custom-key");
  CHECK(dec.table().at(4).value == "custom-value2");
  CHECK(dec.table().at(1).value == "/sample/path");
}

TEST_CASE("RFC 9204 B.4: the blocked section resumes when the Duplicate arrives", "[qpack]") {
  QpackDecoder dec(220, 1);
  REQUIRE(dec.on_encoder_stream_bytes(
                 B(hex("3fbd01c00f7777772e6578616d706c652e636f6dc10c2f73616d706c652f70617468"
                       "4a637573746f6d2d6b65790c637573746f6d2d76616c7565")))
              .ok());
  (void)dec.take_decoder_stream_bytes();
  auto r = dec.decode(8, B(hex("050080c181")));
  REQUIRE(r.ok());
  REQUIRE(std::holds_alternative<QpackDecoder::Blocked>(*r));
  REQUIRE(dec.on_encoder_stream_bytes(B(hex("02"))).ok());
  auto un = dec.take_unblocked();
  REQUIRE(un.size() == 1);
  CHECK(un[0].stream_id == 8);
  REQUIRE(un[0].headers.ok());
  CHECK(*un[0].headers == HeaderList{{":authority", "www.example.com"},
                                     {":path", "/"},
                                     {"custom-key", "custom-value"}});
  // The acknowledgment covers the Duplicate: no Insert Count Increment.
  CHECK(to_hex(dec.take_decoder_stream_bytes()) == "88");
}

TEST_CASE("RFC 9204 B.1-B.2: encoder, byte for byte", "[qpack]") {
  QpackEncoder enc({.max_table_capacity = 4096, .huffman = false, .index_all = true});
  // B.1: before SETTINGS only the static table is usable.
  CHECK(to_hex(*enc.encode(0, HeaderList{{":path", "/index.html"}})) ==
        "0000510b2f696e6465782e68746d6c");
  CHECK_FALSE(enc.has_encoder_stream_bytes());
  // B.2.
  enc.set_peer_settings(220, 1);
  auto block = enc.encode(4, HeaderList{{":authority", "www.example.com"}, {":path", "/sample/path"}});
  REQUIRE(block.ok());
  CHECK(to_hex(enc.take_encoder_stream_bytes()) ==
        "3fbd01c00f7777772e6578616d706c652e636f6dc10c2f73616d706c652f70617468");
  CHECK(to_hex(*block) == "03811011");
  CHECK(enc.table().size() == 106);
  CHECK(enc.outstanding_sections() == 1);
  CHECK(enc.blocking_streams() == 1);
  REQUIRE(enc.on_decoder_stream_bytes(B(hex("84"))).ok());
  CHECK(enc.known_received_count() == 2);
  CHECK(enc.outstanding_sections() == 0);
  CHECK(enc.blocking_streams() == 0);
  // B.3's insert, then B.4's Stream Cancellation releases the references.
  block = enc.encode(8, HeaderList{{"custom-key", "custom-value"}});
  REQUIRE(block.ok());
  CHECK(to_hex(enc.take_encoder_stream_bytes()) ==
        "4a637573746f6d2d6b65790c637573746f6d2d76616c7565");
  CHECK(to_hex(*block) == "048010");  // RIC 3, Base 2, post-base 0
  REQUIRE(enc.on_decoder_stream_bytes(B(hex("48"))).ok());
  CHECK(enc.outstanding_sections() == 0);
  REQUIRE(enc.on_decoder_stream_bytes(B(hex("01"))).ok());
  CHECK(enc.known_received_count() == 3);
  // Acknowledged entries are referenced without blocking, relative to Base.
  block = enc.encode(12, HeaderList{{":authority", "www.example.com"}, {"custom-key", "custom-value"}});
  REQUIRE(block.ok());
  CHECK_FALSE(enc.has_encoder_stream_bytes());
  CHECK(to_hex(*block) == "04008280");  // RIC 3, Base 3, relative 2 and 0
}
