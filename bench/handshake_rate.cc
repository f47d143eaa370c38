// Server handshakes per second on one core, in memory (no sockets: this
// measures our CPU, not the kernel's).
//
//   handshake_rate [--json] [--connections N] [--concurrency C] [--keep | --close]
//
// N clients handshake with one server endpoint (TLS 1.3, ECDSA P-256
// certificate, X25519, AES-128-GCM), at most C at a time, in two runs:
// first each client closes its connection once the handshake is confirmed
// (like quicperf --handshake-only) and the server frees connections once
// they are closed; then every connection stays open, so the server holds
// up to N idle connections while it accepts more. --close or --keep runs
// one of them. The clock is the real one, so timers (ACK delay, draining)
// run as they would on a network.
//
// handshakes_per_sec counts the server's thread CPU time alone: receive,
// timers, send, accept and freeing, i.e. a connection's whole life on the
// server (handshakes_per_sec_kept_open: the second run).
// handshakes_per_sec_both_sides is wall time with both sides on this one
// thread.
//
// Profiling the server alone: valgrind --tool=callgrind --collect-atstart=no
// collects only inside the timed server turns.
#include <string>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define WT_SERVER_TURN() CALLGRIND_TOGGLE_COLLECT
#else
#define WT_SERVER_TURN()
#endif

#include "bench/conn_bench_driver.h"

using namespace wt;
using namespace wt::quic;
using namespace wt::bench;

