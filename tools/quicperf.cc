// quicperf: client and server of the QUIC performance protocol
// (draft-banks-quic-performance, ALPN "perf") on the real network.
//
//   quicperf server [--listen ADDR] [--cert F --key F] [options]
//   quicperf client ADDR [--download SIZE] [--upload SIZE] [options]
//
// Prints goodput, CPU seconds and handshake time (--json for machines).
#include <fmt/core.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "lib/io/clock.h"
#include "lib/io/loop.h"
#include "lib/io/sockaddr.h"
#include "lib/log.h"
#include "lib/random.h"
#include "net/diagnostics.h"
#include "net/quic_driver.h"
#include "quic/tls_config.h"
#include "tools/perf_protocol.h"
#include "tools/tool_util.h"

using namespace wt;

namespace {

io::Loop* g_loop = nullptr;
std::atomic<int> g_signals{0};

void on_signal(int) {
  g_signals.fetch_add(1);
  if (g_loop) g_loop->stop();
}

void usage(std::FILE* to) {
  fmt::print(to, R"(usage: quicperf server [options]
       quicperf client ADDR[:PORT] [options]

QUIC performance protocol (draft-banks-quic-performance, ALPN "perf").

common options:
  --port N              server port (default 4433)
  --cc cubic|newreno    congestion controller (default cubic)
  --cipher SUITE        aes128|aes256|chacha20: report only (see below);
                        null: NO ENCRYPTION of 1-RTT packets, for benchmarks
                        that isolate protocol cost; both sides must say so
                        (ALPN "perf-null-cipher" keeps others out)
  --packet-size N       UDP payload size, fixed (default: 1452, then PMTUD)
  --backend B           epoll|uring|auto (default auto, env WT_IO_BACKEND)
  --no-gso              no UDP GSO/GRO on our socket
  --no-pacing           send without pacing (diagnostics)
  --send-buffer SIZE    per-stream send buffer (default 8M)
  --recv-budget N       datagrams received per loop iteration before ACKs and
                        sends get a turn (default 256; 0: no limit)
  --send-budget N       send batches per loop iteration (default 64)
  --stats               print event loop and connection statistics to stderr
  --trace               every 100 ms: cwnd, bytes in flight, RTT to stderr
  --json                one JSON object on stdout at the end
  -q, --quiet           no progress line
server options:
  --listen ADDR         bind address (default [::]:PORT, dual-stack)
  --cert F --key F      PEM certificate and key (default: generated self-signed)
  --exit-after N        exit after N connections have ended
  --threads N           N event loops on N threads, one SO_REUSEPORT socket
                        each (the kernel spreads clients by address and port)
client options:
  --download SIZE       bytes the server sends per request (K/M/G suffixes)
  --upload SIZE         bytes the client sends per request
  --streams N           concurrent requests per connection (default 1)
  --requests N          requests per connection in total (default: --streams)
  --connections N       connections (default 1)
  --sockets N           client sockets (ports) the connections take in turn
                        (default 1; more spread them over a --threads server)
  --concurrency N       connections open at once (default: all)
  --duration SEC        time mode: repeat requests for SEC seconds
  --verify              check every response by SHA-256 against the pattern
  --handshake-only      close each connection right after its handshake
  --datagram-pings N    then N DATAGRAM ping-pongs per connection (RTT p50/p99)
  --hold SEC            keep the connections open (idle) for SEC seconds
  --sni NAME            server name (default localhost)
  --timeout SEC         give up after SEC seconds (default 120 + duration)
Without --download/--upload/--duration the client downloads 1G.

Cipher suites: this BoringSSL cannot restrict TLS 1.3 suites; the client
offers AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305 and the server picks.
quicperf reports what was negotiated and warns if it differs from --cipher.
SSLKEYLOGFILE and QLOGDIR are honoured.
)");
}

struct Args {
  bool server = false;
  std::string target, listen, cert, key, sni = "localhost", cipher = "auto";
  uint16_t port = 4433;
  perf::EndpointSetup setup;
  perf::ClientOptions client;
  io::BackendKind backend = io::BackendKind::automatic;
  io::LoopOptions loop;
  bool gso = true, json = false, quiet = false, stats = false, trace = false;
  uint64_t exit_after = 0, threads = 1, sockets = 1;
  double hold = 0, timeout = 0;
};

[[noreturn]] void die(const std::string& msg) {
  fmt::print(stderr, "quicperf: {}\n", msg);
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  if (argc < 2) {
    usage(stderr);
    std::exit(2);
  }
  std::string mode = argv[1];
  if (mode == "-h" || mode == "--help") {
    usage(stdout);
    std::exit(0);
  }
  if (mode == "server") a.server = true;
  else if (mode != "client") die("first argument must be 'server' or 'client' (see --help)");
  bool size_given = false;
  for (int i = 2; i < argc; ++i) {
    std::string o = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(o + " needs a value");
      return argv[++i];
    };
    auto size = [&]() {
      std::string v = value();
      auto s = tools::parse_size(v);
      if (!s) die("bad size for " + o + ": " + v);
      return *s;
    };
    auto count = [&]() {
      std::string v = value();
      char* end = nullptr;
      unsigned long long n = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end) die("bad number for " + o + ": " + v);
      return static_cast<uint64_t>(n);
    };
    auto seconds = [&]() {
      std::string v = value();
      auto s = tools::parse_seconds(v);
      if (!s) die("bad seconds for " + o + ": " + v);
      return *s;
    };
    if (o == "--port") a.port = static_cast<uint16_t>(count());
    else if (o == "--cc") {
      std::string v = value();
      if (v == "cubic") a.setup.cc = quic::CongestionControl::cubic;
      else if (v == "newreno" || v == "reno") a.setup.cc = quic::CongestionControl::new_reno;
      else die("--cc must be cubic or newreno");
    } else if (o == "--cipher") {
      a.cipher = value();
      if (a.cipher != "aes128" && a.cipher != "aes256" && a.cipher != "chacha20" &&
          a.cipher != "null" && a.cipher != "auto")
        die("--cipher must be aes128, aes256, chacha20, null or auto");
    } else if (o == "--packet-size") {
      a.setup.packet_size = count();
      a.setup.pmtud = false;  // a fixed size, e.g. to compare with a floor
    } else if (o == "--backend") {
      auto b = tools::parse_backend(value());
      if (!b) die("--backend must be epoll, uring or auto");
      a.backend = *b;
    } else if (o == "--no-gso") a.gso = false;
    else if (o == "--no-pacing") a.setup.pacing = false;
    else if (o == "--send-buffer") {
      uint64_t v = size();
      if (v < 65536 || v > (uint64_t{1} << 32)) die("--send-buffer must be 64K..4G");
      a.setup.send_buffer = v;
    } else if (o == "--recv-budget") a.loop.recv_datagram_budget = static_cast<uint32_t>(count());
    else if (o == "--send-budget") a.loop.send_budget = static_cast<uint32_t>(std::max<uint64_t>(count(), 1));
    else if (o == "--threads") a.threads = std::clamp<uint64_t>(count(), 1, 256);
    else if (o == "--sockets") a.sockets = std::clamp<uint64_t>(count(), 1, 1024);
    else if (o == "--trace") a.trace = true;
    else if (o == "--stats") a.stats = true;
    else if (o == "--json") a.json = true;
    else if (o == "-q" || o == "--quiet") a.quiet = true;
    else if (o == "--listen") a.listen = value();
    else if (o == "--cert") a.cert = value();
    else if (o == "--key") a.key = value();
    else if (o == "--exit-after") a.exit_after = count();
    else if (o == "--download") a.client.download = size(), size_given = true;
    else if (o == "--upload") a.client.upload = size(), size_given = true;
    else if (o == "--streams") a.client.streams = static_cast<uint32_t>(count());
    else if (o == "--requests") a.client.requests = count();
    else if (o == "--connections") a.client.connections = static_cast<uint32_t>(count());
    else if (o == "--concurrency") a.client.concurrency = static_cast<uint32_t>(count());
    else if (o == "--duration")
      a.client.duration = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds()));
    else if (o == "--verify") a.client.verify = true;
    else if (o == "--handshake-only") a.client.handshake_only = true;
    else if (o == "--datagram-pings") a.client.datagram_pings = static_cast<uint32_t>(count());
    else if (o == "--hold") a.hold = seconds(), a.client.hold = true;
    else if (o == "--sni") a.sni = value();
    else if (o == "--timeout") a.timeout = seconds();
    else if (o == "-h" || o == "--help") {
      usage(stdout);
      std::exit(0);
    } else if (!a.server && a.target.empty() && !o.empty() && o[0] != '-') a.target = o;
    else die("unknown option " + o + " (see --help)");
  }
  if (!a.server && a.target.empty()) die("client needs the server's address");
  if ((a.cert.empty()) != (a.key.empty())) die("--cert and --key go together");
  if (!a.server && !size_given) {
    // Time mode without sizes downloads without end; size mode defaults to 1G.
    a.client.download = a.client.duration > Duration::zero() ? (uint64_t{1} << 40) : (uint64_t{1} << 30);
  }
  if (a.client.connections == 0 || a.client.streams == 0) die("--connections and --streams must be > 0");
  a.setup.null_cipher = a.cipher == "null";
  a.setup.server = a.server;
  a.setup.server_name = a.sni;
  a.setup.cert_file = a.cert;
  a.setup.key_file = a.key;
  return a;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

