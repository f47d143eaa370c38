// lib/io building blocks without the loop: the timer queue, GSO message
// splitting of send batches, address conversion and the cmsg codec.
#include <netinet/in.h>
#include <netinet/udp.h>

#include <random>

#include "lib/io/cmsg.h"
#include "lib/io/timer_queue.h"
#include "test/integration/io_test_support.h"

using namespace wt;
using namespace wt::io;
using namespace wt::io::test;

TEST_CASE("io: timer queue orders by deadline, FIFO on ties, and moves in place", "[io]") {
  TimerQueue q;
  std::vector<int> order;
  auto t = [&](int tag) { return q.add([&, tag](Time) { order.push_back(tag); }); };
  TimerId a = t(1), b = t(2), c = t(3), d = t(4);
  q.set(a, from_ns(300));
  q.set(b, from_ns(100));
  q.set(c, from_ns(100));  // same deadline as b, set later
  q.set(d, from_ns(50));
  q.set(d, from_ns(400));  // moved later
  q.set(a, from_ns(20));   // moved earlier
  REQUIRE(q.armed() == 4);
  REQUIRE(q.next() == from_ns(20));
  REQUIRE(q.run_due(from_ns(99)) == 1);
  REQUIRE(q.run_due(from_ns(1000)) == 3);
  REQUIRE(order == std::vector<int>{1, 2, 3, 4});
  REQUIRE(q.armed() == 0);
  REQUIRE(q.size() == 4);  // fired timers stay (one-shots do not)
  q.set(b, kTimeInfinite);
  q.remove(c);
  REQUIRE(q.size() == 3);
  q.set(c, from_ns(1));  // stale id: ignored
  REQUIRE(q.armed() == 0);
  TimerId e = t(5);
  REQUIRE_FALSE(e == c);  // slot reused with a new generation
  REQUIRE(e.index == c.index);
}

TEST_CASE("io: timer callbacks may remove, re-arm and add timers", "[io]") {
  TimerQueue q;
  int self_fired = 0, victim_fired = 0, rearmed = 0;
  TimerId victim = q.add([&](Time) { ++victim_fired; });
  TimerId self;
  self = q.add([&](Time) {
    ++self_fired;
    q.remove(victim);
    q.remove(self);
    for (int i = 0; i < 100; ++i) q.add([](Time) {});  // reallocates the slots
  });
  TimerId again;
  again = q.add([&](Time now) {
    if (++rearmed < 3) q.set(again, now);  // due again at once: next run_due
  });
  q.set(self, from_ns(10));
  q.set(victim, from_ns(20));
  q.set(again, from_ns(5));
  q.run_due(from_ns(100));
  REQUIRE(self_fired == 1);
  REQUIRE(victim_fired == 0);
  REQUIRE(rearmed == 1);  // a re-arm to <= now waits for the next call
  q.run_due(from_ns(100));
  q.run_due(from_ns(100));
  REQUIRE(rearmed == 3);
  REQUIRE_FALSE(q.contains(self));
  bool one = false;
  TimerId os = q.add([&](Time) { one = true; }, /*oneshot=*/true);
  q.set(os, from_ns(1));
  q.run_due(from_ns(2));
  REQUIRE(one);
  REQUIRE_FALSE(q.contains(os));
}

TEST_CASE("io: timer queue stays a heap under random churn", "[io]") {
  TimerQueue q;
  std::mt19937_64 rng(7);
  std::vector<TimerId> ids;
  for (int i = 0; i < 5000; ++i) ids.push_back(q.add([](Time) {}));
  std::vector<int64_t> want(ids.size(), -1);
  for (int round = 0; round < 20000; ++round) {
    size_t i = rng() % ids.size();
    if (rng() % 5 == 0) {
      q.set(ids[i], kTimeInfinite);
      want[i] = -1;
    } else {
      want[i] = static_cast<int64_t>(rng() % 1000000);
      q.set(ids[i], from_ns(want[i]));
    }
  }
  size_t armed = 0;
  for (auto w : want) armed += w >= 0;
  REQUIRE(q.armed() == armed);
  std::vector<int64_t> deadlines;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (want[i] < 0) continue;
    REQUIRE(to_ns(q.deadline(ids[i])) == want[i]);
    deadlines.push_back(want[i]);
  }
  std::sort(deadlines.begin(), deadlines.end());
  // Fire in steps: each step fires exactly those due.
  size_t done = 0;
  for (int64_t t = 0; t <= 1000000; t += 50000) {
    q.run_due(from_ns(t));
    while (done < deadlines.size() && deadlines[done] <= t) ++done;
    REQUIRE(q.armed() == deadlines.size() - done);
  }
}

TEST_CASE("io: send batches split into legal GSO sends", "[io]") {
  SendBuffer::Batch b;
  b.segment_size = 1200;
  b.bytes = 64 * 1200;
  auto m = SendBuffer::next_message(b, 0, true);
  REQUIRE(m.len == 54 * 1200);  // 54 x 1200 = 64800 <= 65507
  REQUIRE(m.segment == 1200);
  m = SendBuffer::next_message(b, 54 * 1200, true);
  REQUIRE(m.len == 10 * 1200);
  REQUIRE(m.segment == 1200);
  // Without GSO: one datagram at a time; the short tail alone.
  b.bytes = 2 * 1200 + 7;
  REQUIRE(SendBuffer::next_message(b, 0, false).len == 1200);
  REQUIRE(SendBuffer::next_message(b, 0, false).segment == 0);
  m = SendBuffer::next_message(b, 2400, true);
  REQUIRE(m.len == 7);
  REQUIRE(m.segment == 0);
  // Small segments: at most 64 per send.
  b.segment_size = 100;
  b.bytes = 10000;
  REQUIRE(SendBuffer::next_message(b, 0, true).len == 6400);
  // A single datagram never carries UDP_SEGMENT.
  b.segment_size = b.bytes = 1500;
  REQUIRE(SendBuffer::next_message(b, 0, true).segment == 0);
  // A datagram larger than half the GSO limit goes alone.
  b.segment_size = 40000;
  b.bytes = 80000;
  m = SendBuffer::next_message(b, 0, true);
  REQUIRE(m.len == 40000);
  REQUIRE(m.segment == 0);
}

