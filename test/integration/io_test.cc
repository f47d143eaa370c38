// lib/io datagram paths on loopback, for every available back-end: echo,
// GSO/GRO, ECN, pktinfo (wildcard servers answer from the right address),
// IPv6 and dual-stack, and a flow-controlled bulk transfer.
#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>

#include "test/integration/io_test_support.h"

using namespace wt;
using namespace wt::io;
using namespace wt::io::test;
using namespace std::chrono_literals;

namespace {

struct Pair {
  std::unique_ptr<Loop> loop;
  QueueHandler server, client;
  SocketId server_id, client_id;
  Address server_addr, client_addr;
};

// A loop with an echo server bound to `server_bind` and a client bound to
// `client_bind`.
void make_pair(Pair& p, LoopOptions o, const char* server_bind, const char* client_bind) {
  auto loop = Loop::create(o);
  REQUIRE(loop);
  p.loop = std::move(loop).value();
  REQUIRE(p.loop->backend() == o.backend);
  auto ss = UdpSocket::bind(addr(server_bind));
  REQUIRE(ss);
  auto cs = UdpSocket::bind(addr(client_bind));
  REQUIRE(cs);
  p.server_addr = ss->local_address();
  p.client_addr = cs->local_address();
  p.server.echo = true;
  auto sid = p.loop->add_socket(std::move(ss).value(), p.server);
  auto cid = p.loop->add_socket(std::move(cs).value(), p.client);
  REQUIRE(sid);
  REQUIRE(cid);
  p.server_id = *sid;
  p.client_id = *cid;
}

LoopOptions options_for(BackendKind kind) {
  LoopOptions o;
  o.backend = kind;
  return o;
}

}  // namespace

TEST_CASE("io: echo of datagrams of many sizes comes back byte-exact and in order", "[io]") {
  auto kind = GENERATE(from_range(available_backends()));
  CAPTURE(backend_name(kind));
  Pair p;
  make_pair(p, options_for(kind), "127.0.0.1:0", "127.0.0.1:0");
  const size_t sizes[] = {1, 2, 7, 64, 100, 512, 1200, 1350, 1452, 1472, 4000, 9000, 20000, 65000};
  std::vector<std::vector<uint8_t>> sent;
  for (uint32_t i = 0; i < 300; ++i) {
    sent.push_back(payload(i, sizes[i % std::size(sizes)]));
    p.client.out.push_back({sent.back(), p.server_addr, {}, Ecn::not_ect, 0, 0});
  }
  p.loop->notify(p.client_id);
  REQUIRE(run_until(*p.loop, [&] { return p.client.received.size() >= sent.size(); }));
  REQUIRE(p.client.received.size() == sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    CAPTURE(i);
    REQUIRE(p.client.received[i].data == sent[i]);
    REQUIRE(p.client.received[i].peer == p.server_addr);
    REQUIRE(p.server.received[i].peer == p.client_addr);
    REQUIRE(p.server.received[i].local == p.server_addr);
  }
  REQUIRE(p.server.receive_done_calls >= 1);
  REQUIRE(p.server.receive_done_calls <= p.server.batch_sizes.size());
  REQUIRE(p.loop->stats().send_errors == 0);
}

