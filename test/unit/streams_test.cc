// Streams and flow control: send buffer, reassembly, flow control windows,
// the stream map's limits and the scheduler (RFC 9000 §2-§4, RFC 9218 §10).
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "lib/bytes.h"
#include "lib/result.h"
#include "quic/flow_control.h"
#include "quic/scheduler.h"
#include "quic/stream_id.h"
#include "quic/stream_map.h"
#include "quic/stream_range_set.h"
#include "quic/stream_recv.h"
#include "quic/stream_send.h"

using namespace wt;
using namespace wt::quic;
using namespace std::chrono_literals;

namespace {

constexpr uint64_t kInf = ~uint64_t{0};

// Byte i of a test stream.
uint8_t pat(uint64_t i) { return static_cast<uint8_t>((i * 7 + 3) % 251); }

std::vector<uint8_t> pattern(uint64_t start, size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = pat(start + i);
  return v;
}

std::string copy_str(const SendStream& s, const StreamFrameSpec& f) {
  std::string out(f.length, '\0');
  s.copy_data(f.offset, MutBytes(reinterpret_cast<uint8_t*>(out.data()), out.size()));
  return out;
}

std::string read_str(RecvStream& r, size_t max = 1 << 20, bool* fin = nullptr) {
  std::string out(max, '\0');
  auto res = r.read(MutBytes(reinterpret_cast<uint8_t*>(out.data()), out.size()));
  REQUIRE(res.ok());
  out.resize(res->bytes);
  if (fin) *fin = res->fin;
  return out;
}

std::vector<std::pair<uint64_t, uint64_t>> ranges(const StreamRangeSet& s) {
  std::vector<std::pair<uint64_t, uint64_t>> v;
  s.for_each([&](uint64_t a, uint64_t b) { v.emplace_back(a, b); });
  return v;
}

using RV = std::vector<std::pair<uint64_t, uint64_t>>;

}  // namespace

// ---------------------------------------------------------------- range set

TEST_CASE("range set merges, splits and reports gaps", "[stream]") {
  StreamRangeSet s;
  s.insert(10, 20);
  s.insert(30, 40);
  CHECK(ranges(s) == RV{{10, 20}, {30, 40}});
  s.insert(20, 25);  // adjacent to the left range
  CHECK(ranges(s) == RV{{10, 25}, {30, 40}});
  s.insert(28, 30);  // adjacent to the right range: re-keyed
  CHECK(ranges(s) == RV{{10, 25}, {28, 40}});
  s.insert(5, 50);  // covers everything
  CHECK(ranges(s) == RV{{5, 50}});
  s.insert(7, 9);  // inside: no change
  CHECK(ranges(s) == RV{{5, 50}});

  s.erase(10, 20);  // split
  CHECK(ranges(s) == RV{{5, 10}, {20, 50}});
  s.erase(0, 7);  // trim front
  CHECK(ranges(s) == RV{{7, 10}, {20, 50}});
  s.erase(45, 60);  // trim back
  CHECK(ranges(s) == RV{{7, 10}, {20, 45}});
  s.erase(20, 30);  // re-key
  CHECK(ranges(s) == RV{{7, 10}, {30, 45}});

  CHECK(s.contains(30, 45));
  CHECK_FALSE(s.contains(29, 31));
  CHECK(s.contiguous_end(8) == 10);
  CHECK(s.contiguous_end(10) == 10);
  CHECK(s.contiguous_end(0) == 0);

  RV gaps;
  s.for_each_gap(0, 50, [&](uint64_t a, uint64_t b) { gaps.emplace_back(a, b); });
  CHECK(gaps == RV{{0, 7}, {10, 30}, {45, 50}});
  gaps.clear();
  s.for_each_gap(8, 35, [&](uint64_t a, uint64_t b) { gaps.emplace_back(a, b); });
  CHECK(gaps == RV{{10, 30}});
  gaps.clear();
  s.for_each_gap(31, 40, [&](uint64_t a, uint64_t b) { gaps.emplace_back(a, b); });
  CHECK(gaps.empty());
}

// ---------------------------------------------------------------- stream IDs

TEST_CASE("stream id helpers follow RFC 9000 §2.1", "[stream]") {
  CHECK(make_stream_id(0, Role::client, StreamDir::bidi) == 0);
  CHECK(make_stream_id(0, Role::server, StreamDir::bidi) == 1);
  CHECK(make_stream_id(0, Role::client, StreamDir::uni) == 2);
  CHECK(make_stream_id(0, Role::server, StreamDir::uni) == 3);
  CHECK(make_stream_id(5, Role::server, StreamDir::uni) == 23);
  CHECK(stream_index(23) == 5);
  CHECK(stream_initiator(23) == Role::server);
  CHECK(stream_dir(23) == StreamDir::uni);
  CHECK(stream_dir(4) == StreamDir::bidi);
  CHECK(is_local_stream(4, Role::client));
  CHECK_FALSE(is_local_stream(4, Role::server));
  // A client may send on 0 (bidi), 2 (its uni); not on 3 (server uni).
  CHECK(can_send_on(0, Role::client));
  CHECK(can_send_on(2, Role::client));
  CHECK_FALSE(can_send_on(3, Role::client));
  CHECK(can_recv_on(3, Role::client));
  CHECK_FALSE(can_recv_on(2, Role::client));
  CHECK(make_stream_id(kMaxStreamsPerType - 1, Role::server, StreamDir::uni) == (uint64_t{1} << 62) - 1);
}

// ---------------------------------------------------------------- send

