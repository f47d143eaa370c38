// HTTP/0.9 interop (tools/hq_interop.h): our client against our server for
// every QUIC interop runner test case the core supports, on each lib/io
// back-end, with the downloaded files byte-compared; and the
// interop-endpoint binary itself (environment, exit code 127).
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "lib/io/udp_socket.h"
#include "quic/version.h"
#include "test/integration/net_test_support.h"
#include "tools/hq_interop.h"

using namespace wt;
using namespace wt::net::test;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_random_file(const std::string& path, size_t size, uint64_t seed) {
  SeededRandom rng(seed);
  std::string data(size, '\0');
  rng.fill({reinterpret_cast<uint8_t*>(data.data()), data.size()});
  std::ofstream(path, std::ios::binary) << data;
}

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/wt-hq-XXXXXX";
    REQUIRE(mkdtemp(tmpl));
    path = tmpl;
  }
  ~TempDir() {
    int rc = std::system(("rm -rf " + path).c_str());
    (void)rc;
  }
};

struct Fixture {
  TempDir dir;
  std::string www, downloads;
  std::vector<std::string> files = {"small.txt", "medium.bin", "sub/large.bin"};
  Fixture() {
    www = dir.path + "/www";
    downloads = dir.path + "/downloads";
    ::mkdir(www.c_str(), 0755);
    ::mkdir((www + "/sub").c_str(), 0755);
    ::mkdir(downloads.c_str(), 0755);
    write_random_file(www + "/small.txt", 1000, 1);
    write_random_file(www + "/medium.bin", 300000, 2);
    write_random_file(www + "/sub/large.bin", 3000000, 3);
  }
  std::vector<std::string> urls(const Address& server) const {
    std::vector<std::string> u;
    for (const auto& f : files) u.push_back("https://" + server.to_string() + "/" + f);
    return u;
  }
  void check_downloads() const {
    for (const auto& f : files) {
      INFO("file " << f);
      std::string want = read_file(www + "/" + f), got = read_file(downloads + "/" + f);
      CHECK(got.size() == want.size());
      CHECK(got == want);
    }
  }
};

hq::ClientResult run_case(io::BackendKind backend, hq::TestCase tc, Fixture& fx) {
  SystemRandom rng;
  hq::EndpointSetup ss;
  ss.server = true;
  ss.testcase = tc;
  net::DriverOptions sopts;
  sopts.bind = loopback();
  if (tc == hq::TestCase::connectionmigration) {
    // A second server socket on a free port: the preferred address.
    auto probe = io::UdpSocket::bind(loopback());
    REQUIRE(probe.ok());
    ss.preferred_address = probe->local_address();
    probe->close();
    sopts.also_bind.push_back(*ss.preferred_address);
  }
  std::string err;
  auto scfg = hq::make_endpoint_config(ss, rng, &err);
  REQUIRE(scfg.ok());
  std::string www = fx.www;
  ServerThread<hq::HqServer> server(
      backend, *scfg, [www] { return std::make_unique<hq::HqServer>(hq::ServerOptions{www}); }, sopts);
  hq::EndpointSetup cs;
  cs.testcase = tc;
  auto ccfg = hq::make_endpoint_config(cs, rng, &err);
  REQUIRE(ccfg.ok());
  hq::ClientOptions co;
  co.requests = fx.urls(server.address());
  co.downloads = fx.downloads;
  co.testcase = tc;
  co.conn = ccfg->conn;
  auto loop = make_loop(backend);
  hq::HqClient app(co);
  net::DriverOptions d;
  d.bind = loopback();
  auto driver = net::QuicDriver::create(*loop, *ccfg, app, d);
  REQUIRE(driver.ok());
  REQUIRE(app.start(**driver).ok());
  bool done = run_until(*loop, [&] { return app.done(); }, std::chrono::seconds(20));
  server.stop();
  INFO("client error: " << app.result().first_error);
  CHECK(done);
  CHECK(app.result().files_failed == 0);
  CHECK(app.result().files_ok == fx.files.size());
  fx.check_downloads();
  return app.result();
}

}  // namespace

TEST_CASE("hq-interop helpers", "[integration][interop]") {
  CHECK(hq::sanitize_path("/a/b.txt") == "a/b.txt");
  CHECK(hq::sanitize_path("//a/./b") == "a/b");
  CHECK(!hq::sanitize_path("/../etc/passwd"));
  CHECK(!hq::sanitize_path("/a/../../b"));
  CHECK(!hq::sanitize_path("/"));
  auto u = hq::parse_url("https://server4:443/file.bin");
  REQUIRE(u);
  CHECK(u->host == "server4");
  CHECK(u->port == 443);
  CHECK(u->path == "/file.bin");
  auto v6 = hq::parse_url("https://[::1]:4433/x");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->port == 4433);
  CHECK(!hq::parse_url("http://a/b"));
  CHECK(!hq::parse_url("https://a:99999/b"));
  CHECK(hq::parse_testcase("zerortt") == hq::TestCase::zerortt);
  CHECK(hq::parse_testcase("nonsense") == hq::TestCase::unsupported);
}