const char* expected_suite(const std::string& cipher) {
  if (cipher == "aes128") return "TLS_AES_128_GCM_SHA256";
  if (cipher == "aes256") return "TLS_AES_256_GCM_SHA384";
  if (cipher == "chacha20") return "TLS_CHACHA20_POLY1305_SHA256";
  return nullptr;
}

std::string cipher_label(const Args& a, const std::string& negotiated) {
  if (a.setup.null_cipher) return "NULL (1-RTT unencrypted, benchmark only; handshake " + negotiated + ")";
  return negotiated;
}

void print_loop_stats(const io::LoopStats& l, const net::DriverStats& s) {
  fmt::print(stderr,
             "loop: {} iterations, {} recv batches / {} datagrams, {} send batches / {} sendmsg / "
             "{} syscalls, {} blocked, {} timers\n",
             l.iterations, l.recv_batches, l.recv_datagrams, l.send_batches, l.send_calls,
             l.send_syscalls, l.send_blocked, l.timers_fired);
  fmt::print(stderr,
             "driver: {} dispatches, {} datagrams sent in {} batches, ACK frames {} sent / {} "
             "received\n",
             s.dispatches, s.send_datagrams, s.send_batches, s.ack_frames_sent, s.ack_frames_received);
}

void print_stats(io::Loop& loop, net::QuicDriver& d) {
  print_loop_stats(loop.stats(), d.totals());
  d.endpoint().for_each([](quic::Connection& c) {
    const auto& cs = c.stats();
    fmt::print(stderr,
               "connection: {} packets sent, {} received, {} lost, {} PTOs, srtt {} us, min rtt {} "
               "us, cwnd {}\n",
               cs.packets_sent, cs.packets_received, cs.packets_lost, cs.pto_count,
               cs.smoothed_rtt.count() / 1000, cs.min_rtt.count() / 1000, cs.cwnd);
  });
}

