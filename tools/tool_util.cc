#include "tools/tool_util.h"

#include <netdb.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "lib/io/sockaddr.h"

namespace wt::tools {

std::optional<uint64_t> parse_size(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::string s(text);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || v < 0 || !std::isfinite(v)) return std::nullopt;
  double mult = 1;
  std::string suffix(end);
  if (suffix == "" || suffix == "B") mult = 1;
  else if (suffix == "K" || suffix == "k" || suffix == "KiB" || suffix == "KB") mult = 1024.0;
  else if (suffix == "M" || suffix == "m" || suffix == "MiB" || suffix == "MB") mult = 1024.0 * 1024;
  else if (suffix == "G" || suffix == "g" || suffix == "GiB" || suffix == "GB") mult = 1024.0 * 1024 * 1024;
  else if (suffix == "T" || suffix == "t" || suffix == "TiB" || suffix == "TB") mult = 1024.0 * 1024 * 1024 * 1024;
  else return std::nullopt;
  return static_cast<uint64_t>(v * mult);
}

std::optional<double> parse_seconds(std::string_view text) {
  std::string s(text);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end || v < 0 || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<Address> resolve(std::string_view text, uint16_t default_port) {
  if (auto a = io::parse_address(text)) return a;
  std::string host(text);
  std::string port = std::to_string(default_port);
  if (!host.empty() && host[0] == '[') {
    size_t close = host.find(']');
    if (close == std::string::npos) return std::nullopt;
    if (close + 1 < host.size() && host[close + 1] == ':') port = host.substr(close + 2);
    host = host.substr(1, close - 1);
  } else {
    size_t colon = host.rfind(':');
    if (colon != std::string::npos && host.find(':') == colon) {
      port = host.substr(colon + 1);
      host = host.substr(0, colon);
    }
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || !res) return std::nullopt;
  std::optional<Address> best;
  for (addrinfo* p = res; p; p = p->ai_next) {
    Address a = io::from_sockaddr(p->ai_addr, p->ai_addrlen);
    if (!a.valid()) continue;
    if (!best || (best->family == 6 && a.family == 4)) best = a;
  }
  freeaddrinfo(res);
  return best;
}

std::optional<io::BackendKind> parse_backend(std::string_view text) {
  if (text == "epoll") return io::BackendKind::epoll;
  if (text == "uring" || text == "io_uring") return io::BackendKind::uring;
  if (text == "auto" || text == "automatic") return io::BackendKind::automatic;
  return std::nullopt;
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

uint64_t rss_kib() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  uint64_t kib = 0;
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, "VmRSS:", 6) == 0) {
      kib = std::strtoull(line + 6, nullptr, 10);
      break;
    }
  }
  std::fclose(f);
  return kib;
}

}  // namespace wt::tools
