#include "lib/log.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace wt::log {

namespace {
std::atomic<int> g_level{static_cast<int>(Level::warn)};
const char* name(Level l) {
  static const char* n[] = {"trace", "debug", "info", "warn", "error", "off"};
  return n[static_cast<int>(l)];
}
}  // namespace

Level level() { return static_cast<Level>(g_level.load(std::memory_order_relaxed)); }
void set_level(Level l) { g_level.store(static_cast<int>(l), std::memory_order_relaxed); }

void init_from_env() {
  const char* e = std::getenv("WT_LOG");
  if (!e) return;
  for (int i = 0; i <= static_cast<int>(Level::off); ++i)
    if (std::strcmp(e, name(static_cast<Level>(i))) == 0) set_level(static_cast<Level>(i));
}

void write(Level l, fmt::string_view msg) {
  fmt::print(stderr, "[wt {}] {}\n", name(l), msg);
}

}  // namespace wt::log