TEST_CASE("io: a GSO batch of 64 x 1200 bytes arrives through GRO intact", "[io]") {
  auto kind = GENERATE(from_range(available_backends()));
  CAPTURE(backend_name(kind));
  LoopOptions o = options_for(kind);
  o.send_slot_size = 128 * 1024;  // one batch larger than one GSO send can carry
  Pair p;
  make_pair(p, o, "127.0.0.1:0", "127.0.0.1:0");
  p.server.echo = false;
  REQUIRE(p.loop->socket(p.client_id)->gso());
  REQUIRE(p.loop->socket(p.server_id)->gro());

  // 64 x 1200, then a batch of 10 x 1200 + a 500-byte tail.
  std::vector<uint8_t> big, tail;
  for (uint32_t i = 0; i < 64; ++i) {
    auto d = payload(i, 1200);
    big.insert(big.end(), d.begin(), d.end());
  }
  for (uint32_t i = 64; i < 75; ++i) {
    auto d = payload(i, i == 74 ? 500 : 1200);
    tail.insert(tail.end(), d.begin(), d.end());
  }
  p.client.out.push_back({big, p.server_addr, {}, Ecn::not_ect, 1200, 0});
  p.client.out.push_back({tail, p.server_addr, {}, Ecn::not_ect, 1200, 0});
  p.loop->notify(p.client_id);
  REQUIRE(run_until(*p.loop, [&] { return p.server.received.size() >= 75; }));
  p.loop->run_once(20ms);  // nothing more may arrive
  REQUIRE(p.server.received.size() == 75);
  for (uint32_t i = 0; i < 75; ++i) {
    CAPTURE(i);
    REQUIRE(p.server.received[i].data == payload(i, i == 74 ? 500 : 1200));
    REQUIRE(p.server.received[i].segment == 1200);
  }
  // 64 x 1200 exceeds one GSO send (64 KiB): the loop split it in two; the
  // tail batch is a third send. GRO delivered whole GSO sends as batches.
  REQUIRE(p.loop->stats().send_calls == 3);
  REQUIRE(p.server.batch_sizes.size() == 3);
  REQUIRE(p.server.batch_sizes[0] + p.server.batch_sizes[1] == 64);
  REQUIRE(p.server.batch_sizes[2] == 11);
}

TEST_CASE("io: GSO batches still arrive when GSO is off on the socket", "[io]") {
  auto kind = GENERATE(from_range(available_backends()));
  CAPTURE(backend_name(kind));
  Pair p;
  make_pair(p, options_for(kind), "127.0.0.1:0", "127.0.0.1:0");
  p.server.echo = false;
  p.loop->socket(p.client_id)->disable_gso();
  std::vector<uint8_t> batch;
  for (uint32_t i = 0; i < 20; ++i) {
    auto d = payload(i, 1000);
    batch.insert(batch.end(), d.begin(), d.end());
  }
  p.client.out.push_back({batch, p.server_addr, {}, Ecn::not_ect, 1000, 0});
  p.loop->notify(p.client_id);
  REQUIRE(run_until(*p.loop, [&] { return p.server.received.size() >= 20; }));
  for (uint32_t i = 0; i < 20; ++i) REQUIRE(p.server.received[i].data == payload(i, 1000));
  REQUIRE(p.loop->stats().send_calls == 20);  // one sendmsg-level message per datagram
}

TEST_CASE("io: ECN codepoints are sent and reported both ways", "[io]") {
  auto kind = GENERATE(from_range(available_backends()));
  const char* host = GENERATE("127.0.0.1:0", "[::1]:0");
  CAPTURE(backend_name(kind), host);
  Pair p;
  make_pair(p, options_for(kind), host, host);
  const Ecn marks[] = {Ecn::ect0, Ecn::ect1, Ecn::ce, Ecn::not_ect};
  for (uint32_t i = 0; i < 4; ++i)
    p.client.out.push_back({payload(i, 100), p.server_addr, {}, marks[i], 0, 0});
  p.loop->notify(p.client_id);
  REQUIRE(run_until(*p.loop, [&] { return p.client.received.size() >= 4; }));
  for (uint32_t i = 0; i < 4; ++i) {
    CAPTURE(i);
    REQUIRE(p.server.received[i].ecn == marks[i]);
    REQUIRE(p.client.received[i].ecn == marks[i]);  // the echo reflects the mark
  }
}

namespace {

// Sends one datagram from the client to `target` and checks where it arrived
// and where the reply came from.
void check_reply_source(Pair& p, const Address& target, const Address& expect_client_seen) {
  size_t before = p.client.received.size();
  p.client.out.push_back({payload(7, 300), target, {}, Ecn::not_ect, 0, 0});
  p.loop->notify(p.client_id);
  REQUIRE(run_until(*p.loop, [&] { return p.client.received.size() > before; }));
  const Datagram& at_server = p.server.received.back();
  REQUIRE(at_server.local == target);
  REQUIRE(at_server.peer == expect_client_seen);
  REQUIRE(p.client.received.back().peer == target);
  REQUIRE(p.client.received.back().data == payload(7, 300));
}

// A global IPv6 address of this host other than ::1, if any.
std::optional<Address> other_ipv6() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return std::nullopt;
  std::optional<Address> found;
  for (ifaddrs* i = list; i && !found; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET6) continue;
    auto* s = reinterpret_cast<sockaddr_in6*>(i->ifa_addr);
    if (IN6_IS_ADDR_LOOPBACK(&s->sin6_addr) || IN6_IS_ADDR_LINKLOCAL(&s->sin6_addr)) continue;
    found = from_in6(s->sin6_addr, 0);
  }
  freeifaddrs(list);
  return found;
}

}  // namespace

