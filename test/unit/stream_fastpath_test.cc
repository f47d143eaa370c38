// The per-packet fast paths of the stream layer, checked against the slow
// paths they bypass: in-order receive (no range bookkeeping), chunk reuse,
// the acknowledged prefix of a send stream, the unsent limit, the copy
// cache, the stream map's lookup cache and front-of-scheduler shortcut, and
// the STREAM/ACK decoders that skip the Frame variant.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "lib/bytes.h"
#include "lib/result.h"
#include "quic/frame.h"
#include "quic/stream_id.h"
#include "quic/stream_map.h"
#include "quic/stream_recv.h"
#include "quic/stream_send.h"
#include "test/support/stream_helpers.h"

using namespace wt;
using namespace wt::quic;
using namespace wt::test;

namespace {

std::vector<uint8_t> read_all(RecvStream& r, size_t piece = 1 << 20) {
  std::vector<uint8_t> out;
  std::vector<uint8_t> buf(piece);
  while (true) {
    auto res = r.read(buf);
    REQUIRE(res.ok());
    if (res->bytes == 0) break;
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<long>(res->bytes));
  }
  return out;
}

Bytes slice(const std::vector<uint8_t>& v, uint64_t off, uint64_t len) {
  return Bytes{v.data() + off, static_cast<size_t>(len)};
}

}  // namespace

// ---------------------------------------------------------------- receive

TEST_CASE("fast path: in-order, then out-of-order, then overlapping frames", "[stream][fastpath]") {
  const auto data = pattern(0, 20000);
  RecvStream r(1 << 20, 1 << 20);
  // In order, across 4 KiB chunk boundaries: one range, no set bookkeeping.
  for (uint64_t off = 0; off < 6000; off += 1000) {
    auto d = r.on_stream_frame(off, slice(data, off, 1000), false);
    REQUIRE(d.ok());
    CHECK(d->received == 1000);
  }
  CHECK(r.range_count() == 1);
  CHECK(r.readable_bytes() == 6000);
  // A gap: [9000, 10000) and [12000, 12500) wait out of order.
  REQUIRE(r.on_stream_frame(9000, slice(data, 9000, 1000), false).ok());
  REQUIRE(r.on_stream_frame(12000, slice(data, 12000, 500), false).ok());
  CHECK(r.range_count() == 3);
  CHECK(r.readable_bytes() == 6000);
  // In order again while ranges wait: appended, still not contiguous.
  REQUIRE(r.on_stream_frame(6000, slice(data, 6000, 1500), false).ok());
  CHECK(r.range_count() == 3);
  CHECK(r.readable_bytes() == 7500);
  // Overlapping both sides of the first gap and into the waiting range.
  auto d = r.on_stream_frame(7000, slice(data, 7000, 2500), false);
  REQUIRE(d.ok());
  CHECK(d->received == 0);  // below the highest offset seen
  CHECK(r.range_count() == 2);
  CHECK(r.readable_bytes() == 10000);
  // Duplicates and overlaps of what was read.
  CHECK(read_all(r, 3000) == pattern(0, 10000));
  REQUIRE(r.on_stream_frame(0, slice(data, 0, 10000), false).ok());
  REQUIRE(r.on_stream_frame(9500, slice(data, 9500, 3000), false).ok());  // fills to 12500
  CHECK(r.range_count() == 1);
  CHECK(r.readable_bytes() == 2500);
  REQUIRE(r.on_stream_frame(12500, slice(data, 12500, 7500), true).ok());
  CHECK(r.state() == RecvStream::State::data_recvd);
  auto rest = read_all(r, 777);
  CHECK(rest == pattern(10000, 10000));
  CHECK(r.state() == RecvStream::State::data_read);
}