// Every 100 ms with --trace: what limits a transfer.
void trace_connections(net::QuicDriver& d, Time& next) {
  Time now = io::monotonic_now();
  if (now < next) return;
  next = now + std::chrono::milliseconds(100);
  d.endpoint().for_each([](quic::Connection& c) {
    const auto& cs = c.stats();
    fmt::print(stderr,
               "trace: {} packets sent, {} received, cwnd {}, in flight {}, srtt {} us, min rtt {} "
               "us, {} lost, ACK frames {} sent / {} received\n",
               cs.packets_sent, cs.packets_received, cs.cwnd, cs.bytes_in_flight,
               cs.smoothed_rtt.count() / 1000, cs.min_rtt.count() / 1000, cs.packets_lost,
               cs.ack_frames_sent, cs.ack_frames_received);
  });
}

// How batched the I/O was and how many ACKs it took, as JSON fields.
std::string io_json(const io::LoopStats& l, const net::DriverStats& d, uint64_t payload_bytes) {
  const double mb = static_cast<double>(payload_bytes) / 1e6;
  auto per = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  return fmt::format(
      "\"send_segments_per_batch\": {:.1f}, \"recv_segments_per_batch\": {:.1f}, "
      "\"send_batches_per_syscall\": {:.2f}, \"loop_iterations\": {}, "
      "\"ack_frames_sent_per_mb\": {:.2f}, \"ack_frames_received_per_mb\": {:.2f}",
      d.send_segments_per_batch(), d.recv_segments_per_batch(),
      per(static_cast<double>(l.send_batches), static_cast<double>(l.send_syscalls)), l.iterations,
      per(static_cast<double>(d.ack_frames_sent), mb), per(static_cast<double>(d.ack_frames_received), mb));
}

