// HTTP/3 small-GET requests per second over UDP loopback, against the same
// exchange over raw QUIC streams measured in the same run (the floor):
//
//   raw QUIC  the client opens a bidirectional stream per request, writes
//             "GET /small\n" + FIN; the server answers with the body + FIN
//             (net::QuicDriver + net::QuicApp).
//   HTTP/3    GET /small as HEADERS, answered with HEADERS (:status 200,
//             content-length) + DATA (net::H3Client / net::H3Server).
//
//   h3_requests [--json] [--concurrency K] [--size N] [--duration S]
//               [--warmup S] [--rounds R] [--backend epoll|uring|auto]
//               [--only quic|h3] [--cpus split|same|free]
//
// Both variants: one connection, K requests outstanding (a new one is issued
// as each completes), N-byte responses, the same QUIC configuration (stream
// credit far above K), AES-128-GCM, the server on its own thread and loop
// (io::LoopThread), the client on the main thread with its own loop. Every
// response is checked (status 200 / exact length and bytes); a failure ends
// the run with exit status 1 so a broken variant cannot look fast.
//
// After a warm-up, requests completed within `duration` are counted; CPU is
// the process's (client and server threads together) over the same window.
// With --rounds R the variants alternate R times and the medians are
// reported; the ratio is median(h3) / median(quic).
//
// Placement (--cpus): `split` (default with two CPUs or more) pins the
// client thread to one CPU and the server thread to another, as separate
// hosts would run; `same` pins both to one CPU, so requests/s follows the
// CPU cost per request alone; `free` leaves placement to the kernel, whose
// choice (same or different cores) changes from run to run and moves the
// result by a factor of two on a small machine. By default both split and
// same are measured: `ratio` is the split figure, `ratio_one_core` the other.
#include <fmt/core.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "lib/certgen.h"
#include "lib/io/clock.h"
#include "lib/io/loop.h"
#include "lib/io/loop_thread.h"
#include "lib/io/sockaddr.h"
#include "lib/log.h"
#include "lib/random.h"
#include "net/h3_client.h"
#include "net/h3_server.h"
#include "net/quic_driver.h"
#include "quic/tls_config.h"

using namespace wt;

namespace {

constexpr double kTargetRatio = 0.8;
constexpr uint16_t kAes128Gcm = 0x1301;  // TLS_AES_128_GCM_SHA256
constexpr std::string_view kRawRequest = "GET /small\n";
constexpr const char* kPath = "/small";
constexpr const char* kRawAlpn = "bench-raw";

struct Options {
  uint32_t concurrency = 16;
  size_t size = 1000;
  double duration = 3.0;
  double warmup = 0.3;
  uint32_t rounds = 1;
  bool run_quic = true, run_h3 = true;  // --only quic|h3 (profiling one variant)
  bool json = false;
  io::BackendKind backend = io::BackendKind::automatic;
  // Thread placements to measure; the first gives the headline ratio.
  std::vector<std::string> placements;
};

// The CPUs this process may run on, and the placement being measured
// (set before each run; the server thread applies it when it starts).
struct Cpus {
  std::vector<int> allowed;
  int client = -1, server = -1;  // -1: any allowed CPU
};
Cpus g_cpus;

void pin_self(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (cpu >= 0) {
    CPU_SET(cpu, &set);
  } else {
    for (int c : g_cpus.allowed) CPU_SET(c, &set);
  }
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

void place(const std::string& how) {
  const auto& a = g_cpus.allowed;
  g_cpus.client = g_cpus.server = -1;
  if (how == "split" && a.size() >= 2) {
    g_cpus.client = a[0];
    g_cpus.server = a[1];
  } else if (how == "split" || how == "same") {
    g_cpus.client = g_cpus.server = a.empty() ? -1 : a[0];
  }
  pin_self(g_cpus.client);
}

[[noreturn]] void die(const std::string& what) {
  fmt::print(stderr, "h3_requests: {}\n", what);
  std::exit(1);
}

double cpu_seconds(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double seconds_between(Time a, Time b) { return static_cast<double>((b - a).count()) / 1e9; }

Duration from_seconds(double s) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s));
}

