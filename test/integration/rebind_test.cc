// NAT rebinding over real sockets, through the UDP relay of
// test/integration/impair_proxy (--rebind-ms: every client moves to a new
// upstream port, packets to the old one are lost). The client is bound to
// the wildcard address like the quicperf CLI, so its datagrams carry their
// local address (IP_PKTINFO) while it connected without knowing it: the
// client must still answer the server's PATH_CHALLENGE on each new path
// (RFC 9000 §8.2.2, §9.3.3), or the server stays amplification-limited and
// then falls back to a dead path.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test/integration/net_test_support.h"
#include "test/integration/perf_test_support.h"
#include "tools/perf_protocol.h"

extern char** environ;

using namespace wt;
using namespace wt::net::test;

namespace {

// A port free on 127.0.0.1 right now (the relay binds it a moment later).
uint16_t free_udp_port() {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  close(fd);
  return ntohs(a.sin_port);
}

// The relay as a child process; stopped (SIGTERM) and reaped on scope exit.
// Its summary line ("... rebinds N") goes to `log`.
class Relay {
 public:
  Relay(uint16_t listen_port, const Address& target, int rebind_ms, const std::string& log) {
    const std::string listen = "127.0.0.1:" + std::to_string(listen_port);
    const std::string to = "127.0.0.1:" + std::to_string(target.port);
    const std::string rebind = std::to_string(rebind_ms);
    std::vector<std::string> args{WT_IMPAIR_PROXY, "--listen", listen, "--target", to,
                                  "--rebind-ms", rebind, "--loss", "0", "--reorder", "0",
                                  "--delay-ms", "5", "--rate-mbit", "200"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&fa);
    usleep(100 * 1000);  // let it bind its port
  }
  ~Relay() { stop(); }
  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

uint64_t rebinds_in(const std::string& log) {
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string s = ss.str();
  const auto pos = s.rfind("rebinds ");
  return pos == std::string::npos ? 0 : std::stoull(s.substr(pos + 8));
}


}  // namespace

TEST_CASE("rebinding: a wildcard-bound client downloads across repeated NAT rebindings",
          "[integration][rebind]") {
  if (access(WT_IMPAIR_PROXY, X_OK) != 0) {
    WARN("skipped: " WT_IMPAIR_PROXY " is not built (ninja test/impair_proxy)");
    return;
  }
  for (auto backend : available_backends()) {
    DYNAMIC_SECTION("backend " << io::backend_name(backend)) {
      SystemRandom rng;
      ServerThread<perf::PerfServer> server(backend, perf_endpoint_config(true, rng),
                                            [] { return std::make_unique<perf::PerfServer>(); });
      const uint16_t port = free_udp_port();
      const std::string log = "/tmp/wt_rebind_test_" + std::to_string(getpid()) + ".log";
      Relay relay(port, server.address(), 150, log);

      auto loop = make_loop(backend);
      perf::ClientOptions o;
      o.server = loopback(port);
      o.download = 24u << 20;
      o.verify = true;
      perf::PerfClient app(o);
      quic::EndpointConfig cc = perf_endpoint_config(false, rng);
      // A download client only ACKs: when a rebinding loses the packets in
      // flight it may have nothing to send from its new port. Keep-alives
      // make sure the server hears of it (the relay moves the client before
      // the client sends, unlike a NAT).
      cc.conn.keep_alive = std::chrono::milliseconds(50);
      net::DriverOptions d;
      d.bind = Address::v4(0, 0);  // wildcard, like the quicperf CLI
      auto driver = net::QuicDriver::create(*loop, cc, app, d);
      REQUIRE(driver.ok());
      REQUIRE(app.start(**driver).ok());
      const bool done = run_until(*loop, [&] { return app.done(); }, std::chrono::seconds(60));
      relay.stop();
      server.stop();
      const auto r = app.result();
      INFO("client error: " << r.first_error);
      CHECK(done);
      CHECK(r.connections_ok == 1);
      CHECK(r.verify_failures == 0);
      CHECK(r.bytes_received == o.download);
      // The relay really moved the client several times during the download.
      CHECK(rebinds_in(log) >= 2);
      std::remove(log.c_str());
    }
  }
}
