// io_uring back-end: one multishot recvmsg per socket fed from a provided-
// buffer ring (each buffer holds a GRO batch plus its name and cmsgs), GSO
// sendmsg operations submitted as one linked chain per socket (so a chain
// keeps its order even when the kernel has to wait for buffer space), and a
// read on an eventfd for cross-thread wake-ups. Needs Linux >= 6.0.
#include <liburing.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "lib/io/backend.h"
#include "lib/io/cmsg.h"
#include "lib/io/mmsg_sender.h"
#include "lib/io/sockaddr.h"
#include "lib/log.h"

namespace wt::io {

namespace {

constexpr uint16_t kBufGroup = 1;
constexpr size_t kMaxChain = 128;
constexpr unsigned kSqEntries = 256;
constexpr unsigned kCqEntries = 4096;
enum Tag : uint64_t { kRecv = 1, kSend, kPollOut, kWake, kCancel };

uint64_t user_data(Tag t, uint32_t sock = 0, uint32_t entry = 0) {
  return (uint64_t{t} << 56) | (uint64_t{sock & 0xffffff} << 32) | entry;
}

bool kernel_at_least(int major, int minor) {
  utsname u;
  if (uname(&u) != 0) return false;
  int a = 0, b = 0;
  if (std::sscanf(u.release, "%d.%d", &a, &b) != 2) return false;
  return a > major || (a == major && b >= minor);
}

struct TxEntry {
  msghdr msg;
  iovec iov;
  sockaddr_storage name;
  alignas(cmsghdr) uint8_t control[kSendCmsgSpace];
  size_t batch, offset, len;
  int result;
  bool gso;
};

struct UringSock {
  bool recv_armed = false;
  uint32_t inflight = 0;      // sends of the current chain not yet completed
  std::vector<TxEntry> chain;  // reserved once: entries never move while in flight
};

struct Cqe {
  uint64_t user_data;
  int32_t res;
  uint32_t flags;
};

class UringBackend final : public Backend {
 public:
  UringBackend(IoSink& sink, const LoopOptions& o) : sink_(sink), opts_(o) {}