TEST_CASE("io: the send ring hands out slots in order and tracks progress", "[io]") {
  SendBuffer sb(3, 2000);
  Address peer = addr("127.0.0.1:9");
  uint8_t* first = sb.space().data();
  REQUIRE(sb.space().size() == 2000);
  sb.commit(1500, 500, peer);
  sb.commit(0, 0, peer);  // empty: ignored
  REQUIRE(sb.queued() == 1);
  sb.commit(3000, 1000, peer);  // clamped to the slot
  sb.commit(10, 0, peer);
  REQUIRE_FALSE(sb.has_space());
  REQUIRE(sb.space().empty());
  REQUIRE(sb.batch(0).data == first);
  REQUIRE(sb.batch(1).bytes == 2000);
  REQUIRE(sb.batch(2).segment_size == 10);  // 0 means one datagram
  sb.advance(1, 700);
  REQUIRE(sb.queued() == 2);
  REQUIRE(sb.head_offset() == 700);
  REQUIRE(sb.space().data() == first);  // the ring wrapped
  sb.advance(2, 0);
  REQUIRE(sb.queued() == 0);
  REQUIRE(sb.head_offset() == 0);
}

TEST_CASE("io: address conversion maps and unmaps IPv4 through IPv6 sockets", "[io]") {
  Address v4 = addr("10.1.2.3:443");
  sockaddr_storage ss;
  REQUIRE(to_sockaddr(v4, 4, ss) == sizeof(sockaddr_in));
  REQUIRE(from_sockaddr(reinterpret_cast<sockaddr*>(&ss), sizeof(sockaddr_in)) == v4);
  REQUIRE(to_sockaddr(v4, 6, ss) == sizeof(sockaddr_in6));
  auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
  REQUIRE(IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr));
  REQUIRE(from_sockaddr(reinterpret_cast<sockaddr*>(&ss), sizeof(sockaddr_in6)) == v4);
  Address v6 = addr("[2001:db8::1]:8443");
  REQUIRE(to_sockaddr(v6, 4, ss) == 0);  // unreachable through a v4 socket
  REQUIRE(to_sockaddr(v6, 6, ss) == sizeof(sockaddr_in6));
  REQUIRE(from_sockaddr(reinterpret_cast<sockaddr*>(&ss), sizeof(sockaddr_in6)) == v6);
  REQUIRE(v6.to_string() == "[2001:db8:0:0:0:0:0:1]:8443");
  REQUIRE(is_wildcard(addr("0.0.0.0:0")));
  REQUIRE(is_wildcard(addr("[::]:1")));
  REQUIRE_FALSE(is_wildcard(addr("127.0.0.1:1")));
  REQUIRE_FALSE(parse_address("127.0.0.1").has_value());
  REQUIRE_FALSE(parse_address("127.0.0.1:70000").has_value());
  REQUIRE_FALSE(parse_address("[::1:80").has_value());
  REQUIRE_FALSE(parse_address("localhost:80").has_value());
}

TEST_CASE("io: send cmsgs follow the peer's family and parse back", "[io]") {
  alignas(cmsghdr) uint8_t buf[kSendCmsgSpace];
  Address peer4 = addr("127.0.0.1:1"), local4 = addr("127.0.0.2:0");
  SendMeta m;
  m.peer = &peer4;
  m.local = &local4;
  m.ecn = Ecn::ect0;
  m.segment_size = 1200;
  m.with_pktinfo = true;
  msghdr msg{};
  msg.msg_control = buf;
  msg.msg_controllen = build_send_cmsgs(buf, m);
  REQUIRE(msg.msg_controllen > 0);
  int levels = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    REQUIRE((c->cmsg_level == SOL_UDP || c->cmsg_level == SOL_IP));
    ++levels;
  }
  REQUIRE(levels == 3);
  // The receive parser reads the same TOS and address layouts (IP_PKTINFO's
  // ipi_addr is what a receiver sees; here only ipi_spec_dst is set).
  RecvMeta r;
  parse_cmsgs(msg, r);
  REQUIRE(r.ecn == Ecn::ect0);
  REQUIRE(r.local.family == 4);

  Address peer6 = addr("[::1]:1"), local6 = addr("[::1]:0");
  m.peer = &peer6;
  m.local = &local6;
  m.segment_size = 0;
  m.ecn = Ecn::ce;
  msg.msg_controllen = build_send_cmsgs(buf, m);
  RecvMeta r6;
  parse_cmsgs(msg, r6);
  REQUIRE(r6.ecn == Ecn::ce);
  REQUIRE(r6.local == local6);
  REQUIRE(r6.segment_size == 0);
  m.with_pktinfo = false;
  m.ecn = Ecn::not_ect;
  REQUIRE(build_send_cmsgs(buf, m) == 0);
}
