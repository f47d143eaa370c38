#include "lib/io/udp_socket.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "lib/io/cmsg.h"
#include "lib/io/sockaddr.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

namespace wt::io {

Error sys_error(const char* what, int err) { return Error::app(static_cast<uint64_t>(err), what); }

UdpSocket& UdpSocket::operator=(UdpSocket&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = o.fd_;
    family_ = o.family_;
    local_ = o.local_;
    wildcard_ = o.wildcard_;
    gso_ = o.gso_;
    gro_ = o.gro_;
    o.fd_ = -1;
  }
  return *this;
}

void UdpSocket::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

int UdpSocket::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

Status UdpSocket::set_option(int level, int name, int value) {
  if (setsockopt(fd_, level, name, &value, sizeof value) != 0) return sys_error("setsockopt", errno);
  return {};
}

namespace {
// Root may exceed net.core.{r,w}mem_max with the FORCE variants.
void set_buffer(int fd, int force_opt, int opt, int bytes) {
  if (bytes <= 0) return;
  if (setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof bytes) == 0) return;
  setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof bytes);
}
int get_int(int fd, int level, int name) {
  int v = 0;
  socklen_t len = sizeof v;
  if (getsockopt(fd, level, name, &v, &len) != 0) return -1;
  return v;
}
}  // namespace

int UdpSocket::recv_buffer_size() const { return get_int(fd_, SOL_SOCKET, SO_RCVBUF); }
int UdpSocket::send_buffer_size() const { return get_int(fd_, SOL_SOCKET, SO_SNDBUF); }

Result<UdpSocket> UdpSocket::bind(const Address& local, const SocketOptions& o) {
  if (local.family != 4 && local.family != 6) return sys_error("bind: address family", EAFNOSUPPORT);
  UdpSocket s;
  s.family_ = local.family;
  int type = SOCK_DGRAM | SOCK_CLOEXEC | (o.nonblocking ? SOCK_NONBLOCK : 0);
  s.fd_ = ::socket(local.family == 4 ? AF_INET : AF_INET6, type, IPPROTO_UDP);
  if (s.fd_ < 0) return sys_error("socket", errno);
  int fd = s.fd_;
  int one = 1;
  if (o.reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
    return sys_error("setsockopt(SO_REUSEPORT)", errno);
  if (o.reuse_addr) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (local.family == 6) {
    int v6only = o.v6_only ? 1 : 0;
    if (setsockopt(fd, SOL_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only) != 0)
      return sys_error("setsockopt(IPV6_V6ONLY)", errno);
  }
  set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, o.recv_buffer);
  set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, o.send_buffer);
  // IPv4 options also apply to IPv4 traffic on a dual-stack socket; failures
  // only lose a feature.
  bool v4_traffic = local.family == 4 || !o.v6_only;
  if (o.pktinfo) {
    if (v4_traffic) setsockopt(fd, SOL_IP, IP_PKTINFO, &one, sizeof one);
    if (local.family == 6) setsockopt(fd, SOL_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
  }
  if (o.ecn) {
    if (v4_traffic) setsockopt(fd, SOL_IP, IP_RECVTOS, &one, sizeof one);
    if (local.family == 6) setsockopt(fd, SOL_IPV6, IPV6_RECVTCLASS, &one, sizeof one);
  }
  if (o.dont_fragment) {
    int v4 = IP_PMTUDISC_PROBE, v6 = IPV6_PMTUDISC_PROBE;
    if (v4_traffic) setsockopt(fd, SOL_IP, IP_MTU_DISCOVER, &v4, sizeof v4);
    if (local.family == 6) setsockopt(fd, SOL_IPV6, IPV6_MTU_DISCOVER, &v6, sizeof v6);
  }
  if (o.gro) s.gro_ = setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one) == 0;
  if (o.gso) s.gso_ = get_int(fd, SOL_UDP, UDP_SEGMENT) >= 0;

  sockaddr_storage ss;
  socklen_t len = to_sockaddr(local, s.family_, ss);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) return sys_error("bind", errno);
  len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
    return sys_error("getsockname", errno);
  s.local_ = from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  s.wildcard_ = is_wildcard(s.local_);
  return s;
}

Result<size_t> UdpSocket::send(Bytes data, const Address& peer, const Address& local, Ecn ecn,
                               size_t segment_size) {
  sockaddr_storage ss;
  socklen_t len = to_sockaddr(peer, family_, ss);
  if (!len) return sys_error("send: address family", EAFNOSUPPORT);
  iovec iov{const_cast<uint8_t*>(data.data()), data.size()};
  alignas(cmsghdr) uint8_t control[kSendCmsgSpace];
  SendMeta meta;
  meta.peer = &peer;
  meta.local = &local;
  meta.ecn = ecn;
  meta.with_pktinfo = wildcard_;
  if (segment_size && segment_size < data.size()) meta.segment_size = static_cast<uint16_t>(segment_size);
  msghdr msg{};
  msg.msg_name = &ss;
  msg.msg_namelen = len;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_controllen = build_send_cmsgs(control, meta);
  msg.msg_control = msg.msg_controllen ? control : nullptr;
  ssize_t n = ::sendmsg(fd_, &msg, 0);
  if (n < 0) return sys_error("sendmsg", errno);
  return static_cast<size_t>(n);
}

Result<UdpSocket::Received> UdpSocket::receive(MutBytes buf) {
  sockaddr_storage ss;
  iovec iov{buf.data(), buf.size()};
  alignas(cmsghdr) uint8_t control[kRecvCmsgSpace];
  msghdr msg{};
  msg.msg_name = &ss;
  msg.msg_namelen = sizeof ss;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = ::recvmsg(fd_, &msg, 0);
  if (n < 0) return sys_error("recvmsg", errno);
  if (msg.msg_flags & MSG_TRUNC) return sys_error("recvmsg: truncated", EMSGSIZE);
  RecvMeta meta;
  parse_cmsgs(msg, meta);
  Received r;
  r.bytes = static_cast<size_t>(n);
  r.segment_size = meta.segment_size ? meta.segment_size : r.bytes;
  r.peer = from_sockaddr(reinterpret_cast<sockaddr*>(&ss), msg.msg_namelen);
  r.local = meta.local.valid() ? meta.local : local_;
  r.local.port = local_.port;
  r.ecn = meta.ecn;
  return r;
}

}  // namespace wt::io
