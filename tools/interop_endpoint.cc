// interop-endpoint: HTTP/0.9 over QUIC (ALPN "hq-interop") following the QUIC
// interop runner's conventions.
//
// Environment (flags of the same meaning override it):
//   ROLE=client|server       --role
//   TESTCASE=<name>          --testcase   (unsupported: exit 127)
//   SSLKEYLOGFILE, QLOGDIR   key log and per-connection qlog files
//   WWW (default /www)       --www        server: files to serve
//   PORT (default 443)       --port       server: UDP port (all addresses)
//   CERTS (default /certs)   --cert/--key server: cert.pem and priv.key there,
//                                         else a generated self-signed pair
//   REQUESTS="URL ..."       --requests   client: files to fetch
//   DOWNLOADS (default /downloads)        client: where they go
//   TIMEOUT (seconds, default 60)         client: give up after this
#include <fmt/core.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <optional>
#include <cstdlib>
#include <sstream>
#include <string>

#include "lib/io/clock.h"
#include "lib/io/loop.h"
#include "lib/io/sockaddr.h"
#include "lib/log.h"
#include "lib/random.h"
#include "net/diagnostics.h"
#include "net/quic_driver.h"
#include "quic/tls_config.h"
#include "quic/version.h"
#include "tools/hq_interop.h"
#include "tools/tool_util.h"

using namespace wt;

namespace {

constexpr int kExitUnsupported = 127;  // the runner's "test case not supported"

io::Loop* g_loop = nullptr;
void on_signal(int) {
  if (g_loop) g_loop->stop();
}

std::string env_or(const char* name, const char* def) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : std::string(def);
}

bool file_exists(const std::string& p) {
  struct stat sb {};
  return ::stat(p.c_str(), &sb) == 0 && S_ISREG(sb.st_mode);
}

struct Args {
  std::string role = env_or("ROLE", "");
  std::string testcase = env_or("TESTCASE", "transfer");
  std::string www = env_or("WWW", "/www");
  std::string downloads = env_or("DOWNLOADS", "/downloads");
  std::string requests = env_or("REQUESTS", "");
  std::string certs = env_or("CERTS", "/certs");
  std::string cert, key, bind;
  std::string preferred = env_or("PREFERRED_ADDRESS", "");
  uint16_t port = static_cast<uint16_t>(std::atoi(env_or("PORT", "443").c_str()));
  double timeout = std::atof(env_or("TIMEOUT", "60").c_str());
  io::BackendKind backend = io::BackendKind::automatic;
  bool gso = true;
};

void usage() {
  fmt::print(stderr,
             "usage: interop-endpoint [--role client|server] [--testcase NAME] [--port N]\n"
             "         [--bind ADDR] [--preferred-address ADDR] [--www DIR] [--cert F --key F]\n"
             "         [--requests \"URL ...\"]\n"
             "         [--downloads DIR] [--timeout SEC] [--backend epoll|uring|auto] [--no-gso]\n"
             "Environment as for the QUIC interop runner: ROLE, TESTCASE, REQUESTS, WWW,\n"
             "DOWNLOADS, SSLKEYLOGFILE, QLOGDIR, PORT, CERTS, TIMEOUT, PREFERRED_ADDRESS\n"
             "(connectionmigration server; default: the bind address with port + 1). Exit 127: test case\n"
             "not supported.\n");
}

bool parse(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    std::string o = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        fmt::print(stderr, "interop-endpoint: {} needs a value\n", o);
        std::exit(2);
      }
      return argv[++i];
    };
    if (o == "--role") a.role = value();
    else if (o == "--testcase") a.testcase = value();
    else if (o == "--www") a.www = value();
    else if (o == "--downloads") a.downloads = value();
    else if (o == "--requests") a.requests = value();
    else if (o == "--port") a.port = static_cast<uint16_t>(std::atoi(value().c_str()));
    else if (o == "--bind") a.bind = value();
    else if (o == "--preferred-address") a.preferred = value();
    else if (o == "--cert") a.cert = value();
    else if (o == "--key") a.key = value();
    else if (o == "--timeout") a.timeout = std::atof(value().c_str());
    else if (o == "--no-gso") a.gso = false;
    else if (o == "--backend") {
      auto b = tools::parse_backend(value());
      if (!b) return false;
      a.backend = *b;
    } else {
      return false;
    }
  }
  return a.role == "client" || a.role == "server";
}

quic::EndpointConfig make_config(const Args& a, bool server, hq::TestCase tc, Random& rng,
                                 std::optional<Address> preferred = std::nullopt) {
  hq::EndpointSetup setup;
  setup.preferred_address = preferred;
  setup.server = server;
  setup.testcase = tc;
  setup.keylog = net::keylog_from_env();
  setup.qlog = net::qlog_from_env();
  if (server) {
    setup.cert_file = a.cert;
    setup.key_file = a.key;
    if (setup.cert_file.empty() && file_exists(a.certs + "/cert.pem") &&
        file_exists(a.certs + "/priv.key")) {
      setup.cert_file = a.certs + "/cert.pem";
      setup.key_file = a.certs + "/priv.key";
    }
  }
  std::string err;
  auto cfg = hq::make_endpoint_config(setup, rng, &err);
  if (!cfg.ok()) {
    fmt::print(stderr, "interop-endpoint: TLS setup: {}\n", err.empty() ? cfg.error().detail : err);
    std::exit(1);
  }
  return *cfg;
}

