// Small helpers shared by quicperf and interop-endpoint: argument parsing,
// name resolution, process CPU time and memory.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lib/address.h"
#include "lib/io/loop_options.h"

namespace wt::tools {

// "1500", "64K", "10M", "1G", "1.5G" (powers of 1024); nullopt if malformed.
std::optional<uint64_t> parse_size(std::string_view text);
// Seconds, fractions allowed ("0.5"); nullopt if malformed or negative.
std::optional<double> parse_seconds(std::string_view text);
// "host:port", "[v6]:port", or a literal; `host` may be a DNS name (resolved
// with getaddrinfo, IPv4 preferred). `default_port` when none is given.
std::optional<Address> resolve(std::string_view text, uint16_t default_port);
// "epoll" / "uring" / "io_uring" / "auto".
std::optional<io::BackendKind> parse_backend(std::string_view text);

double cpu_seconds();  // user + system time of this process
uint64_t rss_kib();    // resident set size now (VmRSS)

}  // namespace wt::tools