io::SocketOptions socket_options(const Args& a) {
  io::SocketOptions s;
  s.gso = a.gso;
  s.gro = a.gso;
  return s;
}

void print_server_summary(const Args& a, const perf::ServerStats& st, double cpu,
                          const char* backend, const std::string& io, size_t threads) {
  if (a.json) {
    fmt::print(
        "{{\"role\": \"server\", \"connections\": {}, \"streams\": {}, \"bytes_sent\": {}, "
        "\"bytes_received\": {}, \"datagrams_echoed\": {}, \"cpu_seconds\": {:.3f}, \"rss_kib\": {}, "
        "\"backend\": \"{}\", \"threads\": {}, {}}}\n",
        st.connections, st.streams, st.bytes_sent, st.bytes_received, st.datagrams_echoed, cpu,
        tools::rss_kib(), backend, threads, io);
  } else {
    fmt::print(stderr, "served {} connections, {} streams, sent {} bytes, received {} bytes, CPU {:.2f} s\n",
               st.connections, st.streams, st.bytes_sent, st.bytes_received, cpu);
  }
}

std::string listen_spec(const Args& a) {
  return a.listen.empty() ? fmt::format("[::]:{}", a.port) : a.listen;
}

// --threads N: N loops on N threads (perf::PerfServerGroup); this thread
// only watches for --exit-after and signals.
int run_server_threads(Args& a) {
  std::string listen = listen_spec(a);
  auto bind = tools::resolve(listen, a.port);
  if (!bind) die("cannot resolve " + listen);
  perf::ServerGroupOptions o;
  o.threads = a.threads;
  o.bind = *bind;
  o.socket = socket_options(a);
  o.loop = a.loop;
  o.loop.backend = a.backend;
  o.setup = a.setup;
  std::string err;
  auto group = perf::PerfServerGroup::start(o, &err);
  if (!group.ok()) die("cannot listen on " + listen + ": " + (err.empty() ? std::string(group.error().detail) : err));
  perf::PerfServerGroup& g = **group;
  if (!a.json)
    fmt::print(stderr, "quicperf server on {} ({} threads, {}, GSO {}, GRO {}{})\n",
               g.address().to_string(), g.threads(), g.backend_name(), g.gso() ? "on" : "off",
               g.gro() ? "on" : "off",
               a.setup.null_cipher ? ", NULL CIPHER: 1-RTT unencrypted, benchmark only" : "");
  double cpu0 = tools::cpu_seconds();
  while (!g_signals.load()) {
    ::usleep(50 * 1000);
    if (!a.exit_after) continue;
    uint64_t removed = 0;
    for (const auto& t : g.stats()) removed += t.driver.connections_removed;
    if (removed >= a.exit_after) break;
  }
  g.stop();
  const double cpu = tools::cpu_seconds() - cpu0;
  perf::ServerStats total;
  net::DriverStats dtotal;
  io::LoopStats ltotal;
  std::string per_thread;
  for (const auto& t : g.stats()) {
    total.connections += t.server.connections;
    total.streams += t.server.streams;
    total.bytes_sent += t.server.bytes_sent;
    total.bytes_received += t.server.bytes_received;
    total.datagrams_echoed += t.server.datagrams_echoed;
    dtotal.send_batches += t.driver.send_batches;
    dtotal.send_datagrams += t.driver.send_datagrams;
    dtotal.recv_batches += t.driver.recv_batches;
    dtotal.recv_datagrams += t.driver.recv_datagrams;
    dtotal.ack_frames_sent += t.driver.ack_frames_sent;
    dtotal.ack_frames_received += t.driver.ack_frames_received;
    dtotal.dispatches += t.driver.dispatches;
    ltotal.iterations += t.loop.iterations;
    ltotal.recv_batches += t.loop.recv_batches;
    ltotal.recv_datagrams += t.loop.recv_datagrams;
    ltotal.send_batches += t.loop.send_batches;
    ltotal.send_calls += t.loop.send_calls;
    ltotal.send_syscalls += t.loop.send_syscalls;
    ltotal.send_blocked += t.loop.send_blocked;
    ltotal.timers_fired += t.loop.timers_fired;
    per_thread += fmt::format("{}{}", per_thread.empty() ? "" : ", ", t.server.connections);
  }
  if (a.stats) {
    print_loop_stats(ltotal, dtotal);
    fmt::print(stderr, "connections per thread: {}\n", per_thread);
  }
  std::string io = io_json(ltotal, dtotal, total.bytes_sent + total.bytes_received) +
                   ", \"connections_per_thread\": [" + per_thread + "]";
  print_server_summary(a, total, cpu, g.backend_name(), io, g.threads());
  return 0;
}