TEST_CASE("hq-interop: our client against our server, each test case and back-end",
          "[integration][interop]") {
  using hq::TestCase;
  const TestCase cases[] = {TestCase::handshake, TestCase::transfer, TestCase::multiconnect,
                            TestCase::retry,     TestCase::resumption, TestCase::zerortt,
                            TestCase::keyupdate, TestCase::v2,       TestCase::ecn,
                            TestCase::connectionmigration};
  for (auto backend : available_backends()) {
    for (TestCase tc : cases) {
      DYNAMIC_SECTION(io::backend_name(backend) << " " << hq::testcase_name(tc)) {
        Fixture fx;
        auto r = run_case(backend, tc, fx);
        switch (tc) {
          case TestCase::multiconnect:
            CHECK(r.connections == fx.files.size());
            break;
          case TestCase::retry:
            CHECK(r.retries >= 1);
            break;
          case TestCase::resumption:
            CHECK(r.connections == 2);
            CHECK(r.resumed);
            CHECK(!r.early_data_accepted);
            break;
          case TestCase::zerortt:
            CHECK(r.connections == 2);
            CHECK(r.resumed);
            CHECK(r.early_data_accepted);
            break;
          case TestCase::keyupdate:
            CHECK(r.key_updated);
            CHECK(r.key_generation >= 1);
            break;
          case TestCase::v2:
            CHECK(r.version == quic::kQuicV2);
            break;
          case TestCase::ecn:
            CHECK(r.ecn_capable);
            break;
          case TestCase::connectionmigration:
            CHECK(r.migrated);
            break;
          default:
            CHECK(r.connections == 1);
            CHECK(r.version == quic::kQuicV1);
            CHECK(r.retries == 0);
        }
      }
    }
  }
}

#ifdef WT_INTEROP_ENDPOINT
namespace {
// Runs the binary with `env` added; returns its pid.
pid_t spawn(const std::vector<std::string>& env, const std::vector<std::string>& args = {}) {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    for (const auto& e : env) putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> argv{const_cast<char*>(WT_INTEROP_ENDPOINT)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(WT_INTEROP_ENDPOINT, argv.data());
    _exit(126);
  }
  return pid;
}
int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
}  // namespace

TEST_CASE("interop-endpoint binary: runner environment, key log, qlog, exit 127",
          "[integration][interop][binary]") {
  SECTION("unsupported test cases exit 127") {
    CHECK(wait_exit(spawn({"ROLE=client", "TESTCASE=no-such-case", "REQUESTS=https://127.0.0.1:1/x"})) == 127);
    CHECK(wait_exit(spawn({"ROLE=server", "TESTCASE=no-such-case"})) == 127);
    CHECK(wait_exit(spawn({"ROLE=client", "TESTCASE=chacha20", "REQUESTS=https://127.0.0.1:1/x"})) == 127);
  }
  SECTION("client and server processes transfer files") {
    Fixture fx;
    uint16_t port = static_cast<uint16_t>(20000 + getpid() % 20000);
    std::string keylog = fx.dir.path + "/keys.log", qlogdir = fx.dir.path + "/qlog";
    pid_t server = spawn({"ROLE=server", "TESTCASE=transfer", "WWW=" + fx.www,
                          "PORT=" + std::to_string(port), "SSLKEYLOGFILE=" + keylog,
                          "QLOGDIR=" + qlogdir, "CERTS=/nonexistent"},
                         {"--bind", "127.0.0.1:" + std::to_string(port)});
    usleep(300000);
    std::string requests;
    for (const auto& u : fx.urls(Address::v4(0x7f000001, port))) requests += u + " ";
    int rc = wait_exit(spawn({"ROLE=client", "TESTCASE=transfer", "DOWNLOADS=" + fx.downloads,
                              "REQUESTS=" + requests, "SSLKEYLOGFILE=" + keylog,
                              "QLOGDIR=" + qlogdir, "TIMEOUT=20"}));
    kill(server, SIGTERM);
    CHECK(wait_exit(server) == 0);
    CHECK(rc == 0);
    fx.check_downloads();
    std::string keys = read_file(keylog);
    // Both processes appended: client and server each log every secret.
    size_t n = 0;
    for (size_t p = 0; (p = keys.find("CLIENT_TRAFFIC_SECRET_0 ", p)) != std::string::npos; ++p) ++n;
    CHECK(n == 2);
    int count = std::system(("test $(ls " + qlogdir + " | grep -c sqlog) -eq 2").c_str());
    CHECK(count == 0);
  }
}
#endif
