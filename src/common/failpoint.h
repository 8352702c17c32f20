// Crash points for the reliability tests: ZL_FAILPOINT("create.after-netns") kills the process
// with SIGKILL right there when the environment variable ZLAYER_FAILPOINTS names the point
// (a comma-separated list; "name@N" fires on the Nth pass, counted from 1). It stands for a
// power cut or a kill -9 at the worst moment: no destructor, no cleanup, no flush. Before it dies
// the process writes "zlayer: failpoint NAME hit" to stderr, so a test can tell the point was
// reached. The variable is read once; unset, a point costs one load of a bool.
#pragma once

#include <string_view>

namespace zl {

namespace failpoint_detail {
extern const bool kArmed;  // ZLAYER_FAILPOINTS was set (non-empty) when the process started
void hit(std::string_view name);
}  // namespace failpoint_detail

inline void failpoint(std::string_view name) {
  if (failpoint_detail::kArmed) [[unlikely]]
    failpoint_detail::hit(name);
}

}  // namespace zl

#define ZL_FAILPOINT(name) ::zl::failpoint(name)