int run_server(Args& a, io::Loop& loop, Random& rng) {
  std::string err;
  auto cfg = perf::make_endpoint_config(a.setup, rng, &err);
  if (!cfg.ok()) die("TLS setup: " + (err.empty() ? std::string(cfg.error().detail) : err));
  std::string listen = listen_spec(a);
  auto bind = tools::resolve(listen, a.port);
  if (!bind) die("cannot resolve " + listen);
  perf::PerfServer app;
  net::DriverOptions dopts;
  dopts.bind = *bind;
  dopts.socket = socket_options(a);
  auto driver = net::QuicDriver::create(loop, *cfg, app, dopts);
  if (!driver.ok()) die("cannot listen on " + listen + ": " + std::string(driver.error().detail));
  if (!a.json)
    fmt::print(stderr, "quicperf server on {} ({}, GSO {}, GRO {}{})\n",
               (*driver)->local_address().to_string(), loop.backend_name(),
               (*driver)->gso() ? "on" : "off", (*driver)->gro() ? "on" : "off",
               a.setup.null_cipher ? ", NULL CIPHER: 1-RTT unencrypted, benchmark only" : "");
  double cpu0 = tools::cpu_seconds();
  Time next_trace{};
  while (!loop.stopped()) {
    loop.run_once(std::chrono::milliseconds(200));
    if (a.exit_after && (*driver)->stats().connections_removed >= a.exit_after) break;
    if (a.trace) trace_connections(**driver, next_trace);
  }
  const auto& st = app.stats();
  if (a.stats) {
    print_stats(loop, **driver);
    const auto& cs = st.last_stats;
    fmt::print(stderr,
               "last connection: {} packets sent, {} received, {} lost, {} PTOs, srtt {} us, "
               "min rtt {} us, cwnd {}, in flight {}\n",
               cs.packets_sent, cs.packets_received, cs.packets_lost, cs.pto_count,
               cs.smoothed_rtt.count() / 1000, cs.min_rtt.count() / 1000, cs.cwnd, cs.bytes_in_flight);
  }
  print_server_summary(a, st, tools::cpu_seconds() - cpu0, loop.backend_name(),
                       io_json(loop.stats(), (*driver)->totals(), st.bytes_sent + st.bytes_received), 1);
  return 0;
}