std::vector<uint8_t> make_body(size_t n) {
  std::vector<uint8_t> b(n);
  uint32_t x = 0x9e3779b9;
  for (auto& c : b) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<uint8_t>(x);
  }
  return b;
}

// `chunk` is body bytes [offset, offset + chunk.size()).
bool body_matches(const std::vector<uint8_t>& body, uint64_t offset, Bytes chunk) {
  return offset + chunk.size() <= body.size() &&
         (chunk.empty() || std::memcmp(body.data() + offset, chunk.data(), chunk.size()) == 0);
}

// ---------------------------------------------------------------- configuration

struct Setup {
  Options opts;
  std::vector<uint8_t> body;
  certgen::Certificate cert;
  SystemRandom server_rng, client_rng;  // one per thread
};

std::shared_ptr<quic::TlsConfig> make_tls(const Setup& s, bool server, const char* alpn) {
  quic::TlsConfigOptions t;
  t.role = server ? quic::TlsRole::server : quic::TlsRole::client;
  t.alpn = {alpn};
  t.verify = quic::CertVerify::none;
  t.server_name = "localhost";
  if (server) {
    t.cert_chain_pem = s.cert.cert_pem;
    t.private_key_pem = s.cert.key_pem;
  }
  std::string err;
  auto c = quic::TlsConfig::create(t, &err);
  if (!c.ok()) die("TLS config: " + (err.empty() ? std::string(c.error().detail) : err));
  return *c;
}

// The same transport configuration for both variants and both sides.
quic::ConnectionConfig conn_config(std::shared_ptr<quic::TlsConfig> tls, Random& rng) {
  quic::ConnectionConfig c;
  c.tls = std::move(tls);
  c.rng = &rng;
  c.server_name = "localhost";
  c.initial_max_data = 32u << 20;
  c.initial_max_stream_data = 1u << 20;
  // Stream credit far above the requests outstanding: MAX_STREAMS is never
  // what a request waits for.
  c.max_streams_bidi = 10000;
  c.max_streams_uni = 100;
  c.idle_timeout = std::chrono::seconds(30);
  return c;
}

Address loopback(uint16_t port = 0) { return Address::v4(0x7f000001, port); }

// ---------------------------------------------------------------- results

struct ClientState {
  uint64_t completed = 0, failed = 0;
  bool connected = false, closed = false, stopping = false;
  uint16_t cipher = 0;
  std::string first_error;
  void failure(std::string what) {
    if (stopping) return;  // requests cut off by our own close
    ++failed;
    if (first_error.empty()) first_error = std::move(what);
  }
};

struct Sample {
  double rps = 0, cpu_us = 0, client_cpu_us = 0, server_cpu_us = 0, seconds = 0;
  // Client side, per request: UDP datagrams sent and received, loop wake-ups.
  double datagrams_out = 0, datagrams_in = 0, wakeups = 0;
  uint64_t requests = 0;
  uint16_t cipher = 0;
};

