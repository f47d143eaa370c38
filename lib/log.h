// Logging on fmt. Off the packet path unless the level asks for it.
#pragma once
#include <fmt/core.h>

#include <atomic>

namespace wt::log {

enum class Level : int { trace = 0, debug, info, warn, error, off };

Level level();
void set_level(Level l);
// Reads WT_LOG=trace|debug|info|warn|error|off once.
void init_from_env();
void write(Level l, fmt::string_view msg);

inline bool enabled(Level l) { return static_cast<int>(l) >= static_cast<int>(level()); }

template <class... A>
void at(Level l, fmt::format_string<A...> f, A&&... a) {
  if (enabled(l)) write(l, fmt::format(f, std::forward<A>(a)...));
}
template <class... A> void trace(fmt::format_string<A...> f, A&&... a) { at(Level::trace, f, std::forward<A>(a)...); }
template <class... A> void debug(fmt::format_string<A...> f, A&&... a) { at(Level::debug, f, std::forward<A>(a)...); }
template <class... A> void info(fmt::format_string<A...> f, A&&... a) { at(Level::info, f, std::forward<A>(a)...); }
template <class... A> void warn(fmt::format_string<A...> f, A&&... a) { at(Level::warn, f, std::forward<A>(a)...); }
template <class... A> void error(fmt::format_string<A...> f, A&&... a) { at(Level::error, f, std::forward<A>(a)...); }

}  // namespace wt::log
