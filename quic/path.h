// Network addresses as plain values: the core never includes socket headers.
#pragma once
#include <array>
#include <cstdint>
#include <cstring>
#include <string>

namespace wt::quic {

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

// A network path: our address and the peer's (RFC 9000 §9).
struct Path {
  Address local;
  Address remote;
  friend bool operator==(const Path& a, const Path& b) {
    return a.local == b.local && a.remote == b.remote;
  }
};

}  // namespace wt::quic