// Runs the client loop through connection, warm-up and the measured window.
// `state` is updated by the client's callbacks.
Sample measure(io::Loop& loop, const net::QuicDriver& driver, const Options& o, ClientState& state,
               const char* name) {
  Time t = io::monotonic_now();
  const Time connect_deadline = t + std::chrono::seconds(10);
  while (!state.connected && !state.closed && t < connect_deadline) {
    loop.run_once(std::chrono::milliseconds(10));
    t = io::monotonic_now();
  }
  if (!state.connected) die(fmt::format("{}: no connection ({})", name, state.first_error));
  auto run_until = [&](Time end) {
    while ((t = io::monotonic_now()) < end) {
      loop.run_once(std::chrono::milliseconds(5));
      if (state.closed) die(fmt::format("{}: connection closed: {}", name, state.first_error));
      if (state.failed) die(fmt::format("{}: bad response: {}", name, state.first_error));
    }
  };
  run_until(t + from_seconds(o.warmup));
  const Time t0 = io::monotonic_now();
  const uint64_t n0 = state.completed;
  const net::DriverStats d0 = driver.stats();
  const uint64_t it0 = loop.stats().iterations;
  const double cpu0 = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID), ccpu0 = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
  run_until(t0 + from_seconds(o.duration));
  const Time t1 = io::monotonic_now();
  const uint64_t n1 = state.completed;
  const net::DriverStats d1 = driver.stats();
  const uint64_t it1 = loop.stats().iterations;
  const double cpu1 = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID), ccpu1 = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
  Sample s;
  s.requests = n1 - n0;
  s.seconds = seconds_between(t0, t1);
  if (s.requests == 0) die(fmt::format("{}: no request completed", name));
  s.rps = static_cast<double>(s.requests) / s.seconds;
  const double per = 1e6 / static_cast<double>(s.requests);
  s.cpu_us = (cpu1 - cpu0) * per;
  s.client_cpu_us = (ccpu1 - ccpu0) * per;
  s.server_cpu_us = s.cpu_us - s.client_cpu_us;
  const double n = static_cast<double>(s.requests);
  s.datagrams_out = static_cast<double>(d1.send_datagrams - d0.send_datagrams) / n;
  s.datagrams_in = static_cast<double>(d1.recv_datagrams - d0.recv_datagrams) / n;
  s.wakeups = static_cast<double>(it1 - it0) / n;
  s.cipher = state.cipher;
  return s;
}

// After close(): let the CONNECTION_CLOSE go out.
void drain(io::Loop& loop, const std::function<bool()>& done) {
  const Time end = io::monotonic_now() + std::chrono::milliseconds(500);
  while (!done() && io::monotonic_now() < end) loop.run_once(std::chrono::milliseconds(5));
}

// ---------------------------------------------------------------- raw QUIC

// Answers every bidirectional stream that carries kRawRequest + FIN with the
// body + FIN.
class RawServer final : public net::QuicApp {
 public:
  explicit RawServer(const std::vector<uint8_t>& body) : body_(body) {}
  uint64_t bad_requests() const { return bad_; }

  void on_accept(quic::Connection& c, Time) override { conns_[&c]; }
  void on_removed(quic::Connection& c) override { conns_.erase(&c); }
  void on_events(quic::Connection& c, Time) override {
    auto& streams = conns_[&c];
    while (auto e = c.poll_event()) {
      using T = quic::Event::Type;
      const uint64_t id = e->stream_id;
      switch (e->type) {
        case T::stream_opened:
        case T::stream_readable:
          if ((id & 2) == 0) read(c, streams, id);
          break;
        case T::stream_writable:
          if (auto it = streams.find(id); it != streams.end()) respond(c, streams, it);
          break;
        case T::stream_reset:
        case T::stop_sending:
          streams.erase(id);
          break;
        default:
          break;
      }
    }
  }

 private:
  struct Req {
    uint8_t buf[32];
    size_t len = 0;
    uint64_t sent = 0;
    bool answering = false;
  };
  using Streams = std::unordered_map<uint64_t, Req>;

  void read(quic::Connection& c, Streams& streams, uint64_t id) {
    auto [it, fresh] = streams.try_emplace(id);
    Req& r = it->second;
    if (r.answering) return;
    while (true) {
      auto n = c.stream_read(id, MutBytes{r.buf + r.len, sizeof r.buf - r.len});
      if (!n.ok() || (fresh && n->bytes == 0)) {
        // A late event for a stream already answered and forgotten (its
        // FIN may still be reported).
        if (fresh) streams.erase(it);
        return;
      }
      fresh = false;
      r.len += n->bytes;
      if (n->fin) break;
      if (r.len == sizeof r.buf) return refuse(c, streams, it);
      if (n->bytes == 0) return;
    }
    if (std::string_view(reinterpret_cast<const char*>(r.buf), r.len) != kRawRequest)
      return refuse(c, streams, it);
    r.answering = true;
    respond(c, streams, it);
  }

