// QPACK lookup helpers: the perfect-hash static table lookup against a
// linear scan (every entry, near misses, every name with every value), the
// short-string helpers of h3/qpack_hash.h against std::string, the flat hash
// index against std::unordered_map, and QpackDecoder::decode_into.
#include <catch2/catch.hpp>

#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "h3/qpack_decoder.h"
#include "h3/qpack_encoder.h"
#include "h3/qpack_error.h"
#include "h3/qpack_hash.h"
#include "h3/qpack_static_table.h"
#include "lib/random.h"

using namespace wt;
using namespace wt::h3;

namespace {

QpackStaticMatch linear_find(std::string_view name, std::string_view value) {
  QpackStaticMatch m;
  const auto t = qpack_static_table();
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i].name != name) continue;
    if (m.name < 0) m.name = static_cast<int>(i);
    if (m.exact < 0 && t[i].value == value) m.exact = static_cast<int>(i);
  }
  return m;
}

void check_find(std::string_view name, std::string_view value) {
  const QpackStaticMatch got = qpack_static_find(name, value);
  const QpackStaticMatch want = linear_find(name, value);
  INFO("name '" << name << "' value '" << value << "'");
  REQUIRE(got.exact == want.exact);
  REQUIRE(got.name == want.name);
}

// Variants of `s` that differ a little: one byte changed, one added or
// removed at either end, case flipped.
std::vector<std::string> near_misses(std::string_view s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size(); ++i) {
    std::string t(s);
    t[i] = static_cast<char>(t[i] ^ 0x01);
    out.push_back(t);
    t = std::string(s);
    t[i] = static_cast<char>(t[i] ^ 0x20);
    out.push_back(t);
  }
  std::string longer(s);
  longer += 'x';
  out.push_back(longer);
  longer.back() = '\0';
  out.push_back(longer);
  std::string front = "x";
  front += s;
  out.push_back(front);
  if (!s.empty()) {
    out.push_back(std::string(s.substr(1)));
    out.push_back(std::string(s.substr(0, s.size() - 1)));
  }
  return out;
}

}  // namespace

TEST_CASE("static table lookup: every entry, every name with every value", "[qpack]") {
  const auto t = qpack_static_table();
  for (const QpackStaticEntry& e : t) check_find(e.name, e.value);
  for (const QpackStaticEntry& n : t)
    for (const QpackStaticEntry& v : t) check_find(n.name, v.value);
  check_find("", "");
  check_find("a", "");
  check_find(":", "");
}

TEST_CASE("static table lookup: near misses of names and values", "[qpack]") {
  for (const QpackStaticEntry& e : qpack_static_table()) {
    for (const std::string& n : near_misses(e.name)) check_find(n, e.value);
    for (const std::string& v : near_misses(e.value)) check_find(e.name, v);
  }
  // Same length, head and tail as a long entry, different middle.
  check_find("content-security-policy", "script-src 'none'; object-src 'nonX'; base-uri 'none'");
  check_find("access-control-allow-hXaders", "cache-control");
  check_find("strict-transport-security", "max-age=31536000; includesubdomainX; preload");
}

TEST_CASE("static table lookup: random strings", "[qpack]") {
  SeededRandom rng(5);
  const auto t = qpack_static_table();
  for (int i = 0; i < 20000; ++i) {
    std::string n(rng.next() % 32, 'a'), v(rng.next() % 24, '0');
    for (char& c : n) c = static_cast<char>(rng.next() % 2 ? 'a' + rng.next() % 26 : rng.next() & 0xff);
    for (char& c : v) c = static_cast<char>(rng.next() & 0xff);
    if (i % 3 == 0) n = t[rng.next() % t.size()].name;
    check_find(n, v);
  }
}

TEST_CASE("qpack short-string helpers agree with std::string", "[qpack]") {
  SeededRandom rng(9);
  for (size_t len = 0; len <= 40; ++len) {
    for (int k = 0; k < 50; ++k) {
      std::string a(len, '\0');
      for (char& c : a) c = static_cast<char>(rng.next() % 4);  // few values: equal often
      std::string b = a;
      if (k % 2 && len > 0) b[rng.next() % len] ^= static_cast<char>(1 + rng.next() % 3);
      INFO("len " << len);
      REQUIRE(qpack_equal(a, b) == (a == b));
      REQUIRE(qpack_bytes_equal(a.data(), b.data(), len) == (a == b));
      if (a == b) REQUIRE(qpack_hash(a) == qpack_hash(b));
      REQUIRE(qpack_hash(a, 1) != qpack_hash(a, 2));
      const QpackPacked p = qpack_pack(a), q = qpack_pack_constexpr(a);
      REQUIRE(p.head == q.head);
      REQUIRE(p.tail == q.tail);
      REQUIRE(p.len == q.len);
      // qpack_set_string: onto empty, short and long strings.
      for (const char* init : {"", "x", "a string longer than fifteen bytes"}) {
        std::string s = init;
        qpack_set_string(s, a);
        REQUIRE(s == a);
        REQUIRE(s.size() == len);
        REQUIRE(s.c_str()[len] == '\0');
      }
    }
  }
}

