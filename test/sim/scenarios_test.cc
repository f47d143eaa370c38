// Connection scenarios in the deterministic simulator, each with NewReno and
// CUBIC. Virtual time is bounded in every run; a stuck run fails at once.
#include <catch2/catch.hpp>

#include <cstring>
#include <map>
#include <set>

#include "test/sim/scenario.h"

namespace wt::sim {
namespace {

using namespace std::chrono_literals;
using quic::CongestionControl;
using quic::Connection;
using quic::Event;

LinkConfig link_cfg(Duration delay, uint64_t bps = 0, size_t queue = 0, double loss = 0) {
  LinkConfig c;
  c.delay = delay;
  c.bandwidth_bps = bps;
  c.queue_bytes = queue;
  c.loss = loss;
  return c;
}

bool is_client_bidi(uint64_t id) { return (id & 3) == 0; }

// Server side of a download: answers the first client bidi stream with
// `total` pattern bytes once the client's request (with FIN) is read.
struct Download {
  uint64_t total;
  uint64_t key = 0x5eed;
  std::optional<uint64_t> stream;
  std::optional<PatternWriter> writer;
  std::optional<PatternReader> reader;
  std::vector<uint8_t> scratch = std::vector<uint8_t>(64 * 1024);
  bool request_sent = false;
  bool request_done = false;
  bool error = false;