TEST_CASE("send stream: frames, copy, fin", "[stream]") {
  SendStream s(100, 1000);
  CHECK(s.state() == SendStream::State::ready);
  CHECK(*s.write(as_bytes("hello world")) == 11);
  CHECK(s.next_offset(kInf) == 0u);
  auto f = s.next_frame(5, kInf);
  REQUIRE(f);
  CHECK(f->offset == 0);
  CHECK(f->length == 5);
  CHECK_FALSE(f->fin);
  CHECK(f->new_bytes == 5);
  CHECK(copy_str(s, *f) == "hello");
  CHECK(s.state() == SendStream::State::send);
  f = s.next_frame(100, kInf);
  REQUIRE(f);
  CHECK(f->offset == 5);
  CHECK(f->length == 6);
  CHECK(copy_str(s, *f) == " world");
  CHECK_FALSE(s.next_frame(100, kInf));
  CHECK_FALSE(s.wants_to_send());

  s.close();
  CHECK(s.final_size() == 11u);
  CHECK(s.wants_to_send());
  f = s.next_frame(0, kInf);  // FIN-only fits even with no room for data
  REQUIRE(f);
  CHECK(f->offset == 11);
  CHECK(f->length == 0);
  CHECK(f->fin);
  CHECK(s.state() == SendStream::State::data_sent);
  CHECK_FALSE(s.next_frame(100, kInf));
  CHECK(s.write(as_bytes("x")).error().is(TransportError::stream_state_error));

  CHECK_FALSE(s.on_acked(0, 5, false));
  CHECK_FALSE(s.on_acked(11, 0, true));  // FIN acked before the rest
  CHECK(s.state() == SendStream::State::data_sent);
  CHECK(s.on_acked(5, 6, false));
  CHECK(s.state() == SendStream::State::data_recvd);
  CHECK(s.terminal());
  CHECK(s.buffered() == 0);
}

TEST_CASE("send stream: lost data is resent first, minus acknowledged parts", "[stream]") {
  SendStream s(1 << 20, 1 << 20);
  auto data = pattern(0, 3000);
  CHECK(*s.write(data) == 3000);
  auto f1 = s.next_frame(1000, kInf);
  auto f2 = s.next_frame(1000, kInf);
  REQUIRE((f1 && f2));
  CHECK(f2->offset == 1000);

  s.on_lost(0, 1000, false);
  CHECK(s.next_offset(kInf) == 0u);
  auto r = s.next_frame(600, kInf);
  REQUIRE(r);
  CHECK(r->offset == 0);
  CHECK(r->length == 600);
  CHECK(r->new_bytes == 0);  // retransmissions use no credit
  r = s.next_frame(1000, kInf);
  REQUIRE(r);
  CHECK(r->offset == 600);
  CHECK(r->length == 400);
  r = s.next_frame(1000, kInf);  // now new data
  REQUIRE(r);
  CHECK(r->offset == 2000);
  CHECK(r->length == 1000);
  CHECK(r->new_bytes == 1000);

  // [1000,2000) partly acked, then its original packet declared lost.
  CHECK_FALSE(s.on_acked(1000, 500, false));
  s.on_lost(500, 1500, false);  // [500,1000) and [1500,2000) need resending
  r = s.next_frame(2000, kInf);
  REQUIRE(r);
  CHECK(r->offset == 500);
  CHECK(r->length == 500);
  r = s.next_frame(2000, kInf);
  REQUIRE(r);
  CHECK(r->offset == 1500);
  CHECK(r->length == 500);
  std::vector<uint8_t> out(500);
  s.copy_data(1500, out);
  CHECK(out == pattern(1500, 500));
  CHECK_FALSE(s.next_frame(2000, kInf));

  // A spurious loss: acknowledged after being declared lost.
  s.on_lost(2000, 1000, false);
  CHECK(s.on_acked(2000, 1000, false) == false);
  CHECK_FALSE(s.wants_to_send());
}

TEST_CASE("send stream: lost FIN is resent with the last data", "[stream]") {
  SendStream s(100, 100);
  CHECK(*s.write(as_bytes("0123456789")) == 10);
  s.close();
  auto f = s.next_frame(100, kInf);
  REQUIRE(f);
  CHECK(f->length == 10);
  CHECK(f->fin);
  s.on_lost(0, 10, true);
  f = s.next_frame(4, kInf);
  REQUIRE(f);
  CHECK(f->offset == 0);
  CHECK(f->length == 4);
  CHECK_FALSE(f->fin);
  f = s.next_frame(100, kInf);
  REQUIRE(f);
  CHECK(f->offset == 4);
  CHECK(f->length == 6);
  CHECK(f->fin);
  CHECK_FALSE(s.next_frame(100, kInf));
  CHECK_FALSE(s.on_acked(0, 4, false));
  CHECK(s.on_acked(4, 6, true));

  // A lost FIN-only frame goes out again on its own.
  SendStream t(100, 100);
  CHECK(*t.write(as_bytes("abc")) == 3);
  REQUIRE(t.next_frame(100, kInf));
  t.close();
  auto fin = t.next_frame(100, kInf);
  REQUIRE(fin);
  CHECK(fin->offset == 3);
  CHECK(fin->fin);
  t.on_lost(3, 0, true);
  fin = t.next_frame(0, kInf);
  REQUIRE(fin);
  CHECK(fin->offset == 3);
  CHECK(fin->length == 0);
  CHECK(fin->fin);
}

TEST_CASE("send stream: buffer limit gives backpressure", "[stream]") {
  SendStream s(1000, 100);
  auto data = pattern(0, 150);
  CHECK(*s.write(data) == 100);
  CHECK(s.writable_bytes() == 0);
  CHECK(*s.write(data) == 0);
  CHECK_FALSE(s.take_writable());
  auto f = s.next_frame(1000, kInf);
  REQUIRE(f);
  CHECK(f->length == 100);
  CHECK_FALSE(s.take_writable());  // sent is not acknowledged: still held
  s.on_acked(0, 60, false);
  CHECK(s.buffered() == 40);
  CHECK(s.writable_bytes() == 60);
  CHECK(s.take_writable());
  CHECK_FALSE(s.take_writable());
  CHECK(*s.write(std::span(data).subspan(100)) == 50);
  CHECK(s.written() == 150);
}

TEST_CASE("send stream: data spans chunks and acks free them", "[stream]") {
  SendStream s(1 << 20, 1 << 20);
  const size_t total = 40000;
  auto data = pattern(0, total);
  for (size_t off = 0; off < total; off += 7) {
    size_t n = std::min<size_t>(7, total - off);
    REQUIRE(*s.write(std::span(data).subspan(off, n)) == n);
  }
  auto f = s.next_frame(total, kInf);
  REQUIRE(f);
  CHECK(f->length == total);
  std::vector<uint8_t> out(total);
  s.copy_data(0, out);
  CHECK(out == data);
  // Copies across chunk boundaries (512, 1024, ... sized chunks).
  std::vector<uint8_t> mid(3000);
  s.copy_data(500, mid);
  CHECK(mid == pattern(500, 3000));
  // Out-of-order acks: buffered() counts from the first unacked byte.
  s.on_acked(20000, 20000, false);
  CHECK(s.buffered() == total);
  s.on_acked(0, 20000, false);
  CHECK(s.buffered() == 0);
}

