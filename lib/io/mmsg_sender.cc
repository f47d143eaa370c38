#include "lib/io/mmsg_sender.h"

#include <cerrno>
#include <cstring>

#include "lib/io/sockaddr.h"
#include "lib/log.h"

namespace wt::io {

MmsgSender::MmsgSender() : msgs_(kBatch), iov_(kBatch), names_(kBatch), control_(kBatch) {}

void fill_send_msghdr(msghdr& h, sockaddr_storage& name, iovec& iov, uint8_t* control, const SocketState& s,
                      const SendBuffer::Batch& b, size_t off, const SendBuffer::Message& m) {
  h = msghdr{};
  h.msg_namelen = to_sockaddr(b.peer, s.sock.family(), name);
  h.msg_name = &name;
  iov = {b.data + off, m.len};
  h.msg_iov = &iov;
  h.msg_iovlen = 1;
  SendMeta meta;
  meta.peer = &b.peer;
  meta.local = &b.local;
  meta.ecn = b.ecn;
  meta.segment_size = m.segment;
  meta.with_pktinfo = s.sock.wildcard();
  h.msg_controllen = build_send_cmsgs(control, meta);
  h.msg_control = h.msg_controllen ? control : nullptr;
}

void MmsgSender::fill(SocketState& s, size_t m, const SendBuffer::Batch& b, size_t off,
                      const SendBuffer::Message& msg) {
  fill_send_msghdr(msgs_[m].msg_hdr, names_[m], iov_[m], control_[m].b, s, b, off, msg);
  gso_[m] = msg.segment != 0;
}

MmsgSender::Outcome MmsgSender::flush(SocketState& s, LoopStats& st) {
  SendBuffer& sb = s.send;
  while (sb.queued() > 0) {
    struct Pos {
      size_t batch, offset, len;
    } pos[kBatch];
    size_t m = 0, bi = 0, off = sb.head_offset();
    while (m < kBatch && bi < sb.queued()) {
      const SendBuffer::Batch& b = sb.batch(bi);
      SendBuffer::Message msg = SendBuffer::next_message(b, off, s.sock.gso());
      fill(s, m, b, off, msg);
      pos[m] = {bi, off, msg.len};
      ++m;
      off += msg.len;
      if (off >= b.bytes) ++bi, off = 0;
    }
    int n = sendmmsg(s.sock.fd(), msgs_.data(), static_cast<unsigned>(m), 0);
    if (n < 0) {
      int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) return Outcome::blocked;
      if (err == EIO && gso_[0] && s.sock.gso()) {
        // No GSO on this path after all: send datagram by datagram.
        log::warn("io: GSO send failed ({}); disabling GSO on this socket", std::strerror(err));
        s.sock.disable_gso();
        continue;
      }
      log::debug("io: sendmmsg to {}: {}", sb.batch(pos[0].batch).peer.to_string(), std::strerror(err));
      ++st.send_errors;
      n = 1;  // drop the failing message
    } else {
      st.send_calls += static_cast<uint64_t>(n);
    }
    ++st.send_syscalls;
    const Pos& last = pos[n - 1];
    size_t end = last.offset + last.len;
    size_t done = last.batch;
    if (end >= sb.batch(last.batch).bytes) ++done, end = 0;
    st.send_batches += done;
    sb.advance(done, end);
  }
  return Outcome::done;
}

}  // namespace wt::io
