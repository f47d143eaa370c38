// The one real clock of the stack: CLOCK_MONOTONIC as wt::Time. Only lib/io
// reads it; everything above gets `now` passed in.
#pragma once
#include "lib/clock.h"

namespace wt::io {

// Monotonic time since an arbitrary epoch (boot), in nanoseconds.
Time monotonic_now();

}  // namespace wt::io