TEST_CASE("io: a wildcard-bound server answers from the address it was reached on", "[io]") {
  auto kind = GENERATE(from_range(available_backends()));
  CAPTURE(backend_name(kind));

  SECTION("IPv4 0.0.0.0") {
    Pair p;
    make_pair(p, options_for(kind), "0.0.0.0:0", "127.0.0.1:0");
    uint16_t port = p.server_addr.port;
    // Without pktinfo on send the reply to 127.0.0.1 would leave from 127.0.0.1.
    check_reply_source(p, addr(("127.0.0.2:" + std::to_string(port)).c_str()), p.client_addr);
    check_reply_source(p, addr(("127.0.0.1:" + std::to_string(port)).c_str()), p.client_addr);
    check_reply_source(p, addr(("127.0.0.3:" + std::to_string(port)).c_str()), p.client_addr);
  }
  SECTION("dual-stack [::] reached over IPv4") {
    Pair p;
    make_pair(p, options_for(kind), "[::]:0", "127.0.0.1:0");
    REQUIRE(p.server_addr.family == 6);
    uint16_t port = p.server_addr.port;
    // The v4 peer is reported as a plain IPv4 address, not ::ffff:127.0.0.1.
    check_reply_source(p, addr(("127.0.0.2:" + std::to_string(port)).c_str()), p.client_addr);
    REQUIRE(p.server.received.back().peer.family == 4);
  }
  SECTION("IPv6 [::]") {
    Pair p;
    make_pair(p, options_for(kind), "[::]:0", "[::1]:0");
    uint16_t port = p.server_addr.port;
    check_reply_source(p, addr(("[::1]:" + std::to_string(port)).c_str()), p.client_addr);
    if (auto other = other_ipv6()) {
      other->port = port;
      check_reply_source(p, *other, p.client_addr);
    } else {
      WARN("no global IPv6 address besides ::1: IPv6 pktinfo source choice not exercised");
    }
  }
}

TEST_CASE("io: IPv6 ::1 and a dual-stack socket serve v6 and v4 clients", "[io]") {
  auto kind = GENERATE(from_range(available_backends()));
  CAPTURE(backend_name(kind));
  Pair p;
  make_pair(p, options_for(kind), "[::]:0", "[::1]:0");
  QueueHandler v4client;
  auto cs = UdpSocket::bind(addr("127.0.0.1:0"));
  REQUIRE(cs);
  Address v4addr = cs->local_address();
  auto v4id = p.loop->add_socket(std::move(cs).value(), v4client);
  REQUIRE(v4id);
  Address to_v6 = addr(("[::1]:" + std::to_string(p.server_addr.port)).c_str());
  Address to_v4 = addr(("127.0.0.1:" + std::to_string(p.server_addr.port)).c_str());
  for (uint32_t i = 0; i < 10; ++i) {
    p.client.out.push_back({payload(i, 1200), to_v6, {}, Ecn::not_ect, 0, 0});
    v4client.out.push_back({payload(100 + i, 1200), to_v4, {}, Ecn::not_ect, 0, 0});
  }
  p.loop->notify(p.client_id);
  p.loop->notify(*v4id);
  REQUIRE(run_until(*p.loop, [&] {
    return p.client.received.size() >= 10 && v4client.received.size() >= 10;
  }));
  for (uint32_t i = 0; i < 10; ++i) {
    REQUIRE(p.client.received[i].data == payload(i, 1200));
    REQUIRE(p.client.received[i].peer == to_v6);
    REQUIRE(v4client.received[i].data == payload(100 + i, 1200));
    REQUIRE(v4client.received[i].peer == to_v4);
  }
  bool saw_v4 = false, saw_v6 = false;
  for (const auto& d : p.server.received) {
    if (d.peer == v4addr) saw_v4 = true;
    if (d.peer == p.client_addr) saw_v6 = true;
  }
  REQUIRE(saw_v4);
  REQUIRE(saw_v6);
}