TEST_CASE("send stream: stream and connection credit", "[stream][flow]") {
  SendStream s(10, 1000);
  CHECK(*s.write(pattern(0, 25)) == 25);
  auto f = s.next_frame(100, 3);  // connection credit 3
  REQUIRE(f);
  CHECK(f->length == 3);
  CHECK(f->new_bytes == 3);
  CHECK_FALSE(s.next_frame(100, 0));
  CHECK_FALSE(s.next_offset(0));
  f = s.next_frame(100, kInf);
  REQUIRE(f);
  CHECK(f->offset == 3);
  CHECK(f->length == 7);  // stream credit 10 reached
  CHECK(s.blocked_pending());
  CHECK(s.take_blocked() == 10);
  CHECK_FALSE(s.blocked_pending());
  CHECK_FALSE(s.next_frame(100, kInf));
  CHECK_FALSE(s.blocked_pending());  // once per limit
  CHECK_FALSE(s.wants_to_send());
  s.on_blocked_lost(10);
  CHECK(s.blocked_pending());

  CHECK_FALSE(s.on_max_stream_data(5));  // smaller: ignored (RFC 9000 §19.10)
  CHECK(s.on_max_stream_data(20));
  CHECK_FALSE(s.blocked_pending());  // stale frame dropped
  CHECK(s.wants_to_send());
  f = s.next_frame(100, kInf);
  REQUIRE(f);
  CHECK(f->offset == 10);
  CHECK(f->length == 10);
  CHECK(s.blocked_pending());
  CHECK(s.take_blocked() == 20);

  // Retransmissions go out without any credit.
  s.on_lost(0, 5, false);
  f = s.next_frame(100, 0);
  REQUIRE(f);
  CHECK(f->offset == 0);
  CHECK(f->length == 5);
}

TEST_CASE("send stream: reset and STOP_SENDING", "[stream]") {
  SendStream s(1000, 1000);
  CHECK(*s.write(pattern(0, 100)) == 100);
  REQUIRE(s.next_frame(40, kInf));
  CHECK(s.reset(7));
  CHECK_FALSE(s.reset(8));
  CHECK(s.state() == SendStream::State::reset_sent);
  CHECK(s.final_size() == 40u);  // RFC 9000 §4.5: bytes sent
  CHECK(s.buffered() == 0);
  CHECK(s.reset_pending());
  auto info = s.take_reset();
  CHECK(info.error_code == 7);
  CHECK(info.final_size == 40);
  CHECK_FALSE(s.reset_pending());
  CHECK_FALSE(s.next_frame(100, kInf));
  CHECK(s.write(as_bytes("x")).error().is(TransportError::stream_state_error));
  s.on_reset_lost();
  CHECK(s.reset_pending());
  CHECK(s.on_reset_acked());
  CHECK(s.state() == SendStream::State::reset_recvd);
  CHECK(s.terminal());
  CHECK_FALSE(s.reset_pending());

  SendStream t(1000, 1000);
  CHECK(*t.write(pattern(0, 10)) == 10);
  CHECK(t.on_stop_sending(9));
  CHECK(t.stop_sending_received());
  CHECK(t.reset_code() == 9);
  CHECK(t.final_size() == 0u);
  CHECK_FALSE(t.on_stop_sending(9));

  // All data acknowledged: STOP_SENDING changes nothing.
  SendStream u(1000, 1000);
  CHECK(*u.write(pattern(0, 10)) == 10);
  u.close();
  REQUIRE(u.next_frame(100, kInf));
  CHECK(u.on_acked(0, 10, true));
  CHECK_FALSE(u.on_stop_sending(9));
  CHECK(u.state() == SendStream::State::data_recvd);
}

// ---------------------------------------------------------------- recv

TEST_CASE("recv stream: in order, out of order, FIN", "[stream]") {
  RecvStream r(1000, 1000);
  auto d = r.on_stream_frame(5, as_bytes("world"), false);
  REQUIRE(d.ok());
  CHECK(d->received == 10);
  CHECK(r.readable_bytes() == 0);
  CHECK_FALSE(r.readable());
  CHECK(read_str(r).empty());
  d = r.on_stream_frame(0, as_bytes("hello"), false);
  REQUIRE(d.ok());
  CHECK(d->received == 0);
  CHECK(r.readable_bytes() == 10);
  CHECK(read_str(r, 3) == "hel");
  CHECK(r.read_offset() == 3);
  d = r.on_stream_frame(10, as_bytes("!"), true);
  REQUIRE(d.ok());
  CHECK(d->received == 1);
  CHECK(r.state() == RecvStream::State::data_recvd);
  bool fin = false;
  CHECK(read_str(r, 100, &fin) == "loworld!");
  CHECK(fin);
  CHECK(r.state() == RecvStream::State::data_read);
  CHECK(r.done());

  // An empty stream: FIN at offset 0.
  RecvStream e(1000, 1000);
  REQUIRE(e.on_stream_frame(0, {}, true).ok());
  CHECK(e.state() == RecvStream::State::data_recvd);
  CHECK(e.readable());
  CHECK(read_str(e, 10, &fin).empty());
  CHECK(fin);
  CHECK(e.state() == RecvStream::State::data_read);
}

TEST_CASE("recv stream: overlaps and duplicates", "[stream]") {
  RecvStream r(1000, 1000);
  auto d = r.on_stream_frame(0, as_bytes("abcdef"), false);
  REQUIRE(d.ok());
  CHECK(d->received == 6);
  d = r.on_stream_frame(3, as_bytes("defghi"), false);
  REQUIRE(d.ok());
  CHECK(d->received == 3);
  d = r.on_stream_frame(2, as_bytes("cdef"), false);
  REQUIRE(d.ok());
  CHECK(d->received == 0);
  d = r.on_stream_frame(12, as_bytes("mn"), false);
  REQUIRE(d.ok());
  CHECK(d->received == 5);
  CHECK(r.range_count() == 2);
  d = r.on_stream_frame(8, as_bytes("ijklm"), false);  // fills the gap, overlaps both sides
  REQUIRE(d.ok());
  CHECK(r.range_count() == 1);
  CHECK(read_str(r, 4) == "abcd");
  REQUIRE(r.on_stream_frame(0, as_bytes("abcdefgh"), false).ok());  // already read
  CHECK(read_str(r) == "efghijklmn");
}