  bool init(std::string& why) {
    if (!kernel_at_least(6, 0)) {
      why = "kernel older than 6.0 (no multishot recvmsg)";
      return false;
    }
    io_uring_params p{};
    // COOP_TASKRUN: no IPIs to run completions; TASKRUN_FLAG tells liburing
    // when it must enter the kernel to see them.
    p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN |
              IORING_SETUP_TASKRUN_FLAG;
    p.cq_entries = kCqEntries;
    int r = io_uring_queue_init_params(kSqEntries, &ring_, &p);
    if (r == -EINVAL) {
      p = io_uring_params{};
      p.flags = IORING_SETUP_CQSIZE;
      p.cq_entries = kCqEntries;
      r = io_uring_queue_init_params(kSqEntries, &ring_, &p);
    }
    if (r < 0) {
      why = std::string("io_uring_queue_init: ") + std::strerror(-r);
      return false;
    }
    ring_ok_ = true;
    // A sandbox may allow setup but not io_uring_enter: prove a round trip.
    io_uring_prep_nop(io_uring_get_sqe(&ring_));
    io_uring_cqe* cqe = nullptr;
    r = io_uring_submit_and_wait(&ring_, 1);
    if (r < 0 || io_uring_peek_cqe(&ring_, &cqe) != 0) {
      why = std::string("io_uring_enter: ") + std::strerror(r < 0 ? -r : EIO);
      return false;
    }
    io_uring_cqe_seen(&ring_, cqe);

    nbufs_ = 1;
    while (nbufs_ < opts_.recv_buffers && nbufs_ < 32768) nbufs_ <<= 1;
    recv_tmpl_.msg_namelen = 32;  // >= sockaddr_in6, and keeps the cmsgs after it 8-byte aligned
    recv_tmpl_.msg_controllen = kRecvCmsgSpace;
    buf_size_ = sizeof(io_uring_recvmsg_out) + recv_tmpl_.msg_namelen + kRecvCmsgSpace +
                opts_.recv_buffer_size;
    buf_size_ = (buf_size_ + 63) & ~size_t{63};
    bufs_bytes_ = nbufs_ * buf_size_;
    ring_bytes_ = nbufs_ * sizeof(io_uring_buf);
    void* mem = mmap(nullptr, bufs_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    void* br = mmap(nullptr, ring_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED || br == MAP_FAILED) {
      why = "mmap of receive buffers failed";
      if (mem != MAP_FAILED) munmap(mem, bufs_bytes_);
      if (br != MAP_FAILED) munmap(br, ring_bytes_);
      return false;
    }
    bufs_ = static_cast<uint8_t*>(mem);
    br_ = static_cast<io_uring_buf_ring*>(br);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<uint64_t>(br_);
    reg.ring_entries = nbufs_;
    reg.bgid = kBufGroup;
    r = io_uring_register_buf_ring(&ring_, &reg, 0);
    if (r != 0) {
      why = std::string("io_uring_register_buf_ring: ") + std::strerror(-r);
      return false;
    }
    br_registered_ = true;
    io_uring_buf_ring_init(br_);
    mask_ = io_uring_buf_ring_mask(nbufs_);
    for (uint32_t i = 0; i < nbufs_; ++i)
      io_uring_buf_ring_add(br_, buffer(i), static_cast<unsigned>(buf_size_), static_cast<unsigned short>(i), mask_, static_cast<int>(i));
    io_uring_buf_ring_advance(br_, static_cast<int>(nbufs_));

    event_fd_ = eventfd(0, EFD_CLOEXEC);
    if (event_fd_ < 0) {
      why = std::string("eventfd: ") + std::strerror(errno);
      return false;
    }
    arm_wake();
    io_uring_submit(&ring_);
    return true;
  }

  ~UringBackend() override {
    if (ring_ok_) shutdown();
    if (bufs_) munmap(bufs_, bufs_bytes_);
    if (br_) munmap(br_, ring_bytes_);
    if (event_fd_ >= 0) close(event_fd_);
  }

  BackendKind kind() const override { return BackendKind::uring; }

  Status add(SocketState& s) override {
    uint32_t i = s.id.index;
    if (i > 0xffffff) return sys_error("io_uring: too many sockets", EMFILE);
    if (table_.size() <= i) {
      table_.resize(i + 1, nullptr);
      socks_.resize(i + 1);
    }
    table_[i] = &s;
    socks_[i].chain.reserve(kMaxChain);
    arm_recv(s);
    return {};
  }

  void remove(SocketState& s) override {
    // Ends the multishot receive, queued sends and a pending POLLOUT; each
    // completes (-ECANCELED) and drops s.outstanding.
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_cancel_fd(sqe, s.sock.fd(), IORING_ASYNC_CANCEL_ALL);
    io_uring_sqe_set_data64(sqe, user_data(kCancel));
    io_uring_submit(&ring_);
  }

  void detach(SocketState& s) override {
    table_[s.id.index] = nullptr;
    socks_[s.id.index].chain.clear();
    socks_[s.id.index].inflight = 0;
    socks_[s.id.index].recv_armed = false;
  }

  void wait(Duration timeout) override {
    if (!stash_.empty()) timeout = Duration::zero();
    if (timeout == Duration::zero()) {
      io_uring_submit_and_get_events(&ring_);  // also runs pending completion work
    } else if (timeout == Duration::max()) {
      io_uring_submit_and_wait(&ring_, 1);
    } else {
      __kernel_timespec ts{timeout.count() / 1000000000, timeout.count() % 1000000000};
      io_uring_cqe* cqe = nullptr;
      io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
    }
    sink_.woke();
    if (!stash_.empty()) {
      stash_run_.swap(stash_);
      for (const Cqe& c : stash_run_) handle(c);
      stash_run_.clear();
      recycle_done();
    }
    drain(kCqEntries);
    rearm();
  }

  void flush(SocketState& s) override {
    UringSock& us = socks_[s.id.index];
    SendBuffer& sb = s.send;
    if (us.inflight > 0 || s.blocked || sb.queued() == 0) return;
    // Without GSO every datagram is its own sendmsg, and a linked chain
    // pays a task-work round trip per link: sendmmsg is cheaper there.
    if (!s.sock.gso()) {
      if (mmsg_.flush(s, sink_.stats()) == MmsgSender::Outcome::blocked) wait_writable(s);
      return;
    }
    us.chain.clear();
    size_t bi = 0, off = sb.head_offset();
    while (bi < sb.queued() && us.chain.size() < kMaxChain) {
      const SendBuffer::Batch& b = sb.batch(bi);
      SendBuffer::Message m = SendBuffer::next_message(b, off, s.sock.gso());
      TxEntry& e = us.chain.emplace_back();
      fill(s, e, b, off, m);
      e.batch = bi;
      e.offset = off;
      e.len = m.len;
      off += m.len;
      if (off >= b.bytes) ++bi, off = 0;
    }
    if (io_uring_sq_space_left(&ring_) < us.chain.size()) io_uring_submit(&ring_);
    uint32_t n = static_cast<uint32_t>(us.chain.size());
    for (uint32_t i = 0; i < n; ++i) {
      io_uring_sqe* sqe = get_sqe();
      io_uring_prep_sendmsg(sqe, s.sock.fd(), &us.chain[i].msg, 0);
      if (i + 1 < n) sqe->flags |= IOSQE_IO_LINK;
      io_uring_sqe_set_data64(sqe, user_data(kSend, s.id.index, i));
    }
    us.inflight = n;
    s.outstanding += n;
    s.blocked = true;  // until the chain completes, usually inside this submit
    io_uring_submit(&ring_);
    ++sink_.stats().send_syscalls;
    // Sends complete inline in the common case: free their slots now. Other
    // completions wait for the next wait().
    reap_sends();
  }

  bool has_pending() const override {
    return !stash_.empty() || io_uring_cq_ready(&ring_) > 0;
  }

  void wake() override {
    uint64_t one = 1;
    ssize_t r = write(event_fd_, &one, sizeof one);
    (void)r;
  }

 private:
  uint8_t* buffer(uint32_t bid) { return bufs_ + size_t{bid} * buf_size_; }

  io_uring_sqe* get_sqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    while (!sqe) {
      io_uring_submit(&ring_);
      sqe = io_uring_get_sqe(&ring_);
    }
    return sqe;
  }

