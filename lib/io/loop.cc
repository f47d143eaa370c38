#include "lib/io/loop.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "lib/io/backend.h"
#include "lib/log.h"

namespace wt::io {

const char* backend_name(BackendKind k) {
  switch (k) {
    case BackendKind::uring: return "io_uring";
    case BackendKind::epoll: return "epoll";
    default: return "automatic";
  }
}

class LoopSink final : public IoSink {
 public:
  explicit LoopSink(Loop& l) : loop_(l) {}
  void woke() override { loop_.now_ = monotonic_now(); }
  void deliver(SocketState& s, const DatagramBatchView& b) override { loop_.deliver(s, b); }
  void writable(SocketState& s) override { loop_.writable(s); }
  LoopStats& stats() override { return loop_.stats_; }
  size_t receive_budget() const override {
    const size_t limit = loop_.opts_.recv_datagram_budget;
    if (limit == 0) return SIZE_MAX;
    return loop_.rx_datagrams_ < limit ? limit - loop_.rx_datagrams_ : 0;
  }

 private:
  Loop& loop_;
};

Loop::Loop(const Options& o) : opts_(o), sink_(std::make_unique<LoopSink>(*this)) {
  now_ = monotonic_now();
}

Result<std::unique_ptr<Loop>> Loop::create(const Options& options) {
  Options o = options;
  if (o.recv_buffers < 1) o.recv_buffers = 1;
  if (o.send_slots < 1) o.send_slots = 1;
  if (o.send_slot_size < 1500) o.send_slot_size = 1500;
  if (o.send_budget < 1) o.send_budget = 1;
  BackendKind want = o.backend;
  const char* source = want == BackendKind::automatic ? "automatic" : "selected by option";
  if (want == BackendKind::automatic) {
    const char* env = std::getenv("WT_IO_BACKEND");
    std::string e = env ? env : "";
    if (e == "epoll") want = BackendKind::epoll;
    if (e == "uring" || e == "io_uring") want = BackendKind::uring;
    if (want != BackendKind::automatic) source = "selected by WT_IO_BACKEND";
  }
  std::unique_ptr<Loop> loop(new Loop(o));
  std::string why;
  if (want != BackendKind::epoll) {
    loop->backend_ = make_uring_backend(*loop->sink_, o, why);
    if (!loop->backend_ && want == BackendKind::uring) {
      log::error("io: io_uring back-end {} but unavailable: {}", source, why);
      return sys_error("io_uring unavailable", ENOSYS);
    }
    if (loop->backend_) log::info("io: using io_uring back-end ({})", source);
  }
  if (!loop->backend_) {
    std::string why_epoll;
    loop->backend_ = make_epoll_backend(*loop->sink_, o, why_epoll);
    if (!loop->backend_) {
      log::error("io: epoll back-end failed: {}", why_epoll);
      return sys_error("epoll unavailable", ENOSYS);
    }
    if (want == BackendKind::epoll)
      log::info("io: using epoll back-end ({})", source);
    else
      log::info("io: using epoll back-end (io_uring unavailable: {})", why);
  }
  return loop;
}

Loop::~Loop() {
  for (auto& s : sockets_)
    if (s && !s->closing) remove_socket(s->id);
  // Back-ends drain their in-flight operations on destruction.
  backend_.reset();
}

BackendKind Loop::backend() const { return backend_->kind(); }

SocketState* Loop::find(SocketId id) {
  if (id.index >= sockets_.size()) return nullptr;
  SocketState* s = sockets_[id.index].get();
  return s && s->id == id && !s->closing ? s : nullptr;
}

UdpSocket* Loop::socket(SocketId id) {
  SocketState* s = find(id);
  return s ? &s->sock : nullptr;
}

Result<SocketId> Loop::add_socket(UdpSocket socket, UdpHandler& handler) {
  if (!socket.valid()) return sys_error("add_socket: closed socket", EBADF);
  uint32_t index;
  if (!free_sockets_.empty()) {
    index = free_sockets_.back();
    free_sockets_.pop_back();
  } else {
    index = static_cast<uint32_t>(sockets_.size());
    sockets_.emplace_back();
  }
  SocketId id{index, ++next_gen_};
  auto st = std::make_unique<SocketState>(id, std::move(socket), handler, opts_.send_slots,
                                          opts_.send_slot_size);
  SocketState* s = st.get();
  sockets_[index] = std::move(st);
  Status added = backend_->add(*s);
  if (!added) {
    sockets_[index].reset();
    free_sockets_.push_back(index);
    return added.error();
  }
  s->deadline_timer = timers_.add([this, id](Time now) {
    SocketState* st = find(id);
    if (!st) return;
    now_ = now;
    st->handler->on_deadline(now);
    st->send_pending = true;
    mark_dirty(*st);
  });
  mark_dirty(*s);
  return id;
}

void Loop::remove_socket(SocketId id) {
  SocketState* s = find(id);
  if (!s) return;
  s->closing = true;
  timers_.remove(s->deadline_timer);
  backend_->remove(*s);
  closing_.push_back(id.index);
  if (!in_iteration_) reap_closed();
}

void Loop::reap_closed() {
  for (size_t i = 0; i < closing_.size();) {
    uint32_t index = closing_[i];
    SocketState* s = sockets_[index].get();
    if (s && s->outstanding > 0) {
      ++i;
      continue;
    }
    if (s) {
      backend_->detach(*s);
      sockets_[index].reset();
      free_sockets_.push_back(index);
    }
    closing_[i] = closing_.back();
    closing_.pop_back();
  }
}

void Loop::notify(SocketId id) {
  if (SocketState* s = find(id)) {
    s->send_pending = true;
    mark_dirty(*s);
  }
}

void Loop::mark_dirty(SocketState& s) {
  if (s.dirty) return;
  s.dirty = true;
  dirty_.push_back(s.id.index);
}

void Loop::deliver(SocketState& s, const DatagramBatchView& b) {
  if (s.closing) return;
  ++stats_.recv_batches;
  stats_.recv_datagrams += b.count();
  rx_datagrams_ += b.count();
  s.handler->on_receive(b, now_);
  if (!s.received) {
    s.received = true;
    received_.push_back(s.id.index);
  }
}

void Loop::writable(SocketState& s) {
  s.blocked = false;
  // During do_send (sends that completed inside a flush) the send loop just
  // carries on; otherwise the next iteration resumes sending.
  if (!s.closing && !s.in_send) mark_dirty(s);
}

void Loop::finish_receives() {
  // Only deliver() appends to received_; iterate by index all the same.
  for (size_t i = 0; i < received_.size(); ++i) {
    SocketState* s = sockets_[received_[i]].get();
    if (!s || !s->received) continue;
    s->received = false;
    if (s->closing) continue;
    s->handler->on_receive_done(now_);
    s->send_pending = true;
    mark_dirty(*s);
  }
  received_.clear();
}

TimerId Loop::add_timer(std::function<void(Time)> callback) {
  return timers_.add(std::move(callback));
}
void Loop::set_deadline(TimerId id, Time deadline) { timers_.set(id, deadline); }
void Loop::remove_timer(TimerId id) { timers_.remove(id); }

TimerId Loop::call_at(Time t, std::function<void()> callback) {
  TimerId id = timers_.add([cb = std::move(callback)](Time) { cb(); }, /*oneshot=*/true);
  timers_.set(id, t);
  return id;
}

void Loop::post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(post_mu_);
    posted_.push_back(std::move(fn));
  }
  if (!wake_pending_.exchange(true, std::memory_order_acq_rel)) backend_->wake();
}

