// When to contact the registry for an image: the policies of `zlayer pull --policy`, the
// deployment spec's image.pull_policy and docker's --pull.
#pragma once

#include <string_view>

#include "common/error.h"

namespace zl {

enum class PullPolicy {
  always,          // fetch the manifest every time, download what is missing
  newer,           // re-pull only when the tag now points at another digest (HEAD request)
  if_not_present,  // use the local image when the reference is in the index
  never,           // never contact the registry; not_found when absent
};
// "always", "newer", "if_not_present" (or "if-not-present", "missing"), "never".
Result<PullPolicy> parse_pull_policy(std::string_view s);
std::string_view to_string(PullPolicy p);

}  // namespace zl