TEST_CASE("recv stream: 10,000 one-byte frames in reverse order", "[stream]") {
  const uint64_t n = 10000;
  RecvStream r(1 << 20, 1 << 20);
  auto start = std::chrono::steady_clock::now();
  for (uint64_t i = n; i-- > 0;) {
    uint8_t b = pat(i);
    auto d = r.on_stream_frame(i, Bytes(&b, 1), i == n - 1);
    REQUIRE(d.ok());
    CHECK(d->received == (i == n - 1 ? n : 0));
    if (r.range_count() != 1) FAIL("reverse frames did not merge into one range");
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(elapsed < 500ms);  // linear: a few milliseconds
  CHECK(r.state() == RecvStream::State::data_recvd);
  std::vector<uint8_t> out(n + 10);
  auto res = r.read(out);
  REQUIRE(res.ok());
  CHECK(res->bytes == n);
  CHECK(res->fin);
  out.resize(n);
  CHECK(out == pattern(0, n));

  // Interleaved: all even offsets, then all odd ones.
  RecvStream q(1 << 20, 1 << 20);
  for (uint64_t i = 0; i < n; i += 2) {
    uint8_t b = pat(i);
    REQUIRE(q.on_stream_frame(i, Bytes(&b, 1), false).ok());
  }
  CHECK(q.range_count() == n / 2);
  for (uint64_t i = 1; i < n; i += 2) {
    uint8_t b = pat(i);
    REQUIRE(q.on_stream_frame(i, Bytes(&b, 1), false).ok());
  }
  CHECK(q.range_count() == 1);
  CHECK(q.readable_bytes() == n);
}

TEST_CASE("recv stream: zero-copy peek across chunks", "[stream]") {
  RecvStream r(1 << 20, 1 << 20);
  auto data = pattern(0, 5000);
  REQUIRE(r.on_stream_frame(0, data, true).ok());
  Bytes p = r.peek();
  CHECK(p.size() == RecvBuffer::kChunk);
  CHECK(std::vector<uint8_t>(p.begin(), p.end()) == pattern(0, RecvBuffer::kChunk));
  auto c = r.consume(p.size());
  CHECK(c.bytes == RecvBuffer::kChunk);
  CHECK_FALSE(c.fin);
  p = r.peek();
  CHECK(p.size() == 5000 - RecvBuffer::kChunk);
  CHECK(p[0] == pat(RecvBuffer::kChunk));
  c = r.consume(p.size());
  CHECK(c.fin);
}

TEST_CASE("recv stream: flow control limit", "[stream][flow]") {
  RecvStream r(100, 100);
  auto bad = r.on_stream_frame(90, pattern(90, 11), false);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().is(TransportError::flow_control_error));
  CHECK(bad.error().frame_type == 0x08);
  CHECK(r.highest_received() == 0);  // unchanged on error
  REQUIRE(r.on_stream_frame(90, pattern(90, 10), false).ok());
  CHECK(r.highest_received() == 100);
  // RFC 9000 §19.8: offset + length beyond 2^62-1.
  uint8_t b = 0;
  CHECK(r.on_stream_frame((uint64_t{1} << 62) - 1, Bytes(&b, 1), false)
            .error()
            .is(TransportError::flow_control_error));
}

TEST_CASE("recv stream: final size errors", "[stream]") {
  SECTION("data beyond the final size") {
    RecvStream r(1000, 1000);
    REQUIRE(r.on_stream_frame(0, pattern(0, 10), true).ok());
    auto e = r.on_stream_frame(8, pattern(8, 5), false);
    CHECK(e.error().is(TransportError::final_size_error));
    CHECK(r.on_stream_frame(8, pattern(8, 2), false).ok());  // within: fine
  }
  SECTION("FIN that changes the final size") {
    RecvStream r(1000, 1000);
    REQUIRE(r.on_stream_frame(0, pattern(0, 10), true).ok());
    CHECK(r.on_stream_frame(0, pattern(0, 8), true).error().is(TransportError::final_size_error));
    CHECK(r.on_stream_frame(10, {}, true).ok());  // same final size again
  }
  SECTION("FIN below data already received") {
    RecvStream r(1000, 1000);
    REQUIRE(r.on_stream_frame(10, pattern(10, 10), false).ok());
    CHECK(r.on_stream_frame(0, pattern(0, 15), true).error().is(TransportError::final_size_error));
  }
  SECTION("RESET_STREAM with another final size") {
    RecvStream r(1000, 1000);
    REQUIRE(r.on_stream_frame(0, pattern(0, 10), true).ok());
    auto e = r.on_reset_stream(1, 12);
    CHECK(e.error().is(TransportError::final_size_error));
    CHECK(e.error().frame_type == 0x04);
  }
  SECTION("RESET_STREAM below data received") {
    RecvStream r(1000, 1000);
    REQUIRE(r.on_stream_frame(0, pattern(0, 20), false).ok());
    CHECK(r.on_reset_stream(1, 19).error().is(TransportError::final_size_error));
  }
  SECTION("RESET_STREAM beyond the flow control limit") {
    RecvStream r(100, 100);
    CHECK(r.on_reset_stream(1, 101).error().is(TransportError::flow_control_error));
  }
}

TEST_CASE("recv stream: RESET_STREAM", "[stream]") {
  RecvStream r(1000, 1000);
  REQUIRE(r.on_stream_frame(0, pattern(0, 10), false).ok());
  CHECK(read_str(r, 4).size() == 4);
  auto d = r.on_reset_stream(5, 30);
  REQUIRE(d.ok());
  CHECK(d->received == 20);  // final size counts against flow control
  CHECK(d->released == 26);  // never to be read
  CHECK(r.state() == RecvStream::State::reset_recvd);
  CHECK(r.readable());
  CHECK_FALSE(r.done());
  std::vector<uint8_t> out(10);
  auto res = r.read(out);
  REQUIRE_FALSE(res.ok());
  CHECK(res.error().application);
  CHECK(res.error().code == 5);
  CHECK(r.state() == RecvStream::State::reset_read);
  CHECK(r.done());
  // Later frames are checked, their data ignored.
  d = r.on_stream_frame(0, pattern(0, 30), true);
  REQUIRE(d.ok());
  CHECK(d->received == 0);
  CHECK(r.on_stream_frame(25, pattern(25, 10), false).error().is(TransportError::final_size_error));
  d = r.on_reset_stream(5, 30);  // duplicate
  REQUIRE(d.ok());
  CHECK(d->received == 0);
  CHECK(d->released == 0);

  // In Data Recvd the data is delivered and the reset ignored.
  RecvStream q(1000, 1000);
  REQUIRE(q.on_stream_frame(0, as_bytes("abc"), true).ok());
  REQUIRE(q.on_reset_stream(5, 3).ok());
  CHECK(q.state() == RecvStream::State::data_recvd);
  bool fin = false;
  CHECK(read_str(q, 10, &fin) == "abc");
  CHECK(fin);
}

