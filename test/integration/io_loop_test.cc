// lib/io loop mechanics for every available back-end: timers (order,
// accuracy, sleeping without busy polling), handler deadlines, notify(),
// post() from other threads, SO_REUSEPORT across loop threads, socket
// removal inside callbacks, and back-end selection.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <random>
#include <string>
#include <thread>

#include "lib/io/loop_thread.h"
#include "lib/log.h"
#include "test/integration/io_test_support.h"

using namespace wt;
using namespace wt::io;
using namespace wt::io::test;
using namespace std::chrono_literals;

namespace {

LoopOptions options_for(BackendKind kind) {
  LoopOptions o;
  o.backend = kind;
  return o;
}

Duration thread_cpu() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

double ms(Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

TEST_CASE("io: 10,000 timers fire in deadline order, on time", "[io]") {
  auto kind = GENERATE(from_range(available_backends()));
  CAPTURE(backend_name(kind));
  auto loop = Loop::create(options_for(kind)).value();
  std::mt19937 rng(42);
  std::uniform_int_distribution<int64_t> spread(1'000'000, 300'000'000);  // 1..300 ms
  Time base = monotonic_now();
  struct Fire {
    Time deadline, at;
  };
  std::vector<Fire> fired;
  fired.reserve(10000);
  std::vector<TimerId> ids;
  for (int i = 0; i < 10000; ++i) {
    Time d = base + Duration(spread(rng));
    ids.push_back(loop->call_at(d, [&, d] { fired.push_back({d, loop->now()}); }));
  }
  // A cancelled timer and a moved one.
  bool cancelled_fired = false;
  loop->cancel(loop->call_at(base + 5ms, [&] { cancelled_fired = true; }));
  TimerId moved = loop->add_timer([&](Time now) { fired.push_back({base + 150ms, now}); });
  loop->set_deadline(moved, base + 10ms);
  loop->set_deadline(moved, base + 150ms);

  uint64_t it0 = loop->stats().iterations;
  REQUIRE(run_until(*loop, [&] { return fired.size() == 10001; }, 5s));
  REQUIRE_FALSE(cancelled_fired);
  Duration worst{0};
  std::vector<Duration> late;
  for (size_t i = 0; i < fired.size(); ++i) {
    if (i) REQUIRE(fired[i].deadline >= fired[i - 1].deadline);
    REQUIRE(fired[i].at >= fired[i].deadline);
    late.push_back(fired[i].at - fired[i].deadline);
    worst = std::max(worst, late.back());
  }
  std::sort(late.begin(), late.end());
  IO_REPORT(backend_name(kind) << ": timer lateness median " << ms(late[late.size() / 2])
                          << " ms, worst " << ms(worst) << " ms, iterations "
                          << loop->stats().iterations - it0);
  REQUIRE(late[late.size() / 2] < 5ms);  // a shared 2-core machine: generous
  REQUIRE(worst < 100ms);
  // Each iteration fires everything due: no more iterations than timers.
  REQUIRE(loop->stats().iterations - it0 <= 10001 + 10);
  loop->remove_timer(moved);
}

TEST_CASE("io: an idle loop sleeps until its one timer (no busy polling)", "[io]") {
  auto kind = GENERATE(from_range(available_backends()));
  CAPTURE(backend_name(kind));
  auto loop = Loop::create(options_for(kind)).value();
  // A socket too, so the back-end has I/O to watch.
  QueueHandler h;
  REQUIRE(loop->add_socket(UdpSocket::bind(addr("127.0.0.1:0")).value(), h));
  loop->run_once(0ns);
  bool fired = false;
  Time start = monotonic_now();
  loop->call_after(50ms, [&] { fired = true; });
  uint64_t it0 = loop->stats().iterations;
  Duration cpu0 = thread_cpu();
  while (!fired) loop->run_once();
  Duration cpu = thread_cpu() - cpu0;
  Duration elapsed = monotonic_now() - start;
  IO_REPORT(backend_name(kind) << ": slept " << ms(elapsed) << " ms using " << ms(cpu) << " ms CPU in "
                          << loop->stats().iterations - it0 << " iterations");
  REQUIRE(elapsed >= 50ms);
  REQUIRE(elapsed < 200ms);  // loose: a shared VM preempts; CPU and iterations are the point
  REQUIRE(loop->stats().iterations - it0 <= 3);
  REQUIRE(cpu < 5ms);
}

TEST_CASE("io: a handler's deadline drives on_deadline, re-read after callbacks", "[io]") {
  auto kind = GENERATE(from_range(available_backends()));
  CAPTURE(backend_name(kind));
  auto loop = Loop::create(options_for(kind)).value();
  QueueHandler h;
  std::vector<Time> calls;
  Time start = monotonic_now();
  h.deadline = start + 20ms;
  // Pacing-style: each deadline schedules the next, 10 ms later, 5 times.
  h.deadline_fn = [&](Time now) {
    calls.push_back(now);
    if (calls.size() < 5) h.deadline = now + 10ms;
  };
  auto id = loop->add_socket(UdpSocket::bind(addr("127.0.0.1:0")).value(), h);
  REQUIRE(id);
  Duration cpu0 = thread_cpu();
  run_until(*loop, [&] { return calls.size() >= 5; }, 2s);
  loop->run_once(30ms);  // no sixth call
  REQUIRE(calls.size() == 5);
  REQUIRE(calls[0] >= start + 20ms);
  for (size_t i = 1; i < calls.size(); ++i) REQUIRE(calls[i] - calls[i - 1] >= 10ms);
  REQUIRE(thread_cpu() - cpu0 < 10ms);

  // notify() makes the loop re-read a deadline changed outside callbacks.
  h.deadline_fn = [&](Time now) { calls.push_back(now); };
  h.deadline = monotonic_now() + 5ms;
  loop->notify(*id);
  REQUIRE(run_until(*loop, [&] { return calls.size() == 6; }, 1s));
}

TEST_CASE("io: notify() makes the loop ask a handler that had nothing to send", "[io]") {
  auto kind = GENERATE(from_range(available_backends()));
  CAPTURE(backend_name(kind));
  auto loop = Loop::create(options_for(kind)).value();
  QueueHandler server, client;
  auto ss = UdpSocket::bind(addr("127.0.0.1:0")).value();
  Address to = ss.local_address();
  REQUIRE(loop->add_socket(std::move(ss), server));
  auto cid = loop->add_socket(UdpSocket::bind(addr("127.0.0.1:0")).value(), client).value();
  loop->run_once(1ms);  // the client's on_send returns 0: the loop stops asking
  loop->call_after(5ms, [&] {
    client.out.push_back({payload(1, 50), to, {}, Ecn::not_ect, 0, 0});
    loop->notify(cid);
  });
  REQUIRE(run_until(*loop, [&] { return server.received.size() == 1; }, 1s));
  REQUIRE(server.received[0].data == payload(1, 50));
}

TEST_CASE("io: post() from other threads wakes the loop promptly, in order", "[io]") {
  auto kind = GENERATE(from_range(available_backends()));
  CAPTURE(backend_name(kind));
  auto t = LoopThread::start(options_for(kind), [](Loop&) { return Status{}; });
  REQUIRE(t);
  Loop& loop = (*t)->loop();
  std::vector<Duration> lat;
  for (int i = 0; i < 200; ++i) {
    std::promise<Time> ran;
    Time sent = monotonic_now();
    loop.post([&] { ran.set_value(monotonic_now()); });
    lat.push_back(ran.get_future().get() - sent);
    if (i % 20 == 0) std::this_thread::sleep_for(2ms);  // let the loop fall asleep
  }
  std::sort(lat.begin(), lat.end());
  IO_REPORT(backend_name(kind) << ": post latency median " << ms(lat[lat.size() / 2]) * 1e3
                          << " us, worst " << ms(lat.back()) << " ms");
  REQUIRE(lat[lat.size() / 2] < 5ms);
  REQUIRE(lat.back() < 100ms);

  // Four producers; each one's posts run in its order.
  std::vector<std::vector<int>> seen(4);  // touched only on the loop thread
  std::vector<std::thread> producers;
  for (int p = 0; p < 4; ++p)
    producers.emplace_back([&, p] {
      for (int i = 0; i < 2500; ++i) loop.post([&, p, i] { seen[p].push_back(i); });
    });
  for (auto& th : producers) th.join();
  std::promise<void> drained;
  loop.post([&] { drained.set_value(); });
  drained.get_future().get();
  (*t)->stop();
  (*t)->join();
  for (int p = 0; p < 4; ++p) {
    REQUIRE(seen[p].size() == 2500);
    REQUIRE(std::is_sorted(seen[p].begin(), seen[p].end()));
  }
}

TEST_CASE("io: SO_REUSEPORT spreads many client ports over two loop threads", "[io]") {
  auto kind = GENERATE(from_range(available_backends()));
  CAPTURE(backend_name(kind));
  SocketOptions so;
  so.reuse_port = true;
  QueueHandler servers[2];
  Address server_addr = addr("127.0.0.1:0");
  std::unique_ptr<LoopThread> threads[2];
  for (int i = 0; i < 2; ++i) {
    servers[i].echo = true;
    auto t = LoopThread::start(options_for(kind), [&, i](Loop& l) -> Status {
      auto s = UdpSocket::bind(server_addr, so);
      if (!s) return s.error();
      server_addr = s->local_address();  // the second thread binds the same port
      auto id = l.add_socket(std::move(s).value(), servers[i]);
      if (!id) return id.error();
      return {};
    });
    REQUIRE(t);
    threads[i] = std::move(t).value();
  }
  auto loop = Loop::create(options_for(kind)).value();
  std::vector<std::unique_ptr<QueueHandler>> clients;
  for (int c = 0; c < 64; ++c) {
    clients.push_back(std::make_unique<QueueHandler>());
    for (uint32_t k = 0; k < 4; ++k)
      clients.back()->out.push_back({payload(c * 4 + k, 200), server_addr, {}, Ecn::not_ect, 0, 0});
    REQUIRE(loop->add_socket(UdpSocket::bind(addr("127.0.0.1:0")).value(), *clients.back()));
  }
  REQUIRE(run_until(*loop, [&] {
    for (auto& c : clients)
      if (c->received.size() < 4) return false;
    return true;
  }));
  for (auto& t : threads) {
    t->stop();
    t->join();
  }
  size_t a = servers[0].received.size(), b = servers[1].received.size();
  IO_REPORT(backend_name(kind) << ": loop 0 got " << a << ", loop 1 got " << b);
  REQUIRE(a + b == 256);
  REQUIRE(a > 0);
  REQUIRE(b > 0);
  for (int c = 0; c < 64; ++c)
    for (uint32_t k = 0; k < 4; ++k)
      REQUIRE(clients[c]->received[k].data == payload(c * 4 + k, 200));
}

TEST_CASE("io: removing a socket inside on_receive stops its callbacks at once", "[io]") {
  auto kind = GENERATE(from_range(available_backends()));
  CAPTURE(backend_name(kind));
  auto loop = Loop::create(options_for(kind)).value();
  struct Quitter : QueueHandler {
    Loop* loop = nullptr;
    SocketId self;
    void on_receive(const DatagramBatchView& b, Time now) override {
      QueueHandler::on_receive(b, now);
      loop->remove_socket(self);
    }
  } server;
  QueueHandler client;
  auto ss = UdpSocket::bind(addr("127.0.0.1:0")).value();
  Address to = ss.local_address();
  server.loop = loop.get();
  server.self = loop->add_socket(std::move(ss), server).value();
  for (uint32_t i = 0; i < 20; ++i) client.out.push_back({payload(i, 100), to, {}, Ecn::not_ect, 0, 0});
  auto cid = loop->add_socket(UdpSocket::bind(addr("127.0.0.1:0")).value(), client).value();
  run_until(*loop, [&] { return !server.received.empty(); }, 1s);
  for (int i = 0; i < 5; ++i) loop->run_once(5ms);
  REQUIRE(server.batch_sizes.size() == 1);
  REQUIRE(server.receive_done_calls == 0);
  REQUIRE(loop->socket(server.self) == nullptr);
  // The slot is reused and works.
  QueueHandler again;
  again.echo = true;
  auto s2 = UdpSocket::bind(addr("127.0.0.1:0")).value();
  Address to2 = s2.local_address();
  auto id2 = loop->add_socket(std::move(s2), again);
  REQUIRE(id2);
  REQUIRE_FALSE(*id2 == server.self);
  client.out.push_back({payload(99, 100), to2, {}, Ecn::not_ect, 0, 0});
  loop->notify(cid);
  REQUIRE(run_until(*loop, [&] { return !client.received.empty(); }, 1s));
  REQUIRE(client.received[0].data == payload(99, 100));
}

namespace {

// Creates a loop with stderr captured; returns the loop and what was logged.
std::pair<Result<std::unique_ptr<Loop>>, std::string> create_logged(const LoopOptions& o) {
  log::Level old = log::level();
  log::set_level(log::Level::info);
  std::fflush(stderr);
  int saved = dup(2);
  FILE* tmp = std::tmpfile();
  dup2(fileno(tmp), 2);
  auto loop = Loop::create(o);
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  log::set_level(old);
  std::string text;
  std::rewind(tmp);
  char buf[512];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, tmp)) > 0) text.append(buf, n);
  std::fclose(tmp);
  return {std::move(loop), text};
}

}  // namespace