namespace {

// A miniature transport: the sender keeps at most `window` datagrams
// unacknowledged; the receiver acknowledges once per receive burst with its
// cumulative count (the ACK-per-GRO-batch pattern).
struct BulkSender : UdpHandler {
  Address peer;
  uint32_t total = 0, window = 0, next = 0, acked = 0;
  size_t on_send_calls = 0;
  void on_receive(const DatagramBatchView& b, Time) override {
    for (size_t i = 0; i < b.count(); ++i) {
      MutBytes d = b.datagram(i);
      if (d.size() == 4) acked = std::max(acked, payload_index({d.begin(), d.end()}));
    }
  }
  size_t on_send(SendBuffer& out, Time) override {
    ++on_send_calls;
    size_t n = 0;
    while (out.has_space() && next < total && next - acked < window) {
      MutBytes s = out.space();
      size_t count = std::min<size_t>({32, total - next, window - (next - acked), s.size() / 1200});
      for (size_t i = 0; i < count; ++i) {
        auto d = payload(next + static_cast<uint32_t>(i), 1200);
        std::memcpy(s.data() + i * 1200, d.data(), 1200);
      }
      out.commit(count * 1200, 1200, peer);
      next += static_cast<uint32_t>(count);
      ++n;
    }
    return n;
  }
  Time next_deadline() const override { return kTimeInfinite; }
  void on_deadline(Time) override {}
};

struct BulkReceiver : UdpHandler {
  uint32_t received = 0, in_order = 0, bad = 0;
  Address peer;
  bool ack_due = false;
  void on_receive(const DatagramBatchView& b, Time) override {
    for (size_t i = 0; i < b.count(); ++i) {
      MutBytes d = b.datagram(i);
      std::vector<uint8_t> v(d.begin(), d.end());
      if (v != payload(payload_index(v), 1200)) ++bad;
      if (payload_index(v) == in_order) ++in_order;
      ++received;
    }
    peer = b.peer;
  }
  void on_receive_done(Time) override { ack_due = true; }
  size_t on_send(SendBuffer& out, Time) override {
    if (!ack_due || !out.has_space()) return 0;
    auto a = payload(received, 4);
    std::memcpy(out.space().data(), a.data(), 4);
    out.commit(4, 4, peer);
    ack_due = false;
    return 1;
  }
  Time next_deadline() const override { return kTimeInfinite; }
  void on_deadline(Time) override {}
};

}  // namespace

TEST_CASE("io: flow-controlled bulk transfer with GSO and one ACK per burst", "[io]") {
  auto kind = GENERATE(from_range(available_backends()));
  CAPTURE(backend_name(kind));
  auto loop = Loop::create(options_for(kind)).value();
  BulkSender tx;
  BulkReceiver rx;
  auto rs = UdpSocket::bind(addr("127.0.0.1:0")).value();
  tx.peer = rs.local_address();
  tx.total = 30000;
  tx.window = 2000;
  REQUIRE(loop->add_socket(std::move(rs), rx));
  REQUIRE(loop->add_socket(UdpSocket::bind(addr("127.0.0.1:0")).value(), tx));
  Time start = monotonic_now();
  REQUIRE(run_until(*loop, [&] { return tx.acked >= tx.total; }, 20s));
  double secs = std::chrono::duration<double>(monotonic_now() - start).count();
  IO_REPORT(backend_name(kind) << ": " << tx.total << " x 1200 B in " << secs * 1e3 << " ms ("
                          << tx.total * 1200 * 8 / secs / 1e9 << " Gbit/s, "
                          << loop->stats().iterations << " iterations)");
  REQUIRE(rx.received == tx.total);
  REQUIRE(rx.in_order == tx.total);
  REQUIRE(rx.bad == 0);
  REQUIRE(loop->stats().send_errors == 0);
}
