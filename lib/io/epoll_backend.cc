// epoll back-end: level-triggered EPOLLIN per socket, recvmmsg with GRO
// buffers, sendmmsg of GSO messages, EPOLLOUT only while the kernel's send
// buffer is full, an eventfd for wake-ups.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
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

constexpr uint64_t kWakeTag = UINT64_MAX;

struct alignas(cmsghdr) RecvControl {
  uint8_t b[kRecvCmsgSpace];
};

class EpollBackend final : public Backend {
 public:
  EpollBackend(IoSink& sink, const LoopOptions& o) : sink_(sink), batch_(o.recv_buffers) {
    if (batch_ > 1024) batch_ = 1024;
    buf_size_ = o.recv_buffer_size;
    rounds_ = (o.recv_budget + batch_ - 1) / batch_;
    if (rounds_ < 1) rounds_ = 1;
    rx_data_ = std::make_unique_for_overwrite<uint8_t[]>(size_t{batch_} * buf_size_);
    rx_msgs_.resize(batch_);
    rx_iov_.resize(batch_);
    rx_names_.resize(batch_);
    rx_control_.resize(batch_);
    for (uint32_t i = 0; i < batch_; ++i) {
      rx_iov_[i] = {rx_data_.get() + size_t{i} * buf_size_, buf_size_};
      msghdr& m = rx_msgs_[i].msg_hdr;
      m.msg_name = &rx_names_[i];
      m.msg_iov = &rx_iov_[i];
      m.msg_iovlen = 1;
      m.msg_control = rx_control_[i].b;
    }
  }