TEST_CASE("recv stream: stop_sending discards data", "[stream]") {
  RecvStream r(1000, 1000);
  REQUIRE(r.on_stream_frame(0, pattern(0, 50), false).ok());
  CHECK(read_str(r, 10).size() == 10);
  CHECK(r.stop_sending(77) == 40);
  CHECK(r.stopped());
  CHECK(r.stop_sending_pending());
  CHECK(r.take_stop_sending() == 77);
  CHECK_FALSE(r.stop_sending_pending());
  r.on_stop_sending_lost();
  CHECK(r.stop_sending_pending());
  CHECK_FALSE(r.readable());
  std::vector<uint8_t> out(10);
  CHECK(r.read(out).error().is(TransportError::stream_state_error));
  auto d = r.on_stream_frame(60, pattern(60, 10), false);
  REQUIRE(d.ok());
  CHECK(d->received == 20);
  CHECK(d->released == 20);  // discarded at once
  CHECK_FALSE(r.window_update_pending());
  d = r.on_reset_stream(77, 80);
  REQUIRE(d.ok());
  CHECK(d->received == 10);
  CHECK(d->released == 10);
  CHECK(r.state() == RecvStream::State::reset_recvd);
  CHECK(r.done());  // the application asked to stop: nothing to report
  CHECK_FALSE(r.stop_sending_pending());  // RFC 9000 §3.5: not in Reset Recvd
}

TEST_CASE("recv stream: MAX_STREAM_DATA when half the window is read", "[stream][flow]") {
  RecvStream r(100, 100);
  REQUIRE(r.on_stream_frame(0, pattern(0, 60), false).ok());
  CHECK(read_str(r, 40).size() == 40);
  CHECK_FALSE(r.window_update_pending());  // credit left: 60 > 50
  CHECK(read_str(r, 10).size() == 10);
  CHECK(r.window_update_pending());  // credit left: 50
  CHECK(r.take_window_update(from_ns(0), 10ms) == 150);
  CHECK_FALSE(r.window_update_pending());
  r.on_window_update_lost(150);
  CHECK(r.window_update_pending());
  CHECK(r.take_window_update(from_ns(1'000'000), 10ms) == 150);
  // Once the final size is known no more credit is sent (RFC 9000 §3.2).
  REQUIRE(r.on_stream_frame(60, pattern(60, 40), true).ok());
  CHECK(read_str(r).size() == 50);
  CHECK_FALSE(r.window_update_pending());
}

// ---------------------------------------------------------------- flow control

TEST_CASE("send credit: blocked once per limit", "[flow]") {
  SendCredit c(100);
  c.consume(60);
  CHECK(c.available() == 40);
  c.on_blocked();  // still has credit: nothing
  CHECK_FALSE(c.blocked_pending());
  c.consume(50);  // clamped to the limit
  CHECK(c.used() == 100);
  c.on_blocked();
  CHECK(c.blocked_pending());
  CHECK(c.take_blocked() == 100);
  c.on_blocked();
  CHECK_FALSE(c.blocked_pending());
  c.on_blocked_lost(90);  // not the current limit
  CHECK_FALSE(c.blocked_pending());
  c.on_blocked_lost(100);
  CHECK(c.blocked_pending());
  CHECK_FALSE(c.raise_limit(100));
  CHECK(c.raise_limit(150));
  CHECK_FALSE(c.blocked_pending());
  CHECK(c.available() == 50);
  c.on_blocked_lost(100);  // no longer blocked
  CHECK_FALSE(c.blocked_pending());
}

TEST_CASE("recv window: limit, updates and auto-tuning", "[flow]") {
  RecvWindow w(100, 1000);
  CHECK(w.limit() == 100);
  REQUIRE(w.on_received(100).ok());
  auto e = w.on_received(1, 0x10);
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().is(TransportError::flow_control_error));
  CHECK(e.error().frame_type == 0x10);
  CHECK(w.received() == 100);

  w.on_consumed(49);
  CHECK_FALSE(w.update_needed());
  w.on_consumed(1);
  CHECK(w.update_needed());
  // First update: nothing to compare with, no growth.
  CHECK(w.take_update(from_ns(0), 10ms) == 150);
  CHECK(w.window() == 100);

  // Half the window consumed 15 ms later, RTT 10 ms: < 2 RTT, double it.
  REQUIRE(w.on_received(50).ok());
  w.on_consumed(50);
  CHECK(w.update_needed());
  CHECK(w.take_update(from_ns(15'000'000), 10ms) == 300);  // 100 + 200
  CHECK(w.window() == 200);

  // Exactly 2 RTT later: not faster than 2 RTT, the window stays.
  REQUIRE(w.on_received(150).ok());
  w.on_consumed(100);  // consumed 200, credit left 100 <= 100
  CHECK(w.update_needed());
  CHECK(w.take_update(from_ns(35'000'000), 10ms) == 400);
  CHECK(w.window() == 200);

  // Fast again and again: growth stops at max_window.
  uint64_t t = 35'000'000;
  for (int i = 0; i < 6; ++i) {
    uint64_t want = w.limit() - w.consumed();
    REQUIRE(w.on_received(w.limit() - w.received()).ok());
    w.on_consumed(want);
    REQUIRE(w.update_needed());
    t += 1'000'000;
    w.take_update(from_ns(static_cast<int64_t>(t)), 10ms);
  }
  CHECK(w.window() == 1000);
  CHECK(w.limit() == w.consumed() + 1000);

  // Lost update: only the current value is resent.
  uint64_t cur = w.limit();
  w.on_update_lost(cur - 1);
  CHECK_FALSE(w.update_needed());
  w.on_update_lost(cur);
  CHECK(w.update_needed());
  CHECK(w.take_update(from_ns(static_cast<int64_t>(t)), 10ms) == cur);
}

