#include <catch2/catch.hpp>

#include "lib/bytes.h"
#include "lib/hex.h"
#include "lib/random.h"
#include "lib/result.h"

using namespace wt;

TEST_CASE("reader is bounds-checked and sticky", "[lib]") {
  const uint8_t d[] = {1, 2, 3};
  Reader r{Bytes{d}};
  CHECK(r.u16() == 0x0102);
  CHECK(r.ok());
  CHECK(r.u16() == 0);
  CHECK(!r.ok());
  CHECK(r.u8() == 0);
  CHECK(r.remaining() == 0);
}

TEST_CASE("writer refuses to overflow", "[lib]") {
  uint8_t buf[4];
  Writer w{MutBytes{buf}};
  CHECK(w.u24(0xabcdef));
  CHECK(!w.u16(1));
  CHECK(!w.ok());
  CHECK(w.written() == 3);
  CHECK(buf[0] == 0xab);
}

TEST_CASE("varint round trip at every size boundary", "[lib]") {
  const uint64_t values[] = {0, 63, 64, 16383, 16384, 1073741823, 1073741824, kVarintMax};
  for (uint64_t v : values) {
    uint8_t buf[8];
    Writer w{MutBytes{buf}};
    REQUIRE(w.varint(v));
    CHECK(w.written() == varint_size(v));
    Reader r{Bytes{buf, w.written()}};
    uint64_t out = 1;
    REQUIRE(r.varint(out));
    CHECK(out == v);
    // Every truncation fails cleanly.
    for (size_t n = 0; n < w.written(); ++n) {
      Reader t{Bytes{buf, n}};
      CHECK(!t.varint(out));
    }
  }
  uint8_t buf[8];
  Writer w{MutBytes{buf}};
  CHECK(!w.varint(kVarintMax + 1));
}

TEST_CASE("result carries value or error", "[lib]") {
  auto f = [](bool good) -> Result<int> {
    if (good) return 7;
    return Error(TransportError::frame_encoding_error, "bad");
  };
  auto g = [&](bool good) -> Result<int> {
    WT_ASSIGN(int v, f(good));
    return v + 1;
  };
  CHECK(g(true).value() == 8);
  auto e = g(false);
  REQUIRE(!e.ok());
  CHECK(e.error().is(TransportError::frame_encoding_error));
  CHECK(std::string(transport_error_name(e.error().code)) == "FRAME_ENCODING_ERROR");
}

TEST_CASE("hex round trip and rejection", "[lib]") {
  auto b = hex("00ff 10");
  CHECK(to_hex(b) == "00ff10");
  CHECK(!from_hex("0").has_value());
  CHECK(!from_hex("zz").has_value());
}

TEST_CASE("seeded random is deterministic", "[lib]") {
  SeededRandom a(42), b(42), c(43);
  uint64_t x = a.u64();
  CHECK(x == b.u64());
  CHECK(x != c.u64());
}