  void respond(quic::Connection& c, Streams& streams, Streams::iterator it) {
    Req& r = it->second;
    if (!r.answering) return;
    auto n = c.stream_write(it->first, Bytes{body_}.subspan(r.sent), true);
    if (!n.ok()) {
      streams.erase(it);
      return;
    }
    r.sent += *n;
    if (r.sent == body_.size()) streams.erase(it);  // FIN went with the last byte
  }

  void refuse(quic::Connection& c, Streams& streams, Streams::iterator it) {
    ++bad_;
    (void)c.stream_reset(it->first, 1);
    streams.erase(it);
  }

  const std::vector<uint8_t>& body_;
  std::unordered_map<quic::Connection*, Streams> conns_;
  uint64_t bad_ = 0;
};

// Keeps `concurrency` requests outstanding on one connection.
class RawClient final : public net::QuicApp {
 public:
  RawClient(const Setup& s, ClientState& st) : s_(s), st_(st) {}

  void start(net::QuicDriver& d, const Address& server) {
    driver_ = &d;
    auto c = d.connect(server);
    if (!c.ok()) die("raw QUIC: connect: " + std::string(c.error().detail));
    conn_ = *c;
  }
  void stop() {
    st_.stopping = true;
    if (conn_) conn_->close(0, "done");
    driver_->wake();
  }

  void on_events(quic::Connection& c, Time) override {
    while (auto e = c.poll_event()) {
      using T = quic::Event::Type;
      switch (e->type) {
        case T::handshake_done:
          st_.connected = true;
          st_.cipher = c.tls().cipher_suite();
          break;
        case T::stream_readable:
          read(c, e->stream_id);
          break;
        case T::stream_reset:
          if (streams_.erase(e->stream_id)) st_.failure(fmt::format("server reset stream {}", e->stream_id));
          break;
        case T::connection_closed:
          if (!st_.stopping)
            st_.failure(fmt::format("connection closed: error 0x{:x} {}", e->close.error_code, e->close.reason));
          st_.closed = true;
          break;
        default:
          break;
      }
    }
    if (st_.connected) open_more(c);
  }
  void on_removed(quic::Connection& c) override {
    if (&c == conn_) conn_ = nullptr;
    st_.closed = true;
  }

 private:
  void open_more(quic::Connection& c) {
    while (!st_.stopping && !st_.closed && streams_.size() < s_.opts.concurrency) {
      auto id = c.open_stream(true);
      if (!id.ok()) return;  // stream credit: retried after the next events
      auto n = c.stream_write(*id, Bytes{reinterpret_cast<const uint8_t*>(kRawRequest.data()), kRawRequest.size()},
                              true);
      if (!n.ok() || *n != kRawRequest.size()) {
        st_.failure("request not accepted by the stream");
        return;
      }
      streams_.emplace(*id, 0);
    }
  }

  void read(quic::Connection& c, uint64_t id) {
    auto it = streams_.find(id);
    if (it == streams_.end()) return;
    while (true) {
      auto r = c.stream_read(id, MutBytes{buf_});
      if (!r.ok()) return;
      if (!body_matches(s_.body, it->second, Bytes{buf_.data(), r->bytes})) {
        st_.failure(fmt::format("stream {}: wrong response bytes", id));
        streams_.erase(it);
        return;
      }
      it->second += r->bytes;
      if (r->fin) {
        if (it->second == s_.body.size()) ++st_.completed;
        else st_.failure(fmt::format("stream {}: {} bytes, expected {}", id, it->second, s_.body.size()));
        streams_.erase(it);
        open_more(c);
        return;
      }
      if (r->bytes < buf_.size()) return;
    }
  }

