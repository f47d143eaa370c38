// Tests of the network simulator itself, with toy nodes (no QUIC).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <map>

#include "test/sim/simulator.h"

namespace wt::sim {
namespace {

using namespace std::chrono_literals;

const Address kA = Address::v4(0x0a000001, 1111);  // 10.0.0.1
const Address kB = Address::v4(0x0a000002, 2222);  // 10.0.0.2

// Sends `count` datagrams to `to`: a batch of `gso` datagrams every
// `interval` starting at `start` (interval 0: everything at once). Each
// datagram carries its sequence number in its first 8 bytes.
class PacedSender : public SimNode {
 public:
  PacedSender(Address self, Address to, uint64_t count, size_t size, Duration interval,
              Time start, size_t gso = 1)
      : self_(self), to_(to), count_(count), size_(size), interval_(interval), next_(start),
        gso_(gso) {}

  std::function<size_t(uint64_t)> size_of;  // overrides `size` per datagram
  Ecn ecn = Ecn::not_ect;

  void receive(MutBytes, const Path&, Ecn, Time) override {}
  SendBatch send(MutBytes out, Time now) override {
    if (sent_ >= count_ || now < next_) return {};
    SendBatch b;
    b.path = Path{self_, to_};
    b.ecn = ecn;
    size_t n = std::min<uint64_t>(gso_, count_ - sent_);
    size_t seg = size_of ? size_of(sent_) : size_;
    if (n > 1) b.segment_size = seg;  // a GSO batch of equal segments
    for (size_t i = 0; i < n; i++) {
      std::memset(out.data() + b.bytes, 0xab, seg);
      uint64_t seq = sent_++;
      std::memcpy(out.data() + b.bytes, &seq, sizeof seq);
      b.bytes += seg;
    }
    if (interval_ > Duration::zero()) next_ += interval_;
    return b;
  }
  Time next_timeout() const override { return sent_ < count_ ? next_ : kTimeInfinite; }
  void on_timeout(Time) override {}
  uint64_t sent() const { return sent_; }