TEST_CASE("fast path: randomized reassembly matches a byte map", "[stream][fastpath]") {
  std::mt19937_64 rng(GENERATE(1u, 2u, 3u, 4u, 5u));
  const uint64_t n = 60000;
  const auto data = pattern(0, n);
  RecvStream r(1 << 20, 1 << 20);
  std::vector<bool> have(n, false);
  std::vector<uint8_t> got;
  uint64_t read_off = 0;
  for (int step = 0; step < 3000; ++step) {
    // Mostly in order near the contiguous end, sometimes anywhere.
    uint64_t prefix = 0;
    while (prefix < n && have[prefix]) ++prefix;
    uint64_t off = rng() % 4 ? prefix - std::min<uint64_t>(prefix, rng() % 300) : rng() % n;
    uint64_t len = std::min<uint64_t>(1 + rng() % 1500, n - off);
    REQUIRE(r.on_stream_frame(off, slice(data, off, len), off + len == n).ok());
    for (uint64_t i = off; i < off + len; ++i) have[i] = true;
    prefix = 0;
    while (prefix < n && have[prefix]) ++prefix;
    REQUIRE(r.readable_bytes() == prefix - read_off);
    if (rng() % 5 == 0) {
      std::vector<uint8_t> buf(1 + rng() % 5000);
      auto res = r.read(buf);
      REQUIRE(res.ok());
      got.insert(got.end(), buf.begin(), buf.begin() + static_cast<long>(res->bytes));
      read_off += res->bytes;
    }
  }
  for (uint64_t off = 0; off < n; off += 1000)  // fill whatever is missing
    REQUIRE(r.on_stream_frame(off, slice(data, off, std::min<uint64_t>(1000, n - off)), off + 1000 >= n).ok());
  auto rest = read_all(r, 4096);
  got.insert(got.end(), rest.begin(), rest.end());
  CHECK(got == data);
  CHECK(r.state() == RecvStream::State::data_read);
}

TEST_CASE("fast path: received chunks are reused, bounded, and hold the right bytes",
          "[stream][fastpath]") {
  RecvBuffer b;
  // Write and release 40 chunks' worth, one chunk at a time, then 4 at a time.
  uint64_t off = 0;
  for (int i = 0; i < 40; ++i) {
    auto d = pattern(off, RecvBuffer::kChunk);
    b.write(off, d);
    std::vector<uint8_t> out(d.size());
    b.read(off, out);
    REQUIRE(out == d);
    off += d.size();
    b.release_before(off);
  }
  CHECK(b.chunk_count() <= 1);
  CHECK(b.spare_count() >= 1);
  // A burst of 40 chunks written before anything is read, then released:
  // the spares kept stay bounded.
  const uint64_t burst = 40 * RecvBuffer::kChunk;
  auto big = pattern(off, burst);
  for (uint64_t p = 0; p < burst; p += 1000)
    b.write(off + p, Bytes{big.data() + p, static_cast<size_t>(std::min<uint64_t>(1000, burst - p))});
  std::vector<uint8_t> out(burst);
  b.read(off, out);
  CHECK(out == big);
  b.release_before(off + burst);
  CHECK(b.spare_count() == RecvBuffer::kMaxSpare);
  // Reused chunks carry the new bytes, not stale ones.
  off += burst;
  auto again = pattern(off + 11, 3 * RecvBuffer::kChunk);
  b.write(off, again);
  std::vector<uint8_t> out2(again.size());
  b.read(off, out2);
  CHECK(out2 == again);
}

TEST_CASE("fast path: stop_sending after in-order data still reaches Data Recvd",
          "[stream][fastpath]") {
  const auto data = pattern(0, 5000);
  RecvStream r(1 << 20, 1 << 20);
  REQUIRE(r.on_stream_frame(0, slice(data, 0, 2000), false).ok());
  REQUIRE(r.on_stream_frame(3000, slice(data, 3000, 1000), false).ok());
  CHECK(r.stop_sending(7) == 4000);
  REQUIRE(r.on_stream_frame(4000, slice(data, 4000, 1000), true).ok());
  CHECK(r.state() == RecvStream::State::size_known);
  REQUIRE(r.on_stream_frame(2000, slice(data, 2000, 1000), false).ok());
  CHECK(r.state() == RecvStream::State::data_recvd);
  CHECK(r.done());
}

// ---------------------------------------------------------------- send

TEST_CASE("fast path: acknowledgments in order, out of order and overlapping free the buffer",
          "[stream][fastpath]") {
  SendStream s(1 << 20, 1 << 20);
  const auto data = pattern(0, 50000);
  REQUIRE(*s.write(data) == data.size());
  s.close();
  std::vector<StreamFrameSpec> sent;
  while (auto f = s.next_frame(1200, kInf)) sent.push_back(*f);
  REQUIRE(sent.back().fin);
  // In order: the buffer shrinks as acknowledgments arrive.
  for (int i = 0; i < 10; ++i) CHECK_FALSE(s.on_acked(sent[i].offset, sent[i].length, false));
  CHECK(s.buffered() == 50000 - 12000);
  // Out of order with overlaps: nothing below the gap is freed yet.
  CHECK_FALSE(s.on_acked(sent[12].offset, sent[12].length, false));
  CHECK_FALSE(s.on_acked(sent[12].offset + 100, sent[12].length + 1300, false));
  CHECK(s.buffered() == 50000 - 12000);
  // The gap's data is lost: only its unacknowledged part is resent.
  s.on_lost(sent[10].offset, 2 * 1200 + 1200, false);  // [12000, 15600)
  auto re = s.next_frame(100000, kInf);
  REQUIRE(re);
  CHECK(re->offset == 12000);
  CHECK(re->length == 2400);  // up to the acknowledged [14400, ...)
  CHECK(copy_str(s, *re) == std::string(data.begin() + 12000, data.begin() + 14400));
  // A spurious loss: the late ACK covers it, nothing more to resend.
  CHECK_FALSE(s.on_acked(12000, 2400, false));
  CHECK(s.buffered() == 50000 - 17000);  // up to the end of the overlapping ACK
  CHECK_FALSE(s.next_frame(100000, kInf));
  // The rest, last frame first.
  for (size_t i = sent.size(); i-- > 14;) {
    bool done = s.on_acked(sent[i].offset, sent[i].length, sent[i].fin);
    CHECK(done == (i == 14));
  }
  CHECK(s.state() == SendStream::State::data_recvd);
  CHECK(s.buffered() == 0);
}

