// The stream map (limits, implicit opening, MAX_STREAMS credit, control
// queue) and the scheduler (RFC 9000 §2-§4, RFC 9218 §10).
#include <catch2/catch.hpp>

#include <chrono>
#include <set>
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

TEST_CASE("stream map: a default priority applies to streams created later", "[stream][scheduler]") {
  StreamMap m(Role::client, small_config());
  m.set_peer_limits(peer_limits(10, 10));
  Stream* a = m.open(StreamDir::bidi);
  m.set_default_priority(2, false);  // e.g. HTTP/3 requests: sequential
  Stream* b = m.open(StreamDir::bidi);
  Stream* c = m.open(StreamDir::bidi);
  REQUIRE((a && b && c));
  CHECK(a->sched.urgency == 3);
  CHECK(a->sched.incremental);
  CHECK(b->sched.urgency == 2);
  CHECK_FALSE(b->sched.incremental);
  for (Stream* s : {c, b, a}) {
    REQUIRE(*s->send->write(pattern(0, 100)) == 100);
    m.update(*s);
  }
  // Urgency 2 first, in stream ID order and without round-robin, then a.
  CHECK(m.next_sendable(kInf) == b);
  REQUIRE(b->send->next_frame(50, kInf));
  CHECK(m.after_send(*b));
  CHECK(m.next_sendable(kInf) == b);
  REQUIRE(b->send->next_frame(50, kInf));
  m.after_send(*b);
  CHECK(m.next_sendable(kInf) == c);
  REQUIRE(c->send->next_frame(100, kInf));
  m.after_send(*c);
  CHECK(m.next_sendable(kInf) == a);
  m.set_default_priority(200, true);  // clamped like set_priority
  Stream* d = m.open(StreamDir::bidi);
  REQUIRE(d);
  CHECK(d->sched.urgency == 7);
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

TEST_CASE("scheduler: sequential order matches a sorted reference under random activation", "[scheduler]") {
  // Non-incremental streams of one urgency are served in stream ID order
  // however they were activated (the intrusive list is searched from its
  // tail); checked against std::set after every step.
  Scheduler sch;
  std::vector<SchedNode> nodes(64);
  for (size_t i = 0; i < nodes.size(); ++i) {
    nodes[i].stream_id = i * 4;
    sch.set_priority(nodes[i], 2, false);
  }
  std::set<uint64_t> ref;
  uint32_t x = 0x12345678;
  auto next = [&] {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
  };
  for (int step = 0; step < 20000; ++step) {
    SchedNode& n = nodes[next() % nodes.size()];
    if (n.active()) {
      sch.deactivate(n);
      ref.erase(n.stream_id);
    } else {
      sch.activate(n);
      ref.insert(n.stream_id);
    }
    REQUIRE(sch.size() == ref.size());
    if (ref.empty()) {
      REQUIRE(sch.front() == nullptr);
      continue;
    }
    REQUIRE(sch.front()->stream_id == *ref.begin());
    if (step % 97 == 0) {
      std::vector<uint64_t> seen;
      sch.find_if([&](const SchedNode& s) {
        seen.push_back(s.stream_id);
        return false;
      });
      REQUIRE(seen == std::vector<uint64_t>(ref.begin(), ref.end()));
    }
  }
  for (auto& n : nodes) sch.deactivate(n);
  CHECK(sch.empty());
}
