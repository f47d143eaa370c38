// Helpers for the lib/io tests: a queue-driven handler and back-end lists.
#pragma once
#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <vector>

#include "lib/io/loop.h"
#include "lib/io/sockaddr.h"

// Measurements (throughput, timer lateness, ...) print with WT_TEST_VERBOSE=1.
#define IO_REPORT(msg)                                  \
  do {                                                  \
    if (std::getenv("WT_TEST_VERBOSE")) WARN(msg);      \
  } while (0)

namespace wt::io::test {

inline Address addr(const char* text) {
  auto a = parse_address(text);
  REQUIRE(a.has_value());
  return *a;
}

// The back-ends this kernel/sandbox offers (epoll always).
inline std::vector<BackendKind> available_backends() {
  static std::vector<BackendKind> kinds = [] {
    std::vector<BackendKind> k{BackendKind::epoll};
    LoopOptions o;
    o.backend = BackendKind::uring;
    if (Loop::create(o)) k.push_back(BackendKind::uring);
    else WARN("io_uring unavailable here: testing epoll only");
    return k;
  }();
  return kinds;
}

struct Datagram {
  std::vector<uint8_t> data;
  Address peer, local;
  Ecn ecn = Ecn::not_ect;
  size_t segment = 0;  // outgoing: GSO segment size (0: one datagram)
  size_t batch = 0;    // incoming: which on_receive call delivered it
};

// Sends what is queued in `out` (one batch per entry); records what arrives
// (one entry per datagram). With `echo`, every received batch is queued back
// to its sender from the address it arrived on, with the same ECN and
// segment size.
class QueueHandler : public UdpHandler {
 public:
  bool echo = false;
  std::deque<Datagram> out;
  std::vector<Datagram> received;
  std::vector<size_t> batch_sizes;  // datagrams per on_receive
  size_t receive_done_calls = 0;
  Time deadline = kTimeInfinite;
  std::function<void(Time)> deadline_fn;

  void on_receive(const DatagramBatchView& b, Time) override {
    size_t batch = batch_sizes.size();
    batch_sizes.push_back(b.count());
    for (size_t i = 0; i < b.count(); ++i) {
      MutBytes d = b.datagram(i);
      received.push_back({{d.begin(), d.end()}, b.peer, b.local, b.ecn, b.segment_size, batch});
    }
    if (echo) out.push_back({{b.data.begin(), b.data.end()}, b.peer, b.local, b.ecn, b.segment_size, 0});
  }
  void on_receive_done(Time) override { ++receive_done_calls; }
  size_t on_send(SendBuffer& buf, Time) override {
    size_t n = 0;
    while (!out.empty() && buf.has_space()) {
      Datagram& d = out.front();
      MutBytes space = buf.space();
      if (d.data.size() > space.size()) throw std::runtime_error("datagram larger than a send slot");
      std::memcpy(space.data(), d.data.data(), d.data.size());
      buf.commit(d.data.size(), d.segment, d.peer, d.local, d.ecn);
      out.pop_front();
      ++n;
    }
    return n;
  }
  Time next_deadline() const override { return deadline; }
  void on_deadline(Time now) override {
    deadline = kTimeInfinite;
    if (deadline_fn) deadline_fn(now);
  }
};

// Runs the loop until `done()` or `limit` passes; returns done().
inline bool run_until(Loop& loop, const std::function<bool()>& done,
                      Duration limit = std::chrono::seconds(5)) {
  Time end = monotonic_now() + limit;
  while (!done() && monotonic_now() < end) loop.run_once(std::chrono::milliseconds(10));
  return done();
}

// Payload `size` bytes: a 4-byte index then a pattern derived from it.
inline std::vector<uint8_t> payload(uint32_t index, size_t size) {
  std::vector<uint8_t> p(size);
  for (size_t i = 0; i < size; ++i) p[i] = static_cast<uint8_t>(index * 31 + i * 7);
  for (size_t i = 0; i < 4 && i < size; ++i) p[i] = static_cast<uint8_t>(index >> (8 * i));
  return p;
}
inline uint32_t payload_index(const std::vector<uint8_t>& p) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4 && i < p.size(); ++i) v |= uint32_t{p[i]} << (8 * i);
  return v;
}

}  // namespace wt::io::test
