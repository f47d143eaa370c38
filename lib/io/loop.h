// The UDP event loop: one per thread, shared-nothing. It owns sockets,
// batches their I/O (io_uring with multishot recvmsg + provided buffers, or
// epoll + recvmmsg/sendmmsg; GRO/GSO, ECN and pktinfo on both), runs timers
// and callbacks posted from other threads, and sleeps until the earliest of
// I/O, a deadline or a wake-up — it never busy-polls.
//
//   auto loop = wt::io::Loop::create().value();
//   auto sock = wt::io::UdpSocket::bind(addr).value();
//   MyHandler h;                               // implements UdpHandler
//   auto id = loop->add_socket(std::move(sock), h).value();
//   loop->run();                               // until stop()
//
// Everything except post() and stop() must be called on the loop's thread
// (from its callbacks, or before run()).
//
// One iteration: sleep -> receives (on_receive..., on_receive_done) -> posted
// and deferred callbacks -> due timers (including handlers' on_deadline) ->
// sends (on_send until 0, the budget, or the kernel pushes back) -> each
// touched handler's next_deadline() re-read.
//
// For a coroutine layer: call_at/defer/post and the handler callbacks all run
// on the loop thread, so an awaitable can resume its coroutine from them
// directly (see sleep_until below).
#pragma once
#include <atomic>
#include <coroutine>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "lib/io/clock.h"
#include "lib/io/handler.h"
#include "lib/io/loop_options.h"
#include "lib/io/timer_queue.h"
#include "lib/io/udp_socket.h"
#include "lib/result.h"

namespace wt::io {

class Backend;
struct SocketState;
class LoopSink;

class Loop {
 public:
  using Options = LoopOptions;
  static Result<std::unique_ptr<Loop>> create(const Options& options = {});
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  BackendKind backend() const;
  const char* backend_name() const { return io::backend_name(backend()); }

  // ---- sockets
  // The loop takes the socket; `handler` must outlive the registration.
  Result<SocketId> add_socket(UdpSocket socket, UdpHandler& handler);
  // Stops I/O and callbacks at once (safe inside callbacks); the fd closes
  // when the kernel has let go of it.
  void remove_socket(SocketId id);
  UdpSocket* socket(SocketId id);
  // The handler has new work (data to send, a changed deadline), e.g. after
  // the application wrote to a stream: before the loop next sleeps it calls
  // on_send and re-reads next_deadline(). Cheap and coalesced.
  void notify(SocketId id);

  // ---- timers: one deadline per timer, O(log n), fine for 100k
  TimerId add_timer(std::function<void(Time now)> callback);
  void set_deadline(TimerId id, Time deadline);  // kTimeInfinite disarms
  void remove_timer(TimerId id);                 // also from its own callback
  // One-shot timers; cancel() with the id before they fire.
  TimerId call_at(Time t, std::function<void()> callback);
  TimerId call_after(Duration d, std::function<void()> callback) {
    return call_at(monotonic_now() + d, std::move(callback));
  }
  void cancel(TimerId id) { remove_timer(id); }

  // ---- callbacks
  // Any thread: run `fn` on the loop thread soon (eventfd wake-up).
  void post(std::function<void()> fn);
  // Loop thread: run `fn` in this iteration, before the loop sleeps.
  void defer(std::function<void()> fn);

  // ---- running
  void run();  // until stop()
  // One iteration, sleeping at most max_wait. False once stopped.
  bool run_once(Duration max_wait = Duration::max());
  void stop();  // any thread; run() returns after the current iteration
  bool stopped() const { return stop_.load(std::memory_order_acquire); }
  // The clock read after the last wake-up (what callbacks receive as `now`).
  Time now() const { return now_; }
  const LoopStats& stats() const { return stats_; }  // loop thread only

  // ---- awaitables (resumed on the loop thread)
  struct SleepAwaitable {
    Loop* loop;
    Time deadline;
    bool await_ready() const { return deadline <= monotonic_now(); }
    void await_suspend(std::coroutine_handle<> h) const {
      loop->call_at(deadline, [h] { h.resume(); });
    }
    void await_resume() const {}
  };
  SleepAwaitable sleep_until(Time t) { return {this, t}; }
  SleepAwaitable sleep_for(Duration d) { return {this, monotonic_now() + d}; }
  // co_await loop.yield(): resume later in this iteration, after others.
  struct YieldAwaitable {
    Loop* loop;
    bool await_ready() const { return false; }
    void await_suspend(std::coroutine_handle<> h) const { loop->defer([h] { h.resume(); }); }
    void await_resume() const {}
  };
  YieldAwaitable yield() { return {this}; }

 private:
  friend class LoopSink;
  explicit Loop(const Options& o);
  SocketState* find(SocketId id);
  void mark_dirty(SocketState& s);
  void deliver(SocketState& s, const DatagramBatchView& batch);
  void writable(SocketState& s);
  void finish_receives();
  void run_posted();
  void run_deferred();
  void do_send(SocketState& s);
  void process_dirty();
  void reap_closed();
  Duration compute_timeout(Duration max_wait) const;

  Options opts_;
  std::unique_ptr<LoopSink> sink_;
  std::unique_ptr<Backend> backend_;
  TimerQueue timers_;
  std::vector<std::unique_ptr<SocketState>> sockets_;
  std::vector<uint32_t> free_sockets_;
  std::vector<uint32_t> dirty_, dirty_next_, received_, closing_;
  std::vector<std::function<void()>> deferred_, deferred_run_;
  std::mutex post_mu_;
  std::vector<std::function<void()>> posted_, posted_run_;
  std::atomic<bool> wake_pending_{false};
  std::atomic<bool> stop_{false};
  bool in_iteration_ = false;
  uint32_t next_gen_ = 0;
  Time now_{};
  size_t rx_datagrams_ = 0;  // delivered in this iteration (recv_datagram_budget)
  LoopStats stats_;
};

}  // namespace wt::io