TEST_CASE("io: back-end selection by option and WT_IO_BACKEND, with one log line", "[io]") {
  const char* before = std::getenv("WT_IO_BACKEND");
  std::string saved = before ? before : "";
  bool have_uring = available_backends().size() == 2;

  setenv("WT_IO_BACKEND", "epoll", 1);
  {
    auto [loop, text] = create_logged({});
    REQUIRE(loop);
    REQUIRE((*loop)->backend() == BackendKind::epoll);
    REQUIRE(text.find("epoll back-end") != std::string::npos);
    REQUIRE(text.find("WT_IO_BACKEND") != std::string::npos);
    REQUIRE(std::count(text.begin(), text.end(), '\n') == 1);
  }
  if (have_uring) {
    // An explicit option wins over the environment.
    auto [loop, text] = create_logged(options_for(BackendKind::uring));
    REQUIRE(loop);
    REQUIRE((*loop)->backend() == BackendKind::uring);
    REQUIRE(text.find("io_uring back-end") != std::string::npos);
    setenv("WT_IO_BACKEND", "uring", 1);
    auto [loop2, text2] = create_logged({});
    REQUIRE((*loop2)->backend() == BackendKind::uring);
    REQUIRE(text2.find("io_uring") != std::string::npos);
  }
  unsetenv("WT_IO_BACKEND");
  {
    auto [loop, text] = create_logged({});
    REQUIRE(loop);
    REQUIRE((*loop)->backend() == (have_uring ? BackendKind::uring : BackendKind::epoll));
    REQUIRE(text.find((*loop)->backend_name()) != std::string::npos);
  }
  if (before) setenv("WT_IO_BACKEND", saved.c_str(), 1);
}