int run_client(Args& a, io::Loop& loop, Random& rng) {
  auto server = tools::resolve(a.target, a.port);
  if (!server) die("cannot resolve " + a.target);
  a.client.server = *server;
  std::string err;
  auto cfg = perf::make_endpoint_config(a.setup, rng, &err);
  if (!cfg.ok()) die("TLS setup: " + (err.empty() ? std::string(cfg.error().detail) : err));
  perf::PerfClient app(a.client);
  net::DriverOptions dopts;
  dopts.bind = server->family == 6 ? *io::parse_address("[::]:0") : *io::parse_address("0.0.0.0:0");
  dopts.socket = socket_options(a);
  std::vector<std::unique_ptr<net::QuicDriver>> drivers;
  std::vector<net::QuicDriver*> driver_ptrs;
  for (uint64_t i = 0; i < a.sockets; ++i) {
    auto d = net::QuicDriver::create(loop, *cfg, app, dopts);
    if (!d.ok()) die("cannot create the client socket: " + std::string(d.error().detail));
    driver_ptrs.push_back(d->get());
    drivers.push_back(std::move(*d));
  }
  net::QuicDriver* driver = drivers[0].get();
  auto connection_count = [&] {
    size_t n = 0;
    for (auto& d : drivers) n += d->endpoint().connection_count();
    return n;
  };

  const bool progress = !a.json && !a.quiet && isatty(STDOUT_FILENO);
  double cpu0 = tools::cpu_seconds();
  uint64_t rss0 = tools::rss_kib();
  Time start = io::monotonic_now();
  if (auto s = app.start(driver_ptrs); !s.ok()) die("connect: " + std::string(s.error().detail));
  Time next_trace{};
  double timeout = a.timeout > 0 ? a.timeout
                                 : 120 + static_cast<double>(a.client.duration.count()) / 1e9 + a.hold;
  Time deadline = start + std::chrono::duration_cast<Duration>(std::chrono::duration<double>(timeout));
  Time next_progress = start + std::chrono::milliseconds(500);
  uint64_t last_bytes = 0;
  Time last_t = start;
  uint64_t hold_rss = 0;
  bool hold_started = false;
  Time hold_end = kTimeInfinite;
  bool timed_out = false;
  while (!app.done() && !loop.stopped()) {
    loop.run_once(std::chrono::milliseconds(100));
    if (a.trace) trace_connections(*driver, next_trace);
    Time now = io::monotonic_now();
    if (now >= deadline) {
      timed_out = true;
      break;
    }
    if (a.client.hold && !hold_started && app.all_established()) {
      hold_started = true;
      hold_end = now + std::chrono::duration_cast<Duration>(std::chrono::duration<double>(a.hold));
    }
    if (hold_started && now >= hold_end && hold_end != kTimeInfinite) {
      hold_rss = tools::rss_kib();
      hold_end = kTimeInfinite;
      app.stop();
    }
    if (progress && now >= next_progress) {
      uint64_t b = app.bytes_transferred();
      double dt = static_cast<double>((now - last_t).count()) / 1e9;
      double rate = dt > 0 ? static_cast<double>(b - last_bytes) * 8 / dt / 1e9 : 0;
      fmt::print("\r{:7.3f} Gbit/s  {:10.1f} MiB  {} connection(s)   ", rate,
                 static_cast<double>(b) / (1 << 20), connection_count());
      std::fflush(stdout);
      last_bytes = b;
      last_t = now;
      next_progress = now + std::chrono::milliseconds(500);
    }
  }
  if (g_signals.load() && !app.done()) {
    // Ctrl-C: report what we have after closing politely.
    app.stop();
    Time end = io::monotonic_now() + std::chrono::seconds(1);
    while (!app.done() && io::monotonic_now() < end) loop.run_once(std::chrono::milliseconds(50));
  }
  if (progress) fmt::print("\r{:60}\r", "");
  net::DriverStats dtotal;
  for (auto& d : drivers) {
    net::DriverStats t = d->totals();
    dtotal.recv_batches += t.recv_batches;
    dtotal.recv_datagrams += t.recv_datagrams;
    dtotal.send_batches += t.send_batches;
    dtotal.send_datagrams += t.send_datagrams;
    dtotal.dispatches += t.dispatches;
    dtotal.ack_frames_sent += t.ack_frames_sent;
    dtotal.ack_frames_received += t.ack_frames_received;
  }
  if (a.stats) {
    print_loop_stats(loop.stats(), dtotal);
    const auto& cs = app.result().last_stats;
    fmt::print(stderr,
               "last connection: {} packets sent, {} received, {} lost, {} PTOs, srtt {} us, "
               "min rtt {} us, cwnd {}\n",
               cs.packets_sent, cs.packets_received, cs.packets_lost, cs.pto_count,
               cs.smoothed_rtt.count() / 1000, cs.min_rtt.count() / 1000, cs.cwnd);
  }
  double cpu = tools::cpu_seconds() - cpu0;
  const auto& r = app.result();
  const uint64_t n_conns = a.client.connections;
  const uint64_t streams = r.requests_done;
  double p50 = percentile(r.datagram_rtt_us, 0.5), p99 = percentile(r.datagram_rtt_us, 0.99);
  double hs_rate = r.handshakes_seconds > 0 ? r.connections_ok / r.handshakes_seconds : 0;
  uint64_t rss_per_conn = hold_rss > rss0 && n_conns ? (hold_rss - rss0) * 1024 / n_conns : 0;
  std::string cipher = r.cipher.empty() ? "none" : r.cipher;
  bool ok = !timed_out && r.connections_failed == 0 && r.verify_failures == 0 &&
            r.connections_ok == n_conns;
  if (a.json) {
    fmt::print(
        "{{\"role\": \"client\", \"ok\": {}, \"goodput_gbps\": {:.4f}, \"bytes\": {}, "
        "\"bytes_sent\": {}, \"bytes_received\": {}, \"seconds\": {:.4f}, \"cpu_seconds\": {:.3f}, "
        "\"handshake_ms\": {:.3f}, \"handshake_ms_max\": {:.3f}, \"handshakes_per_second\": {:.1f}, "
        "\"connections\": {}, \"connections_ok\": {}, \"connections_failed\": {}, \"streams\": {}, "
        "\"verify\": {}, \"verify_failures\": {}, \"cipher\": \"{}\", \"null_cipher\": {}, "
        "\"alpn\": \"{}\", \"cc\": \"{}\", \"backend\": \"{}\", \"gso\": {}, \"gro\": {}, "
        "\"datagram_rtt_us_p50\": {:.1f}, \"datagram_rtt_us_p99\": {:.1f}, \"datagram_pings\": {}, "
        "\"rss_kib\": {}, \"rss_bytes_per_idle_connection\": {}, {}, \"error\": \"{}\"}}\n",
        ok, r.goodput_gbps(), r.bytes_sent + r.bytes_received, r.bytes_sent, r.bytes_received,
        r.seconds, cpu, r.handshake_ms_mean, r.handshake_ms_max, hs_rate, n_conns,
        r.connections_ok, r.connections_failed, streams, a.client.verify, r.verify_failures, cipher,
        a.setup.null_cipher, r.alpn, a.setup.cc == quic::CongestionControl::cubic ? "cubic" : "newreno",
        loop.backend_name(), driver->gso(), driver->gro(), p50, p99, r.datagram_rtt_us.size(),
        hold_rss ? hold_rss : tools::rss_kib(), rss_per_conn,
        io_json(loop.stats(), dtotal, r.bytes_sent + r.bytes_received), timed_out ? std::string("timeout") : r.first_error);
  } else {
    double g = r.goodput_gbps();
    fmt::print("{} connection(s), {} request(s), {} bytes in {:.3f} s: {}\n", r.connections_ok,
               streams, r.bytes_sent + r.bytes_received, r.seconds,
               g >= 1 ? fmt::format("{:.3f} Gbit/s goodput", g) : fmt::format("{:.2f} Mbit/s goodput", g * 1000));
    fmt::print("CPU {:.3f} s (client process), handshake {:.2f} ms mean, {:.2f} ms max", cpu,
               r.handshake_ms_mean, r.handshake_ms_max);
    if (a.client.handshake_only) fmt::print(", {:.0f} handshakes/s", hs_rate);
    fmt::print("\ncipher {}, cc {}, {} back-end, GSO {}\n", cipher_label(a, cipher),
               a.setup.cc == quic::CongestionControl::cubic ? "cubic" : "newreno",
               loop.backend_name(), driver->gso() ? "on" : "off");
    if (!r.datagram_rtt_us.empty())
      fmt::print("DATAGRAM RTT p50 {:.1f} us, p99 {:.1f} us ({} pings)\n", p50, p99,
                 r.datagram_rtt_us.size());
    if (hold_rss) fmt::print("RSS {} KiB while holding, ~{} bytes per idle connection (client side)\n",
                             hold_rss, rss_per_conn);
    if (a.client.verify) fmt::print("verify: {} response(s) failed SHA-256\n", r.verify_failures);
  }
  if (const char* want = expected_suite(a.cipher); want && r.cipher != want && !r.cipher.empty())
    fmt::print(stderr,
               "quicperf: note: asked for {} but {} was negotiated (this BoringSSL cannot restrict "
               "TLS 1.3 cipher suites; the server picks from the client's offer)\n",
               want, r.cipher);
  if (timed_out) fmt::print(stderr, "quicperf: timed out\n");
  if (!r.first_error.empty()) fmt::print(stderr, "quicperf: {}\n", r.first_error);
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  log::init_from_env();
  Args a = parse(argc, argv);
  a.setup.keylog = net::keylog_from_env();
  a.setup.qlog = net::qlog_from_env();
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  if (a.server && a.threads > 1) return run_server_threads(a);
  io::LoopOptions lo = a.loop;
  lo.backend = a.backend;
  auto loop = io::Loop::create(lo);
  if (!loop.ok()) die("event loop: " + std::string(loop.error().detail));
  g_loop = loop->get();
  SystemRandom rng;
  int rc = a.server ? run_server(a, **loop, rng) : run_client(a, **loop, rng);
  g_loop = nullptr;
  return rc;
}