// ---------------------------------------------------------------- stream map

namespace {
StreamMapConfig small_config() {
  StreamMapConfig c;
  c.max_streams_bidi = 10;
  c.max_streams_uni = 4;
  c.stream_window_bidi_local = 1000;
  c.stream_window_bidi_remote = 2000;
  c.stream_window_uni = 3000;
  c.max_stream_window = 4000;
  c.send_buffer = 10000;
  return c;
}
PeerStreamLimits peer_limits(uint64_t bidi, uint64_t uni) {
  PeerStreamLimits p;
  p.max_streams_bidi = bidi;
  p.max_streams_uni = uni;
  p.max_stream_data_bidi_local = 500;
  p.max_stream_data_bidi_remote = 600;
  p.max_stream_data_uni = 700;
  return p;
}
}  // namespace

TEST_CASE("stream map: opening local streams within MAX_STREAMS", "[stream]") {
  StreamMap m(Role::client, small_config());
  CHECK(m.open(StreamDir::bidi) == nullptr);  // no limits from the peer yet
  CHECK(m.streams_blocked_pending(StreamDir::bidi));
  CHECK(m.take_streams_blocked(StreamDir::bidi) == 0);

  m.set_peer_limits(peer_limits(2, 1));
  Stream* a = m.open(StreamDir::bidi);
  Stream* b = m.open(StreamDir::bidi);
  REQUIRE((a && b));
  CHECK(a->id() == 0);
  CHECK(b->id() == 4);
  CHECK(a->send->credit().limit() == 600);  // peer's bidi_remote
  CHECK(a->recv->window().limit() == 1000);  // our bidi_local
  Stream* u = m.open(StreamDir::uni);
  REQUIRE(u);
  CHECK(u->id() == 2);
  CHECK(u->send->credit().limit() == 700);
  CHECK_FALSE(u->recv);
  CHECK(m.openable(StreamDir::bidi) == 0);
  CHECK(m.open(StreamDir::bidi) == nullptr);
  CHECK(m.streams_blocked_pending(StreamDir::bidi));
  CHECK(m.take_streams_blocked(StreamDir::bidi) == 2);
  CHECK(m.open(StreamDir::bidi) == nullptr);
  CHECK_FALSE(m.streams_blocked_pending(StreamDir::bidi));  // once per limit
  m.on_streams_blocked_lost(StreamDir::bidi, 2);
  CHECK(m.streams_blocked_pending(StreamDir::bidi));

  CHECK(*m.on_max_streams(StreamDir::bidi, 3));
  CHECK_FALSE(m.streams_blocked_pending(StreamDir::bidi));
  CHECK_FALSE(*m.on_max_streams(StreamDir::bidi, 2));  // smaller: ignored
  Stream* c = m.open(StreamDir::bidi);
  REQUIRE(c);
  CHECK(c->id() == 8);
  auto e = m.on_max_streams(StreamDir::uni, (uint64_t{1} << 60) + 1);
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().is(TransportError::frame_encoding_error));
  CHECK(e.error().frame_type == 0x13);

  // Larger limits for open streams (0-RTT -> 1-RTT parameters).
  PeerStreamLimits more = peer_limits(3, 1);
  more.max_stream_data_bidi_remote = 900;
  m.set_peer_limits(more);
  CHECK(a->send->credit().limit() == 900);
}

TEST_CASE("stream map: peer streams open implicitly, in order", "[stream]") {
  StreamMap m(Role::server, small_config());
  m.set_peer_limits(peer_limits(10, 10));
  auto s = m.get_for_frame(8, StreamPart::recv, 0x08);  // client bidi #2
  REQUIRE(s.ok());
  REQUIRE(*s);
  CHECK((*s)->id() == 8);
  CHECK((*s)->send->credit().limit() == 500);  // peer's bidi_local
  CHECK((*s)->recv->window().limit() == 2000);  // our bidi_remote
  CHECK(m.size() == 3);
  CHECK(m.pop_opened() == 0u);
  CHECK(m.pop_opened() == 4u);
  CHECK(m.pop_opened() == 8u);
  CHECK_FALSE(m.pop_opened());
  auto again = m.get_for_frame(4, StreamPart::send, 0x11);  // MAX_STREAM_DATA
  REQUIRE(again.ok());
  CHECK(*again == m.find(4));
  CHECK_FALSE(m.pop_opened());
  auto uni = m.get_for_frame(6, StreamPart::recv, 0x08);  // client uni #1
  REQUIRE(uni.ok());
  CHECK((*uni)->recv->window().limit() == 3000);
  CHECK_FALSE((*uni)->send);
  CHECK(m.pop_opened() == 2u);
  CHECK(m.pop_opened() == 6u);
  CHECK(m.peer_opened(StreamDir::uni) == 2);
}

TEST_CASE("stream map: STREAM_LIMIT_ERROR and STREAM_STATE_ERROR", "[stream]") {
  StreamMap m(Role::server, small_config());  // allows 10 bidi, 4 uni
  m.set_peer_limits(peer_limits(10, 10));
  REQUIRE(m.get_for_frame(make_stream_id(9, Role::client, StreamDir::bidi), StreamPart::recv, 8).ok());
  auto e = m.get_for_frame(make_stream_id(10, Role::client, StreamDir::bidi), StreamPart::recv, 8);
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().is(TransportError::stream_limit_error));
  CHECK(e.error().frame_type == 8);
  e = m.get_for_frame(make_stream_id(4, Role::client, StreamDir::uni), StreamPart::recv, 4);
  CHECK(e.error().is(TransportError::stream_limit_error));

  // STREAM / RESET_STREAM / STREAM_DATA_BLOCKED on our own uni stream.
  CHECK(m.open(StreamDir::uni)->id() == 3);
  e = m.get_for_frame(3, StreamPart::recv, 0x08);
  CHECK(e.error().is(TransportError::stream_state_error));
  CHECK(e.error().frame_type == 0x08);
  // STOP_SENDING / MAX_STREAM_DATA on the peer's uni stream.
  e = m.get_for_frame(2, StreamPart::send, 0x05);
  CHECK(e.error().is(TransportError::stream_state_error));
  CHECK(e.error().frame_type == 0x05);
  // Any frame on our bidi stream that we have not opened.
  e = m.get_for_frame(1, StreamPart::send, 0x11);
  CHECK(e.error().is(TransportError::stream_state_error));
  e = m.get_for_frame(1, StreamPart::recv, 0x08);
  CHECK(e.error().is(TransportError::stream_state_error));
  CHECK(m.open(StreamDir::bidi)->id() == 1);
  auto ok = m.get_for_frame(1, StreamPart::recv, 0x08);
  REQUIRE(ok.ok());
  CHECK((*ok)->id() == 1);
  // The peer's bidi stream accepts frames for both parts.
  CHECK(m.get_for_frame(0, StreamPart::send, 0x05).ok());
}

