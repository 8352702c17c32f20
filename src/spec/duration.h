// Durations as people write them in a deployment spec ("500ms", "5s", "1m30s", "2h", "1h 30m"),
// and back in one canonical form, so a spec read, printed and read again is the same spec.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace zl::spec {

using Duration = std::chrono::nanoseconds;

// One or more <digits><unit> pieces, spaces allowed between them; the pieces add up.
// Units: ns; us, µs; ms; s, sec, secs, second, seconds; m, min, mins, minute, minutes;
// h, hr, hrs, hour, hours; d, day, days; w, week, weeks.
// A bare number, a fraction, a sign, an unknown unit or more than ~292 years -> invalid_argument
// naming the text and saying what is expected.
Result<Duration> parse_duration(std::string_view text);

// Largest units first, no spaces: 90s -> "1m30s", 1500ms -> "1s500ms", 0 -> "0s".
// parse_duration(format_duration(d)) == d for every d >= 0.
std::string format_duration(Duration d);

// Whole seconds, rounded up: 1500ms -> 2 (a grace period is never cut short).
int64_t ceil_seconds(Duration d);

}  // namespace zl::spec
