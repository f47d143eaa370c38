// Time in the protocol core: integer nanoseconds supplied by the caller.
// QuicClock has no now(): only lib/io reads a real clock.
#pragma once
#include <chrono>
#include <cstdint>

namespace wt {

struct QuicClock {
  using rep = int64_t;
  using period = std::nano;
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<QuicClock>;
  static constexpr bool is_steady = true;
};

using Duration = std::chrono::nanoseconds;
using Time = QuicClock::time_point;

inline constexpr Time kTimeZero{};
inline constexpr Time kTimeInfinite{Duration{INT64_MAX}};

constexpr Time from_ns(int64_t ns) { return Time{Duration{ns}}; }
constexpr int64_t to_ns(Time t) { return t.time_since_epoch().count(); }

using namespace std::chrono_literals;

}  // namespace wt
