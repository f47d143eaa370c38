// Hostile traffic at a real server (net::QuicDriver on a loop thread): random
// garbage, truncated packets, Initials in datagrams under 1200 bytes, and a
// flood of valid Initials from many source ports. The server must stay up,
// keep its connection count and memory bounded, answer the flood with Retry
// above the configured rate, and still serve a real client afterwards.
#include <catch2/catch.hpp>

#include "lib/io/udp_socket.h"
#include "quic/connection.h"
#include "test/integration/net_test_support.h"
#include "tools/perf_protocol.h"

using namespace wt;
using namespace wt::net::test;

namespace {

quic::EndpointConfig perf_config(bool server, Random& rng) {
  perf::EndpointSetup s;
  s.server = server;
  std::string err;
  auto c = perf::make_endpoint_config(s, rng, &err);
  REQUIRE(c.ok());
  return *c;
}

io::UdpSocket raw_socket() {
  io::SocketOptions o;
  o.nonblocking = false;
  o.gro = false;
  auto s = io::UdpSocket::bind(loopback(), o);
  REQUIRE(s.ok());
  return std::move(*s);
}

// A client's first datagram (a padded Initial with a fresh ClientHello).
std::vector<uint8_t> client_initial(const quic::ConnectionConfig& cfg, const Address& server) {
  quic::Path path{loopback(40000), server};
  auto c = quic::Connection::connect(cfg, path, Time{} + std::chrono::seconds(1));
  REQUIRE(c.ok());
  std::vector<uint8_t> buf(1500);
  auto b = (*c)->send(MutBytes{buf}, Time{} + std::chrono::seconds(1));
  REQUIRE(b.bytes >= 1200);
  buf.resize(b.segment_size ? std::min(b.bytes, b.segment_size) : b.bytes);
  return buf;
}

size_t server_connections(ServerThread<perf::PerfServer>& server) {
  size_t n = 0;
  server.run_on_loop([&] { n = server.driver().endpoint().connection_count(); });
  return n;
}

// A real client still gets a verified download.
void check_still_serving(io::BackendKind backend, const Address& server, Random& rng) {
  perf::ClientOptions o;
  o.server = server;
  o.download = 200000;
  o.verify = true;
  perf::PerfClient app(o);
  auto loop = make_loop(backend);
  net::DriverOptions d;
  d.bind = loopback();
  auto driver = net::QuicDriver::create(*loop, perf_config(false, rng), app, d);
  REQUIRE(driver.ok());
  REQUIRE(app.start(**driver).ok());
  CHECK(run_until(*loop, [&] { return app.done(); }, std::chrono::seconds(15)));
  INFO(app.result().first_error);
  CHECK(app.result().connections_ok == 1);
  CHECK(app.result().verify_failures == 0);
}

}  // namespace

TEST_CASE("hostile traffic: garbage, truncated and undersized packets", "[integration][hostile]") {
  for (auto backend : available_backends()) {
    DYNAMIC_SECTION("backend " << io::backend_name(backend)) {
      SystemRandom rng;
      ServerThread<perf::PerfServer> server(backend, perf_config(true, rng),
                                            [] { return std::make_unique<perf::PerfServer>(); });
      auto sock = raw_socket();
      SeededRandom junk(7);
      std::vector<uint8_t> buf(1500);
      // Random bytes of every size, with and without the long-header bit.
      for (int i = 0; i < 3000; ++i) {
        size_t n = 1 + junk.uniform(1500);
        junk.fill({buf.data(), n});
        if (i % 3 == 0) buf[0] |= 0xc0;  // long header, QUIC bit
        if (i % 3 == 1) buf[0] = (buf[0] & 0x3f) | 0x40;  // short header
        (void)sock.send(Bytes{buf.data(), n}, server.address());
      }
      auto cfg = perf_config(false, rng).conn;
      for (int i = 0; i < 300; ++i) {
        auto initial = client_initial(cfg, server.address());
        // Truncated anywhere, including inside the header and at 1199 bytes
        // (an Initial in a datagram below the 1200-byte minimum).
        size_t cut = i % 2 ? 1 + junk.uniform(initial.size() - 1) : 1100 + junk.uniform(100);
        (void)sock.send(Bytes{initial.data(), cut}, server.address());
        // Whole Initial with its payload corrupted: fails authentication.
        initial[initial.size() - 1 - junk.uniform(900)] ^= 0x55;
        (void)sock.send(Bytes{initial}, server.address());
      }
      usleep(300000);
      // None of it may create a connection; everything was counted as dropped.
      CHECK(server_connections(server) == 0);
      check_still_serving(backend, server.address(), rng);
      server.stop();
      CHECK(server.app().stats().connections == 1);
    }
  }
}

TEST_CASE("hostile traffic: Initial flood from many source ports", "[integration][hostile][flood]") {
  const auto backend = available_backends().back();
  SystemRandom rng;
  auto client_cfg = perf_config(false, rng).conn;
  client_cfg.idle_timeout = std::chrono::seconds(5);
  constexpr int kPorts = 100, kPerPort = 10;  // 1000 distinct connection attempts

  auto flood = [&](const Address& target) {
    std::vector<io::UdpSocket> socks;
    for (int p = 0; p < kPorts; ++p) socks.push_back(raw_socket());
    for (int i = 0; i < kPerPort; ++i)
      for (auto& s : socks) (void)s.send(Bytes{client_initial(client_cfg, target)}, target);
    usleep(500000);
  };

  SECTION("Retry above the configured rate keeps connection state bounded") {
    auto cfg = perf_config(true, rng);
    cfg.retry_above_rate = 50;
    cfg.conn.idle_timeout = std::chrono::seconds(5);
    ServerThread<perf::PerfServer> server(backend, cfg,
                                          [] { return std::make_unique<perf::PerfServer>(); });
    uint64_t rss0 = rss_kib();
    flood(server.address());
    size_t conns = server_connections(server);
    uint64_t grew = rss_kib() - std::min(rss_kib(), rss0);
    WARN("flood of " << kPorts * kPerPort << " Initials with Retry above 50/s: " << conns
                     << " server connections, RSS +" << grew << " KiB");
    // Within one second of flood, at most ~the rate (plus a generous margin
    // for a flood spanning two seconds) got state; the rest got Retry.
    CHECK(conns <= 150);
    CHECK(grew < 64 * 1024);
    check_still_serving(backend, server.address(), rng);
  }
  SECTION("without Retry the connection limit bounds state") {
    auto cfg = perf_config(true, rng);
    cfg.max_connections = 300;
    cfg.conn.idle_timeout = std::chrono::seconds(2);
    ServerThread<perf::PerfServer> server(backend, cfg,
                                          [] { return std::make_unique<perf::PerfServer>(); });
    uint64_t rss0 = rss_kib();
    flood(server.address());
    size_t conns = server_connections(server);
    uint64_t grew = rss_kib() - std::min(rss_kib(), rss0);
    WARN("flood of " << kPorts * kPerPort << " Initials, max_connections 300: " << conns
                     << " server connections, RSS +" << grew << " KiB");
    CHECK(conns <= 300);
    CHECK(grew < 128 * 1024);
    // Half-open connections expire with the idle timeout (2 s here) and are
    // reaped, after which real clients get in again.
    Time end = io::monotonic_now() + std::chrono::seconds(8);
    while (server_connections(server) > 0 && io::monotonic_now() < end) usleep(100000);
    CHECK(server_connections(server) == 0);
    check_still_serving(backend, server.address(), rng);
  }
}