TEST_CASE("io: automatic selection falls back to epoll where io_uring is blocked", "[io]") {
  // A child process whose seccomp filter fails io_uring_setup with ENOSYS,
  // as container runtimes do.
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(std::size(filter)), filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(10);
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) _exit(11);
    unsetenv("WT_IO_BACKEND");
    auto [loop, text] = create_logged({});
    if (!loop || (*loop)->backend() != BackendKind::epoll) _exit(1);
    if (text.find("epoll back-end (io_uring unavailable") == std::string::npos) _exit(2);
    if (std::count(text.begin(), text.end(), '\n') != 1) _exit(3);
    // The loop works.
    QueueHandler a, b;
    auto sa = UdpSocket::bind(addr("127.0.0.1:0")).value();
    Address to = sa.local_address();
    (void)(*loop)->add_socket(std::move(sa), a);
    b.out.push_back({payload(5, 300), to, {}, Ecn::not_ect, 0, 0});
    (void)(*loop)->add_socket(UdpSocket::bind(addr("127.0.0.1:0")).value(), b);
    if (!run_until(**loop, [&] { return a.received.size() == 1; }, 2s)) _exit(4);
    // Asking for io_uring explicitly fails instead of falling back.
    log::set_level(log::Level::off);
    if (Loop::create(options_for(BackendKind::uring))) _exit(5);
    _exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
}