void Loop::defer(std::function<void()> fn) { deferred_.push_back(std::move(fn)); }

void Loop::stop() {
  stop_.store(true, std::memory_order_release);
  backend_->wake();
}

void Loop::run_posted() {
  // Cleared before taking the queue: a post after this point wakes us again.
  wake_pending_.store(false, std::memory_order_release);
  {
    std::lock_guard<std::mutex> lock(post_mu_);
    if (posted_.empty()) return;
    posted_run_.swap(posted_);
  }
  for (auto& fn : posted_run_) fn();
  posted_run_.clear();
}

void Loop::run_deferred() {
  if (deferred_.empty()) return;
  deferred_run_.swap(deferred_);
  for (auto& fn : deferred_run_) fn();
  deferred_run_.clear();
}

Duration Loop::compute_timeout(Duration max_wait) const {
  if (!deferred_.empty() || !dirty_.empty() || backend_->has_pending()) return Duration::zero();
  Time next = timers_.next();
  if (next == kTimeInfinite) return max_wait;
  Duration d = next - monotonic_now();
  if (d < Duration::zero()) return Duration::zero();
  return d < max_wait ? d : max_wait;
}

void Loop::do_send(SocketState& s) {
  s.in_send = true;
  uint32_t budget = opts_.send_budget;
  while (s.send_pending && budget > 0 && !s.closing && !s.blocked) {
    if (!s.send.has_space()) {
      backend_->flush(s);
      if (!s.send.has_space()) break;  // the kernel is busy; writable() brings us back
    }
    size_t n = s.handler->on_send(s.send, now_);
    if (n == 0) s.send_pending = false;
    budget -= n < budget ? static_cast<uint32_t>(n) : budget;
  }
  if (!s.closing && !s.blocked && s.send.queued()) backend_->flush(s);
  s.in_send = false;
}

void Loop::process_dirty() {
  // Callbacks below may mark more sockets dirty; those are handled in the
  // next iteration (without sleeping).
  dirty_next_.swap(dirty_);
  for (uint32_t index : dirty_next_) {
    SocketState* s = sockets_[index].get();
    if (!s) continue;
    s->dirty = false;
    if (s->closing) continue;
    do_send(*s);
    if (s->closing) continue;
    timers_.set(s->deadline_timer, s->handler->next_deadline());
    // Budget used up with more to send: come back without sleeping.
    if (s->send_pending && !s->blocked) mark_dirty(*s);
  }
  dirty_next_.clear();
}

bool Loop::run_once(Duration max_wait) {
  if (stopped()) return false;
  in_iteration_ = true;
  ++stats_.iterations;
  rx_datagrams_ = 0;
  backend_->wait(compute_timeout(max_wait));
  now_ = monotonic_now();
  finish_receives();
  run_posted();
  run_deferred();
  now_ = monotonic_now();
  stats_.timers_fired += timers_.run_due(now_);
  process_dirty();
  in_iteration_ = false;
  if (!closing_.empty()) reap_closed();
  return !stopped();
}

void Loop::run() {
  while (run_once()) {
  }
}

}  // namespace wt::io
