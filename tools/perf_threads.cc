// PerfServerGroup (tools/perf_protocol.h): N perf servers on N threads, one
// SO_REUSEPORT socket each.
#include <future>

#include "lib/random.h"
#include "tools/perf_protocol.h"

namespace wt::perf {

struct PerfServerGroup::Worker {
  SystemRandom rng;
  std::unique_ptr<PerfServer> app;
  std::unique_ptr<net::QuicDriver> driver;
  std::unique_ptr<io::LoopThread> thread;
  ThreadStats last;  // after stop()
};

Result<std::unique_ptr<PerfServerGroup>> PerfServerGroup::start(const ServerGroupOptions& options,
                                                                std::string* error_message) {
  std::unique_ptr<PerfServerGroup> g(new PerfServerGroup());
  const size_t n = options.threads ? options.threads : 1;
  EndpointSetup setup = options.setup;
  setup.server = true;
  WT_TRY(add_self_signed_certificate(setup));  // one certificate for all threads
  Address bind = options.bind;
  for (size_t i = 0; i < n; ++i) {
    auto w = std::make_unique<Worker>();
    Worker* wp = w.get();
    net::DriverOptions d;
    d.bind = bind;
    d.socket = options.socket;
    d.socket.reuse_port = true;  // every thread's socket on the same address
    std::string err;
    auto t = io::LoopThread::start(options.loop, [&](io::Loop& loop) -> Status {
      WT_ASSIGN(auto cfg, make_endpoint_config(setup, wp->rng, &err));
      wp->app = std::make_unique<PerfServer>();
      WT_ASSIGN(wp->driver, net::QuicDriver::create(loop, cfg, *wp->app, d));
      return {};
    });
    if (!t.ok()) {
      if (error_message) *error_message = err.empty() ? std::string(t.error().detail) : err;
      return t.error();
    }
    wp->thread = std::move(t).value();
    if (i == 0) {
      // The first socket's real port is everyone's (port 0 picks one).
      bind = wp->driver->local_address();
      g->address_ = bind;
      g->gso_ = wp->driver->gso();
      g->gro_ = wp->driver->gro();
      g->backend_ = wp->thread->loop().backend_name();
    }
    g->workers_.push_back(std::move(w));
  }
  return g;
}

PerfServerGroup::~PerfServerGroup() {
  stop();
  // Loops are stopped and joined: drivers go first, on this thread, while
  // their loops still exist.
  for (auto& w : workers_) {
    w->driver.reset();
    w->app.reset();
    w->thread.reset();
  }
}

std::vector<PerfServerGroup::ThreadStats> PerfServerGroup::stats() {
  std::vector<ThreadStats> out;
  out.reserve(workers_.size());
  for (auto& w : workers_) {
    if (stopped_) {
      out.push_back(w->last);
      continue;
    }
    std::promise<ThreadStats> p;
    auto f = p.get_future();
    Worker* wp = w.get();
    wp->thread->loop().post([wp, &p] {
      p.set_value({wp->app->stats(), wp->driver->totals(), wp->thread->loop().stats()});
    });
    out.push_back(f.get());
  }
  return out;
}

void PerfServerGroup::stop() {
  if (stopped_) return;
  for (auto& w : workers_) w->thread->stop();
  for (auto& w : workers_) {
    w->thread->join();
    // Joined: this thread may read what the loop thread left.
    w->last = {w->app->stats(), w->driver->totals(), w->thread->loop().stats()};
  }
  stopped_ = true;
}

}  // namespace wt::perf