namespace {

// An IPv4 address of a non-loopback interface and an unused address on the
// same link: datagrams to it wait in the kernel's ARP queue, charged to the
// sender's buffer, for ~3 s until resolution fails.
std::optional<std::pair<Address, Address>> unresolvable_neighbour() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return std::nullopt;
  std::optional<std::pair<Address, Address>> found;
  for (ifaddrs* i = list; i && !found; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !i->ifa_netmask) continue;
    uint32_t ip = ntohl(reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr);
    uint32_t mask = ntohl(reinterpret_cast<sockaddr_in*>(i->ifa_netmask)->sin_addr.s_addr);
    if ((ip >> 24) == 127 || mask == 0xffffffff || (~mask) < 8) continue;
    uint32_t target = (ip & mask) | ((ip + 5) & ~mask);
    if (target == ip || (target & ~mask) == 0 || (target & ~mask) == ~mask) continue;
    found = {Address::v4(ip, 0), Address::v4(target, 9)};
  }
  freeifaddrs(list);
  return found;
}

}  // namespace

// Hidden (takes ~3 s per back-end and needs a non-loopback IPv4 link): run
// with `integration_tests "[io-eagain]"`.
TEST_CASE("io: a full send buffer stops on_send until the socket is writable", "[.][io-eagain]") {
  auto kind = GENERATE(from_range(available_backends()));
  CAPTURE(backend_name(kind));
  auto link = unresolvable_neighbour();
  if (!link) {
    WARN("no non-loopback IPv4 link: skipped");
    return;
  }
  auto loop = Loop::create(options_for(kind)).value();
  SocketOptions so;
  so.send_buffer = 4096;  // the kernel's minimum: a few datagrams
  auto sock = UdpSocket::bind(link->first, so);
  REQUIRE(sock);
  struct Counting : QueueHandler {
    size_t calls = 0;
    size_t on_send(SendBuffer& b, Time now) override {
      ++calls;
      return QueueHandler::on_send(b, now);
    }
  } h;
  for (uint32_t i = 0; i < 8; ++i) h.out.push_back({payload(i, 1200), link->second, {}, Ecn::not_ect, 0, 0});
  REQUIRE(loop->add_socket(std::move(sock).value(), h));
  loop->run_once(0ns);
  size_t calls_when_blocked = h.calls;
  Time start = monotonic_now();
  while (loop->stats().send_batches < 8 && monotonic_now() - start < 15s) loop->run_once(1s);
  REQUIRE(loop->stats().send_batches == 8);
  IO_REPORT(backend_name(kind) << ": resumed after " << ms(monotonic_now() - start) << " ms, "
                               << loop->stats().iterations << " iterations, " << h.calls
                               << " on_send calls, blocked " << loop->stats().send_blocked);
  REQUIRE(monotonic_now() - start > 1s);  // it really had to wait
  REQUIRE(loop->stats().iterations < 20);  // asleep while blocked
  REQUIRE(h.calls <= calls_when_blocked + 3);
  REQUIRE(loop->stats().send_errors == 0);
}
