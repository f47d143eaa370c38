// The ACK rate of a bulk receiver (quic/ack_frequency.cc, AckTracker's ACK
// interval) and ACK-only packets that go out only when due (conn_send.cc).
#include <catch2/catch.hpp>

#include <vector>

#include "quic/ack_tracker.h"
#include "test/support/quic_pair.h"

using namespace wt;
using namespace wt::quic;

namespace {
constexpr Duration us(int64_t v) { return std::chrono::microseconds(v); }
}  // namespace

TEST_CASE("ACK interval: one ACK per interval or per burst of packets", "[ack]") {
  AckTracker t;
  t.set_max_ack_delay(std::chrono::milliseconds(25));
  t.set_ack_interval(us(100), 4);
  const Time t0 = from_ns(1'000'000'000);
  t.on_packet_received(0, true, Ecn::not_ect, t0);
  t.on_packet_received(1, true, Ecn::not_ect, t0);
  // Threshold met, but no ACK has been sent yet: the interval has passed.
  CHECK(t.ack_due(t0));
  t.on_ack_sent(t0);
  // Two more 10 us later: the next ACK waits until 100 us after the last.
  t.on_packet_received(2, true, Ecn::not_ect, t0 + us(10));
  CHECK(!t.ack_due(t0 + us(10)));
  t.on_packet_received(3, true, Ecn::not_ect, t0 + us(20));
  CHECK(!t.ack_due(t0 + us(20)));
  CHECK(t.ack_deadline() == t0 + us(100));
  CHECK(!t.ack_due(t0 + us(99)));
  CHECK(t.ack_due(t0 + us(100)));
  // Four unacknowledged packets: due at once, interval or not.
  t.on_packet_received(4, true, Ecn::not_ect, t0 + us(30));
  t.on_packet_received(5, true, Ecn::not_ect, t0 + us(30));
  CHECK(t.ack_due(t0 + us(30)));
  t.on_ack_sent(t0 + us(30));

  // Below the threshold only max_ack_delay applies.
  t.on_packet_received(6, true, Ecn::not_ect, t0 + us(40));
  CHECK(!t.ack_due(t0 + us(200)));
  CHECK(t.ack_deadline() == t0 + us(40) + std::chrono::milliseconds(25));
  t.on_packet_received(7, true, Ecn::not_ect, t0 + us(50));
  CHECK(t.ack_deadline() == t0 + us(130));
  t.on_ack_sent(t0 + us(200));

  // RFC 9000 §13.2.1: reordering and ECN-CE are acknowledged at once.
  t.on_packet_received(9, true, Ecn::not_ect, t0 + us(210));  // 8 missing
  CHECK(t.ack_due(t0 + us(210)));
  t.on_ack_sent(t0 + us(210));
  t.on_packet_received(10, true, Ecn::ce, t0 + us(220));
  CHECK(t.ack_due(t0 + us(220)));
  t.on_ack_sent(t0 + us(220));

  // A zero interval: every second packet again.
  t.set_ack_interval(Duration::zero(), 4);
  t.on_packet_received(11, true, Ecn::not_ect, t0 + us(221));
  t.on_packet_received(12, true, Ecn::not_ect, t0 + us(221));
  CHECK(t.ack_due(t0 + us(221)));
}

namespace {

struct BulkResult {
  uint64_t receiver_packets = 0, sender_packets = 0;
  Duration elapsed{};
  uint64_t received = 0;
};

// The server sends `size` bytes on a unidirectional stream; the client reads
// them. Ends when the server saw every byte acknowledged.
BulkResult bulk_download(uint32_t acks_per_rtt, size_t size) {
  test::QuicPair p;
  p.client_cfg.conn.acks_per_rtt = acks_per_rtt;
  REQUIRE(p.handshake());
  auto id = p.sconn->open_stream(false);
  REQUIRE(id.ok());
  std::vector<uint8_t> data(size, 0x5a), sink(64 * 1024);
  size_t off = 0;
  bool finished = false;
  BulkResult r;
  const uint64_t c0 = p.cconn->stats().packets_sent, s0 = p.sconn->stats().packets_sent;
  const Time start = p.now;
  REQUIRE(p.run_until([&] {
    while (off < data.size()) {
      auto n = p.sconn->stream_write(*id, Bytes{data}.subspan(off), true);
      REQUIRE(n.ok());
      if (*n == 0) break;
      off += *n;
    }
    while (auto e = p.sconn->poll_event())
      if (e->type == Event::Type::stream_finished) finished = true;
    while (auto e = p.cconn->poll_event()) {
      if (e->type != Event::Type::stream_readable && e->type != Event::Type::stream_opened) continue;
      while (true) {
        auto rd = p.cconn->stream_read(e->stream_id, MutBytes{sink});
        if (!rd.ok() || rd->bytes == 0) break;
        r.received += rd->bytes;
      }
    }
    return finished;
  }));
  r.elapsed = p.now - start;
  r.receiver_packets = p.cconn->stats().packets_sent - c0;
  r.sender_packets = p.sconn->stats().packets_sent - s0;
  return r;
}

}  // namespace

TEST_CASE("ACK rate: a bulk receiver acknowledges a few times per RTT", "[ack]") {
  const size_t size = 4u << 20;
  const BulkResult every2 = bulk_download(0, size);
  const BulkResult rated = bulk_download(8, size);
  INFO("every second packet: " << every2.receiver_packets << " ACK packets for "
                                << every2.sender_packets << " in " << every2.elapsed.count() / 1000
                                << " us; rated: " << rated.receiver_packets << " for "
                                << rated.sender_packets << " in " << rated.elapsed.count() / 1000
                                << " us");
  CHECK(every2.received == size);
  CHECK(rated.received == size);
  // RFC 9000 §13.2.2 default: an ACK once two packets arrived, here once
  // per burst the pair delivers (about ten datagrams).
  CHECK(every2.receiver_packets * 16 > every2.sender_packets);
  // About 8 per 10 ms RTT instead: far fewer, and no slower a transfer.
  CHECK(rated.receiver_packets * 3 < every2.receiver_packets);
  // ... but still several per RTT: at least 4 per 10 ms.
  CHECK(rated.receiver_packets >= static_cast<uint64_t>(4 * (rated.elapsed / std::chrono::milliseconds(10))));
  CHECK(rated.elapsed <= every2.elapsed + every2.elapsed / 10);
}

TEST_CASE("ACK-only packets go out only when an ACK is due (RFC 9000 §13.2.1)", "[ack]") {
  test::QuicPair p;
  REQUIRE(p.handshake());
  // Let the handshake's last packets and ACKs settle.
  (void)p.run_until([] { return false; }, std::chrono::milliseconds(500));
  REQUIRE(p.wire.empty());
  auto id = p.sconn->open_stream(false);
  REQUIRE(id.ok());
  const std::vector<uint8_t> msg(100, 1);
  REQUIRE(p.sconn->stream_write(*id, Bytes{msg}, false).ok());
  p.flush(*p.server, false);
  REQUIRE(p.wire.size() == 1);
  p.now = p.wire[0].at;
  p.client->receive(MutBytes{p.wire[0].data}, p.cpath, Ecn::not_ect, p.now);
  p.wire.clear();
  // One ack-eliciting packet: no ACK yet, the max_ack_delay timer runs.
  std::vector<uint8_t> out(1500);
  CHECK(p.cconn->send(MutBytes{out}, p.now).bytes == 0);
  CHECK(p.cconn->next_timeout() == p.now + p.client_cfg.conn.max_ack_delay);
  // A second one makes it due at once (no ACK was sent for an interval).
  REQUIRE(p.sconn->stream_write(*id, Bytes{msg}, false).ok());
  p.flush(*p.server, false);
  REQUIRE(p.wire.size() == 1);
  p.client->receive(MutBytes{p.wire[0].data}, p.cpath, Ecn::not_ect, p.now);
  p.wire.clear();
  const SendBatch b = p.cconn->send(MutBytes{out}, p.now);
  CHECK(b.bytes > 0);
  CHECK(b.bytes < 100);  // an ACK alone
}