  const Setup& s_;
  ClientState& st_;
  net::QuicDriver* driver_ = nullptr;
  quic::Connection* conn_ = nullptr;
  std::unordered_map<uint64_t, uint64_t> streams_;  // bytes received per open request
  std::vector<uint8_t> buf_ = std::vector<uint8_t>(64 * 1024);
};

Sample run_raw(Setup& s, io::Loop& loop) {
  auto server_tls = make_tls(s, true, kRawAlpn);
  RawServer server_app(s.body);
  std::unique_ptr<net::QuicDriver> server_driver;
  auto thread = io::LoopThread::start({.backend = s.opts.backend}, [&](io::Loop& l) -> Status {
    pin_self(g_cpus.server);
    quic::EndpointConfig e;
    e.server = true;
    e.conn = conn_config(server_tls, s.server_rng);
    net::DriverOptions d;
    d.bind = loopback();
    WT_ASSIGN(server_driver, net::QuicDriver::create(l, e, server_app, d));
    return {};
  });
  if (!thread.ok()) die("raw QUIC server: " + std::string(thread.error().detail));
  const Address server_addr = server_driver->local_address();

  ClientState st;
  RawClient client_app(s, st);
  quic::EndpointConfig e;
  e.conn = conn_config(make_tls(s, false, kRawAlpn), s.client_rng);
  net::DriverOptions d;
  d.bind = loopback();
  auto driver = net::QuicDriver::create(loop, e, client_app, d);
  if (!driver.ok()) die("raw QUIC client socket: " + std::string(driver.error().detail));
  client_app.start(**driver, server_addr);
  Sample r = measure(loop, **driver, s.opts, st, "raw QUIC");
  client_app.stop();
  drain(loop, [&] { return st.closed; });
  driver->reset();
  (*thread)->stop();
  (*thread)->join();
  if (server_app.bad_requests()) die("raw QUIC: the server saw malformed requests");
  server_driver.reset();  // before the loop it is registered with
  return r;
}

// ---------------------------------------------------------------- HTTP/3

// Writes the response body through backpressure when it does not fit at once.
class BodyWriter final : public net::H3RequestHandler {
 public:
  BodyWriter(Bytes body, size_t sent) : body_(body), sent_(sent) {}
  void on_writable(net::H3ServerExchange& x) override {
    auto r = x.write(body_.subspan(sent_), true);
    if (r.ok()) sent_ += *r;
  }

 private:
  Bytes body_;
  size_t sent_;
};

// One handler for every request; issues the next request as one completes.
class H3Requester final : public net::H3ResponseHandler {
 public:
  H3Requester(const Setup& s, ClientState& st) : s_(s), st_(st) {
    req_.method = "GET";
    req_.path = kPath;
  }
  void set_client(net::H3Client& c) { client_ = &c; }

  void issue() {
    while (!st_.stopping && !st_.closed && outstanding_ < s_.opts.concurrency) {
      auto r = client_->request(req_, *this);
      if (!r.ok()) {
        st_.failure("request refused: " + std::string(r.error().detail));
        return;
      }
      ++outstanding_;
    }
  }

  void on_body(net::H3ClientStream& s, Bytes chunk) override {
    if (!body_matches(s_.body, s.body_bytes() - chunk.size(), chunk)) s.user_data = this;  // marks it bad
  }
  void on_complete(net::H3ClientStream& s) override {
    --outstanding_;
    if (s.status() != 200 || s.body_bytes() != s_.body.size() || s.user_data)
      st_.failure(fmt::format("stream {}: status {}, {} bytes{}", s.id(), s.status(), s.body_bytes(),
                              s.user_data ? ", wrong bytes" : ""));
    else
      ++st_.completed;
    issue();
  }
  void on_error(net::H3ClientStream& s, const net::H3Failure& f) override {
    --outstanding_;
    st_.failure(fmt::format("stream {}: {}", s.id(), f.message));
    issue();
  }