TEST_CASE("fast path: copies across chunks after releases and chunk reuse", "[stream][fastpath]") {
  SendStream s(1 << 24, 1 << 24);
  const uint64_t n = 200000;  // several 16 KiB chunks
  const auto data = pattern(0, n);
  uint64_t sent_to = 0, written = 0;
  while (sent_to < n) {
    if (written < n) {
      uint64_t w = std::min<uint64_t>(30000, n - written);
      REQUIRE(*s.write(slice(data, written, w)) == w);
      written += w;
    }
    while (auto f = s.next_frame(1400, kInf)) {
      REQUIRE(copy_str(s, *f) == std::string(data.begin() + static_cast<long>(f->offset),
                                             data.begin() + static_cast<long>(f->offset + f->length)));
      sent_to = f->offset + f->length;
      // Acknowledge all but the last 20000 bytes: chunks are freed and reused.
      if (sent_to > 20000) s.on_acked(0, sent_to - 20000, false);
    }
  }
  // Data still held can be copied again (a retransmission), across chunks.
  s.on_lost(n - 19000, 18000, false);
  auto f = s.next_frame(20000, kInf);
  REQUIRE(f);
  CHECK(f->length == 18000);
  CHECK(copy_str(s, *f) == std::string(data.begin() + static_cast<long>(n - 19000),
                                       data.begin() + static_cast<long>(n - 1000)));
}

TEST_CASE("fast path: the unsent limit gives backpressure before the buffer limit",
          "[stream][fastpath]") {
  SendStream s(1 << 20, 100000, 10000);
  const auto data = pattern(0, 50000);
  CHECK(s.writable_bytes() == 10000);
  CHECK(*s.write(data) == 10000);
  CHECK(s.writable_bytes() == 0);
  // Sending drains the backlog; the writer is woken at half.
  auto f = s.next_frame(4000, kInf);
  REQUIRE(f);
  CHECK(s.writable_bytes() == 4000);
  CHECK_FALSE(s.take_writable());  // 6000 unsent: more than half
  f = s.next_frame(1000, kInf);
  REQUIRE(f);
  CHECK(s.take_writable());  // 5000 unsent
  CHECK_FALSE(s.take_writable());
  CHECK(*s.write(slice(data, 10000, 40000)) == 5000);
  // Unacknowledged data still counts against the buffer limit.
  while (s.next_frame(100000, kInf)) {
  }
  CHECK(s.writable_bytes() == 10000);
  CHECK(*s.write(slice(data, 15000, 10000)) == 10000);
  while (s.next_frame(100000, kInf)) {
  }
  SendStream t(1 << 20, 12000, 10000);
  REQUIRE(*t.write(slice(data, 0, 10000)) == 10000);
  while (t.next_frame(100000, kInf)) {
  }
  CHECK(t.writable_bytes() == 2000);  // buffer limit, not the unsent one
}

// ---------------------------------------------------------------- stream map

