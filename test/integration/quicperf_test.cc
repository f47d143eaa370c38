// net::QuicDriver with the perf protocol (tools/perf_protocol.h) over real
// loopback sockets, on every lib/io back-end: handshake, byte-exact bulk
// transfer (SHA-256), 100 parallel connections, DATAGRAM echo, key log and
// qlog files.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "net/diagnostics.h"
#include "test/integration/net_test_support.h"
#include "test/integration/perf_test_support.h"
#include "tools/perf_protocol.h"
#include "tools/tool_util.h"

using namespace wt;
using namespace wt::net::test;

namespace {

struct PerfRun {
  perf::ClientResult result;
  perf::ServerStats server;
  double wall_seconds = 0;
};


PerfRun run_perf(io::BackendKind backend, perf::ClientOptions opts, Duration limit,
                 perf::EndpointSetup server_setup = {}, perf::EndpointSetup client_setup = {}) {
  SystemRandom rng;
  ServerThread<perf::PerfServer> server(backend, perf_endpoint_config(true, rng, server_setup),
                                        [] { return std::make_unique<perf::PerfServer>(); });
  auto loop = make_loop(backend);
  opts.server = server.address();
  perf::PerfClient app(opts);
  net::DriverOptions d;
  d.bind = loopback();
  auto driver = net::QuicDriver::create(*loop, perf_endpoint_config(false, rng, client_setup), app, d);
  REQUIRE(driver.ok());
  Time t0 = io::monotonic_now();
  REQUIRE(app.start(**driver).ok());
  bool done = run_until(*loop, [&] { return app.done(); }, limit);
  PerfRun r;
  r.wall_seconds = static_cast<double>((io::monotonic_now() - t0).count()) / 1e9;
  server.stop();
  r.result = app.result();
  r.server = server.app().stats();
  INFO("client error: " << r.result.first_error);
  CHECK(done);
  return r;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("perf pattern is position-determined and SHA-256 matches", "[integration][quicperf]") {
  std::vector<uint8_t> whole(5000), piece(777);
  perf::fill_pattern(0, MutBytes{whole});
  for (uint64_t off : {0u, 1u, 7u, 8u, 1023u, 1024u, 3000u}) {
    size_t n = std::min<size_t>(piece.size(), whole.size() - off);
    perf::fill_pattern(off, MutBytes{piece.data(), n});
    CHECK(std::equal(piece.begin(), piece.begin() + static_cast<long>(n), whole.begin() + static_cast<long>(off)));
  }
  // PatternSource gives the same bytes, realigning after odd offsets.
  perf::PatternSource src;
  std::vector<uint8_t> big(200000), got;
  perf::fill_pattern(0, MutBytes{big});
  for (uint64_t off = 0; off < big.size();) {
    size_t want = 1 + (off * 7919) % 70000;
    Bytes b = src.get(off, std::min<size_t>(want, big.size() - off));
    REQUIRE(b.size() > 0);
    got.insert(got.end(), b.begin(), b.end());
    off += b.size() > 3 ? b.size() - 3 : b.size();  // overlap: as after partial writes
    got.resize(off);
  }
  CHECK(got == big);
  // Each 1 KiB unit names itself: a shifted copy never matches.
  CHECK(!std::equal(whole.begin(), whole.begin() + 1024, whole.begin() + 1024));
  perf::Sha256 sha;
  sha.update(Bytes{whole});
  CHECK(sha.finish() == perf::pattern_sha256(whole.size()));
  CHECK(tools::parse_size("1G") == (uint64_t{1} << 30));
  CHECK(tools::parse_size("1.5K") == 1536u);
  CHECK(!tools::parse_size("12X"));
}

TEST_CASE("quicperf: handshake and verified download on each back-end", "[integration][quicperf]") {
  for (auto backend : available_backends()) {
    DYNAMIC_SECTION("backend " << io::backend_name(backend)) {
      perf::ClientOptions o;
      o.download = 3u << 20;
      o.upload = 100000;
      o.verify = true;
      auto r = run_perf(backend, o, std::chrono::seconds(20));
      CHECK(r.result.connections_ok == 1);
      CHECK(r.result.connections_failed == 0);
      CHECK(r.result.verify_failures == 0);
      REQUIRE(r.result.response_sha256.size() == 1);
      CHECK(r.result.response_sha256[0] == perf::pattern_sha256(3u << 20));
      CHECK(r.result.bytes_received == 3u << 20);
      CHECK(r.server.bytes_received == 100000);
      CHECK(r.result.handshake_ms_mean > 0);
      CHECK(r.result.alpn == "perf");
      CHECK(r.result.cipher.rfind("TLS_", 0) == 0);
    }
  }
}

TEST_CASE("quicperf: 1 GiB download, byte-exact by SHA-256, on each back-end",
          "[integration][quicperf][bulk]") {
  for (auto backend : available_backends()) {
    DYNAMIC_SECTION("backend " << io::backend_name(backend)) {
      perf::ClientOptions o;
      o.download = uint64_t{1} << 30;
      o.verify = true;
      auto r = run_perf(backend, o, std::chrono::seconds(60));
      CHECK(r.result.verify_failures == 0);
      REQUIRE(r.result.response_sha256.size() == 1);
      CHECK(r.result.bytes_received == uint64_t{1} << 30);
      WARN(io::backend_name(backend) << ": 1 GiB in " << r.result.seconds << " s ("
                                     << r.result.goodput_gbps() << " Gbit/s with SHA-256), wall "
                                     << r.wall_seconds << " s");
    }
  }
}

TEST_CASE("quicperf: 100 parallel connections", "[integration][quicperf][connections]") {
  for (auto backend : available_backends()) {
    DYNAMIC_SECTION("backend " << io::backend_name(backend)) {
      perf::ClientOptions o;
      o.connections = 100;
      o.streams = 2;
      o.download = 64 * 1024;
      o.upload = 4096;
      o.verify = true;
      auto r = run_perf(backend, o, std::chrono::seconds(30));
      CHECK(r.result.connections_ok == 100);
      CHECK(r.result.connections_failed == 0);
      CHECK(r.result.verify_failures == 0);
      CHECK(r.result.requests_done == 200);
      CHECK(r.server.connections == 100);
      CHECK(r.server.bytes_received == 200u * 4096);
    }
  }
}

TEST_CASE("quicperf: DATAGRAM echo round trips", "[integration][quicperf][datagram]") {
  for (auto backend : available_backends()) {
    DYNAMIC_SECTION("backend " << io::backend_name(backend)) {
      perf::ClientOptions o;
      o.download = 0;
      o.datagram_pings = 200;
      o.datagram_size = 100;
      auto r = run_perf(backend, o, std::chrono::seconds(20));
      CHECK(r.result.connections_ok == 1);
      REQUIRE(r.result.datagram_rtt_us.size() == 200);
      CHECK(r.server.datagrams_echoed == 200);
      auto rtts = r.result.datagram_rtt_us;
      std::sort(rtts.begin(), rtts.end());
      CHECK(rtts.front() > 0);
      WARN("DATAGRAM RTT on loopback (" << io::backend_name(backend) << "): p50 " << rtts[100]
                                        << " us, p99 " << rtts[198] << " us");
    }
  }
}

TEST_CASE("quicperf: time mode with uploads, newreno", "[integration][quicperf]") {
  auto backend = available_backends().front();
  perf::ClientOptions o;
  o.upload = 1u << 20;
  o.download = 1000;
  o.streams = 4;
  o.duration = std::chrono::milliseconds(700);
  perf::EndpointSetup s;
  s.cc = quic::CongestionControl::new_reno;
  auto r = run_perf(backend, o, std::chrono::seconds(20), s, s);
  CHECK(r.result.connections_ok == 1);
  CHECK(r.result.requests_done > 4);
  CHECK(r.result.bytes_sent > 4u << 20);
  // Measured from the first request to the deadline (late under load).
  CHECK(r.result.seconds >= 0.69);
  CHECK(r.result.seconds < 3.0);
}

TEST_CASE("quicperf: null cipher only when both sides agree", "[integration][quicperf]") {
  auto backend = available_backends().front();
  perf::EndpointSetup null_setup;
  null_setup.null_cipher = true;
  perf::ClientOptions o;
  o.download = 1u << 20;
  o.verify = true;
  SECTION("both null: works, labelled by its ALPN") {
    auto r = run_perf(backend, o, std::chrono::seconds(20), null_setup, null_setup);
    CHECK(r.result.connections_ok == 1);
    CHECK(r.result.verify_failures == 0);
    CHECK(r.result.alpn == perf::kAlpnNullCipher);
  }
  SECTION("client null, server not: the handshake fails cleanly") {
    SystemRandom rng;
    ServerThread<perf::PerfServer> server(backend, perf_endpoint_config(true, rng),
                                          [] { return std::make_unique<perf::PerfServer>(); });
    auto loop = make_loop(backend);
    o.server = server.address();
    perf::PerfClient app(o);
    net::DriverOptions d;
    d.bind = loopback();
    auto driver = net::QuicDriver::create(*loop, perf_endpoint_config(false, rng, null_setup), app, d);
    REQUIRE(driver.ok());
    REQUIRE(app.start(**driver).ok());
    CHECK(run_until(*loop, [&] { return app.done(); }, std::chrono::seconds(10)));
    CHECK(app.result().connections_ok == 0);
    CHECK(app.result().connections_failed == 1);
  }
}

TEST_CASE("driver: SSLKEYLOGFILE lines and one qlog file per connection side",
          "[integration][quicperf][diagnostics]") {
  char tmpl[] = "/tmp/wt-diag-XXXXXX";
  REQUIRE(mkdtemp(tmpl));
  std::string dir = tmpl;
  std::string keylog = dir + "/keys.log";
  perf::EndpointSetup s;
  s.keylog = net::keylog_file(keylog);
  s.qlog = net::qlog_dir(dir + "/qlog");
  REQUIRE(s.keylog);
  perf::ClientOptions o;
  o.download = 10000;
  auto r = run_perf(available_backends().front(), o, std::chrono::seconds(10), s, s);
  CHECK(r.result.connections_ok == 1);
  std::string keys = read_file(keylog);
  CHECK(keys.find("CLIENT_HANDSHAKE_TRAFFIC_SECRET ") != std::string::npos);
  CHECK(keys.find("SERVER_TRAFFIC_SECRET_0 ") != std::string::npos);
  std::vector<std::string> files;
  if (DIR* d = opendir((dir + "/qlog").c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') files.push_back(e->d_name);
    closedir(d);
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() == 2);
  // Both sides name the file by the same original destination connection ID.
  auto odcid = files[0].substr(0, files[0].find('_'));
  CHECK(files[0] == odcid + "_client.sqlog");
  CHECK(files[1] == odcid + "_server.sqlog");
  std::string q = read_file(dir + "/qlog/" + files[0]);
  CHECK(q.size() > 100);
  CHECK(q[0] == '\x1e');  // JSON-SEQ record separator
  int rc = std::system(("rm -rf " + dir).c_str());
  (void)rc;
}