TEST_CASE("stream map: freed peer streams credit MAX_STREAMS", "[stream]") {
  StreamMap m(Role::server, small_config());  // 4 uni
  for (uint64_t i = 0; i < 4; ++i) {
    REQUIRE(m.get_for_frame(make_stream_id(i, Role::client, StreamDir::uni), StreamPart::recv, 8).ok());
  }
  CHECK(m.get_for_frame(make_stream_id(4, Role::client, StreamDir::uni), StreamPart::recv, 8)
            .error()
            .is(TransportError::stream_limit_error));
  CHECK_FALSE(m.max_streams_pending(StreamDir::uni));
  // The peer finishes streams 2 and 6; we read them to the end.
  for (uint64_t id : {2u, 6u}) {
    Stream* s = m.find(id);
    REQUIRE(s);
    REQUIRE(s->recv->on_stream_frame(0, as_bytes("data"), true).ok());
    CHECK(m.update(*s));
    CHECK(read_str(*s->recv) == "data");
    CHECK_FALSE(m.update(*s));  // freed
  }
  CHECK(m.size() == 2);
  CHECK(m.find(2) == nullptr);
  // A late frame for a freed stream is ignored, not an error.
  auto late = m.get_for_frame(2, StreamPart::recv, 8);
  REQUIRE(late.ok());
  CHECK(*late == nullptr);
  // Two closed of 4: half the concurrency, so MAX_STREAMS is due.
  CHECK(m.max_streams_pending(StreamDir::uni));
  CHECK(m.take_max_streams(StreamDir::uni) == 6);
  CHECK(m.peer_limit(StreamDir::uni) == 6);
  CHECK_FALSE(m.max_streams_pending(StreamDir::uni));
  m.on_max_streams_lost(StreamDir::uni, 6);
  CHECK(m.max_streams_pending(StreamDir::uni));
  CHECK(m.take_max_streams(StreamDir::uni) == 6);
  REQUIRE(m.get_for_frame(make_stream_id(5, Role::client, StreamDir::uni), StreamPart::recv, 8).ok());
  CHECK(m.get_for_frame(make_stream_id(6, Role::client, StreamDir::uni), StreamPart::recv, 8)
            .error()
            .is(TransportError::stream_limit_error));
  // One more closed: below the threshold of 2.
  Stream* s = m.find(10);
  REQUIRE(s);
  s->recv->stop_sending(0);
  REQUIRE(s->recv->on_reset_stream(0, 0).ok());
  CHECK_FALSE(m.update(*s));
  CHECK_FALSE(m.max_streams_pending(StreamDir::uni));
}

TEST_CASE("stream map: bidi lifecycle, scheduling, control queue", "[stream]") {
  StreamMap m(Role::client, small_config());
  m.set_peer_limits(peer_limits(10, 10));
  Stream* a = m.open(StreamDir::bidi);
  Stream* b = m.open(StreamDir::bidi);
  REQUIRE((a && b));
  CHECK(m.next_sendable(kInf) == nullptr);
  REQUIRE(*a->send->write(pattern(0, 100)) == 100);
  a->send->close();
  m.update(*a);
  REQUIRE(*b->send->write(pattern(0, 100)) == 100);
  m.update(*b);

  bool blocked = false;
  CHECK(m.next_sendable(0, &blocked) == nullptr);  // no connection credit
  CHECK(blocked);
  CHECK(m.next_sendable(kInf, &blocked) == a);
  CHECK_FALSE(blocked);
  auto f = a->send->next_frame(50, kInf);
  REQUIRE(f);
  CHECK(m.after_send(*a));
  CHECK(m.next_sendable(kInf) == b);  // round-robin
  REQUIRE(b->send->next_frame(100, kInf));
  CHECK(m.after_send(*b));
  CHECK(m.next_sendable(kInf) == a);
  f = a->send->next_frame(100, kInf);
  REQUIRE(f);
  CHECK(f->fin);
  CHECK(m.after_send(*a));
  CHECK(m.next_sendable(kInf) == nullptr);
  // A loss makes `a` sendable again, even without connection credit.
  a->send->on_lost(0, 50, false);
  m.update(*a);
  CHECK(m.next_sendable(0) == a);
  REQUIRE(a->send->next_frame(100, 0));
  m.after_send(*a);
  a->send->on_acked(0, 100, true);
  CHECK(m.update(*a));  // receiving part still open
  REQUIRE(a->recv->on_stream_frame(0, as_bytes("reply"), true).ok());
  CHECK(read_str(*a->recv) == "reply");
  CHECK_FALSE(m.update(*a));  // both parts done: freed
  CHECK(m.find(0) == nullptr);
  CHECK(m.peer_limit(StreamDir::bidi) == 10);  // our own stream: no credit

  // Control frames: RESET_STREAM and STOP_SENDING on b.
  CHECK(m.front_control() == nullptr);
  b->send->reset(3);
  b->recv->stop_sending(4);
  m.update(*b);
  CHECK(m.front_control() == b);
  CHECK(b->send->take_reset().error_code == 3);
  CHECK(m.front_control() == b);  // STOP_SENDING still owed
  CHECK(b->recv->take_stop_sending() == 4);
  CHECK(m.front_control() == nullptr);
  CHECK(m.update(*b));
  CHECK(m.front_control() == nullptr);
  b->send->on_reset_lost();
  m.update(*b);
  CHECK(m.front_control() == b);
  m.pop_control();
  CHECK(m.front_control() == nullptr);
  m.update(*b);  // still owed: queued again
  CHECK(m.front_control() == b);
}