  bool init(std::string& why) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ep_ < 0 || event_fd_ < 0) {
      why = std::string("epoll_create1/eventfd: ") + std::strerror(errno);
      return false;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kWakeTag;
    if (epoll_ctl(ep_, EPOLL_CTL_ADD, event_fd_, &ev) != 0) {
      why = std::string("epoll_ctl: ") + std::strerror(errno);
      return false;
    }
    return true;
  }

  ~EpollBackend() override {
    if (ep_ >= 0) close(ep_);
    if (event_fd_ >= 0) close(event_fd_);
  }

  BackendKind kind() const override { return BackendKind::epoll; }

  Status add(SocketState& s) override {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = s.id.index;
    if (epoll_ctl(ep_, EPOLL_CTL_ADD, s.sock.fd(), &ev) != 0) return sys_error("epoll_ctl(ADD)", errno);
    if (table_.size() <= s.id.index) table_.resize(s.id.index + 1, nullptr);
    table_[s.id.index] = &s;
    return {};
  }

  void remove(SocketState& s) override {
    epoll_ctl(ep_, EPOLL_CTL_DEL, s.sock.fd(), nullptr);
    table_[s.id.index] = nullptr;
  }
  void detach(SocketState&) override {}

  void wait(Duration timeout) override {
    epoll_event evs[64];
    int n;
    for (;;) {
      n = sleep(evs, 64, timeout);
      if (n >= 0 || errno != EINTR) break;
    }
    sink_.woke();
    for (int i = 0; i < n; ++i) {
      if (evs[i].data.u64 == kWakeTag) {
        uint64_t v;
        while (read(event_fd_, &v, sizeof v) > 0) {
        }
        continue;
      }
      uint64_t index = evs[i].data.u64;
      SocketState* s = index < table_.size() ? table_[index] : nullptr;
      if (!s || s->closing) continue;
      if ((evs[i].events & (EPOLLOUT | EPOLLERR)) && s->blocked) unblock(*s);
      if (evs[i].events & (EPOLLIN | EPOLLERR)) receive(*s);
    }
  }

  void flush(SocketState& s) override {
    if (s.blocked || s.send.queued() == 0) return;
    if (tx_.flush(s, sink_.stats()) == MmsgSender::Outcome::blocked) block(s);
  }

  void wake() override {
    uint64_t one = 1;
    ssize_t r = write(event_fd_, &one, sizeof one);
    (void)r;
  }

 private:
  int sleep(epoll_event* evs, int max, Duration timeout) {
    if (timeout == Duration::max()) return epoll_wait(ep_, evs, max, -1);
    if (pwait2_) {
      timespec ts{static_cast<time_t>(timeout.count() / 1000000000),
                  static_cast<long>(timeout.count() % 1000000000)};
      int n = epoll_pwait2(ep_, evs, max, &ts, nullptr);
      if (n >= 0 || errno != ENOSYS) return n;
      pwait2_ = false;  // kernel < 5.11: millisecond resolution, rounded up
    }
    int64_t ms = (timeout.count() + 999999) / 1000000;
    return epoll_wait(ep_, evs, max, ms > INT32_MAX ? INT32_MAX : static_cast<int>(ms));
  }

  void receive(SocketState& s) {
    for (uint32_t round = 0; round < rounds_; ++round) {
      // The loop's receive budget (level-triggered: the rest of the
      // socket's queue is reported again next iteration), in buffers of
      // as many datagrams as GRO coalesced lately.
      const size_t left = sink_.receive_budget();
      if (left == 0) return;
      const uint32_t vlen = static_cast<uint32_t>(std::clamp<size_t>(left / per_buffer_, 1, batch_));
      for (uint32_t i = 0; i < vlen; ++i) {
        msghdr& m = rx_msgs_[i].msg_hdr;
        m.msg_namelen = sizeof(sockaddr_storage);
        m.msg_controllen = kRecvCmsgSpace;
        m.msg_flags = 0;
      }
      int n = recvmmsg(s.sock.fd(), rx_msgs_.data(), vlen, 0, nullptr);
      size_t datagrams = 0;
      if (n <= 0) {
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
          log::debug("io: recvmmsg: {}", std::strerror(errno));
        return;
      }
      for (int i = 0; i < n; ++i) {
        msghdr& m = rx_msgs_[i].msg_hdr;
        if (m.msg_flags & MSG_TRUNC) {
          ++sink_.stats().recv_dropped;
          continue;
        }
        RecvMeta meta;
        parse_cmsgs(m, meta);
        DatagramBatchView v;
        v.data = MutBytes(static_cast<uint8_t*>(rx_iov_[i].iov_base), rx_msgs_[i].msg_len);
        v.segment_size = meta.segment_size ? meta.segment_size : v.data.size();
        v.peer = from_sockaddr(reinterpret_cast<sockaddr*>(&rx_names_[i]), m.msg_namelen);
        v.local = meta.local.valid() ? meta.local : s.sock.local_address();
        v.local.port = s.sock.local_address().port;
        v.ecn = meta.ecn;
        if (v.data.empty()) v.segment_size = 0;  // a zero-length datagram carries nothing
        datagrams += v.count();
        sink_.deliver(s, v);
        if (s.closing) return;
      }
      per_buffer_ = std::max<size_t>(1, datagrams / static_cast<size_t>(n));
      if (static_cast<uint32_t>(n) < vlen) return;
    }
  }

  void block(SocketState& s) {
    s.blocked = true;
    ++sink_.stats().send_blocked;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u64 = s.id.index;
    epoll_ctl(ep_, EPOLL_CTL_MOD, s.sock.fd(), &ev);
  }
  void unblock(SocketState& s) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = s.id.index;
    epoll_ctl(ep_, EPOLL_CTL_MOD, s.sock.fd(), &ev);
    sink_.writable(s);
  }

  IoSink& sink_;
  int ep_ = -1, event_fd_ = -1;
  bool pwait2_ = true;
  uint32_t batch_, buf_size_, rounds_;
  size_t per_buffer_ = 1;  // datagrams per received buffer in the last recvmmsg
  std::vector<SocketState*> table_;
  std::unique_ptr<uint8_t[]> rx_data_;
  std::vector<mmsghdr> rx_msgs_;
  std::vector<iovec> rx_iov_;
  std::vector<sockaddr_storage> rx_names_;
  std::vector<RecvControl> rx_control_;
  MmsgSender tx_;
};

}  // namespace

std::unique_ptr<Backend> make_epoll_backend(IoSink& sink, const LoopOptions& o, std::string& why) {
  auto b = std::make_unique<EpollBackend>(sink, o);
  if (!b->init(why)) return nullptr;
  return b;
}

}  // namespace wt::io