  void arm_recv(SocketState& s) {
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_recvmsg_multishot(sqe, s.sock.fd(), &recv_tmpl_, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = kBufGroup;
    io_uring_sqe_set_data64(sqe, user_data(kRecv, s.id.index));
    socks_[s.id.index].recv_armed = true;
    ++s.outstanding;
  }

  void arm_wake() {
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_read(sqe, event_fd_, &wake_buf_, sizeof wake_buf_, 0);
    io_uring_sqe_set_data64(sqe, user_data(kWake));
    wake_armed_ = true;
  }

  void rearm() {
    for (uint32_t i : rearm_) {
      SocketState* s = i < table_.size() ? table_[i] : nullptr;
      if (s && !s->closing && !socks_[i].recv_armed) arm_recv(*s);
    }
    rearm_.clear();
  }

  // Reads and handles up to `limit` completions; stops early once the
  // loop's receive budget is used up (see handle()).
  void drain(size_t limit) {
    size_t seen = 0;
    while (seen < limit && sink_.receive_budget() > 0) {
      io_uring_cqe* cqes[64];
      unsigned n = io_uring_peek_batch_cqe(&ring_, cqes, 64);
      if (n == 0) break;
      Cqe local[64];
      for (unsigned i = 0; i < n; ++i) local[i] = {cqes[i]->user_data, cqes[i]->res, cqes[i]->flags};
      io_uring_cq_advance(&ring_, n);
      for (unsigned i = 0; i < n; ++i) handle(local[i]);
      recycle_done();
      seen += n;
    }
  }

  void reap_sends() {
    for (;;) {
      io_uring_cqe* cqes[64];
      unsigned n = io_uring_peek_batch_cqe(&ring_, cqes, 64);
      if (n == 0) return;
      Cqe local[64];
      for (unsigned i = 0; i < n; ++i) local[i] = {cqes[i]->user_data, cqes[i]->res, cqes[i]->flags};
      io_uring_cq_advance(&ring_, n);
      for (unsigned i = 0; i < n; ++i) {
        if ((local[i].user_data >> 56) == kSend) handle(local[i]);
        else stash_.push_back(local[i]);
      }
    }
  }

  void handle(const Cqe& c) {
    auto tag = static_cast<Tag>(c.user_data >> 56);
    uint32_t index = static_cast<uint32_t>(c.user_data >> 32) & 0xffffff;
    SocketState* s = tag != kWake && tag != kCancel && index < table_.size() ? table_[index] : nullptr;
    switch (tag) {
      case kWake:
        wake_armed_ = false;
        if (!shutting_down_) arm_wake();
        return;
      case kCancel: return;
      case kRecv:
        // Over this iteration's receive budget: the next iteration (which
        // does not sleep while the stash is full) takes it.
        if (s && !shutting_down_ && (c.flags & IORING_CQE_F_BUFFER) && sink_.receive_budget() == 0) {
          stash_.push_back(c);
          return;
        }
        if (s) on_recv(*s, c);
        return;
      case kSend:
        if (s) on_send(*s, static_cast<uint32_t>(c.user_data), c.res);
        return;
      case kPollOut:
        if (!s) return;
        --s->outstanding;
        if (!s->closing) sink_.writable(*s);
        return;
    }
  }

  void on_recv(SocketState& s, const Cqe& c) {
    if (!(c.flags & IORING_CQE_F_MORE)) {
      --s.outstanding;
      socks_[s.id.index].recv_armed = false;
      if (!s.closing) rearm_.push_back(s.id.index);
    }
    if (c.flags & IORING_CQE_F_BUFFER) {
      uint32_t bid = c.flags >> IORING_CQE_BUFFER_SHIFT;
      if (c.res >= 0 && !s.closing) deliver(s, buffer(bid), c.res);
      io_uring_buf_ring_add(br_, buffer(bid), static_cast<unsigned>(buf_size_), static_cast<unsigned short>(bid), mask_, returned_++);
    } else if (c.res < 0 && c.res != -ENOBUFS && c.res != -ECANCELED) {
      log::debug("io: multishot recvmsg: {}", std::strerror(-c.res));
    }
  }

  void recycle_done() {
    if (returned_) io_uring_buf_ring_advance(br_, returned_);
    returned_ = 0;
  }

  void deliver(SocketState& s, uint8_t* buf, int len) {
    io_uring_recvmsg_out* o = io_uring_recvmsg_validate(buf, len, &recv_tmpl_);
    if (!o || (o->flags & MSG_TRUNC)) {
      ++sink_.stats().recv_dropped;
      return;
    }
    RecvMeta meta;
    for (cmsghdr* c = io_uring_recvmsg_cmsg_firsthdr(o, &recv_tmpl_); c;
         c = io_uring_recvmsg_cmsg_nexthdr(o, &recv_tmpl_, c))
      parse_cmsg(c, meta);
    DatagramBatchView v;
    auto* payload = static_cast<uint8_t*>(io_uring_recvmsg_payload(o, &recv_tmpl_));
    v.data = MutBytes(payload, io_uring_recvmsg_payload_length(o, len, &recv_tmpl_));
    v.segment_size = meta.segment_size ? meta.segment_size : v.data.size();
    v.peer = from_sockaddr(static_cast<sockaddr*>(io_uring_recvmsg_name(o)),
                           o->namelen < recv_tmpl_.msg_namelen ? o->namelen : recv_tmpl_.msg_namelen);
    v.local = meta.local.valid() ? meta.local : s.sock.local_address();
    v.local.port = s.sock.local_address().port;
    v.ecn = meta.ecn;
    sink_.deliver(s, v);
  }

  void fill(SocketState& s, TxEntry& e, const SendBuffer::Batch& b, size_t off,
            const SendBuffer::Message& m) {
    fill_send_msghdr(e.msg, e.name, e.iov, e.control, s, b, off, m);
    e.gso = m.segment != 0;
    e.result = 0;
  }

  void on_send(SocketState& s, uint32_t entry, int res) {
    UringSock& us = socks_[s.id.index];
    if (entry < us.chain.size()) us.chain[entry].result = res;
    --s.outstanding;
    if (us.inflight > 0 && --us.inflight == 0) complete_chain(s, us);
  }

  void complete_chain(SocketState& s, UringSock& us) {
    LoopStats& st = sink_.stats();
    size_t resend = us.chain.size();
    bool poll = false;
    for (size_t i = 0; i < us.chain.size(); ++i) {
      int r = us.chain[i].result;
      if (r >= 0) {
        ++st.send_calls;
        continue;
      }
      if (r == -EAGAIN || r == -ECANCELED) {  // ECANCELED: the link broke before it
        resend = i;
        poll = r == -EAGAIN;
        break;
      }
      if (r == -EIO && us.chain[i].gso && s.sock.gso()) {
        log::warn("io: GSO send failed ({}); disabling GSO on this socket", std::strerror(-r));
        s.sock.disable_gso();
        resend = i;
        break;
      }
      log::debug("io: sendmsg: {}", std::strerror(-r));
      ++st.send_errors;
    }
    if (s.closing) {
      us.chain.clear();
      return;
    }
    size_t done, offset;
    if (resend < us.chain.size()) {
      done = us.chain[resend].batch;
      offset = us.chain[resend].offset;
    } else {
      const TxEntry& last = us.chain.back();
      offset = last.offset + last.len;
      done = last.batch;
      if (offset >= s.send.batch(done).bytes) ++done, offset = 0;
    }
    st.send_batches += done;
    s.send.advance(done, offset);
    us.chain.clear();
    if (poll) wait_writable(s);
    else sink_.writable(s);
  }

  // The kernel's send buffer is full: blocked until POLLOUT.
  void wait_writable(SocketState& s) {
    s.blocked = true;
    ++sink_.stats().send_blocked;
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_poll_add(sqe, s.sock.fd(), POLLOUT);
    io_uring_sqe_set_data64(sqe, user_data(kPollOut, s.id.index));
    ++s.outstanding;
  }

  void shutdown() {
    shutting_down_ = true;
    bool busy = false;
    for (SocketState* s : table_) {
      if (s && s->outstanding) {
        busy = true;
        if (!s->closing) remove(*s);
      }
    }
    if (wake_armed_) {
      io_uring_sqe* sqe = get_sqe();
      io_uring_prep_cancel64(sqe, user_data(kWake), 0);
      io_uring_sqe_set_data64(sqe, user_data(kCancel));
      busy = true;
    }
    for (int round = 0; busy && round < 100; ++round) {
      __kernel_timespec ts{0, 10000000};
      io_uring_cqe* cqe = nullptr;
      io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
      stash_run_.swap(stash_);
      for (const Cqe& c : stash_run_) handle(c);
      stash_run_.clear();
      drain(kCqEntries);
      busy = wake_armed_;
      for (SocketState* s : table_)
        if (s && s->outstanding) busy = true;
    }
    if (br_registered_) io_uring_unregister_buf_ring(&ring_, kBufGroup);
    io_uring_queue_exit(&ring_);
  }

  IoSink& sink_;
  LoopOptions opts_;
  io_uring ring_{};
  bool ring_ok_ = false, br_registered_ = false, wake_armed_ = false, shutting_down_ = false;
  io_uring_buf_ring* br_ = nullptr;
  uint8_t* bufs_ = nullptr;
  size_t bufs_bytes_ = 0, ring_bytes_ = 0, buf_size_ = 0;
  uint32_t nbufs_ = 0;
  int mask_ = 0;
  int returned_ = 0;
  msghdr recv_tmpl_{};
  int event_fd_ = -1;
  uint64_t wake_buf_ = 0;
  std::vector<SocketState*> table_;
  std::vector<UringSock> socks_;
  std::vector<uint32_t> rearm_;
  std::vector<Cqe> stash_, stash_run_;
  MmsgSender mmsg_;
};

}  // namespace

std::unique_ptr<Backend> make_uring_backend(IoSink& sink, const LoopOptions& o, std::string& why) {
  auto b = std::make_unique<UringBackend>(sink, o);
  if (!b->init(why)) return nullptr;
  return b;
}

}  // namespace wt::io
