// Frame codec tests: RFC 9000 §19, RFC 9221 §4, RFC 9000 §12.4 Table 3.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "lib/bytes.h"
#include "lib/hex.h"
#include "quic/frame.h"

using namespace wt;
using namespace wt::quic;
namespace ft = wt::quic::frame_type;

namespace {

constexpr uint64_t M = kVarintMax;

// Storage for payload views; lives for the whole test run.
const std::vector<uint8_t>& filled(size_t n) {
  static std::vector<std::vector<uint8_t>> pool;
  for (auto& v : pool) {
    if (v.size() == n) return v;
  }
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 7 + 1);
  pool.push_back(std::move(v));
  return pool.back();
}
Bytes data(size_t n) { return Bytes{filled(n)}; }
Bytes text(const char* s) { return as_bytes(std::string_view{s}); }
const std::vector<uint8_t>& keep(std::vector<uint8_t> v) {
  static std::vector<std::vector<uint8_t>> pool;
  pool.reserve(64);
  pool.push_back(std::move(v));
  return pool.back();
}

ConnectionId cid_of(size_t n) { return ConnectionId(data(n)); }
StatelessResetToken token16() {
  StatelessResetToken t;
  for (size_t i = 0; i < t.size(); ++i) t[i] = static_cast<uint8_t>(i);
  return t;
}

std::vector<uint8_t> encode(const Frame& f) {
  std::vector<uint8_t> buf(encoded_size(f));
  Writer w{MutBytes{buf}};
  REQUIRE(encode_frame(w, f));
  REQUIRE(w.written() == buf.size());
  return buf;
}

// Hand-built ACK: largest 100, delay 25, ranges [98,100], [96,96], [79,89].
AckFrame sample_ack(bool ecn) {
  AckFrame a;
  a.largest_acknowledged = 100;
  a.ack_delay = 25;
  a.first_ack_range = 2;
  a.range_count = 2;
  a.encoded_ranges = Bytes{keep(hex("00 00 05 0a"))};
  a.has_ecn = ecn;
  if (ecn) a.ecn = {M, 0, 1000};
  return a;
}

AckFrame ack_single(uint64_t largest, uint64_t delay, uint64_t first) {
  AckFrame a;
  a.largest_acknowledged = largest;
  a.ack_delay = delay;
  a.first_ack_range = first;
  return a;
}

struct Case {
  const char* name;
  Frame frame;
  size_t size;
  bool implicit_length = false;  // a truncation is a shorter valid frame
};

