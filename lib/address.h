// Network addresses and ECN codepoints as plain values: the protocol core
// uses them without including socket headers; lib/io converts to sockaddr.
#pragma once
#include <array>
#include <cstdint>
#include <cstring>
#include <string>

namespace wt {

struct Address {
  uint8_t family = 0;  // 0 = unset, 4 = IPv4, 6 = IPv6
  uint16_t port = 0;
  std::array<uint8_t, 16> ip{};  // IPv4 in the first 4 bytes

  static Address v4(uint32_t host_order_ip, uint16_t port) {
    Address a;
    a.family = 4;
    a.port = port;
    a.ip[0] = static_cast<uint8_t>(host_order_ip >> 24);
    a.ip[1] = static_cast<uint8_t>(host_order_ip >> 16);
    a.ip[2] = static_cast<uint8_t>(host_order_ip >> 8);
    a.ip[3] = static_cast<uint8_t>(host_order_ip);
    return a;
  }
  bool valid() const { return family != 0; }
  std::string to_string() const;
  friend bool operator==(const Address& a, const Address& b) {
    return a.family == b.family && a.port == b.port && a.ip == b.ip;
  }
};

struct AddressHash {
  size_t operator()(const Address& a) const {
    uint64_t h = 1469598103934665603ULL ^ a.family ^ (uint64_t{a.port} << 8);
    for (uint8_t b : a.ip) h = (h ^ b) * 1099511628211ULL;
    return static_cast<size_t>(h);
  }
};

// ECN codepoint of a datagram (RFC 3168 §5), the two low bits of TOS/TCLASS.
enum class Ecn : uint8_t { not_ect = 0, ect1 = 1, ect0 = 2, ce = 3 };

}  // namespace wt
