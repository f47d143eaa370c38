#include "lib/io/cmsg.h"

#include <netinet/in.h>
#include <netinet/udp.h>

#include <cstring>

#include "lib/io/sockaddr.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

namespace wt::io {

namespace {
int read_int(const cmsghdr* c) {
  int v = 0;
  size_t n = c->cmsg_len - CMSG_LEN(0);
  if (n >= sizeof(int)) std::memcpy(&v, CMSG_DATA(c), sizeof(int));
  else if (n >= 1) v = *CMSG_DATA(c);  // IP_TOS arrives as one byte
  return v;
}
}  // namespace

void parse_cmsg(const cmsghdr* c, RecvMeta& meta) {
  if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
    meta.segment_size = static_cast<size_t>(read_int(c));
  } else if (c->cmsg_level == SOL_IP && c->cmsg_type == IP_TOS) {
    meta.ecn = static_cast<Ecn>(read_int(c) & 3);
  } else if (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_TCLASS) {
    meta.ecn = static_cast<Ecn>(read_int(c) & 3);
  } else if (c->cmsg_level == SOL_IP && c->cmsg_type == IP_PKTINFO) {
    in_pktinfo pi;
    std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
    meta.local.family = 4;
    std::memcpy(meta.local.ip.data(), &pi.ipi_addr, 4);
  } else if (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
    in6_pktinfo pi;
    std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
    meta.local = from_in6(pi.ipi6_addr, 0);
  }
}

void parse_cmsgs(msghdr& msg, RecvMeta& meta) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) parse_cmsg(c, meta);
}

size_t build_send_cmsgs(uint8_t* buf, const SendMeta& meta) {
  std::memset(buf, 0, kSendCmsgSpace);
  size_t used = 0;
  auto add = [&](int level, int type, const void* data, size_t len) {
    auto* c = reinterpret_cast<cmsghdr*>(buf + used);
    c->cmsg_level = level;
    c->cmsg_type = type;
    c->cmsg_len = CMSG_LEN(len);
    std::memcpy(CMSG_DATA(c), data, len);
    used += CMSG_SPACE(len);
  };
  bool v4 = meta.peer && meta.peer->family == 4;
  if (meta.segment_size) {
    uint16_t seg = meta.segment_size;
    add(SOL_UDP, UDP_SEGMENT, &seg, sizeof seg);
  }
  if (meta.ecn != Ecn::not_ect) {
    int tos = static_cast<int>(meta.ecn);
    if (v4) add(SOL_IP, IP_TOS, &tos, sizeof tos);
    else add(SOL_IPV6, IPV6_TCLASS, &tos, sizeof tos);
  }
  if (meta.with_pktinfo && meta.local && meta.local->valid()) {
    if (v4) {
      in_pktinfo pi{};
      std::memcpy(&pi.ipi_spec_dst, meta.local->ip.data(), 4);
      add(SOL_IP, IP_PKTINFO, &pi, sizeof pi);
    } else {
      in6_pktinfo pi{};
      to_in6(*meta.local, pi.ipi6_addr);
      add(SOL_IPV6, IPV6_PKTINFO, &pi, sizeof pi);
    }
  }
  return used;
}

}  // namespace wt::io
