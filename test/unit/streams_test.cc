// Streams and flow control: send buffer, reassembly and flow control
// windows (RFC 9000 §2-§4). The stream map and scheduler: stream_map_test.cc.
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
#include "test/support/stream_helpers.h"

using namespace wt;
using namespace wt::quic;
using namespace std::chrono_literals;
using namespace wt::test;


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
