// Heap memory per idle connection, per side, in memory (no sockets).
//
//   conn_memory [--json] [--connections N] [--take-tickets] [--request] [--exit-idle]
//
// N clients (one client endpoint) handshake with one server endpoint
// (TLS 1.3, ECDSA P-256, X25519, AES-128-GCM) and then go idle: handshake
// confirmed, Initial/Handshake keys discarded, everything acknowledged,
// nothing in flight, events polled. The heap in use is read with mallinfo2
// (every allocation, BoringSSL's included, with malloc's own overhead) and,
// for C++ allocations alone, by counting live bytes in a replaced operator
// new/delete. Each side's share is what freeing its endpoint gives back.
//
// By default the client application ignores session tickets and NEW_TOKEN
// tokens (most do); --take-tickets takes them out of the connections as an
// application that resumes would. --request makes each connection carry one
// small request and response (a bidirectional stream) before it goes idle.
// --exit-idle exits as soon as the
// connections are idle, so that a heap profiler's "leaks" (heaptrack
// --print-leaks) are exactly what the idle connections hold.
#include <malloc.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

#include "bench/conn_bench_driver.h"

// ------------------------------------------------ counting operator new/delete

namespace {
std::atomic<int64_t> g_cxx_live{0};
std::atomic<int64_t> g_cxx_count{0};  // live C++ allocations

void* counted_alloc(size_t n) {
  void* p = std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  g_cxx_live.fetch_add(static_cast<int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
  g_cxx_count.fetch_add(1, std::memory_order_relaxed);
  return p;
}
void counted_free(void* p) noexcept {
  if (!p) return;
  g_cxx_live.fetch_sub(static_cast<int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
  g_cxx_count.fetch_sub(1, std::memory_order_relaxed);
  std::free(p);
}
}  // namespace

void* operator new(size_t n) { return counted_alloc(n); }
void* operator new[](size_t n) { return counted_alloc(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  void* p = std::malloc(n ? n : 1);
  if (p) {
    g_cxx_live.fetch_add(static_cast<int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
    g_cxx_count.fetch_add(1, std::memory_order_relaxed);
  }
  return p;
}
void* operator new[](size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, size_t) noexcept { counted_free(p); }
void operator delete[](void* p, size_t) noexcept { counted_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counted_free(p); }

using namespace wt;
using namespace wt::quic;
using namespace wt::bench;

namespace {

struct Heap {
  int64_t all = 0;  // mallinfo2: bytes in use, malloc overhead included
  int64_t cxx = 0;  // operator new: usable bytes of live C++ allocations
  int64_t cxx_count = 0;
};

Heap heap_now() {
  malloc_trim(0);
  struct mallinfo2 mi = mallinfo2();
  return Heap{static_cast<int64_t>(mi.uordblks), g_cxx_live.load(), g_cxx_count.load()};
}

struct Fleet {
  std::unique_ptr<Endpoint> client, server;
  std::vector<Connection*> clients;
  size_t accepted = 0;
  size_t responses = 0;  // --request: responses read to their end
  Time now = from_ns(1'000'000'000);
};

struct Mode {
  bool take_tickets = false;
  bool request = false;
};

// The application: polls events; with a request, the client asks once
// (4 bytes) and the server answers each stream it sees (4 bytes).
void poll_all(Fleet& f, const Mode& m) {
  while (f.server->accept()) ++f.accepted;
  static const uint8_t kMsg[4] = {'p', 'i', 'n', 'g'};
  uint8_t buf[64];
  f.server->for_each([&](Connection& c) {
    while (auto e = c.poll_event()) {
      if (e->type != Event::Type::stream_readable) continue;
      while (true) {
        auto r = c.stream_read(e->stream_id, MutBytes{buf});
        if (!r.ok() || r->bytes == 0 || r->fin) break;
      }
      (void)c.stream_write(e->stream_id, Bytes{kMsg}, true);
    }
  });
  f.client->for_each([&](Connection& c) {
    while (auto e = c.poll_event()) {
      if (e->type == Event::Type::stream_readable) {
        while (true) {
          auto r = c.stream_read(e->stream_id, MutBytes{buf});
          if (r.ok() && r->fin) ++f.responses;
          if (!r.ok() || r->bytes == 0 || r->fin) break;
        }
      }
    }
    if (m.request && c.handshake_confirmed() && c.stats().stream_bytes_sent == 0) {
      auto id = c.open_stream(true);
      if (id.ok()) (void)c.stream_write(*id, Bytes{kMsg}, true);
    }
    const bool take_tickets = m.take_tickets;
    if (take_tickets) {
      while (c.take_session_ticket()) {
      }
      while (c.take_new_token()) {
      }
    }
  });
}

bool all_idle(Fleet& f) {
  bool ok = f.accepted == f.clients.size();
  auto check = [&](Connection& c) {
    if (!c.handshake_confirmed() || c.state() != Connection::State::established ||
        c.stats().bytes_in_flight != 0)
      ok = false;
  };
  f.client->for_each(check);
  f.server->for_each(check);
  return ok;
}

// Handshakes every client and runs until nothing is sent and no timer
// other than the idle timeout is due within a few seconds.
void establish_idle(Fleet& f, size_t n, const Mode& mode) {
  Random& rng = SystemRandom::instance();
  f.client = std::make_unique<Endpoint>(bench_endpoint_config(false, rng));
  f.server = std::make_unique<Endpoint>(bench_endpoint_config(true, rng));
  for (size_t i = 0; i < n; ++i) {
    auto c = f.client->connect(client_path(i), f.now);
    if (!c.ok()) die(std::string("connect: ") + c.error().detail);
    f.clients.push_back(*c);
  }
  DatagramQueue to_server, to_client;
  std::vector<uint8_t> buf(64 * 1500);
  const Duration step = std::chrono::microseconds(250);
  for (int round = 0;; ++round) {
    if (round > 100000) die("connections did not go idle");
    size_t sent = drain(*f.client, to_server, buf, f.now);
    f.now += step;
    to_server.deliver(*f.server, f.now);
    sent += drain(*f.server, to_client, buf, f.now);
    f.now += step;
    to_client.deliver(*f.client, f.now);
    poll_all(f, mode);
    if (sent) continue;
    const Time next = std::min(f.client->next_timeout(), f.server->next_timeout());
    if (next > f.now + std::chrono::seconds(5) && all_idle(f)) break;
    if (next == kTimeInfinite) die("no timer and not idle");
    if (next > f.now) f.now = next;
    f.client->on_timeout(f.now);
    f.server->on_timeout(f.now);
  }
  size_t closed = 0;
  for (Connection* c : f.clients) closed += c->is_closed();
  if (closed) die(fmt::format("{} connections closed", closed));
  if (mode.request && f.responses != n) die(fmt::format("{} of {} responses", f.responses, n));
}

}  // namespace

int main(int argc, char** argv) {
  bool json = false, exit_idle = false;
  Mode mode;
  size_t n = 2000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--json") json = true;
    else if (a == "--take-tickets") mode.take_tickets = true;
    else if (a == "--request") mode.request = true;
    else if (a == "--exit-idle") exit_idle = true;
    else if (a == "--connections" && i + 1 < argc) n = std::stoul(argv[++i]);
    else {
      fmt::print(stderr,
                 "usage: conn_memory [--json] [--connections N] [--take-tickets] [--request] "
                 "[--exit-idle]\n");
      return 2;
    }
  }
  if (n == 0) die("--connections must be > 0");
  (void)p256_certificate();
  {
    // Warm-up: one-time allocations of BoringSSL and the stack (method
    // tables, ex_data indexes, the TLS configs) are not per connection.
    Fleet warm;
    establish_idle(warm, 8, mode);
  }
  const Heap h0 = heap_now();
  Fleet f;
  const int64_t t0 = wall_ns();
  establish_idle(f, n, mode);
  const double seconds = static_cast<double>(wall_ns() - t0) / 1e9;
  const Heap h1 = heap_now();
  if (exit_idle) std::exit(0);  // no unwinding: the connections stay allocated
  Connection* sample = f.clients.front();
  const std::string suite = cipher_suite_name(sample->tls().cipher_suite());
  const uint16_t group = sample->tls().key_exchange_group();
  f.clients.clear();
  f.client.reset();
  const Heap h2 = heap_now();
  f.server.reset();
  const Heap h3 = heap_now();

  const double dn = static_cast<double>(n);
  const double client_all = static_cast<double>(h1.all - h2.all) / dn;
  const double server_all = static_cast<double>(h2.all - h3.all) / dn;
  const double client_cxx = static_cast<double>(h1.cxx - h2.cxx) / dn;
  const double server_cxx = static_cast<double>(h2.cxx - h3.cxx) / dn;
  const double leftover = static_cast<double>(h3.all - h0.all) / dn;
  const double client_allocs = static_cast<double>(h1.cxx_count - h2.cxx_count) / dn;
  const double server_allocs = static_cast<double>(h2.cxx_count - h3.cxx_count) / dn;
  if (json) {
    fmt::print(
        "{{\"connections\": {}, \"server_bytes_per_idle_conn\": {:.0f}, "
        "\"client_bytes_per_idle_conn\": {:.0f}, \"server_cxx_bytes_per_idle_conn\": {:.0f}, "
        "\"client_cxx_bytes_per_idle_conn\": {:.0f}, \"server_cxx_allocations_per_idle_conn\": {:.1f}, "
        "\"client_cxx_allocations_per_idle_conn\": {:.1f}, \"leftover_bytes_per_conn\": {:.0f}, "
        "\"sizeof_connection\": {}, \"take_tickets\": {}, \"request\": {}, \"cipher_suite\": \"{}\", "
        "\"group\": {}, \"setup_seconds\": {:.3f}, \"target_bytes_per_idle_conn\": 16384}}\n",
        n, server_all, client_all, server_cxx, client_cxx, server_allocs, client_allocs, leftover,
        sizeof(Connection),
        mode.take_tickets, mode.request, suite, group, seconds);
  } else {
    fmt::print("{} idle connections ({}, group {}, ECDSA P-256), set up in {:.2f} s\n", n, suite,
               group, seconds);
    fmt::print("  server: {:.0f} bytes per idle connection ({:.0f} in {:.1f} C++ allocations)\n",
               server_all, server_cxx, server_allocs);
    fmt::print("  client: {:.0f} bytes per idle connection ({:.0f} in {:.1f} C++ allocations)\n",
               client_all, client_cxx, client_allocs);
    fmt::print("  sizeof(Connection) {}, not freed afterwards {:.0f} bytes per connection\n",
               sizeof(Connection), leftover);
  }
  return 0;
}