std::vector<Case> cases() {
  return {
      {"PADDING 1", PaddingFrame{1}, 1, true},
      {"PADDING 1200", PaddingFrame{1200}, 1200, true},
      {"PING", PingFrame{}, 1},
      {"ACK zero", ack_single(0, 0, 0), 5},
      {"ACK max", ack_single(M, M, M), 26},
      {"ACK ranges", sample_ack(false), 10},
      {"ACK ranges ECN", sample_ack(true), 21},
      {"RESET_STREAM zero", ResetStreamFrame{0, 0, 0}, 4},
      {"RESET_STREAM max", ResetStreamFrame{M, M, M}, 25},
      {"STOP_SENDING zero", StopSendingFrame{0, 0}, 3},
      {"STOP_SENDING max", StopSendingFrame{M, M}, 17},
      {"CRYPTO empty", CryptoFrame{0, {}}, 3},
      {"CRYPTO at max offset", CryptoFrame{M - 5, data(5)}, 15},
      {"CRYPTO 1000", CryptoFrame{0, data(1000)}, 1004},
      {"NEW_TOKEN 1", NewTokenFrame{data(1)}, 3},
      {"NEW_TOKEN 1000", NewTokenFrame{data(1000)}, 1003},
      {"STREAM 0x08", StreamFrame{1, 0, text("abc"), false, false}, 5, true},
      {"STREAM 0x09", StreamFrame{1, 0, data(1000), true, false}, 1002, true},
      {"STREAM 0x0a empty", StreamFrame{0, 0, {}, false, true}, 3},
      {"STREAM 0x0b empty fin", StreamFrame{0, 0, {}, true, true}, 3},
      {"STREAM 0x0c", StreamFrame{2, 64, data(3), false, false}, 7, true},
      {"STREAM 0x0d", StreamFrame{2, 16384, {}, true, false}, 6, true},
      {"STREAM 0x0e", StreamFrame{4, 10, text("hello"), false, true}, 9},
      {"STREAM 0x0f max", StreamFrame{M, M - 5, data(5), true, true}, 23},
      {"STREAM 1200", StreamFrame{0, 0, data(1200), false, true}, 1204},
      {"MAX_DATA zero", MaxDataFrame{0}, 2},
      {"MAX_DATA max", MaxDataFrame{M}, 9},
      {"MAX_STREAM_DATA zero", MaxStreamDataFrame{0, 0}, 3},
      {"MAX_STREAM_DATA max", MaxStreamDataFrame{M, M}, 17},
      {"MAX_STREAMS bidi 0", MaxStreamsFrame{true, 0}, 2},
      {"MAX_STREAMS uni 2^60", MaxStreamsFrame{false, kMaxStreamCount}, 9},
      {"DATA_BLOCKED zero", DataBlockedFrame{0}, 2},
      {"DATA_BLOCKED max", DataBlockedFrame{M}, 9},
      {"STREAM_DATA_BLOCKED", StreamDataBlockedFrame{M, 0}, 10},
      {"STREAMS_BLOCKED bidi 2^60", StreamsBlockedFrame{true, kMaxStreamCount}, 9},
      {"STREAMS_BLOCKED uni 0", StreamsBlockedFrame{false, 0}, 2},
      {"NEW_CONNECTION_ID 1", NewConnectionIdFrame{0, 0, cid_of(1), token16()}, 21},
      {"NEW_CONNECTION_ID 20", NewConnectionIdFrame{M, M, cid_of(20), token16()}, 54},
      {"RETIRE_CONNECTION_ID 0", RetireConnectionIdFrame{0}, 2},
      {"RETIRE_CONNECTION_ID max", RetireConnectionIdFrame{M}, 9},
      {"PATH_CHALLENGE", PathChallengeFrame{{1, 2, 3, 4, 5, 6, 7, 8}}, 9},
      {"PATH_RESPONSE", PathResponseFrame{{0, 0, 0, 0, 0, 0, 0, 0}}, 9},
      {"CONNECTION_CLOSE empty", ConnectionCloseFrame{false, 0x0a, 0x08, {}}, 4},
      {"CONNECTION_CLOSE max", ConnectionCloseFrame{false, M, M, data(1000)}, 1019},
      {"CONNECTION_CLOSE app", ConnectionCloseFrame{true, 0, 0, text("bye")}, 6},
      {"HANDSHAKE_DONE", HandshakeDoneFrame{}, 1},
      {"DATAGRAM len empty", DatagramFrame{{}, true}, 2},
      {"DATAGRAM len 1000", DatagramFrame{data(1000), true}, 1003},
      {"DATAGRAM nolen", DatagramFrame{text("hi"), false}, 3, true},
      {"DATAGRAM nolen empty", DatagramFrame{{}, false}, 1, true},
  };
}

}  // namespace

TEST_CASE("every frame type round-trips with its encoded size", "[frame]") {
  auto all = cases();
  // Every variant alternative is covered.
  std::vector<bool> seen(std::variant_size_v<Frame>);
  for (const Case& c : all) seen[c.frame.index()] = true;
  for (size_t i = 0; i < seen.size(); ++i) CHECK(seen[i]);

  for (const Case& c : all) {
    INFO(c.name);
    CHECK(encoded_size(c.frame) == c.size);
    auto buf = encode(c.frame);
    CHECK(buf.size() == c.size);
    CHECK(buf[0] == frame_type_of(c.frame));
    Reader r{Bytes{buf}};
    auto d = decode_frame(r);
    REQUIRE(d.ok());
    CHECK(r.empty());
    CHECK(d->index() == c.frame.index());
    CHECK(*d == c.frame);
    CHECK(frame_type_of(*d) == frame_type_of(c.frame));
  }
}