TEST_CASE("stream map: STREAM_DATA_BLOCKED and MAX_STREAM_DATA are queued", "[stream][flow]") {
  StreamMap m(Role::client, small_config());
  PeerStreamLimits p = peer_limits(10, 10);
  p.max_stream_data_bidi_remote = 0;
  m.set_peer_limits(p);
  Stream* s = m.open(StreamDir::bidi);
  REQUIRE(*s->send->write(pattern(0, 10)) == 10);
  m.update(*s);
  CHECK(m.next_sendable(kInf) == nullptr);
  CHECK(m.front_control() == s);
  CHECK(s->send->take_blocked() == 0);
  m.pop_control();
  CHECK(s->send->on_max_stream_data(5));
  m.update(*s);
  CHECK(m.next_sendable(kInf) == s);

  // Reading half our 1000-byte window queues a MAX_STREAM_DATA.
  REQUIRE(s->recv->on_stream_frame(0, pattern(0, 600), false).ok());
  m.update(*s);
  CHECK(m.front_control() == nullptr);
  CHECK(read_str(*s->recv, 500).size() == 500);
  m.update(*s);
  CHECK(m.front_control() == s);
  CHECK(s->recv->take_window_update(from_ns(0), 10ms) == 1500);
}

TEST_CASE("stream map: 10,000 streams", "[stream]") {
  StreamMapConfig c = small_config();
  c.max_streams_bidi = 20000;
  StreamMap m(Role::server, c);
  m.set_peer_limits(peer_limits(10000, 0));
  auto s = m.get_for_frame(make_stream_id(9999, Role::client, StreamDir::bidi), StreamPart::recv, 8);
  REQUIRE(s.ok());
  CHECK(m.size() == 10000);
  size_t opened = 0;
  while (m.pop_opened()) ++opened;
  CHECK(opened == 10000);
  for (int i = 0; i < 10000; ++i) REQUIRE(m.open(StreamDir::bidi));
  CHECK(m.size() == 20000);
  CHECK(m.open(StreamDir::bidi) == nullptr);
  // Every local stream has data: one pass serves each exactly once.
  for (uint64_t i = 0; i < 10000; ++i) {
    Stream* st = m.find(make_stream_id(i, Role::server, StreamDir::bidi));
    REQUIRE(*st->send->write(pattern(0, 10)) == 10);
    m.update(*st);
  }
  CHECK(m.scheduler().size() == 10000);
  for (uint64_t i = 0; i < 10000; ++i) {
    Stream* st = m.next_sendable(kInf);
    REQUIRE(st);
    REQUIRE(st->id() == make_stream_id(i, Role::server, StreamDir::bidi));
    REQUIRE(st->send->next_frame(5, kInf));
    m.after_send(*st);
  }
  CHECK(m.next_sendable(kInf)->id() == make_stream_id(0, Role::server, StreamDir::bidi));
}

// ---------------------------------------------------------------- scheduler

TEST_CASE("scheduler: incremental streams round-robin", "[scheduler]") {
  Scheduler sch;
  SchedNode a(0), b(4), c(8);
  sch.activate(a);
  sch.activate(b);
  sch.activate(c);
  sch.activate(a);  // no-op
  CHECK(sch.size() == 3);
  std::vector<uint64_t> order;
  for (int i = 0; i < 7; ++i) {
    SchedNode* n = sch.front();
    order.push_back(n->stream_id);
    sch.rotate(*n);
  }
  CHECK(order == std::vector<uint64_t>{0, 4, 8, 0, 4, 8, 0});
  sch.deactivate(b);
  order.clear();
  for (int i = 0; i < 4; ++i) {
    SchedNode* n = sch.front();
    order.push_back(n->stream_id);
    sch.rotate(*n);
  }
  CHECK(order == std::vector<uint64_t>{8, 0, 8, 0});
  sch.deactivate(a);
  sch.deactivate(c);
  CHECK(sch.front() == nullptr);
  CHECK(sch.empty());
}

TEST_CASE("scheduler: urgency first, then sequential by stream ID", "[scheduler]") {
  Scheduler sch;
  SchedNode low(0), high(4), s8(8), s12(12), s16(16), inc20(20);
  sch.set_priority(low, 5, true);
  sch.activate(low);
  sch.activate(high);  // default urgency 3
  CHECK(sch.front() == &high);
  sch.set_priority(high, 6, true);  // reposition while active
  CHECK(sch.front() == &low);
  sch.set_priority(high, 1, true);
  CHECK(sch.front() == &high);
  sch.deactivate(high);
  CHECK(sch.front() == &low);

  // Non-incremental streams of urgency 2, activated out of order, run one
  // after another in ID order, ahead of an incremental one of urgency 2.
  sch.set_priority(inc20, 2, true);
  sch.activate(inc20);
  for (SchedNode* n : {&s16, &s8, &s12}) {
    sch.set_priority(*n, 2, false);
    sch.activate(*n);
  }
  CHECK(sch.front() == &s8);
  sch.rotate(s8);  // no effect: s8 keeps the lead until done
  CHECK(sch.front() == &s8);
  sch.deactivate(s8);
  CHECK(sch.front() == &s12);
  sch.deactivate(s12);
  CHECK(sch.front() == &s16);
  sch.deactivate(s16);
  CHECK(sch.front() == &inc20);
  sch.deactivate(inc20);
  CHECK(sch.front() == &low);
  // Urgency is clamped to 7.
  sch.set_priority(low, 200, true);
  CHECK(low.urgency == 7);
  CHECK(sch.front() == &low);
  sch.deactivate(low);

  // find_if walks in service order.
  SchedNode x(0), y(4), z(8);
  sch.set_priority(z, 0, false);
  sch.activate(x);
  sch.activate(y);
  sch.activate(z);
  std::vector<uint64_t> seen;
  sch.find_if([&](const SchedNode& n) {
    seen.push_back(n.stream_id);
    return false;
  });
  CHECK(seen == std::vector<uint64_t>{8, 0, 4});
  sch.deactivate(x);
  sch.deactivate(y);
  sch.deactivate(z);
}

TEST_CASE("scheduler: fairness over many streams", "[scheduler]") {
  Scheduler sch;
  std::vector<SchedNode> nodes(1000);
  for (size_t i = 0; i < nodes.size(); ++i) {
    nodes[i].stream_id = i * 4;
    sch.activate(nodes[i]);
  }
  std::vector<int> served(nodes.size());
  for (int i = 0; i < 10000; ++i) {
    SchedNode* n = sch.front();
    ++served[n->stream_id / 4];
    sch.rotate(*n);
  }
  for (int c : served) REQUIRE(c == 10);
  for (auto& n : nodes) sch.deactivate(n);
  CHECK(sch.empty());
}
