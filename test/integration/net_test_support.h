// Helpers for the tests of net/QuicDriver and the tools built on it: a QUIC
// server running on its own loop thread, a client loop in the test thread.
#pragma once
#include <catch2/catch.hpp>

#include <functional>
#include <future>
#include <memory>
#include <string>

#include "lib/certgen.h"
#include "lib/io/clock.h"
#include "lib/io/loop_thread.h"
#include "lib/io/sockaddr.h"
#include "lib/random.h"
#include "net/quic_driver.h"
#include "quic/tls_config.h"
#include "test/integration/io_test_support.h"

namespace wt::net::test {

using io::test::available_backends;

inline Address loopback(uint16_t port = 0) { return Address::v4(0x7f000001, port); }

// TLS for HTTP/3 tests: a fresh self-signed certificate (localhost,
// 127.0.0.1), the server's config and a client config trusting only it.
struct H3Tls {
  certgen::Certificate cert;
  std::shared_ptr<quic::TlsConfig> server, client;
  H3Tls() {
    certgen::Options o;
    o.dns_names = {"localhost"};
    o.ip_addresses = {"127.0.0.1"};
    auto c = certgen::self_signed(o);
    REQUIRE(c.ok());
    cert = *c;
    quic::TlsConfigOptions s;
    s.role = quic::TlsRole::server;
    s.alpn = {"h3"};
    s.cert_chain_pem = cert.cert_pem;
    s.private_key_pem = cert.key_pem;
    auto st = quic::TlsConfig::create(s);
    REQUIRE(st.ok());
    server = *st;
    client = client_tls(cert.cert_pem);
  }
  static std::shared_ptr<quic::TlsConfig> client_tls(const std::string& ca_pem) {
    quic::TlsConfigOptions c;
    c.role = quic::TlsRole::client;
    c.alpn = {"h3"};
    c.verify = quic::CertVerify::required;
    c.ca_pem = ca_pem;
    auto ct = quic::TlsConfig::create(c);
    REQUIRE(ct.ok());
    return *ct;
  }
};

// A QuicApp served by a QuicDriver on a LoopThread. The app is created and
// used only on that thread; read it after stop().
template <class App>
class ServerThread {
 public:
  ServerThread(io::BackendKind backend, const quic::EndpointConfig& config,
               std::function<std::unique_ptr<App>()> make_app, DriverOptions options = {}) {
    if (!options.bind.valid()) options.bind = loopback();
    io::LoopOptions lo;
    lo.backend = backend;
    auto t = io::LoopThread::start(lo, [&](io::Loop& loop) -> Status {
      app_ = make_app();
      WT_ASSIGN(driver_, QuicDriver::create(loop, config, *app_, options));
      address_ = driver_->local_address();
      return {};
    });
    REQUIRE(t.ok());
    thread_ = std::move(*t);
  }
  ~ServerThread() { stop(); }

  const Address& address() const { return address_; }
  // Stops the loop and joins; afterwards app() and driver() may be read here.
  void stop() {
    if (!thread_ || stopped_) return;
    thread_->stop();
    thread_->join();
    stopped_ = true;
  }
  App& app() { return *app_; }
  QuicDriver& driver() { return *driver_; }
  // Runs `fn` on the server thread and waits for it.
  template <class F>
  void run_on_loop(F&& fn) {
    std::promise<void> done;
    thread_->loop().post([&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }

 private:
  // Destroyed in reverse: the driver (unregisters its socket from the
  // stopped loop), then the app, then the loop thread.
  std::unique_ptr<io::LoopThread> thread_;
  std::unique_ptr<App> app_;
  std::unique_ptr<QuicDriver> driver_;
  Address address_;
  bool stopped_ = false;
};

// Runs `loop` until `done()` or `limit`; returns done().
inline bool run_until(io::Loop& loop, const std::function<bool()>& done,
                      Duration limit = std::chrono::seconds(10)) {
  Time end = io::monotonic_now() + limit;
  while (!done() && io::monotonic_now() < end) loop.run_once(std::chrono::milliseconds(20));
  return done();
}

inline std::unique_ptr<io::Loop> make_loop(io::BackendKind backend) {
  io::LoopOptions lo;
  lo.backend = backend;
  auto l = io::Loop::create(lo);
  REQUIRE(l.ok());
  return std::move(*l);
}

// Resident set size of this process in KiB.
inline uint64_t rss_kib() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  uint64_t kib = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "VmRSS: %lu", &kib) == 1) break;
  std::fclose(f);
  return kib;
}

}  // namespace wt::net::test