TEST_CASE("QpackHashIndex behaves as a map from hash to value", "[qpack]") {
  SeededRandom rng(21);
  QpackHashIndex index;
  std::unordered_map<uint64_t, uint64_t> ref;
  // Few distinct keys, including 0 and 1 (which share a slot key), so that
  // inserts, overwrites and erasures collide and wrap around.
  std::vector<uint64_t> keys = {0, 1, ~uint64_t{0}};
  for (int i = 0; i < 300; ++i) keys.push_back(rng.next() & (i % 2 ? 0xff00000000ull : ~uint64_t{0}));
  for (int step = 0; step < 100000; ++step) {
    const uint64_t k = keys[rng.next() % keys.size()];
    const uint64_t v = rng.next() % 8;
    const uint64_t norm = k == 0 ? 1 : k;  // documented: hashes 0 and 1 are one key
    switch (rng.next() % 3) {
      case 0:
        index.set(k, v);
        ref[norm] = v;
        break;
      case 1: {
        index.erase(k, v);
        auto it = ref.find(norm);
        if (it != ref.end() && it->second == v) ref.erase(it);
        break;
      }
      default: {
        uint64_t got = 0;
        const bool found = index.find(k, got);
        auto it = ref.find(norm);
        REQUIRE(found == (it != ref.end()));
        if (found) REQUIRE(got == it->second);
      }
    }
    REQUIRE(index.size() == ref.size());
  }
  for (const auto& [k, v] : ref) {
    uint64_t got = 0;
    REQUIRE(index.find(k, got));
    REQUIRE(got == v);
  }
}

TEST_CASE("QpackDecoder::decode_into reuses the list and matches decode", "[qpack]") {
  QpackEncoder enc;
  enc.set_peer_settings(4096, 10);
  QpackDecoder dec(4096, 10);
  QpackDecoder dec2(4096, 10);
  const HeaderList req = {{":method", "GET"},
                          {":scheme", "https"},
                          {":authority", "127.0.0.1:4433"},
                          {":path", "/small"},
                          {"x-long-header-name-here", "a value longer than fifteen bytes"},
                          {"cookie", "secret", true}};
  HeaderList out = {{"stale", "entry"}};
  for (int round = 0; round < 3; ++round) {
    std::vector<uint8_t> block;
    REQUIRE(enc.encode(4, req, block).ok());
    const std::vector<uint8_t> ins = enc.take_encoder_stream_bytes();
    REQUIRE(dec.on_encoder_stream_bytes(ins).ok());
    REQUIRE(dec2.on_encoder_stream_bytes(ins).ok());
    auto r = dec.decode_into(4, block, out);
    REQUIRE(r.ok());
    REQUIRE(*r == QpackDecoder::Outcome::decoded);
    REQUIRE(out == req);
    CHECK(out.back().never_index);
    auto d = dec2.decode(4, block);
    REQUIRE(d.ok());
    REQUIRE(std::get<HeaderList>(*d) == out);
    const std::vector<uint8_t> acks = dec.take_decoder_stream_bytes();
    CHECK(acks == dec2.take_decoder_stream_bytes());
    REQUIRE(enc.on_decoder_stream_bytes(acks).ok());
  }
  // Blocked: a section that needs an insert not yet received.
  QpackEncoder enc3;
  enc3.set_peer_settings(4096, 10);
  QpackDecoder dec3(4096, 10);
  std::vector<uint8_t> block;
  const HeaderList fresh = {{"x-new", "value"}};
  REQUIRE(enc3.encode(8, fresh, block).ok());
  auto r = dec3.decode_into(8, block, out);
  REQUIRE(r.ok());
  CHECK(*r == QpackDecoder::Outcome::blocked);
  CHECK(out.empty());
  REQUIRE(dec3.on_encoder_stream_bytes(enc3.take_encoder_stream_bytes()).ok());
  auto u = dec3.take_unblocked();
  REQUIRE(u.size() == 1);
  CHECK(u[0].headers.ok());
  // An error leaves the list empty.
  out = req;
  const std::vector<uint8_t> bad = {0x00, 0x00, 0xff};  // static index 63 + ..., truncated
  auto e = dec3.decode_into(12, bad, out);
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().code == qpack_error::decompression_failed);
  CHECK(out.empty());
}
