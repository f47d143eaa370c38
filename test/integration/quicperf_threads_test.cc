// The multi-threaded perf server (perf::PerfServerGroup, quicperf --threads):
// N loops on N threads with SO_REUSEPORT sockets on one address, against a
// client whose connections come from many ports.
#include <catch2/catch.hpp>

#include "test/integration/net_test_support.h"
#include "test/integration/perf_test_support.h"
#include "tools/perf_protocol.h"

using namespace wt;
using namespace wt::net::test;

TEST_CASE("quicperf --threads 2: every connection completes, both threads serve",
          "[integration][quicperf][threads]") {
  for (auto backend : available_backends()) {
    DYNAMIC_SECTION("backend " << io::backend_name(backend)) {
      perf::ServerGroupOptions so;
      so.threads = 2;
      so.bind = loopback();
      so.loop.backend = backend;
      std::string err;
      auto group = perf::PerfServerGroup::start(so, &err);
      INFO(err);
      REQUIRE(group.ok());
      perf::PerfServerGroup& g = **group;
      REQUIRE(g.threads() == 2);
      REQUIRE(g.address().port != 0);

      // 32 connections from 16 client ports (the kernel picks a server
      // socket per source address and port: all 16 on one thread has odds
      // of 2^-15).
      SystemRandom rng;
      auto loop = make_loop(backend);
      perf::ClientOptions o;
      o.server = g.address();
      o.connections = 32;
      o.streams = 2;
      o.download = 128 * 1024;
      o.upload = 1000;
      o.verify = true;
      perf::PerfClient app(o);
      std::vector<std::unique_ptr<net::QuicDriver>> drivers;
      std::vector<net::QuicDriver*> ptrs;
      net::DriverOptions d;
      d.bind = loopback();
      for (int i = 0; i < 16; ++i) {
        auto drv = net::QuicDriver::create(*loop, perf_endpoint_config(false, rng), app, d);
        REQUIRE(drv.ok());
        ptrs.push_back(drv->get());
        drivers.push_back(std::move(*drv));
      }
      REQUIRE(app.start(ptrs).ok());
      CHECK(run_until(*loop, [&] { return app.done(); }, std::chrono::seconds(30)));
      const auto& r = app.result();
      INFO("client error: " << r.first_error);
      CHECK(r.connections_ok == 32);
      CHECK(r.connections_failed == 0);
      CHECK(r.verify_failures == 0);
      CHECK(r.requests_done == 64);

      // Closed connections may take a moment to be reaped on the server.
      const Time end = io::monotonic_now() + std::chrono::seconds(5);
      std::vector<perf::PerfServerGroup::ThreadStats> st;
      uint64_t removed = 0;
      while (io::monotonic_now() < end) {
        st = g.stats();
        removed = 0;
        for (const auto& t : st) removed += t.driver.connections_removed;
        if (removed == 32) break;
        loop->run_once(std::chrono::milliseconds(10));
      }
      g.stop();
      st = g.stats();
      REQUIRE(st.size() == 2);
      uint64_t conns = 0, streams = 0, received = 0;
      for (const auto& t : st) {
        conns += t.server.connections;
        streams += t.server.streams;
        received += t.server.bytes_received;
      }
      CHECK(conns == 32);
      CHECK(streams == 64);
      CHECK(received == 64u * 1000);
      CHECK(st[0].server.connections > 0);
      CHECK(st[1].server.connections > 0);
      WARN("connections per thread: " << st[0].server.connections << ", " << st[1].server.connections);
    }
  }
}