TEST_CASE("fast path: lookup cache and frame checks after a stream is freed",
          "[stream][fastpath]") {
  StreamMap m(Role::server, StreamMapConfig{});
  PeerStreamLimits p;
  p.max_streams_bidi = p.max_streams_uni = 10;
  p.max_stream_data_bidi_local = p.max_stream_data_bidi_remote = p.max_stream_data_uni = 1 << 20;
  m.set_peer_limits(p);
  const uint64_t uni = make_stream_id(0, Role::client, StreamDir::uni);
  auto s = m.get_for_frame(uni, StreamPart::recv, frame_type::stream);
  REQUIRE(s.ok());
  REQUIRE(*s);
  CHECK(m.find(uni) == *s);  // cached now
  CHECK(m.get_for_frame(uni, StreamPart::recv, frame_type::stream).value() == *s);
  // The cached stream has no sending part: still a STREAM_STATE_ERROR.
  auto bad = m.get_for_frame(uni, StreamPart::send, frame_type::max_stream_data);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().is(TransportError::stream_state_error));
  // Finish it: freed, and the cache forgets it.
  Stream* st = *s;
  REQUIRE(st->recv->on_stream_frame(0, as_bytes("hi"), true).ok());
  REQUIRE(read_str(*st->recv) == "hi");
  CHECK_FALSE(m.update(*st));
  CHECK(m.find(uni) == nullptr);
  auto again = m.get_for_frame(uni, StreamPart::recv, frame_type::stream);
  REQUIRE(again.ok());
  CHECK(*again == nullptr);  // closed: the frame is ignored
}

TEST_CASE("fast path: next_sendable takes the front stream or walks on", "[stream][fastpath]") {
  StreamMap m(Role::client, StreamMapConfig{});
  PeerStreamLimits p;
  p.max_streams_bidi = 10;
  p.max_stream_data_bidi_remote = 1000;
  m.set_peer_limits(p);
  Stream* a = m.open(StreamDir::bidi);
  Stream* b = m.open(StreamDir::bidi);
  REQUIRE((a && b));
  m.set_priority(*a, 0, false);
  REQUIRE(*a->send->write(pattern(0, 5000)) > 0);
  REQUIRE(*b->send->write(pattern(0, 50)) == 50);
  m.update(*a);
  m.update(*b);
  bool blocked = true;
  CHECK(m.next_sendable(kInf, &blocked) == a);
  CHECK_FALSE(blocked);
  // The front stream used its stream credit: the walk finds the next one.
  REQUIRE(a->send->next_frame(5000, kInf)->length == 1000);
  m.after_send(*a);
  CHECK(m.next_sendable(kInf, &blocked) == b);
  CHECK_FALSE(blocked);
  // No connection credit: nothing, and the map says so.
  CHECK(m.next_sendable(0, &blocked) == nullptr);
  CHECK(blocked);
}

// ---------------------------------------------------------------- decoders

TEST_CASE("fast path: STREAM and ACK decoders agree with decode_frame", "[frame][fastpath]") {
  std::vector<std::vector<uint8_t>> inputs = {
      {0x0e, 0x04, 0x40, 0x10, 0x03, 'a', 'b', 'c'},        // OFF+LEN
      {0x09, 0x04, 'x', 'y'},                              // FIN, no LEN: to the end
      {0x08, 0x00},                                        // empty, no offset
      {0x0f, 0x04, 0x40, 0x10, 0x05, 'a'},                 // LEN past the end
      {0x0e, 0x04, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 'a'},  // offset+len > 2^62-1
      {0x0e},                                              // truncated
      {0x02, 0x0a, 0x00, 0x01, 0x02, 0x01, 0x03},          // ACK with a gap
      {0x03, 0x0a, 0x00, 0x00, 0x02, 0x01, 0x02, 0x03},    // ACK_ECN
      {0x02, 0x05, 0x00, 0x00, 0x06},                      // first range below 0
      {0x02, 0x05, 0x00, 0x05, 0x00},                      // range count beyond the data
  };
  for (const auto& in : inputs) {
    INFO("first byte " << int(in[0]) << ", " << in.size() << " bytes");
    Reader gen{Bytes{in}};
    auto g = decode_frame(gen);
    Reader fast{Bytes{in}};
    Status st;
    if (is_stream_frame_type(in[0])) {
      StreamFrame f;
      st = decode_stream_frame(fast, f);
      if (g.ok()) {
        REQUIRE(st.ok());
        CHECK(Frame{f} == *g);
      }
    } else {
      AckFrame f;
      st = decode_ack_frame(fast, f);
      if (g.ok()) {
        REQUIRE(st.ok());
        CHECK(Frame{f} == *g);
      }
    }
    CHECK(st.ok() == g.ok());
    CHECK(fast.ok() == gen.ok());
    CHECK(fast.remaining() == gen.remaining());
    if (!g.ok()) {
      CHECK(st.error().code == g.error().code);
      CHECK(st.error().frame_type == g.error().frame_type);
    }
  }
  // A frame of another type is refused, not misread.
  std::vector<uint8_t> ping{0x01};
  Reader r{Bytes{ping}};
  StreamFrame sf;
  CHECK_FALSE(decode_stream_frame(r, sf).ok());
  CHECK_FALSE(r.ok());
  Reader r2{Bytes{ping}};
  AckFrame af;
  CHECK_FALSE(decode_ack_frame(r2, af).ok());
}