  void attach(Scenario& s) {
    s.client_pump = [this](Connection& c, Time) {
      if (!request_sent && c.is_established()) {
        auto id = c.open_stream(true);
        if (!id) {
          error = true;
          return;
        }
        stream = *id;
        reader.emplace(*id, key);
        const uint8_t req[] = {'G', 'E', 'T'};
        auto w = c.stream_write(*id, Bytes(req), true);
        error |= !w || *w != sizeof req;
        request_sent = true;
      }
      if (reader) reader->read(c, MutBytes(scratch));
    };
    s.server_pump = [this](Connection& c, Time) {
      if (stream && !request_done) {
        uint8_t req[16];
        auto r = c.stream_read(*stream, MutBytes(req));
        if (r && r->fin) {
          request_done = true;
          writer.emplace(*stream, key, total);
        }
      }
      if (writer) error |= !writer->write(c);
    };
    s.on_server_event = [this](Connection&, const Event& ev, Time) {
      if ((ev.type == Event::Type::stream_opened || ev.type == Event::Type::stream_readable) &&
          !stream && is_client_bidi(ev.stream_id))
        stream = ev.stream_id;
    };
  }
  bool done() const { return reader && reader->fin(); }
  uint64_t received() const { return reader ? reader->received() : 0; }
};

TEST_CASE("sim: pattern data is chunking-independent and checked", "[sim]") {
  std::vector<uint8_t> whole(1000), parts(1000);
  pattern_fill(7, 123, MutBytes(whole));
  for (size_t off = 0, n = 1; off < parts.size(); off += n, n = n * 2 + 1) {
    n = std::min(n, parts.size() - off);
    pattern_fill(7, 123 + off, MutBytes(parts).subspan(off, n));
  }
  CHECK(whole == parts);
  CHECK(pattern_mismatch(7, 123, Bytes(whole)) == SIZE_MAX);
  CHECK(pattern_mismatch(8, 123, Bytes(whole)) != SIZE_MAX);  // another key
  CHECK(pattern_mismatch(7, 124, Bytes(whole)) != SIZE_MAX);  // shifted by one
  whole[777] ^= 1;
  CHECK(pattern_mismatch(7, 123, Bytes(whole)) == 777);
}

#define FOR_EACH_CC(cc)                                                                  \
  auto cc = GENERATE(CongestionControl::new_reno, CongestionControl::cubic);             \
  INFO("congestion control: " << cc_name(cc))

TEST_CASE("sim: handshake under loss", "[sim]") {
  FOR_EACH_CC(cc);
  double loss = GENERATE(0.0, 0.1, 0.3);
  // The handshake is about three datagrams, so many seeds are needed for
  // the losses to hit every flight.
  uint64_t lossy_runs = 0;
  for (uint64_t seed = 1; seed <= 16; seed++) {
    INFO("loss " << loss << " each way, seed " << seed);
    ScenarioOptions o;
    o.cc = cc;
    o.seed = seed;
    o.c2s = link_cfg(10ms, 0, 0, loss);
    o.s2c = link_cfg(10ms, 0, 0, loss);
    o.tweak = [](quic::ConnectionConfig& c, bool) { c.idle_timeout = 300s; };
    Scenario s(o);
    // 1.5 RTT without loss; PTO backoff (initial RTT 333 ms) with loss.
    const Duration bound = loss == 0 ? 30ms : loss < 0.2 ? 20s : 60s;
    bool ok = s.run_until([&] { return s.established(); }, bound);
    INFO(s.sim.summary() << "stop: " << stop_reason_name(s.sim.last_stop()) << " after "
                         << to_ns(kTimeZero + s.elapsed()) / 1000000 << " ms");
    REQUIRE(ok);
    CHECK_FALSE(s.client_closed);
    CHECK_FALSE(s.server_closed);
    CHECK(s.accepted == 1);
    if (s.sim.links()[0]->stats().dropped_total() + s.sim.links()[1]->stats().dropped_total())
      lossy_runs++;
  }
  if (loss > 0) CHECK(lossy_runs >= 4);
}

TEST_CASE("sim: 50 MB download under loss and reordering", "[sim]") {
  FOR_EACH_CC(cc);
  ScenarioOptions o;
  o.cc = cc;
  o.seed = 11;
  for (LinkConfig* l : {&o.c2s, &o.s2c}) {
    *l = link_cfg(10ms, 100'000'000, 250'000, 0.05);
    l->reorder = 0.02;
    l->reorder_delay = 3ms;
  }
  Scenario s(o);
  Download d{50'000'000};
  d.attach(s);
  bool ok = s.run_until([&] { return d.done() || d.error || (d.reader && d.reader->corrupt()); },
                        1800s);
  INFO(s.sim.summary() << "stop: " << stop_reason_name(s.sim.last_stop()) << " received "
                       << d.received());
  REQUIRE(ok);
  CHECK_FALSE(d.error);
  CHECK_FALSE(d.reader->corrupt());
  CHECK(d.received() == 50'000'000);
  CHECK(s.sim.links()[0]->stats().dropped(DropCause::loss) > 0);
  CHECK(s.sim.links()[1]->stats().reordered > 0);
}

TEST_CASE("sim: corrupted packets are discarded and data stays byte-exact", "[sim]") {
  FOR_EACH_CC(cc);
  ScenarioOptions o;
  o.cc = cc;
  o.seed = 21;
  o.c2s = link_cfg(10ms, 50'000'000, 200'000);
  o.s2c = link_cfg(10ms, 50'000'000, 200'000);
  Scenario s(o);
  // Flip one bit in every 50th datagram after the handshake's first few,
  // at a position that varies (header, payload or tag).
  uint64_t flipped = 0;
  for (auto& l : s.sim.links())
    l->set_mutator([&](MutBytes d, uint64_t index, Time) {
      if (index < 10 || index % 50 != 0) return;
      d[(index * 131) % d.size()] ^= static_cast<uint8_t>(1u << (index % 8));
      flipped++;
    });
  Download d{5'000'000};
  d.attach(s);
  bool ok = s.run_until([&] { return d.done() || d.error; }, 300s);
  INFO(s.sim.summary() << "stop: " << stop_reason_name(s.sim.last_stop()));
  REQUIRE(ok);
  CHECK(flipped > 50);
  CHECK_FALSE(d.reader->corrupt());
  CHECK(d.received() == 5'000'000);
  CHECK_FALSE(s.client_closed);
  CHECK_FALSE(s.server_closed);
}

TEST_CASE("sim: goodput on a clean 100 Mbit/s 20 ms link", "[sim]") {
  FOR_EACH_CC(cc);
  ScenarioOptions o;
  o.cc = cc;
  o.seed = 3;
  // BDP = 100 Mbit/s * 20 ms = 250 KB; queue of about one BDP.
  o.c2s = link_cfg(10ms, 100'000'000, 250'000);
  o.s2c = link_cfg(10ms, 100'000'000, 250'000);
  Scenario s(o);
  Download d{1'000'000'000};
  d.attach(s);
  s.sim.run_for(2s);
  REQUIRE(s.established());
  const uint64_t at2 = d.received();
  s.sim.run_for(4s);
  const uint64_t at6 = d.received();
  const double mbps = static_cast<double>(at6 - at2) * 8 / 4 / 1e6;
  INFO(s.sim.summary() << "goodput " << mbps << " Mbit/s");
  CHECK_FALSE(d.error);
  CHECK_FALSE(d.reader->corrupt());
  CHECK(mbps >= 80.0);
}

TEST_CASE("sim: 1000 concurrent streams", "[sim]") {
  FOR_EACH_CC(cc);
  constexpr uint64_t kStreams = 1000;
  ScenarioOptions o;
  o.cc = cc;
  o.seed = 5;
  o.c2s = link_cfg(10ms, 50'000'000, 200'000, 0.01);
  o.s2c = link_cfg(10ms, 50'000'000, 200'000, 0.01);
  o.tweak = [](quic::ConnectionConfig& c, bool) { c.max_streams_bidi = kStreams; };
  Scenario s(o);
  auto size_of = [](uint64_t id) { return 1 + (id * 7919) % 5000; };
  std::vector<uint8_t> scratch(64 * 1024);

  // Client: opens every stream, sends a request, reads the echo (key id+1).
  std::map<uint64_t, PatternWriter> cw;
  std::map<uint64_t, PatternReader> cr;
  bool opened = false, error = false;
  s.client_pump = [&](Connection& c, Time) {
    if (!opened && c.is_established()) {
      opened = true;
      for (uint64_t i = 0; i < kStreams; i++) {
        auto id = c.open_stream(true);
        if (!id) {
          error = true;
          return;
        }
        cw.emplace(*id, PatternWriter(*id, *id, size_of(*id), 8192));
        cr.emplace(*id, PatternReader(*id, *id + 1));
      }
    }
    for (auto& [id, w] : cw) error |= !w.write(c);
  };
  s.on_client_event = [&](Connection& c, const Event& ev, Time) {
    if (ev.type == Event::Type::stream_readable) {
      auto it = cr.find(ev.stream_id);
      if (it == cr.end()) error = true;
      else it->second.read(c, MutBytes(scratch));
    }
  };
  // Server: verifies each request, then answers with size_of(id) bytes.
  std::map<uint64_t, PatternReader> sr;
  std::map<uint64_t, PatternWriter> sw;
  s.on_server_event = [&](Connection& c, const Event& ev, Time) {
    if (ev.type != Event::Type::stream_readable && ev.type != Event::Type::stream_opened) return;
    uint64_t id = ev.stream_id;
    if (!is_client_bidi(id)) return;
    auto it = sr.try_emplace(id, id, id).first;
    it->second.read(c, MutBytes(scratch));
    if (it->second.fin() && !sw.count(id)) sw.emplace(id, PatternWriter(id, id + 1, size_of(id), 8192));
  };
  s.server_pump = [&](Connection& c, Time) {
    for (auto& [id, w] : sw) error |= !w.write(c);
  };
  auto all_done = [&] {
    if (cr.size() != kStreams) return false;
    for (auto& [id, r] : cr)
      if (!r.fin()) return false;
    return true;
  };
  bool ok = s.run_until([&] { return error || all_done(); }, 600s);
  INFO(s.sim.summary() << "stop: " << stop_reason_name(s.sim.last_stop()));
  REQUIRE(ok);
  CHECK_FALSE(error);
  REQUIRE(sr.size() == kStreams);
  for (auto& [id, r] : sr) {
    INFO("stream " << id);
    CHECK(r.fin());
    CHECK_FALSE(r.corrupt());
    CHECK(r.received() == size_of(id));
  }
  for (auto& [id, r] : cr) {
    INFO("stream " << id);
    CHECK_FALSE(r.corrupt());
    CHECK(r.received() == size_of(id));
  }
}

TEST_CASE("sim: transfer limited by tiny flow-control windows", "[sim]") {
  FOR_EACH_CC(cc);
  ScenarioOptions o;
  o.cc = cc;
  o.seed = 9;
  o.c2s = link_cfg(10ms, 0, 0, 0.01);
  o.s2c = link_cfg(10ms, 0, 0, 0.01);
  o.tweak = [](quic::ConnectionConfig& c, bool) {
    c.initial_max_stream_data = 1024;
    c.initial_max_data = 4096;
    c.max_stream_window = 1024;  // no auto-tuning beyond the tiny windows
    c.max_connection_window = 4096;
  };
  Scenario s(o);
  Download d{200'000};
  d.attach(s);
  bool ok = s.run_until([&] { return d.done() || d.error; }, 600s);
  INFO(s.sim.summary() << "stop: " << stop_reason_name(s.sim.last_stop()) << " received "
                       << d.received());
  REQUIRE(ok);
  CHECK_FALSE(d.error);
  CHECK_FALSE(d.reader->corrupt());
  CHECK(d.received() == 200'000);
  // 1 KB per round trip at most: 200 KB needs ~200 RTTs of 20 ms.
  CHECK(s.elapsed() >= 200 * 20ms * 9 / 10);
}

TEST_CASE("sim: datagrams under loss and duplication", "[sim]") {
  FOR_EACH_CC(cc);
  ScenarioOptions o;
  o.cc = cc;
  o.seed = 13;
  for (LinkConfig* l : {&o.c2s, &o.s2c}) {
    *l = link_cfg(10ms, 20'000'000, 100'000, 0.1);
    l->duplicate = 0.05;
    l->reorder = 0.05;
    l->reorder_delay = 4ms;
  }
  o.tweak = [](quic::ConnectionConfig& c, bool) { c.max_datagram_frame_size = 1200; };
  Scenario s(o);
  constexpr uint64_t kCount = 2000;
  std::set<uint64_t> sent;
  std::map<uint64_t, int> received;
  uint64_t next_id = 0, bad = 0;
  Time next_send = kTimeZero;
  s.client_pump = [&](Connection& c, Time now) {
    if (!c.is_established() || next_id >= kCount) return;
    if (now >= next_send) {
      if (c.max_datagram_payload() < 100) bad++;
      uint8_t payload[100];
      pattern_fill(next_id, 0, MutBytes(payload));
      std::memcpy(payload, &next_id, 8);
      if (c.send_datagram(Bytes(payload))) sent.insert(next_id);
      next_id++;
      next_send = now + 1ms;
    }
    s.client().app_wakeup = next_send;
  };
  s.on_server_event = [&](Connection&, const Event& ev, Time) {
    if (ev.type != Event::Type::datagram_received) return;
    uint64_t id = UINT64_MAX;
    if (ev.data.size() == 100) std::memcpy(&id, ev.data.data(), 8);
    if (id == UINT64_MAX ||
        pattern_mismatch(id, 8, Bytes(ev.data).subspan(8)) != SIZE_MAX)
      bad++;
    else
      received[id]++;
  };
  bool ok = s.run_until([&] { return next_id >= kCount; }, 60s);
  REQUIRE(ok);
  s.sim.run_for(2s);
  INFO(s.sim.summary() << "sent " << sent.size() << " received " << received.size());
  CHECK(bad == 0);
  CHECK(sent.size() >= kCount * 9 / 10);
  for (auto& [id, n] : received) {
    INFO("datagram " << id);
    CHECK(sent.count(id) == 1);
    CHECK(n == 1);
  }
  // DATAGRAM frames are not retransmitted (RFC 9221 §5.2): about 90% arrive.
  CHECK(received.size() >= sent.size() * 8 / 10);
  CHECK(received.size() <= sent.size());
  CHECK(s.sim.links()[0]->stats().duplicated > 0);
}

TEST_CASE("sim: idle timeout closes both sides after the idle period", "[sim]") {
  FOR_EACH_CC(cc);
  ScenarioOptions o;
  o.cc = cc;
  o.c2s = link_cfg(10ms);
  o.s2c = link_cfg(10ms);
  o.tweak = [](quic::ConnectionConfig& c, bool server) {
    // RFC 9000 §10.1: the effective timeout is the minimum of both values.
    c.idle_timeout = server ? 7s : 5s;
  };
  Scenario s(o);
  // Last datagram each side received or sent.
  Time client_rx = kTimeZero, server_rx = kTimeZero, client_tx = kTimeZero, server_tx = kTimeZero;
  s.sim.on_deliver([&](const Datagram& d) {
    (d.path.remote == Scenario::kClientAddr ? client_rx : server_rx) = d.time;
  });
  s.sim.on_send([&](const Datagram& d) {
    (d.path.local == Scenario::kClientAddr ? client_tx : server_tx) = d.time;
  });
  REQUIRE(s.run_until([&] { return s.established(); }, 1s));
  bool ok = s.run_until([&] { return s.client_closed && s.server_closed; }, 60s);
  INFO(s.sim.summary());
  REQUIRE(ok);
  for (bool server : {false, true}) {
    INFO((server ? "server" : "client"));
    const quic::CloseInfo& ci = server ? *s.server_closed : *s.client_closed;
    Time closed = server ? s.server_closed_at : s.client_closed_at;
    Time rx = server ? server_rx : client_rx;
    Time tx = server ? server_tx : client_tx;
    INFO("closed " << to_ns(closed) - to_ns(rx) << " ns after the last receive, "
                   << to_ns(closed) - to_ns(tx) << " ns after the last send");
    CHECK(ci.idle_timeout);
    CHECK_FALSE(ci.by_peer);
    // Not before the idle period since the last packet received (§10.1),
    // and not much later than it (3 PTOs at most at this RTT).
    CHECK(closed - rx >= 5s);
    CHECK(closed - std::max(rx, tx) <= 5s + 1s);
  }
  // Idle timeout is silent: nothing was sent after the last activity.
  CHECK(client_tx < s.client_closed_at);
  CHECK(server_tx < s.server_closed_at);
  CHECK(s.client_conn->is_closed());
  CHECK(s.server_conn->is_closed());
}

TEST_CASE("sim: application close reaches the peer", "[sim]") {
  FOR_EACH_CC(cc);
  ScenarioOptions o;
  o.cc = cc;
  o.c2s = link_cfg(10ms, 0, 0, 0.1);
  o.s2c = link_cfg(10ms, 0, 0, 0.1);
  o.seed = 17;
  Scenario s(o);
  REQUIRE(s.run_until([&] { return s.established(); }, 30s));
  s.client_conn->close(0x1234, "bye now");
  bool ok = s.run_until([&] { return s.server_closed.has_value(); }, 30s);
  INFO(s.sim.summary());
  REQUIRE(ok);
  CHECK(s.server_closed->application);
  CHECK(s.server_closed->by_peer);
  CHECK(s.server_closed->error_code == 0x1234);
  CHECK(s.server_closed->reason == "bye now");
  CHECK_FALSE(s.server_closed->idle_timeout);
  // Both sides finish closing/draining (RFC 9000 §10.2) and can be freed.
  REQUIRE(s.run_until([&] { return s.client_conn->is_closed() && s.server_conn->is_closed(); },
                      30s));
  REQUIRE(s.client_closed.has_value());
  CHECK_FALSE(s.client_closed->by_peer);
}

}  // namespace
}  // namespace wt::sim
