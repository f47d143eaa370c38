// Control messages of the UDP fast path, shared by both back-ends and the
// plain UdpSocket calls: what a received datagram carries (GRO segment size,
// local address from IP_PKTINFO/IPV6_PKTINFO, ECN from IP_TOS/IPV6_TCLASS)
// and what a send attaches (UDP_SEGMENT, source address, ECN).
#pragma once
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

#include "lib/address.h"

namespace wt::io {

// Room for GRO + both pktinfo flavours + both TOS flavours (a dual-stack
// socket may deliver v4 and v6 variants for one datagram).
inline constexpr size_t kRecvCmsgSpace = 256;
inline constexpr size_t kSendCmsgSpace = 128;

struct RecvMeta {
  size_t segment_size = 0;  // 0: no UDP_GRO cmsg (a single datagram)
  Address local;            // from pktinfo; port filled by the caller
  Ecn ecn = Ecn::not_ect;
};

// Folds one received control message into `meta` (unknown ones are ignored).
void parse_cmsg(const cmsghdr* c, RecvMeta& meta);
// Walks all control messages of a received msghdr.
void parse_cmsgs(msghdr& msg, RecvMeta& meta);

struct SendMeta {
  const Address* peer = nullptr;
  const Address* local = nullptr;  // attached only if set and `with_pktinfo`
  Ecn ecn = Ecn::not_ect;
  uint16_t segment_size = 0;       // 0: no UDP_SEGMENT
  bool with_pktinfo = false;       // the socket is bound to a wildcard address
};

// Writes the control messages for one sendmsg into `buf` (kSendCmsgSpace
// bytes, cmsghdr-aligned) and returns msg_controllen (0 if none). The level
// follows the peer's family: a v4 peer reached through a dual-stack socket
// takes SOL_IP options.
size_t build_send_cmsgs(uint8_t* buf, const SendMeta& meta);

}  // namespace wt::io
