// wt::Address <-> sockaddr_storage. IPv4-mapped IPv6 addresses
// (::ffff:a.b.c.d, what a dual-stack socket reports for IPv4 peers) are
// presented as plain IPv4 addresses, and mapped back when sending through an
// IPv6 socket, so code above lib/io sees one spelling per peer.
#pragma once
#include <netinet/in.h>
#include <sys/socket.h>

#include <optional>
#include <string_view>

#include "lib/address.h"

namespace wt::io {

// Fills `out` for a socket of `socket_family` (4 or 6); returns the length,
// or 0 if the address cannot be reached through that socket (v6 peer on a v4
// socket).
socklen_t to_sockaddr(const Address& a, int socket_family, sockaddr_storage& out);
// Unset Address for families other than AF_INET/AF_INET6.
Address from_sockaddr(const sockaddr* sa, socklen_t len);

// IPv4 from a 16-byte IPv6 address if it is v4-mapped, else IPv6.
Address from_in6(const in6_addr& ip, uint16_t port);
void to_in6(const Address& a, in6_addr& out);  // v4 becomes v4-mapped
bool is_wildcard(const Address& a);
bool is_v4_mapped(const uint8_t ip[16]);

// "127.0.0.1:443", "[::1]:443", "0.0.0.0:0"; nullopt if not a literal.
std::optional<Address> parse_address(std::string_view text);

}  // namespace wt::io