int run_server(const Args& a, hq::TestCase tc, io::Loop& loop, Random& rng) {
  std::string bind_text = a.bind.empty() ? fmt::format("[::]:{}", a.port) : a.bind;
  auto bind = tools::resolve(bind_text, a.port);
  if (!bind) {
    fmt::print(stderr, "interop-endpoint: cannot resolve {}\n", bind_text);
    return 1;
  }
  net::DriverOptions o;
  o.bind = *bind;
  std::optional<Address> preferred;
  if (tc == hq::TestCase::connectionmigration) {
    // RFC 9000 §9.6: a second address of ours, served by a second socket.
    if (!a.preferred.empty()) {
      preferred = tools::resolve(a.preferred, static_cast<uint16_t>(a.port + 1));
    } else if (!io::is_wildcard(*bind) && bind->port != 0) {
      preferred = *bind;
      preferred->port = static_cast<uint16_t>(bind->port + 1);
    }
    if (!preferred) {
      fmt::print(stderr, "interop-endpoint: connectionmigration needs --preferred-address (or a "
                         "specific --bind address)\n");
      return kExitUnsupported;
    }
    o.also_bind.push_back(*preferred);
  }
  auto cfg = make_config(a, true, tc, rng, preferred);
  hq::HqServer app({a.www});
  o.socket.gso = o.socket.gro = a.gso;
  auto driver = net::QuicDriver::create(loop, cfg, app, o);
  if (!driver.ok()) {
    fmt::print(stderr, "interop-endpoint: cannot listen on {}: {}\n", bind_text,
               driver.error().detail);
    return 1;
  }
  fmt::print(stderr, "interop-endpoint: serving {} on {}{} ({}, test case {})\n", a.www,
             (*driver)->local_address().to_string(),
             preferred ? " and preferred address " + preferred->to_string() : std::string(),
             loop.backend_name(), a.testcase);
  loop.run();  // until SIGTERM / SIGINT
  fmt::print(stderr, "interop-endpoint: {} connections, {} requests served\n", app.connections(),
             app.requests_served());
  return 0;
}

int run_client(const Args& a, hq::TestCase tc, io::Loop& loop, Random& rng) {
  auto cfg = make_config(a, false, tc, rng);
  hq::ClientOptions co;
  std::istringstream ss(a.requests);
  for (std::string u; ss >> u;) co.requests.push_back(u);
  co.downloads = a.downloads;
  co.testcase = tc;
  co.conn = cfg.conn;
  if (co.requests.empty()) {
    fmt::print(stderr, "interop-endpoint: REQUESTS is empty\n");
    return 1;
  }
  ::mkdir(a.downloads.c_str(), 0755);
  hq::HqClient app(co);
  // The first URL's family decides the socket's.
  auto url = hq::parse_url(co.requests[0]);
  auto server = url ? tools::resolve(url->host + ":" + std::to_string(url->port), url->port)
                    : std::nullopt;
  net::DriverOptions o;
  o.bind = *io::parse_address(server && server->family == 6 ? "[::]:0" : "0.0.0.0:0");
  o.socket.gso = o.socket.gro = a.gso;
  auto driver = net::QuicDriver::create(loop, cfg, app, o);
  if (!driver.ok()) {
    fmt::print(stderr, "interop-endpoint: socket: {}\n", driver.error().detail);
    return 1;
  }
  if (auto s = app.start(**driver); !s.ok()) {
    fmt::print(stderr, "interop-endpoint: {}\n", s.error().detail);
    return 1;
  }
  Time deadline = io::monotonic_now() +
                  std::chrono::duration_cast<Duration>(std::chrono::duration<double>(a.timeout));
  while (!app.done() && !loop.stopped() && io::monotonic_now() < deadline)
    loop.run_once(std::chrono::milliseconds(100));
  const auto& r = app.result();
  bool ok = app.done() && r.files_failed == 0 && r.files_ok == co.requests.size();
  fmt::print(stderr, "interop-endpoint: {} of {} files in {} connection(s), version 0x{:08x}{}{}{}{}{}{}{}\n",
             r.files_ok, co.requests.size(), r.connections, r.version,
             r.retries ? ", after Retry" : "", r.ecn_capable ? ", ECN validated" : "",
             r.migrated ? ", migrated to the preferred address" : "",
             r.resumed ? ", resumed" : "",
             r.early_data_accepted ? ", 0-RTT accepted" : "", r.key_updated ? ", keys updated" : "",
             app.done() ? "" : ", TIMED OUT");
  if (!r.first_error.empty()) fmt::print(stderr, "interop-endpoint: {}\n", r.first_error);
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  log::init_from_env();
  Args a;
  if (!parse(argc, argv, a)) {
    usage();
    return 2;
  }
  bool server = a.role == "server";
  hq::TestCase tc = hq::parse_testcase(a.testcase);
  if (!hq::supported(tc, server)) {
    fmt::print(stderr, "interop-endpoint: test case '{}' not supported as {}\n", a.testcase, a.role);
    return kExitUnsupported;
  }
  io::LoopOptions lo;
  lo.backend = a.backend;
  auto loop = io::Loop::create(lo);
  if (!loop.ok()) {
    fmt::print(stderr, "interop-endpoint: event loop: {}\n", loop.error().detail);
    return 1;
  }
  g_loop = loop->get();
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  SystemRandom rng;
  int rc = server ? run_server(a, tc, **loop, rng) : run_client(a, tc, **loop, rng);
  g_loop = nullptr;
  return rc;
}