TEST_CASE("every truncation of an encoded frame fails cleanly", "[frame]") {
  for (const Case& c : cases()) {
    if (c.implicit_length) continue;
    INFO(c.name);
    auto buf = encode(c.frame);
    for (size_t n = 0; n < buf.size(); ++n) {
      INFO("length " << n);
      // Copy so that a read past n would be caught by ASan.
      std::vector<uint8_t> cut(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
      Reader r{Bytes{cut}};
      auto d = decode_frame(r);
      REQUIRE(!d.ok());
      CHECK(d.error().is(TransportError::frame_encoding_error));
      CHECK(d.error().frame_type == (n == 0 ? 0 : frame_type_of(c.frame)));
      CHECK(!r.ok());
    }
  }
}

TEST_CASE("frames without a Length field take the rest of the packet", "[frame]") {
  // STREAM 0x08: cutting the data yields shorter data, cutting the header fails.
  auto buf = encode(StreamFrame{1000, 0, text("abcdef"), false, false});
  REQUIRE(buf.size() == 1 + 2 + 6);
  for (size_t n = 0; n < buf.size(); ++n) {
    Reader r{Bytes{buf.data(), n}};
    auto d = decode_frame(r);
    if (n < 3) {
      CHECK(!d.ok());
      continue;
    }
    REQUIRE(d.ok());
    auto& s = std::get<StreamFrame>(*d);
    CHECK(s.stream_id == 1000);
    CHECK(s.data.size() == n - 3);
    CHECK(r.empty());
  }
  // DATAGRAM 0x30 of the whole rest, PADDING run up to the first non-zero.
  auto dg = hex("30 01 02 03");
  Reader r{Bytes{dg}};
  auto d = decode_frame(r);
  REQUIRE(d.ok());
  CHECK(std::get<DatagramFrame>(*d).data.size() == 3);
  CHECK(r.empty());
}

TEST_CASE("golden frame encodings", "[frame]") {
  struct Golden {
    Frame frame;
    const char* hex;
  };
  StatelessResetToken tok = token16();
  const Golden golden[] = {
      {PingFrame{}, "01"},
      {HandshakeDoneFrame{}, "1e"},
      {PaddingFrame{3}, "000000"},
      {ack_single(0, 0, 0), "02 00 00 00 00"},
      {sample_ack(true), "03 4064 19 02 02 0000050a ffffffffffffffff 00 43e8"},
      {ResetStreamFrame{4, 0x10, 0x4000}, "04 04 10 80004000"},
      {StopSendingFrame{8, 0x101}, "05 08 4101"},
      {CryptoFrame{0, text("abc")}, "06 00 03 616263"},
      {NewTokenFrame{text("tk")}, "07 02 746b"},
      {StreamFrame{4, 10, text("hello"), false, true}, "0e 04 0a 05 68656c6c6f"},
      {StreamFrame{4, 0, text("hi"), true, false}, "09 04 6869"},
      {MaxDataFrame{1u << 20}, "10 80100000"},
      {MaxStreamDataFrame{4, 63}, "11 04 3f"},
      {MaxStreamsFrame{true, 100}, "12 4064"},
      {MaxStreamsFrame{false, kMaxStreamCount}, "13 d000000000000000"},
      {DataBlockedFrame{64}, "14 4040"},
      {StreamDataBlockedFrame{0, 1}, "15 00 01"},
      {StreamsBlockedFrame{true, 1}, "16 01"},
      {StreamsBlockedFrame{false, 2}, "17 02"},
      {NewConnectionIdFrame{1, 0, ConnectionId(Bytes{keep(hex("1122"))}), tok},
       "18 01 00 02 1122 000102030405060708090a0b0c0d0e0f"},
      {RetireConnectionIdFrame{2}, "19 02"},
      {PathChallengeFrame{{1, 2, 3, 4, 5, 6, 7, 8}}, "1a 0102030405060708"},
      {PathResponseFrame{{8, 7, 6, 5, 4, 3, 2, 1}}, "1b 0807060504030201"},
      {ConnectionCloseFrame{false, 0x0a, 0x08, text("x")}, "1c 0a 08 01 78"},
      {ConnectionCloseFrame{true, 0x101, 0, text("bye")}, "1d 4101 03 627965"},
      {DatagramFrame{text("hi"), true}, "31 02 6869"},
      {DatagramFrame{text("hi"), false}, "30 6869"},
  };
  for (const Golden& g : golden) {
    INFO(frame_name(g.frame) << " " << g.hex);
    CHECK(to_hex(encode(g.frame)) == to_hex(hex(g.hex)));
    auto bytes = hex(g.hex);
    Reader r{Bytes{bytes}};
    auto d = decode_frame(r);
    REQUIRE(d.ok());
    CHECK(*d == g.frame);
    CHECK(r.empty());
  }
}

TEST_CASE("malformed frames give the right error code", "[frame]") {
  struct Bad {
    const char* hex;
    TransportError code;
    uint64_t frame_type;
    const char* why;
  };
  const Bad bad[] = {
      {"", TransportError::frame_encoding_error, 0, "empty"},
      {"1f", TransportError::frame_encoding_error, 0x1f, "reserved type"},
      {"2f", TransportError::frame_encoding_error, 0x2f, "reserved type"},
      {"32", TransportError::frame_encoding_error, 0x32, "reserved type"},
      {"3f", TransportError::frame_encoding_error, 0x3f, "reserved type"},
      {"40ff", TransportError::frame_encoding_error, 0xff, "unknown 2-byte type"},
      {"80004000", TransportError::frame_encoding_error, 0x4000, "unknown 4-byte type"},
      {"40", TransportError::frame_encoding_error, 0, "truncated type"},
      {"4001", TransportError::protocol_violation, 0x01, "non-minimal PING"},
      {"4008 00 00", TransportError::protocol_violation, 0x08, "non-minimal STREAM"},
      {"8000001e", TransportError::protocol_violation, 0x1e, "non-minimal HANDSHAKE_DONE"},
      {"c000000000000031", TransportError::protocol_violation, 0x31, "non-minimal DATAGRAM"},
      {"c000000000004000", TransportError::protocol_violation, 0x4000, "8-byte 2-byte type"},
      // ACK: RFC 9000 §19.3.1
      {"02 05 00 00 06", TransportError::frame_encoding_error, 0x02, "first range below 0"},
      {"02 0a 00 01 02 07 00", TransportError::frame_encoding_error, 0x02, "gap below 0"},
      {"02 0a 00 01 02 05 02", TransportError::frame_encoding_error, 0x02, "range below 0"},
      {"03 0a 00 01 02 0600 00", TransportError::frame_encoding_error, 0x03, "trailing ECN gone"},
      {"02 0a 00 bfffffff 00 0000", TransportError::frame_encoding_error, 0x02, "huge count"},
      {"02 0a 00 02 00 00 00", TransportError::frame_encoding_error, 0x02, "missing pair"},
      // STREAM / CRYPTO: RFC 9000 §19.8, §19.6
      {"0e 00 ffffffffffffffff 01 aa", TransportError::frame_encoding_error, 0x0e,
       "STREAM offset+length > 2^62-1"},
      {"0c 00 ffffffffffffffff aa", TransportError::frame_encoding_error, 0x0c,
       "STREAM implicit length overflow"},
      {"0a 00 05 61", TransportError::frame_encoding_error, 0x0a, "STREAM length > packet"},
      {"06 ffffffffffffffff 01 aa", TransportError::frame_encoding_error, 0x06,
       "CRYPTO offset+length > 2^62-1"},
      {"06 00 02 aa", TransportError::frame_encoding_error, 0x06, "CRYPTO length > packet"},
      {"07 00", TransportError::frame_encoding_error, 0x07, "empty NEW_TOKEN"},
      {"07 03 aa", TransportError::frame_encoding_error, 0x07, "NEW_TOKEN length > packet"},
      // MAX_STREAMS / STREAMS_BLOCKED: RFC 9000 §19.11, §19.14
      {"12 d000000000000001", TransportError::frame_encoding_error, 0x12, "MAX_STREAMS bidi"},
      {"13 ffffffffffffffff", TransportError::frame_encoding_error, 0x13, "MAX_STREAMS uni"},
      {"16 d000000000000001", TransportError::frame_encoding_error, 0x16, "BLOCKED bidi"},
      {"17 d000000000000001", TransportError::frame_encoding_error, 0x17, "BLOCKED uni"},
      // NEW_CONNECTION_ID: RFC 9000 §19.15
      {"18 01 00 00 000102030405060708090a0b0c0d0e0f", TransportError::frame_encoding_error,
       0x18, "CID length 0"},
      {"18 01 00 15 000000000000000000000000000000000000000000 000102030405060708090a0b0c0d0e0f",
       TransportError::frame_encoding_error, 0x18, "CID length 21"},
      {"18 01 02 04 aabbccdd 000102030405060708090a0b0c0d0e0f",
       TransportError::frame_encoding_error, 0x18, "retire_prior_to > sequence"},
      {"18 01 00 04 aabbccdd 000102030405060708090a0b0c0d0e", TransportError::frame_encoding_error,
       0x18, "short token"},
      // CONNECTION_CLOSE, DATAGRAM
      {"1c 00 00 05 6162", TransportError::frame_encoding_error, 0x1c, "reason > packet"},
      {"1d 00 4005 6162", TransportError::frame_encoding_error, 0x1d, "reason > packet"},
      {"31 03 6162", TransportError::frame_encoding_error, 0x31, "DATAGRAM length > packet"},
      {"1a 01020304050607", TransportError::frame_encoding_error, 0x1a, "short challenge"},
  };
  for (const Bad& b : bad) {
    INFO(b.why << ": " << b.hex);
    auto bytes = hex(b.hex);
    Reader r{Bytes{bytes}};
    auto d = decode_frame(r);
    REQUIRE(!d.ok());
    CHECK(d.error().is(b.code));
    CHECK(d.error().frame_type == b.frame_type);
    CHECK(!r.ok());
  }
}

TEST_CASE("boundary values that are legal decode", "[frame]") {
  const char* good[] = {
      "02 0a 00 01 02 06 00",              // last range reaches packet 0
      "02 05 00 00 05",                    // first range reaches packet 0
      "0c 00 ffffffffffffffff",            // STREAM ending exactly at 2^62-1
      "0e 00 4005 05 0102030405",          // non-minimal field varints are fine
      "06 4000 4003 616263",               // CRYPTO with 2-byte fields
      "12 d000000000000000",               // MAX_STREAMS = 2^60
      "18 05 05 14 0102030405060708090a0b0c0d0e0f1011121314 000102030405060708090a0b0c0d0e0f",
  };
  for (const char* g : good) {
    INFO(g);
    auto bytes = hex(g);
    Reader r{Bytes{bytes}};
    auto d = decode_frame(r);
    REQUIRE(d.ok());
    CHECK(r.empty());
    // And re-encoding gives a frame that decodes the same.
    auto again = encode(*d);
    Reader r2{Bytes{again}};
    auto d2 = decode_frame(r2);
    REQUIRE(d2.ok());
    CHECK(*d2 == *d);
  }
}

TEST_CASE("a packet payload decodes frame by frame; PADDING runs coalesce", "[frame]") {
  std::vector<uint8_t> pkt(37, 0);
  auto tail = hex("01 0e 04 0a 05 68656c6c6f 0000 1e 00");
  pkt.insert(pkt.end(), tail.begin(), tail.end());
  Reader r{Bytes{pkt}};
  std::vector<Frame> frames;
  while (!r.empty()) {
    auto d = decode_frame(r);
    REQUIRE(d.ok());
    frames.push_back(*d);
  }
  REQUIRE(frames.size() == 6);
  CHECK(std::get<PaddingFrame>(frames[0]).length == 37);
  CHECK(std::holds_alternative<PingFrame>(frames[1]));
  CHECK(as_string(std::get<StreamFrame>(frames[2]).data) == "hello");
  CHECK(std::get<PaddingFrame>(frames[3]).length == 2);
  CHECK(std::holds_alternative<HandshakeDoneFrame>(frames[4]));
  CHECK(std::get<PaddingFrame>(frames[5]).length == 1);

  // padding_run_length at every length and stop position (word-at-a-time scan).
  for (size_t n = 0; n < 40; ++n) {
    std::vector<uint8_t> z(n, 0);
    CHECK(padding_run_length(Bytes{z}) == n);
    for (size_t k = 0; k < n; ++k) {
      z[k] = 0x80;
      CHECK(padding_run_length(Bytes{z}) == k);
      z[k] = 0;
    }
  }
}

TEST_CASE("ACK: ranges iterate in descending order, many ranges with ECN", "[frame]") {
  // 400 ranges with gaps and lengths crossing varint size boundaries.
  std::vector<AckRange> ranges;
  uint64_t top = (uint64_t{1} << 40);
  for (int i = 0; i < 400; ++i) {
    uint64_t len = (i % 3 == 0) ? 0 : (i % 3 == 1 ? 70 : 20000);
    ranges.push_back({top - len, top});
    uint64_t gap = (i % 5 == 0) ? 0 : (i % 5 == 1 ? 63 : (i % 5 == 2 ? 64 : 100000));
    top = top - len - gap - 2;
  }
  EcnCounts ecn{M, 1, 0};
  const EcnCounts* choices[] = {nullptr, &ecn};
  for (const EcnCounts* e : choices) {
    std::vector<uint8_t> buf(ack_frame_size(ranges, 1234, e));
    Writer w{MutBytes{buf}};
    REQUIRE(encode_ack(w, ranges, 1234, e));
    CHECK(w.written() == buf.size());
    Reader r{Bytes{buf}};
    auto d = decode_frame(r);
    REQUIRE(d.ok());
    CHECK(r.empty());
    const auto& a = std::get<AckFrame>(*d);
    CHECK(a.has_ecn == (e != nullptr));
    if (e) CHECK(a.ecn == ecn);
    CHECK(a.ack_delay == 1234);
    CHECK(a.range_count == ranges.size() - 1);
    CHECK(a.largest_acknowledged == ranges[0].largest);
    std::vector<AckRange> got(a.begin(), a.end());
    CHECK(got == ranges);
    std::vector<AckRange> via_for_each;
    a.for_each_range([&](const AckRange& x) { via_for_each.push_back(x); });
    CHECK(via_for_each == ranges);
    CHECK(a.smallest_acknowledged() == ranges.back().smallest);
    CHECK(encoded_size(*d) == buf.size());
    CHECK(encode(*d) == buf);
    // Truncations of a large ACK fail cleanly.
    for (size_t n = 0; n < buf.size(); n += 7) {
      Reader t{Bytes{buf.data(), n}};
      auto td = decode_frame(t);
      REQUIRE(!td.ok());
      CHECK(td.error().is(TransportError::frame_encoding_error));
    }
  }
}

TEST_CASE("ACK: encode_ack rejects invalid ranges", "[frame]") {
  uint8_t buf[64];
  auto try_encode = [&](std::vector<AckRange> r) {
    Writer w{MutBytes{buf}};
    return encode_ack(w, r, 0, nullptr);
  };
  CHECK(try_encode({{5, 10}}));
  CHECK(try_encode({{0, 0}}));
  CHECK(try_encode({{0, M}}));
  CHECK(try_encode({{8, 10}, {0, 6}}));   // one missing packet (7): gap 0
  CHECK(!try_encode({}));                 // empty
  CHECK(!try_encode({{10, 5}}));          // smallest > largest
  CHECK(!try_encode({{0, M + 1}}));       // above 2^62-1
  CHECK(!try_encode({{8, 10}, {0, 7}}));  // adjacent: should have been merged
  CHECK(!try_encode({{8, 10}, {0, 9}}));  // overlapping
  CHECK(!try_encode({{0, 10}, {20, 30}}));  // ascending
  // Does not fit.
  Writer w{MutBytes{buf, 4}};
  std::vector<AckRange> one{{0, 0}};
  CHECK(!encode_ack(w, one, 0, nullptr));
}

TEST_CASE("ACK: a limited budget keeps the newest ranges", "[frame]") {
  std::vector<AckRange> ranges;
  uint64_t top = 1000000;
  for (int i = 0; i < 100; ++i) {
    ranges.push_back({top - (i % 4) * 30, top});
    top -= (i % 4) * 30 + 2 + (i % 7) * 20;
  }
  EcnCounts ecn{1, 2, 3};
  size_t full = ack_frame_size(ranges, 77, &ecn);
  for (size_t budget = 0; budget <= full + 2; ++budget) {
    INFO("budget " << budget);
    std::vector<uint8_t> buf(full + 10);
    Writer w{MutBytes{buf}};
    size_t k = encode_ack_within(w, ranges, 77, &ecn, budget);
    CHECK(k == ack_ranges_fitting(ranges, 77, &ecn, budget));
    CHECK(w.ok());
    CHECK(w.written() <= budget);
    if (k == 0) {
      CHECK(w.written() == 0);
      CHECK(ack_frame_size(std::span{ranges}.first(1), 77, &ecn) > budget);
      continue;
    }
    auto first_k = std::span<const AckRange>{ranges}.first(k);
    CHECK(w.written() == ack_frame_size(first_k, 77, &ecn));
    if (k < ranges.size()) {
      CHECK(ack_frame_size(std::span{ranges}.first(k + 1), 77, &ecn) > budget);
    }
    Reader r{Bytes{buf.data(), w.written()}};
    auto d = decode_frame(r);
    REQUIRE(d.ok());
    const auto& a = std::get<AckFrame>(*d);
    std::vector<AckRange> got(a.begin(), a.end());
    CHECK(got == std::vector<AckRange>(first_k.begin(), first_k.end()));
  }
  CHECK(ack_ranges_fitting(ranges, 77, &ecn, full) == ranges.size());
  // The writer's space also bounds it.
  std::vector<uint8_t> small(20);
  Writer w{MutBytes{small}};
  size_t k = encode_ack_within(w, ranges, 77, &ecn, 1000);
  CHECK(k > 0);
  CHECK(k < ranges.size());
  CHECK(w.written() <= 20);
}

TEST_CASE("STREAM header writer matches the generic encoder", "[frame]") {
  const uint64_t ids[] = {0, 63, 64, 16384, M};
  const uint64_t offsets[] = {0, 1, 16383, 1u << 30, M - 100};
  const size_t lens[] = {0, 1, 63, 64, 100};
  for (uint64_t id : ids) {
    for (uint64_t off : offsets) {
      for (size_t len : lens) {
        for (int flags = 0; flags < 4; ++flags) {
          bool fin = flags & 1, with_len = flags & 2;
          StreamFrame f{id, off, data(len), fin, with_len};
          auto expect = encode(f);
          CHECK(stream_frame_header_size(id, off, len, with_len) + len == expect.size());
          std::vector<uint8_t> buf(expect.size());
          Writer w{MutBytes{buf}};
          REQUIRE(write_stream_frame_header(w, id, off, len, fin, with_len));
          CHECK(w.written() == expect.size() - len);
          REQUIRE(w.bytes(data(len)));
          CHECK(buf == expect);
        }
      }
    }
  }
  uint8_t buf[32];
  Writer w{MutBytes{buf}};
  CHECK(!write_stream_frame_header(w, 0, M, 1, false, true));  // past 2^62-1
  Writer w2{MutBytes{buf, 2}};
  CHECK(!write_stream_frame_header(w2, 64, 0, 1, false, true));  // no room
  CHECK(w2.written() == 0);
}

TEST_CASE("max_*_fitting returns the largest payload that fits", "[frame]") {
  struct Hdr {
    uint64_t id, off;
  };
  const Hdr hdrs[] = {{0, 0}, {4, 1000}, {16384, 1u << 30}};
  for (const Hdr& h : hdrs) {
    for (bool with_len : {false, true}) {
      for (size_t budget = 0; budget < 17000; ++budget) {
        size_t l = max_stream_data_fitting(budget, h.id, h.off, with_len);
        auto total = [&](size_t n) {
          return stream_frame_header_size(h.id, h.off, n, with_len) + n;
        };
        if (l > 0) REQUIRE(total(l) <= budget);
        REQUIRE(total(l + 1) > budget);
      }
    }
  }
  for (uint64_t off : {uint64_t{0}, uint64_t{100}, uint64_t{1} << 20}) {
    for (size_t budget = 0; budget < 17000; ++budget) {
      size_t l = max_crypto_data_fitting(budget, off);
      if (l > 0) REQUIRE(crypto_frame_header_size(off, l) + l <= budget);
      REQUIRE(crypto_frame_header_size(off, l + 1) + l + 1 > budget);
    }
  }
  for (bool with_len : {false, true}) {
    for (size_t budget = 0; budget < 17000; ++budget) {
      size_t l = max_datagram_data_fitting(budget, with_len);
      if (l > 0) REQUIRE(datagram_frame_size(l, with_len) <= budget);
      REQUIRE(datagram_frame_size(l + 1, with_len) > budget);
    }
  }
  // Near a 4-byte/2-byte length boundary the 2-byte form is the better fit.
  CHECK(max_datagram_data_fitting(1 + 2 + 16383, true) == 16383);
  CHECK(max_datagram_data_fitting(1 + 4 + 16384, true) == 16384);
  CHECK(max_datagram_data_fitting(1 + 2 + 16384, true) == 16383);
}

TEST_CASE("CRYPTO and DATAGRAM header writers match the generic encoder", "[frame]") {
  for (uint64_t off : {uint64_t{0}, uint64_t{63}, uint64_t{64}, M - 64}) {
    for (size_t len : {size_t{0}, size_t{1}, size_t{63}, size_t{64}}) {
      auto expect = encode(CryptoFrame{off, data(len)});
      std::vector<uint8_t> buf(expect.size());
      Writer w{MutBytes{buf}};
      REQUIRE(write_crypto_frame_header(w, off, len));
      CHECK(w.written() == crypto_frame_header_size(off, len));
      REQUIRE(w.bytes(data(len)));
      CHECK(buf == expect);
    }
  }
  for (bool with_len : {false, true}) {
    for (size_t len : {size_t{0}, size_t{63}, size_t{64}, size_t{1000}}) {
      auto expect = encode(DatagramFrame{data(len), with_len});
      CHECK(datagram_frame_size(len, with_len) == expect.size());
      std::vector<uint8_t> buf(expect.size());
      Writer w{MutBytes{buf}};
      REQUIRE(write_datagram_frame_header(w, len, with_len));
      CHECK(w.written() == datagram_frame_header_size(len, with_len));
      REQUIRE(w.bytes(data(len)));
      CHECK(buf == expect);
    }
  }
  uint8_t buf[16];
  Writer w{MutBytes{buf}};
  CHECK(!write_crypto_frame_header(w, M, 1));
}

TEST_CASE("encode_frame refuses frames the decoder would reject", "[frame]") {
  uint8_t buf[128];
  const Frame invalid[] = {
      PaddingFrame{0},
      NewTokenFrame{{}},
      MaxStreamsFrame{true, kMaxStreamCount + 1},
      StreamsBlockedFrame{false, kMaxStreamCount + 1},
      NewConnectionIdFrame{0, 0, ConnectionId{}, token16()},
      NewConnectionIdFrame{1, 2, cid_of(8), token16()},
      MaxDataFrame{M + 1},
      StreamFrame{0, M, data(1), false, true},
      CryptoFrame{M, data(1)},
      ack_single(5, 0, 6),
  };
  for (const Frame& f : invalid) {
    INFO(frame_name(f));
    Writer w{MutBytes{buf}};
    CHECK(!encode_frame(w, f));
  }
  // And a frame larger than the buffer.
  Writer w{MutBytes{buf, 8}};
  CHECK(!encode_frame(w, MaxDataFrame{M}));
}

TEST_CASE("frame_allowed_in follows RFC 9000 Table 3", "[frame]") {
  // Columns: Initial, Handshake, 0-RTT, 1-RTT. RETIRE_CONNECTION_ID is refused
  // in 0-RTT (RFC 9001 §4 MAY); CONNECTION_CLOSE 0x1d only in 0-RTT/1-RTT.
  struct Row {
    uint64_t type;
    const char* pkts;
  };
  const Row rows[] = {
      {0x00, "IH01"}, {0x01, "IH01"}, {0x02, "IH_1"}, {0x03, "IH_1"}, {0x04, "__01"},
      {0x05, "__01"}, {0x06, "IH_1"}, {0x07, "___1"}, {0x08, "__01"}, {0x09, "__01"},
      {0x0a, "__01"}, {0x0b, "__01"}, {0x0c, "__01"}, {0x0d, "__01"}, {0x0e, "__01"},
      {0x0f, "__01"}, {0x10, "__01"}, {0x11, "__01"}, {0x12, "__01"}, {0x13, "__01"},
      {0x14, "__01"}, {0x15, "__01"}, {0x16, "__01"}, {0x17, "__01"}, {0x18, "__01"},
      {0x19, "___1"}, {0x1a, "__01"}, {0x1b, "___1"}, {0x1c, "IH01"}, {0x1d, "__01"},
      {0x1e, "___1"}, {0x30, "__01"}, {0x31, "__01"}, {0x1f, "____"}, {0x2f, "____"},
      {0x32, "____"}, {0x40, "____"}, {0x4000, "____"},
  };
  const PacketType cols[] = {PacketType::initial, PacketType::handshake, PacketType::zero_rtt,
                             PacketType::one_rtt};
  for (const Row& row : rows) {
    for (int i = 0; i < 4; ++i) {
      INFO(frame_name(row.type) << " 0x" << std::hex << row.type << " column " << i);
      CHECK(frame_allowed_in(row.type, cols[i]) == (row.pkts[i] != '_'));
    }
    CHECK(!frame_allowed_in(row.type, PacketType::retry));
    CHECK(!frame_allowed_in(row.type, PacketType::version_negotiation));
  }
}

TEST_CASE("ack-eliciting, in-flight and probing frame types", "[frame]") {
  for (uint64_t t = 0; t <= 0x31; ++t) {
    if (!is_known_frame_type(t)) continue;
    INFO(frame_name(t));
    bool not_eliciting = t == 0x00 || t == 0x02 || t == 0x03 || t == 0x1c || t == 0x1d;
    CHECK(is_ack_eliciting(t) == !not_eliciting);
    // RFC 9002 §2: in flight = ack-eliciting or PADDING; ACK/CLOSE are not.
    bool in_flight = !(t == 0x02 || t == 0x03 || t == 0x1c || t == 0x1d);
    CHECK(counts_in_flight(t) == in_flight);
    bool probing = t == 0x00 || t == 0x18 || t == 0x1a || t == 0x1b;
    CHECK(is_probing_frame(t) == probing);
  }
  CHECK(is_known_frame_type(0x1e));
  CHECK(!is_known_frame_type(0x1f));
  CHECK(!is_known_frame_type(0x2f));
  CHECK(is_known_frame_type(0x30));
  CHECK(!is_known_frame_type(0x32));
}

TEST_CASE("frame names", "[frame]") {
  CHECK(std::string(frame_name(0x00)) == "PADDING");
  CHECK(std::string(frame_name(0x03)) == "ACK");
  CHECK(std::string(frame_name(0x0b)) == "STREAM");
  CHECK(std::string(frame_name(0x13)) == "MAX_STREAMS");
  CHECK(std::string(frame_name(0x17)) == "STREAMS_BLOCKED");
  CHECK(std::string(frame_name(0x1d)) == "CONNECTION_CLOSE");
  CHECK(std::string(frame_name(0x1e)) == "HANDSHAKE_DONE");
  CHECK(std::string(frame_name(0x31)) == "DATAGRAM");
  CHECK(std::string(frame_name(0x1f)) == "UNKNOWN");
  for (const Case& c : cases()) {
    CHECK(std::string(frame_name(c.frame)) != "UNKNOWN");
  }
}
