// RFC 9000 examples: variable-length integers (§16, App. A.1) and packet
// number encoding/decoding (§17.1, App. A.2/A.3).
#include <catch2/catch.hpp>

#include "lib/bytes.h"
#include "lib/hex.h"
#include "lib/varint.h"
#include "quic/packet_number.h"

using namespace wt;
using namespace wt::quic;

TEST_CASE("RFC 9000 §16 / A.1: varint examples", "[vectors]") {
  struct Ex {
    const char* hex;
    uint64_t value;
    bool canonical;
  };
  const Ex examples[] = {
      {"c2197c5eff14e88c", 151288809941952652ULL, true},
      {"9d7f3e7d", 494878333, true},
      {"7bbd", 15293, true},
      {"25", 37, true},
      {"4025", 37, false},  // two-byte encoding of 37
  };
  for (const auto& ex : examples) {
    const auto bytes = hex(ex.hex);
    Reader r{Bytes{bytes}};
    uint64_t v = 0;
    REQUIRE(r.varint(v));
    CHECK(v == ex.value);
    CHECK(r.empty());
    // Encoding in the same length reproduces the bytes; the minimal encoding
    // matches when the example is the canonical one.
    uint8_t buf[8];
    Writer w{MutBytes{buf}};
    REQUIRE(w.varint_len(ex.value, bytes.size()));
    CHECK(to_hex(Bytes{buf, w.written()}) == ex.hex);
    if (ex.canonical) CHECK(varint_size(ex.value) == bytes.size());
    // Every truncation fails.
    for (size_t n = 0; n < bytes.size(); ++n) {
      Reader t{Bytes{bytes.data(), n}};
      uint64_t x = 0;
      CHECK_FALSE(t.varint(x));
    }
  }
}

TEST_CASE("RFC 9000 §17.1 / A.2: packet number length", "[vectors]") {
  CHECK(packet_number_length(0xac5c02, 0xabe8b3) == 2);
  CHECK(packet_number_length(0xace8fe, 0xabe8b3) == 3);
  // Nothing acknowledged yet: the range must cover pn + 1 packets.
  CHECK(packet_number_length(0, kNoPacketNumber) == 1);
  CHECK(packet_number_length(127, kNoPacketNumber) == 1);
  CHECK(packet_number_length(128, kNoPacketNumber) == 2);
  CHECK(packet_number_length(kMaxPacketNumber, 0) == 4);
  // Boundaries: num_unacked <= 2^(8n-1).
  CHECK(packet_number_length(1000 + 128, 1000) == 1);
  CHECK(packet_number_length(1000 + 129, 1000) == 2);
  CHECK(packet_number_length(1000 + 32768, 1000) == 2);
  CHECK(packet_number_length(1000 + 32769, 1000) == 3);
}

TEST_CASE("RFC 9000 §17.1 / A.3: packet number decoding", "[vectors]") {
  CHECK(decode_packet_number(0xa82f30ea, 0x9b32, 2) == 0xa82f9b32);
  // First packet in a space.
  CHECK(decode_packet_number(kNoPacketNumber, 0, 1) == 0);
  CHECK(decode_packet_number(kNoPacketNumber, 5, 4) == 5);
  // Wrap forward and backward around the window.
  CHECK(decode_packet_number(0xff, 0x00, 1) == 0x100);
  CHECK(decode_packet_number(0x100, 0xff, 1) == 0xff);
  CHECK(decode_packet_number(0x1ff, 0x7f, 1) == 0x27f);
  // Near 2^62 the candidate must not exceed the maximum.
  CHECK(decode_packet_number(kMaxPacketNumber - 1, 0xff, 1) == kMaxPacketNumber);
  // Round trip: encode with packet_number_length, decode at the receiver.
  for (uint64_t largest : {uint64_t{0}, uint64_t{1000}, uint64_t{0xabe8b3}, uint64_t{1} << 40}) {
    for (uint64_t gap : {uint64_t{1}, uint64_t{100}, uint64_t{30000}, uint64_t{5000000}}) {
      const uint64_t pn = largest + gap;
      const size_t len = packet_number_length(pn, largest);
      const uint64_t truncated = pn & ((uint64_t{1} << (8 * len)) - 1);
      CHECK(decode_packet_number(largest, truncated, len) == pn);
    }
  }
}