namespace {

struct Options {
  bool json = false;
  bool keep = false;
  bool both = true;  // a closing run, then a kept-open run
  size_t connections = 2000;
  size_t concurrency = 32;
};

struct RunResult {
  size_t handshakes = 0;
  double server_cpu_s = 0, client_cpu_s = 0, wall_s = 0;
  std::string suite;
  uint16_t group = 0;
  uint64_t server_datagrams = 0, client_datagrams = 0;
};

Time now_wall() { return from_ns(wall_ns()); }

RunResult run(const Options& o) {
  Random& rng = SystemRandom::instance();
  Endpoint client(bench_endpoint_config(false, rng));
  Endpoint server(bench_endpoint_config(true, rng));
  DatagramQueue to_server, to_client;
  std::vector<uint8_t> sbuf(64 * 1500), cbuf(64 * 1500);
  std::vector<Connection*> active;  // clients not yet confirmed
  std::vector<Connection*> server_conns;
  size_t started = 0, confirmed = 0, server_done = 0;
  RunResult r;
  int64_t server_cpu = 0, client_cpu = 0;
  const int64_t wall0 = wall_ns();

  while (server_done < o.connections || confirmed < o.connections) {
    // ---- client side
    int64_t c0 = thread_cpu_ns();
    Time now = now_wall();
    while (active.size() < o.concurrency && started < o.connections) {
      auto c = client.connect(client_path(started), now);
      if (!c.ok()) die(std::string("connect: ") + c.error().detail);
      active.push_back(*c);
      ++started;
    }
    if (client.next_timeout() <= now) client.on_timeout(now);
    r.client_datagrams += drain(client, to_server, cbuf, now);
    client_cpu += thread_cpu_ns() - c0;

    // ---- server side (timed)
    int64_t s0 = thread_cpu_ns();
    WT_SERVER_TURN();
    now = now_wall();
    to_server.deliver(server, now);
    if (server.next_timeout() <= now) server.on_timeout(now);
    r.server_datagrams += drain(server, to_client, sbuf, now);
    while (Connection* s = server.accept()) server_conns.push_back(s);
    if (!o.keep) server.remove_closed();
    WT_SERVER_TURN();
    server_cpu += thread_cpu_ns() - s0;

    // ---- the server application: events (not the stack's cost)
    for (auto it = server_conns.begin(); it != server_conns.end();) {
      Connection* s = *it;
      bool closed = false;
      while (auto e = s->poll_event()) {
        if (e->type == Event::Type::handshake_done) {
          if (r.suite.empty()) {
            r.suite = cipher_suite_name(s->tls().cipher_suite());
            r.group = s->tls().key_exchange_group();
          }
          ++server_done;
        }
        if (e->type == Event::Type::connection_closed) closed = true;
      }
      // Freed by remove_closed() in the next server turn.
      if (closed) it = server_conns.erase(it);
      else ++it;
    }

    // ---- client side again
    c0 = thread_cpu_ns();
    now = now_wall();
    to_client.deliver(client, now);
    for (auto it = active.begin(); it != active.end();) {
      Connection* c = *it;
      while (c->poll_event()) {
      }
      if (c->is_closed()) die("client connection closed: " + c->close_info().reason);
      if (c->handshake_confirmed()) {
        ++confirmed;
        if (!o.keep) c->close(0, "done");
        it = active.erase(it);
      } else {
        ++it;
      }
    }
    if (!o.keep) {
      client.for_each([](Connection& c) {
        while (c.poll_event()) {
        }
      });
      client.remove_closed();
    }
    client_cpu += thread_cpu_ns() - c0;
  }
  r.wall_s = static_cast<double>(wall_ns() - wall0) / 1e9;
  r.server_cpu_s = static_cast<double>(server_cpu) / 1e9;
  r.client_cpu_s = static_cast<double>(client_cpu) / 1e9;
  r.handshakes = server_done;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--json") o.json = true;
    else if (a == "--keep") o.keep = true, o.both = false;
    else if (a == "--close") o.keep = false, o.both = false;
    else if (a == "--connections" && i + 1 < argc) o.connections = std::stoul(argv[++i]);
    else if (a == "--concurrency" && i + 1 < argc) o.concurrency = std::stoul(argv[++i]);
    else {
      fmt::print(stderr,
                 "usage: handshake_rate [--json] [--connections N] [--concurrency C] [--keep | "
                 "--close]\n");
      return 2;
    }
  }
  if (o.connections == 0 || o.concurrency == 0) die("--connections and --concurrency must be > 0");
  (void)p256_certificate();
  {
    Options warm = o;  // first-use setup of BoringSSL and the configs
    warm.connections = std::min<size_t>(o.connections, 16);
    (void)run(warm);
  }
  RunResult r = run(o);
  RunResult kept;
  if (o.both) {
    Options k = o;
    k.keep = true;
    kept = run(k);
  }
  auto per_sec = [](const RunResult& x) {
    return x.server_cpu_s > 0 ? static_cast<double>(x.handshakes) / x.server_cpu_s : 0.0;
  };
  const double n = static_cast<double>(r.handshakes);
  const double rate = per_sec(r);
  const double both = r.wall_s > 0 ? n / r.wall_s : 0;
  if (o.json) {
    fmt::print(
        "{{\"connections\": {}, \"concurrency\": {}, \"keep\": {}, \"handshakes_per_sec\": {:.0f}, "
        "\"handshakes_per_sec_both_sides\": {:.0f}, \"server_cpu_us_per_handshake\": {:.1f}, "
        "\"client_cpu_us_per_handshake\": {:.1f}, \"server_datagrams_per_handshake\": {:.2f}, "
        "\"client_datagrams_per_handshake\": {:.2f}, ",
        r.handshakes, o.concurrency, o.keep, rate, both, r.server_cpu_s / n * 1e6,
        r.client_cpu_s / n * 1e6, static_cast<double>(r.server_datagrams) / n,
        static_cast<double>(r.client_datagrams) / n);
    if (o.both) fmt::print("\"handshakes_per_sec_kept_open\": {:.0f}, ", per_sec(kept));
    fmt::print(
        "\"cipher_suite\": \"{}\", \"group\": {}, \"certificate\": \"ECDSA P-256\", "
        "\"target_handshakes_per_sec\": 5000}}\n",
        r.suite, r.group);
  } else {
    fmt::print("{} handshakes ({}, group {}, ECDSA P-256), {} concurrent{}\n", r.handshakes,
               r.suite, r.group, o.concurrency, o.keep ? ", kept open" : "");
    fmt::print("  server: {:.0f} handshakes/s on one core ({:.1f} us CPU each)\n", rate,
               r.server_cpu_s / n * 1e6);
    fmt::print("  both sides on one thread: {:.0f} handshakes/s wall (client {:.1f} us each)\n",
               both, r.client_cpu_s / n * 1e6);
    if (o.both)
      fmt::print("  server with all {} connections kept open: {:.0f} handshakes/s\n",
                 kept.handshakes, per_sec(kept));
  }
  return 0;
}