 private:
  const Setup& s_;
  ClientState& st_;
  net::H3Client* client_ = nullptr;
  net::H3Request req_;
  uint32_t outstanding_ = 0;
};

Sample run_h3(Setup& s, io::Loop& loop) {
  auto server_tls = make_tls(s, true, "h3");
  const Bytes body{s.body};
  const h3::HeaderList response_fields{{"content-length", std::to_string(s.body.size())}};
  uint64_t bad_requests = 0;  // server thread only, read after join
  std::unique_ptr<net::H3Server> server;
  auto thread = io::LoopThread::start({.backend = s.opts.backend}, [&](io::Loop& l) -> Status {
    pin_self(g_cpus.server);
    net::H3ServerOptions o;
    o.endpoint.conn = conn_config(server_tls, s.server_rng);
    o.driver.bind = loopback();
    o.on_request = [&](net::H3ServerExchange& x) -> std::unique_ptr<net::H3RequestHandler> {
      const h3::RequestHead& r = x.request();
      if (r.method != "GET" || r.path != kPath) {
        ++bad_requests;
        (void)x.respond(404, {}, true);
        return nullptr;
      }
      if (!x.respond(200, response_fields).ok()) {
        ++bad_requests;
        return nullptr;
      }
      auto n = x.write(body, true);
      const size_t sent = n.ok() ? *n : 0;
      if (sent == body.size()) return nullptr;
      return std::make_unique<BodyWriter>(body, sent);
    };
    WT_ASSIGN(server, net::H3Server::create(l, std::move(o)));
    return {};
  });
  if (!thread.ok()) die("HTTP/3 server: " + std::string(thread.error().detail));
  const Address server_addr = server->local_address();

  ClientState st;
  H3Requester requester(s, st);
  net::H3ClientOptions o;
  o.conn = conn_config(make_tls(s, false, "h3"), s.client_rng);
  o.bind = loopback();
  net::H3Client* cp = nullptr;
  o.on_connected = [&] {
    st.connected = true;
    st.cipher = cp->quic()->tls().cipher_suite();
    requester.issue();
  };
  o.on_closed = [&](const net::H3Failure& f) {
    if (!f.ok()) st.failure("connection closed: " + f.message);
    st.closed = true;
  };
  auto client = net::H3Client::connect(loop, server_addr, std::move(o));
  if (!client.ok()) die("HTTP/3 client: " + std::string(client.error().detail));
  cp = client->get();
  requester.set_client(*cp);
  Sample r = measure(loop, cp->driver(), s.opts, st, "HTTP/3");
  st.stopping = true;
  cp->close();
  drain(loop, [&] { return cp->gone(); });
  client->reset();
  (*thread)->stop();
  (*thread)->join();
  if (bad_requests) die("HTTP/3: the server saw unexpected requests");
  server.reset();  // before the loop it is registered with
  return r;
}

// ---------------------------------------------------------------- main

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Summary {
  double rps = 0, cpu_us = 0, client_cpu_us = 0, server_cpu_us = 0;
  double datagrams_out = 0, datagrams_in = 0, wakeups = 0;
  uint16_t cipher = 0;
};

Summary summarize(const std::vector<Sample>& v) {
  if (v.empty()) return {};
  auto pick = [&](auto f) {
    std::vector<double> x;
    for (const auto& s : v) x.push_back(f(s));
    return median(x);
  };
  Summary m;
  m.rps = pick([](const Sample& s) { return s.rps; });
  m.cpu_us = pick([](const Sample& s) { return s.cpu_us; });
  m.client_cpu_us = pick([](const Sample& s) { return s.client_cpu_us; });
  m.server_cpu_us = pick([](const Sample& s) { return s.server_cpu_us; });
  m.datagrams_out = pick([](const Sample& s) { return s.datagrams_out; });
  m.datagrams_in = pick([](const Sample& s) { return s.datagrams_in; });
  m.wakeups = pick([](const Sample& s) { return s.wakeups; });
  m.cipher = v.front().cipher;
  return m;
}

