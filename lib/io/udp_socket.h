// A UDP socket with the options a QUIC endpoint wants: large buffers, GRO,
// GSO probe, ECN and pktinfo reporting, don't-fragment, SO_REUSEPORT,
// dual-stack. Plain single-datagram send/receive for tools and tests; the
// event loop (lib/io/loop.h) has its own batched paths on the same fd.
#pragma once
#include "lib/address.h"
#include "lib/bytes.h"
#include "lib/result.h"

namespace wt::io {

// Errors from lib/io carry errno in Error::code (with application = true)
// and the failing call in `detail`.
Error sys_error(const char* what, int err);

struct SocketOptions {
  bool reuse_port = false;
  bool reuse_addr = false;
  bool v6_only = false;            // [::] without it is dual-stack
  int recv_buffer = 8 << 20;       // SO_RCVBUF(FORCE); 0 leaves the default
  int send_buffer = 8 << 20;       // SO_SNDBUF(FORCE)
  bool gro = true;                 // UDP_GRO on receive (if the kernel has it)
  bool gso = true;                 // allow UDP_SEGMENT on send (if the kernel has it)
  bool pktinfo = true;             // report the local address of each datagram
  bool ecn = true;                 // report the ECN bits of each datagram
  bool dont_fragment = true;       // DF set, no kernel PMTU cache (RFC 9000 §14)
  bool nonblocking = true;
};

class UdpSocket {
 public:
  UdpSocket() = default;
  UdpSocket(UdpSocket&& o) noexcept { *this = std::move(o); }
  UdpSocket& operator=(UdpSocket&& o) noexcept;
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;
  ~UdpSocket() { close(); }

  // Binds to `local` (port 0 picks one). An IPv6 wildcard is dual-stack
  // unless options.v6_only.
  static Result<UdpSocket> bind(const Address& local, const SocketOptions& options = {});

  bool valid() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  int family() const { return family_; }  // 4 or 6: the socket's own family
  const Address& local_address() const { return local_; }  // with the real port
  bool wildcard() const { return wildcard_; }
  bool gso() const { return gso_; }
  bool gro() const { return gro_; }
  void disable_gso() { gso_ = false; }
  int recv_buffer_size() const;  // what the kernel granted
  int send_buffer_size() const;

  // One sendmsg. `local` (if set and the socket is wildcard-bound) picks the
  // source address; segment_size > 0 and < data.size() sends a GSO batch.
  // Would-block is an error with code EAGAIN.
  Result<size_t> send(Bytes data, const Address& peer, const Address& local = {},
                      Ecn ecn = Ecn::not_ect, size_t segment_size = 0);

  struct Received {
    size_t bytes = 0;
    size_t segment_size = 0;  // GRO: every datagram this long, the last maybe shorter
    Address peer;
    Address local;
    Ecn ecn = Ecn::not_ect;
  };
  // One recvmsg into `buf` (64 KiB holds any GRO batch). EAGAIN as above.
  Result<Received> receive(MutBytes buf);

  Status set_option(int level, int name, int value);
  int release();
  void close();

 private:
  int fd_ = -1;
  int family_ = 0;
  Address local_;
  bool wildcard_ = false, gso_ = false, gro_ = false;
};

}  // namespace wt::io