 private:
  Address self_, to_;
  uint64_t count_;
  size_t size_;
  Duration interval_;
  Time next_;
  size_t gso_;
  uint64_t sent_ = 0;
};

struct Rx {
  uint64_t seq;
  Time time;
  size_t size;
  Ecn ecn;
  Path path;
  bool operator==(const Rx& o) const {
    return seq == o.seq && time == o.time && size == o.size && ecn == o.ecn && path == o.path;
  }
};

class Sink : public SimNode {
 public:
  std::vector<Rx> rx;
  void receive(MutBytes d, const Path& path, Ecn ecn, Time now) override {
    uint64_t seq = 0;
    if (d.size() >= 8) std::memcpy(&seq, d.data(), 8);
    rx.push_back({seq, now, d.size(), ecn, path});
  }
  SendBatch send(MutBytes, Time) override { return {}; }
  Time next_timeout() const override { return kTimeInfinite; }
  void on_timeout(Time) override {}
};

// Sends prepared batches at given times.
class ScriptNode : public SimNode {
 public:
  struct Item {
    Time at;
    std::vector<uint8_t> bytes;
    SendBatch batch;
  };
  std::vector<Item> items;
  size_t next = 0;
  void receive(MutBytes, const Path&, Ecn, Time) override {}
  SendBatch send(MutBytes out, Time now) override {
    if (next >= items.size() || now < items[next].at) return {};
    Item& it = items[next++];
    std::memcpy(out.data(), it.bytes.data(), it.bytes.size());
    it.batch.bytes = it.bytes.size();
    return it.batch;
  }
  Time next_timeout() const override {
    return next < items.size() ? items[next].at : kTimeInfinite;
  }
  void on_timeout(Time) override {}
};

// Echoes every datagram back to its sender.
class Echo : public SimNode {
 public:
  std::vector<std::pair<std::vector<uint8_t>, Path>> pending;
  void receive(MutBytes d, const Path& path, Ecn, Time) override {
    pending.emplace_back(std::vector<uint8_t>(d.begin(), d.end()), Path{path.local, path.remote});
  }
  SendBatch send(MutBytes out, Time) override {
    if (pending.empty()) return {};
    auto [d, p] = std::move(pending.front());
    pending.erase(pending.begin());
    std::memcpy(out.data(), d.data(), d.size());
    return SendBatch{d.size(), 0, p, Ecn::not_ect};
  }
  Time next_timeout() const override { return kTimeInfinite; }
  void on_timeout(Time) override {}
};

Time at(Duration d) { return kSimEpoch + d; }

bool in_order(const std::vector<Rx>& rx) {
  for (size_t i = 0; i < rx.size(); i++)
    if (rx[i].seq != i) return false;
  return true;
}

// |measured - p| within 5 standard deviations of a binomial(n, p).
void check_rate(uint64_t hits, uint64_t n, double p) {
  double measured = static_cast<double>(hits) / static_cast<double>(n);
  double sigma = std::sqrt(p * (1 - p) / static_cast<double>(n));
  INFO("measured " << measured << " configured " << p << " sigma " << sigma);
  CHECK(std::abs(measured - p) <= 5 * sigma + 1e-12);
}

TEST_CASE("sim: delay is respected exactly", "[sim][simself]") {
  Simulator sim(1);
  PacedSender tx(kA, kB, 100, 1000, 1ms, at(0ms));
  Sink rx;
  sim.add_node(tx, kA);
  sim.add_node(rx, kB);
  LinkConfig cfg;
  cfg.delay = 12345us;
  sim.add_link(kA, kB, cfg);
  REQUIRE(sim.run_until([&] { return rx.rx.size() == 100; }, at(10s)));
  REQUIRE(in_order(rx.rx));
  for (const Rx& r : rx.rx) {
    CHECK(r.time == at(std::chrono::milliseconds(r.seq) + 12345us));
    CHECK(r.size == 1000);
    CHECK(r.path.local == kB);
    CHECK(r.path.remote == kA);
  }
  // Nothing left: the run ends at the last delivery, not later.
  CHECK(sim.now() == at(99ms + 12345us));
  const LinkStats& st = sim.link(kA, kB)->stats();
  CHECK(st.offered_packets == 100);
  CHECK(st.delivered_packets == 100);
  CHECK(st.delivered_bytes == 100'000);
  CHECK(st.dropped_total() == 0);
}

TEST_CASE("sim: bandwidth limits the delivery rate", "[sim][simself]") {
  Simulator sim(1);
  // 1250 B = 10,000 bits = 1 ms at 10 Mbit/s; offered at twice the rate.
  PacedSender tx(kA, kB, 2000, 1250, 500us, at(0ms));
  Sink rx;
  sim.add_node(tx, kA);
  sim.add_node(rx, kB);
  LinkConfig cfg;
  cfg.delay = 5ms;
  cfg.bandwidth_bps = 10'000'000;
  sim.add_link(kA, kB, cfg);
  REQUIRE(sim.run_until([&] { return rx.rx.size() == 2000; }, at(60s)));
  REQUIRE(in_order(rx.rx));
  for (const Rx& r : rx.rx)
    REQUIRE(r.time == at(std::chrono::milliseconds(r.seq + 1) + 5ms));
  double secs = static_cast<double>(to_ns(rx.rx.back().time) - to_ns(rx.rx.front().time)) / 1e9;
  double rate = 1999 * 1250 * 8 / secs;
  CHECK(rate == Approx(10e6).epsilon(0.01));
  // The queue grew to about half the burst (offered 2x the rate).
  CHECK(sim.link(kA, kB)->stats().max_queue_bytes >= 999 * 1250);
}

TEST_CASE("sim: fractional serialization times add up exactly", "[sim][simself]") {
  Simulator sim(1);
  // 1200 B at 7 Mbit/s = 1,371,428.57 ns per packet; 7000 packets = 9.6 s.
  PacedSender tx(kA, kB, 7000, 1200, Duration::zero(), at(0ms), 100);
  Sink rx;
  sim.add_node(tx, kA);
  sim.add_node(rx, kB);
  LinkConfig cfg;
  cfg.delay = 1ms;
  cfg.bandwidth_bps = 7'000'000;
  sim.add_link(kA, kB, cfg);
  REQUIRE(sim.run_until([&] { return rx.rx.size() == 7000; }, at(60s)));
  CHECK(rx.rx.back().time == at(9600ms + 1ms));
  CHECK(rx.rx[0].time == at(1ms + 1371428ns));
  CHECK(sim.link(kA, kB)->idle_at() == at(9600ms));
}

TEST_CASE("sim: drop-tail queue overflow", "[sim][simself]") {
  Simulator sim(1);
  // A burst of 100 x 1250 B into a 10-packet queue at 10 Mbit/s.
  PacedSender tx(kA, kB, 100, 1250, Duration::zero(), at(0ms), 100);
  Sink rx;
  sim.add_node(tx, kA);
  sim.add_node(rx, kB);
  LinkConfig cfg;
  cfg.delay = 1ms;
  cfg.bandwidth_bps = 10'000'000;
  cfg.queue_bytes = 10 * 1250;
  Link& l = sim.add_link(kA, kB, cfg);
  sim.run_for(1s);
  REQUIRE(rx.rx.size() == 10);
  CHECK(in_order(rx.rx));
  CHECK(l.stats().dropped(DropCause::queue) == 90);
  CHECK(l.stats().dropped_bytes[static_cast<size_t>(DropCause::queue)] == 90 * 1250);
  CHECK(l.stats().max_queue_bytes == 10 * 1250);
  CHECK(rx.rx.back().time == at(10ms + 1ms));

  // Once drained, the queue takes packets again.
  PacedSender tx2(kA, kB, 12, 1250, Duration::zero(), sim.now(), 12);
  sim.add_node(tx2, kA);
  sim.run_for(1s);
  CHECK(rx.rx.size() == 20);
  CHECK(l.stats().dropped(DropCause::queue) == 92);
}

TEST_CASE("sim: traffic at the link rate never overflows a small queue", "[sim][simself]") {
  Simulator sim(1);
  PacedSender tx(kA, kB, 1000, 1250, 1ms, at(0ms));
  Sink rx;
  sim.add_node(tx, kA);
  sim.add_node(rx, kB);
  LinkConfig cfg;
  cfg.bandwidth_bps = 10'000'000;
  cfg.queue_bytes = 1250;  // exactly one packet
  Link& l = sim.add_link(kA, kB, cfg);
  sim.run_for(3s);
  CHECK(rx.rx.size() == 1000);
  CHECK(l.stats().dropped_total() == 0);
  CHECK(l.stats().max_queue_bytes == 1250);
}

TEST_CASE("sim: random loss matches the configured rate", "[sim][simself]") {
  for (double p : {0.01, 0.1, 0.3}) {
    Simulator sim(7);
    const uint64_t n = 100'000;
    PacedSender tx(kA, kB, n, 100, Duration::zero(), at(0ms), 1000);
    Sink rx;
    sim.add_node(tx, kA);
    sim.add_node(rx, kB);
    LinkConfig cfg;
    cfg.loss = p;
    Link& l = sim.add_link(kA, kB, cfg);
    sim.run_for(1s);
    INFO("p=" << p);
    REQUIRE(tx.sent() == n);
    CHECK(l.stats().offered_packets == n);
    CHECK(l.stats().dropped(DropCause::loss) + rx.rx.size() == n);
    CHECK(l.stats().delivered_packets == rx.rx.size());
    check_rate(l.stats().dropped(DropCause::loss), n, p);
    // Survivors arrive in order, each once.
    for (size_t i = 1; i < rx.rx.size(); i++) REQUIRE(rx.rx[i].seq > rx.rx[i - 1].seq);
  }
}

TEST_CASE("sim: duplication rate", "[sim][simself]") {
  Simulator sim(3);
  const uint64_t n = 100'000;
  PacedSender tx(kA, kB, n, 64, Duration::zero(), at(0ms), 1000);
  Sink rx;
  sim.add_node(tx, kA);
  sim.add_node(rx, kB);
  LinkConfig cfg;
  cfg.duplicate = 0.05;
  cfg.duplicate_delay = 1ms;
  Link& l = sim.add_link(kA, kB, cfg);
  sim.run_for(1s);
  REQUIRE(rx.rx.size() == n + l.stats().duplicated);
  check_rate(l.stats().duplicated, n, 0.05);
  std::vector<int> seen(n);
  uint64_t twice = 0;
  for (const Rx& r : rx.rx) {
    REQUIRE(r.seq < n);
    if (++seen[r.seq] == 2) {
      twice++;
      CHECK(r.time == at(10ms + 1ms));  // the copy comes duplicate_delay later
    }
    REQUIRE(seen[r.seq] <= 2);
  }
  CHECK(twice == l.stats().duplicated);
  CHECK(l.stats().delivered_packets == rx.rx.size());
}

TEST_CASE("sim: reordering rate", "[sim][simself]") {
  Simulator sim(5);
  const uint64_t n = 20'000;
  PacedSender tx(kA, kB, n, 200, 1ms, at(0ms));
  Sink rx;
  sim.add_node(tx, kA);
  sim.add_node(rx, kB);
  LinkConfig cfg;
  cfg.delay = 20ms;
  cfg.reorder = 0.1;
  cfg.reorder_delay = 5500us;
  Link& l = sim.add_link(kA, kB, cfg);
  REQUIRE(sim.run_until([&] { return rx.rx.size() == n; }, at(100s)));
  check_rate(l.stats().reordered, n, 0.1);
  // A delayed packet is overtaken by the next ~5 packets: it arrives after a
  // higher sequence number.
  uint64_t late = 0, max_seen = 0;
  bool first = true;
  for (const Rx& r : rx.rx) {
    if (!first && r.seq < max_seen) late++;
    max_seen = first ? r.seq : std::max(max_seen, r.seq);
    first = false;
    Duration d = r.time - at(std::chrono::milliseconds(r.seq));
    REQUIRE((d == 20ms || d == 25500us));
  }
  // Only a delayed final packet (or a run of 6 delayed ones) is not overtaken.
  CHECK(late <= l.stats().reordered);
  CHECK(late + 3 >= l.stats().reordered);
}

struct TraceRun {
  std::vector<Rx> rx;
  uint64_t hash;
  LinkStats stats;
};

TraceRun lossy_run(uint64_t seed) {
  Simulator sim(seed);
  PacedSender tx(kA, kB, 5000, 1200, 100us, at(0ms), 2);
  Sink rx;
  sim.add_node(tx, kA);
  sim.add_node(rx, kB);
  LinkConfig cfg;
  cfg.delay = 15ms;
  cfg.bandwidth_bps = 50'000'000;
  cfg.queue_bytes = 30'000;
  cfg.loss = 0.05;
  cfg.reorder = 0.05;
  cfg.reorder_delay = 3ms;
  cfg.duplicate = 0.02;
  sim.add_link(kA, kB, cfg);
  sim.run_for(5s);
  return {rx.rx, sim.trace_hash(), sim.link(kA, kB)->stats()};
}

TEST_CASE("sim: runs are deterministic per seed", "[sim][simself]") {
  TraceRun a = lossy_run(42), b = lossy_run(42), c = lossy_run(43);
  REQUIRE(a.rx.size() > 1000);
  CHECK(a.rx == b.rx);
  CHECK(a.hash == b.hash);
  CHECK(a.stats.dropped_packets == b.stats.dropped_packets);
  CHECK(a.stats.duplicated == b.stats.duplicated);
  CHECK_FALSE(a.rx == c.rx);
  CHECK(a.hash != c.hash);
  // All impairments were exercised.
  CHECK(a.stats.dropped(DropCause::loss) > 0);
  CHECK(a.stats.dropped(DropCause::queue) > 0);
  CHECK(a.stats.reordered > 0);
  CHECK(a.stats.duplicated > 0);
}

TEST_CASE("sim: explicit link seeds decouple links", "[sim][simself]") {
  // The same explicit seed gives the same loss pattern whatever the
  // simulator seed and link creation order.
  auto pattern = [](uint64_t sim_seed) {
    Simulator sim(sim_seed);
    PacedSender tx(kA, kB, 2000, 100, Duration::zero(), at(0ms), 100);
    Sink rx;
    sim.add_node(tx, kA);
    sim.add_node(rx, kB);
    sim.add_link(kB, kA, LinkConfig{});
    LinkConfig cfg;
    cfg.loss = 0.2;
    cfg.seed = 99;
    sim.add_link(kA, kB, cfg);
    sim.run_for(1s);
    std::vector<uint64_t> seqs;
    for (const Rx& r : rx.rx) seqs.push_back(r.seq);
    return seqs;
  };
  CHECK(pattern(1) == pattern(2));
}

TEST_CASE("sim: MTU cap drops larger datagrams", "[sim][simself]") {
  Simulator sim(1);
  const std::vector<size_t> sizes = {1100, 1200, 1201, 1500, 1199, 9000};
  PacedSender tx(kA, kB, sizes.size(), 0, 1ms, at(0ms));
  tx.size_of = [&](uint64_t i) { return sizes[i]; };
  Sink rx;
  sim.add_node(tx, kA);
  sim.add_node(rx, kB);
  LinkConfig cfg;
  cfg.mtu = 1200;
  Link& l = sim.add_link(kA, kB, cfg);
  sim.run_for(1s);
  REQUIRE(rx.rx.size() == 3);
  CHECK(rx.rx[0].seq == 0);
  CHECK(rx.rx[1].seq == 1);
  CHECK(rx.rx[2].seq == 4);
  CHECK(l.stats().dropped(DropCause::mtu) == 3);
  CHECK(l.stats().dropped_bytes[static_cast<size_t>(DropCause::mtu)] == 1201 + 1500 + 9000);
  // The cap can change mid-run (a path MTU drop).
  l.config().mtu = 1100;
  CHECK(l.offer(std::vector<uint8_t>(1101), Ecn::not_ect, sim.now()).dropped);
  CHECK_FALSE(l.offer(std::vector<uint8_t>(1100), Ecn::not_ect, sim.now()).dropped);
}

TEST_CASE("sim: blackhole window", "[sim][simself]") {
  Simulator sim(1);
  PacedSender tx(kA, kB, 100, 100, 1ms, at(0ms));
  Sink rx;
  sim.add_node(tx, kA);
  sim.add_node(rx, kB);
  Link& l = sim.add_link(kA, kB, LinkConfig{});
  l.add_blackhole(at(20ms), at(50ms));
  sim.run_for(1s);
  CHECK(rx.rx.size() == 70);
  CHECK(l.stats().dropped(DropCause::blackhole) == 30);
  for (const Rx& r : rx.rx) CHECK((r.seq < 20 || r.seq >= 50));
}

TEST_CASE("sim: targeted drops", "[sim][simself]") {
  Simulator sim(1);
  PacedSender tx(kA, kB, 20, 100, 1ms, at(0ms));
  Sink rx;
  sim.add_node(tx, kA);
  sim.add_node(rx, kB);
  Link& l = sim.add_link(kA, kB, LinkConfig{});
  l.drop_next(3);
  // Drop odd sequence numbers from 10 on, by content.
  l.set_drop_predicate([](Bytes d, uint64_t index, Time) {
    uint64_t seq;
    std::memcpy(&seq, d.data(), 8);
    return index >= 10 && seq % 2 == 1;
  });
  sim.run_for(1s);
  std::vector<uint64_t> got;
  for (const Rx& r : rx.rx) got.push_back(r.seq);
  CHECK(got == std::vector<uint64_t>{3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 18});
  CHECK(l.stats().dropped(DropCause::targeted) == 8);
}

TEST_CASE("sim: mutator rewrites datagrams in flight", "[sim][simself]") {
  Simulator sim(1);
  PacedSender tx(kA, kB, 4, 100, 1ms, at(0ms));
  Sink rx;
  sim.add_node(tx, kA);
  sim.add_node(rx, kB);
  Link& l = sim.add_link(kA, kB, LinkConfig{});
  l.set_mutator([](MutBytes d, uint64_t index, Time) {
    if (index == 2) d[0] ^= 0x80;
  });
  sim.run_for(1s);
  REQUIRE(rx.rx.size() == 4);
  CHECK(rx.rx[1].seq == 1);
  CHECK(rx.rx[2].seq == (2 ^ 0x80));
  CHECK(rx.rx[3].seq == 3);
}

TEST_CASE("sim: ECN CE marking above the queue threshold", "[sim][simself]") {
  for (Ecn sent : {Ecn::ect0, Ecn::ect1, Ecn::not_ect}) {
    Simulator sim(1);
    // 20 x 1250 B at once into 10 Mbit/s: backlog before packet i is i*1250.
    PacedSender tx(kA, kB, 20, 1250, Duration::zero(), at(0ms), 20);
    tx.ecn = sent;
    Sink rx;
    sim.add_node(tx, kA);
    sim.add_node(rx, kB);
    LinkConfig cfg;
    cfg.bandwidth_bps = 10'000'000;
    cfg.ce_threshold_bytes = 5 * 1250;
    Link& l = sim.add_link(kA, kB, cfg);
    sim.run_for(1s);
    REQUIRE(rx.rx.size() == 20);
    for (const Rx& r : rx.rx) {
      INFO("seq " << r.seq);
      if (sent == Ecn::not_ect)
        CHECK(r.ecn == Ecn::not_ect);
      else
        CHECK(r.ecn == (r.seq > 5 ? Ecn::ce : sent));
    }
    CHECK(l.stats().ce_marked == (sent == Ecn::not_ect ? 0u : 14u));
  }
  SECTION("bleaching") {
    Simulator sim(1);
    PacedSender tx(kA, kB, 3, 100, 1ms, at(0ms));
    tx.ecn = Ecn::ect0;
    Sink rx;
    sim.add_node(tx, kA);
    sim.add_node(rx, kB);
    LinkConfig cfg;
    cfg.bleach_ecn = true;
    sim.add_link(kA, kB, cfg);
    sim.run_for(1s);
    REQUIRE(rx.rx.size() == 3);
    for (const Rx& r : rx.rx) CHECK(r.ecn == Ecn::not_ect);
  }
}

TEST_CASE("sim: GSO batches are split into segments", "[sim][simself]") {
  Simulator sim(1);
  ScriptNode tx;
  Sink rx;
  sim.add_node(tx, kA);
  sim.add_node(rx, kB);
  sim.add_link(kA, kB, LinkConfig{});
  std::vector<uint8_t> bytes(1000 + 1000 + 300);
  for (size_t i = 0; i < 3; i++) bytes[i * 1000] = static_cast<uint8_t>(i + 1);
  // Unset local address: the node's primary address is used.
  tx.items.push_back({at(1ms), bytes, SendBatch{0, 1000, Path{Address{}, kB}, Ecn::ect1}});
  tx.items.push_back({at(2ms), std::vector<uint8_t>(777, 9), SendBatch{0, 0, Path{kA, kB}, {}}});
  sim.run_for(1s);
  REQUIRE(rx.rx.size() == 4);
  CHECK(rx.rx[0].size == 1000);
  CHECK(rx.rx[1].size == 1000);
  CHECK(rx.rx[2].size == 300);
  CHECK(rx.rx[3].size == 777);
  for (size_t i = 0; i < 3; i++) {
    CHECK((rx.rx[i].seq & 0xff) == i + 1);
    CHECK(rx.rx[i].ecn == Ecn::ect1);
    CHECK(rx.rx[i].path.remote == kA);
    CHECK(rx.rx[i].time == at(11ms));
  }
  CHECK(sim.stats().datagrams_sent == 4);
  CHECK(sim.stats().batches == 2);
}

TEST_CASE("sim: two-way traffic, NAT rewrite and unroutable datagrams", "[sim][simself]") {
  Simulator sim(1);
  const Address kNat = Address::v4(0xc0a80001, 40000);
  PacedSender tx(kA, kB, 5, 100, 1ms, at(0ms));
  Echo echo;
  Sink back;  // the sender's replies land here through the NAT address
  sim.add_node(tx, kA);
  sim.add_node(echo, kB);
  sim.add_node(back, kNat);
  LinkConfig cfg;
  cfg.delay = 7ms;
  cfg.rewrite_source = kNat;
  sim.add_link(kA, kB, cfg);
  sim.add_link(kB, kNat, LinkConfig{});
  sim.run_for(1s);
  REQUIRE(back.rx.size() == 5);
  for (const Rx& r : back.rx) {
    CHECK(r.path.local == kNat);
    CHECK(r.path.remote == kB);
    CHECK(r.time == at(std::chrono::milliseconds(r.seq) + 17ms));
  }
  CHECK(sim.stats().unroutable == 0);

  // No link B -> A: datagrams to A are counted, not delivered.
  ScriptNode stray;
  const Address kC = Address::v4(0x0a000003, 3333);
  sim.add_node(stray, kC);
  stray.items.push_back({sim.now(), std::vector<uint8_t>(10), SendBatch{0, 0, Path{kC, kA}, {}}});
  sim.run_for(1s);
  CHECK(sim.stats().unroutable == 1);
}

TEST_CASE("sim: stuck, deadline and livelock stops", "[sim][simself]") {
  SECTION("nothing scheduled: stuck, without moving the clock") {
    Simulator sim(1);
    Sink a, b;
    sim.add_node(a, kA);
    sim.add_node(b, kB);
    sim.add_duplex(kA, kB, LinkConfig{});
    CHECK_FALSE(sim.run_until([] { return false; }, at(1000s)));
    CHECK(sim.last_stop() == StopReason::stuck);
    CHECK(sim.now() == kSimEpoch);
    CHECK(sim.stats().steps == 1);
    // run_for lets idle time pass.
    CHECK(sim.run_for(5s));
    CHECK(sim.now() == at(5s));
  }
  SECTION("predicate already true") {
    Simulator sim(1);
    CHECK(sim.run_until([] { return true; }, at(1s)));
    CHECK(sim.last_stop() == StopReason::predicate);
    CHECK(sim.stats().steps == 0);
  }
  SECTION("deadline with pending work; events at the deadline are processed") {
    Simulator sim(1);
    PacedSender tx(kA, kB, 1000, 100, 10ms, at(0ms));
    Sink rx;
    sim.add_node(tx, kA);
    sim.add_node(rx, kB);
    sim.add_link(kA, kB, LinkConfig{});
    CHECK_FALSE(sim.run_until([] { return false; }, at(100ms)));
    CHECK(sim.last_stop() == StopReason::deadline);
    CHECK(sim.now() == at(100ms));
    CHECK(tx.sent() == 11);      // sent at 0, 10, ..., 100 ms
    CHECK(rx.rx.size() == 10);   // delivered at 10, ..., 100 ms
    // The clock jumps between events: ~2 steps per 10 ms, not one per ns.
    CHECK(sim.stats().steps < 30);
  }
  SECTION("a timer that never moves forward is a livelock") {
    struct Spinner : SimNode {
      void receive(MutBytes, const Path&, Ecn, Time) override {}
      SendBatch send(MutBytes, Time) override { return {}; }
      Time next_timeout() const override { return kSimEpoch + 1ms; }
      void on_timeout(Time) override {}
    } spin;
    Simulator sim(1);
    sim.max_steps_per_instant = 1000;
    sim.add_node(spin, kA);
    CHECK_FALSE(sim.run_until([] { return false; }, at(1s)));
    CHECK(sim.last_stop() == StopReason::livelock);
    CHECK(sim.now() == at(1ms));
    CHECK_FALSE(sim.run_for(1s));
  }
  SECTION("zero-delay ping-pong is a livelock too") {
    Echo e1, e2;
    Simulator sim(1);
    sim.max_steps_per_instant = 1000;
    sim.add_node(e1, kA);
    sim.add_node(e2, kB);
    LinkConfig cfg;
    cfg.delay = Duration::zero();
    sim.add_duplex(kA, kB, cfg);
    e1.pending.push_back({std::vector<uint8_t>(10), Path{kA, kB}});
    CHECK_FALSE(sim.run_until([] { return false; }, at(1s)));
    CHECK(sim.last_stop() == StopReason::livelock);
  }
}

TEST_CASE("sim: timers fire at their exact time, before send", "[sim][simself]") {
  // Arms a timer every 3 ms; sends only from on_timeout (like a PTO probe).
  struct Ticker : SimNode {
    std::vector<Time> fired;
    bool want_send = false;
    Time next = kSimEpoch + 3ms;
    Address self, peer;
    void receive(MutBytes, const Path&, Ecn, Time) override {}
    SendBatch send(MutBytes out, Time) override {
      if (!want_send) return {};
      want_send = false;
      out[0] = static_cast<uint8_t>(fired.size());
      return SendBatch{1, 0, Path{self, peer}, Ecn::not_ect};
    }
    Time next_timeout() const override { return fired.size() < 5 ? next : kTimeInfinite; }
    void on_timeout(Time now) override {
      fired.push_back(now);
      next = now + 3ms;
      want_send = true;
    }
  } tick;
  tick.self = kA;
  tick.peer = kB;
  Sink rx;
  Simulator sim(1);
  sim.add_node(tick, kA);
  sim.add_node(rx, kB);
  sim.add_link(kA, kB, LinkConfig{});
  sim.run_for(1s);
  REQUIRE(tick.fired.size() == 5);
  for (size_t i = 0; i < 5; i++) CHECK(tick.fired[i] == at(std::chrono::milliseconds(3 * (i + 1))));
  REQUIRE(rx.rx.size() == 5);
  for (size_t i = 0; i < 5; i++)
    CHECK(rx.rx[i].time == at(std::chrono::milliseconds(3 * (i + 1)) + 10ms));
  CHECK(sim.stats().timeouts == 5);
}

TEST_CASE("sim: summary names every link and drop cause", "[sim][simself]") {
  Simulator sim(1);
  PacedSender tx(kA, kB, 10, 100, Duration::zero(), at(0ms), 10);
  Sink rx;
  sim.add_node(tx, kA);
  sim.add_node(rx, kB);
  Link& l = sim.add_link(kA, kB, LinkConfig{});
  l.drop_next(2);
  sim.run_for(1s);
  std::string s = sim.summary();
  CHECK(s.find("offered 10") != std::string::npos);
  CHECK(s.find("delivered 8") != std::string::npos);
  CHECK(s.find("targeted=2") != std::string::npos);
}

}  // namespace
}  // namespace wt::sim