void usage(std::FILE* to) {
  fmt::print(to,
             "usage: h3_requests [--json] [--concurrency K] [--size N] [--duration S] [--warmup S]\n"
             "                   [--rounds R] [--backend epoll|uring|auto] [--only quic|h3]\n"
             "                   [--cpus split|same|free]\n"
             "HTTP/3 small-GET requests/s over loopback vs the same exchange on raw QUIC streams.\n");
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    auto number = [&]() {
      std::string v = value();
      char* end = nullptr;
      double d = std::strtod(v.c_str(), &end);
      if (v.empty() || *end || !(d >= 0)) die("bad value for " + a + ": " + v);
      return d;
    };
    if (a == "--json") o.json = true;
    else if (a == "--concurrency") o.concurrency = static_cast<uint32_t>(number());
    else if (a == "--size") o.size = static_cast<size_t>(number());
    else if (a == "--duration") o.duration = number();
    else if (a == "--warmup") o.warmup = number();
    else if (a == "--rounds") o.rounds = static_cast<uint32_t>(number());
    else if (a == "--only") {
      std::string v = value();
      if (v != "quic" && v != "h3") die("--only must be quic or h3");
      o.run_quic = v == "quic";
      o.run_h3 = v == "h3";
    }
    else if (a == "--backend") {
      std::string v = value();
      if (v == "epoll") o.backend = io::BackendKind::epoll;
      else if (v == "uring" || v == "io_uring") o.backend = io::BackendKind::uring;
      else if (v == "auto") o.backend = io::BackendKind::automatic;
      else die("--backend must be epoll, uring or auto");
    } else if (a == "--cpus") {
      std::string v = value();
      if (v != "split" && v != "same" && v != "free") die("--cpus must be split, same or free");
      o.placements = {v};
    } else if (a == "-h" || a == "--help") {
      usage(stdout);
      std::exit(0);
    } else {
      usage(stderr);
      std::exit(2);
    }
  }
  if (o.concurrency == 0 || o.rounds == 0 || o.duration <= 0) die("--concurrency, --rounds and --duration must be > 0");
  if (o.concurrency > 1000) die("--concurrency above 1000 is not supported");
  if (o.placements.empty()) o.placements = {"split", "same"};
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  log::init_from_env();
  auto setup = std::make_unique<Setup>();
  Setup& s = *setup;
  s.opts = parse(argc, argv);
  s.body = make_body(s.opts.size);
  certgen::Options co;
  co.dns_names = {"localhost"};
  co.ip_addresses = {"127.0.0.1"};
  auto cert = certgen::self_signed(co);
  if (!cert.ok()) die("cannot make a certificate");
  s.cert = *cert;

  auto loop = io::Loop::create({.backend = s.opts.backend});
  if (!loop.ok()) die("event loop: " + std::string(loop.error().detail));

  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof mask, &mask) == 0)
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &mask)) g_cpus.allowed.push_back(c);
  // With one CPU, split and same are the same measurement.
  if (g_cpus.allowed.size() < 2 && s.opts.placements.size() > 1) s.opts.placements.resize(1);

  struct Measured {
    std::string cpus;
    Summary q, h;
    double ratio = 0;
  };
  std::vector<Measured> results;
  for (const std::string& how : s.opts.placements) {
    place(how);
    std::vector<Sample> quic_samples, h3_samples;
    for (uint32_t r = 0; r < s.opts.rounds; ++r) {
      if (s.opts.run_quic) quic_samples.push_back(run_raw(s, **loop));
      if (s.opts.run_h3) h3_samples.push_back(run_h3(s, **loop));
    }
    Measured res{how, summarize(quic_samples), summarize(h3_samples)};
    res.ratio = res.q.rps > 0 ? res.h.rps / res.q.rps : 0;
    results.push_back(res);
  }
  place("free");
  const Summary& q = results.front().q;
  const Summary& h = results.front().h;
  const double ratio = results.front().ratio;
  const Measured* one_core = nullptr;
  for (const Measured& r : results)
    if (r.cpus == "same" && &r != &results.front()) one_core = &r;
  for (uint16_t c : {q.cipher, h.cipher})
    if (c && c != kAes128Gcm)
      fmt::print(stderr, "h3_requests: warning: {} was negotiated, not AES-128-GCM\n", quic::cipher_suite_name(c));

  if (s.opts.json) {
    fmt::print(
        "{{\"quic_requests_per_sec\": {:.0f}, \"h3_requests_per_sec\": {:.0f}, \"ratio\": {:.3f}, "
        "\"concurrency\": {}, \"response_bytes\": {}, \"duration_s\": {:.3f}, "
        "\"quic_cpu_us_per_request\": {:.2f}, \"h3_cpu_us_per_request\": {:.2f}, "
        "\"quic_client_cpu_us_per_request\": {:.2f}, \"quic_server_cpu_us_per_request\": {:.2f}, "
        "\"h3_client_cpu_us_per_request\": {:.2f}, \"h3_server_cpu_us_per_request\": {:.2f}, "
        "\"rounds\": {}, \"cipher\": \"{}\", \"backend\": \"{}\", \"cpus\": \"{}\"{}}}\n",
        q.rps, h.rps, ratio, s.opts.concurrency, s.opts.size, s.opts.duration, q.cpu_us, h.cpu_us,
        q.client_cpu_us, q.server_cpu_us, h.client_cpu_us, h.server_cpu_us, s.opts.rounds,
        quic::cipher_suite_name(h.cipher ? h.cipher : q.cipher), (*loop)->backend_name(), results.front().cpus,
        one_core ? fmt::format(", \"one_core_quic_requests_per_sec\": {:.0f}, \"one_core_h3_requests_per_sec\": "
                               "{:.0f}, \"ratio_one_core\": {:.3f}, \"one_core_quic_cpu_us_per_request\": {:.2f}, "
                               "\"one_core_h3_cpu_us_per_request\": {:.2f}",
                               one_core->q.rps, one_core->h.rps, one_core->ratio, one_core->q.cpu_us,
                               one_core->h.cpu_us)
                 : std::string());
  } else {
    fmt::print("small GETs over loopback: 1 connection, {} outstanding, {}-byte responses, {:g} s per variant, "
               "{} round(s) (medians), {}, {} back-end\n",
               s.opts.concurrency, s.opts.size, s.opts.duration, s.opts.rounds,
               quic::cipher_suite_name(h.cipher ? h.cipher : q.cipher), (*loop)->backend_name());
    for (const Measured& r : results) {
      fmt::print("\nthreads: {}\n", r.cpus == "split"  ? "client and server on separate CPUs (--cpus split)"
                                     : r.cpus == "same" ? "client and server on one CPU (--cpus same)"
                                                        : "placed by the kernel (--cpus free)");
      fmt::print("{:<10} {:>11} {:>15} {:>8} {:>8}   per request on the client: {:>7} {:>7} {:>9}\n", "variant",
                 "requests/s", "CPU us/request", "client", "server", "dgr out", "dgr in", "wake-ups");
      for (const auto& [name, m] : {std::pair{"raw QUIC", r.q}, std::pair{"HTTP/3", r.h}})
        fmt::print("{:<10} {:>11.0f} {:>15.2f} {:>8.2f} {:>8.2f}   {:>34.3f} {:>7.3f} {:>9.3f}\n", name, m.rps,
                   m.cpu_us, m.client_cpu_us, m.server_cpu_us, m.datagrams_out, m.datagrams_in, m.wakeups);
      fmt::print("ratio HTTP/3 / raw QUIC: {:.3f}{}\n", r.ratio,
                 &r == &results.front() ? fmt::format(" (target >= {})", kTargetRatio) : std::string());
    }
  }
  return 0;
}
