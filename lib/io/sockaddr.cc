#include "lib/io/sockaddr.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <string>

namespace wt::io {

bool is_v4_mapped(const uint8_t ip[16]) {
  static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(ip, prefix, 12) == 0;
}

Address from_in6(const in6_addr& ip, uint16_t port) {
  Address a;
  a.port = port;
  if (is_v4_mapped(ip.s6_addr)) {
    a.family = 4;
    std::memcpy(a.ip.data(), ip.s6_addr + 12, 4);
  } else {
    a.family = 6;
    std::memcpy(a.ip.data(), ip.s6_addr, 16);
  }
  return a;
}

void to_in6(const Address& a, in6_addr& out) {
  std::memset(&out, 0, sizeof out);
  if (a.family == 4) {
    out.s6_addr[10] = out.s6_addr[11] = 0xff;
    std::memcpy(out.s6_addr + 12, a.ip.data(), 4);
  } else {
    std::memcpy(out.s6_addr, a.ip.data(), 16);
  }
}

socklen_t to_sockaddr(const Address& a, int socket_family, sockaddr_storage& out) {
  std::memset(&out, 0, sizeof out);
  if (socket_family == 4) {
    if (a.family != 4) return 0;
    auto* s = reinterpret_cast<sockaddr_in*>(&out);
    s->sin_family = AF_INET;
    s->sin_port = htons(a.port);
    std::memcpy(&s->sin_addr, a.ip.data(), 4);
    return sizeof(sockaddr_in);
  }
  if (a.family != 4 && a.family != 6) return 0;
  auto* s = reinterpret_cast<sockaddr_in6*>(&out);
  s->sin6_family = AF_INET6;
  s->sin6_port = htons(a.port);
  to_in6(a, s->sin6_addr);
  return sizeof(sockaddr_in6);
}

Address from_sockaddr(const sockaddr* sa, socklen_t len) {
  if (sa->sa_family == AF_INET && len >= sizeof(sockaddr_in)) {
    auto* s = reinterpret_cast<const sockaddr_in*>(sa);
    Address a;
    a.family = 4;
    a.port = ntohs(s->sin_port);
    std::memcpy(a.ip.data(), &s->sin_addr, 4);
    return a;
  }
  if (sa->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    auto* s = reinterpret_cast<const sockaddr_in6*>(sa);
    return from_in6(s->sin6_addr, ntohs(s->sin6_port));
  }
  return {};
}

bool is_wildcard(const Address& a) {
  size_t n = a.family == 4 ? 4 : 16;
  for (size_t i = 0; i < n; ++i)
    if (a.ip[i]) return false;
  return true;
}

std::optional<Address> parse_address(std::string_view text) {
  std::string host;
  std::string_view port_text;
  bool v6 = false;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::nullopt;
    host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
    v6 = true;
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || p != port_text.data() + port_text.size() || port > 65535)
    return std::nullopt;
  Address a;
  a.port = static_cast<uint16_t>(port);
  if (v6) {
    in6_addr ip6;
    if (inet_pton(AF_INET6, host.c_str(), &ip6) != 1) return std::nullopt;
    a.family = 6;
    std::memcpy(a.ip.data(), ip6.s6_addr, 16);
  } else {
    in_addr ip4;
    if (inet_pton(AF_INET, host.c_str(), &ip4) != 1) return std::nullopt;
    a.family = 4;
    std::memcpy(a.ip.data(), &ip4, 4);
  }
  return a;
}

}  // namespace wt::io
