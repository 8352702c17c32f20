// Memory sizes as written in a deployment spec: Kubernetes-style quantities ("512Mi", "1Gi" are
// powers of 1024; "256M", "1G" powers of 1000) or plain bytes ("1048576"), and back.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace zl::spec {

// <number>[<suffix>] in bytes. The number may have a fraction ("1.5Gi") if the result is a whole
// number of bytes. Suffixes: Ki Mi Gi Ti Pi Ei (1024^n), k K M G T P E (1000^n), none (bytes).
// Lower-case "m"/"g" (docker's shorthand, but milli- in Kubernetes) are refused as ambiguous, as
// are signs, other suffixes and sizes above 2^63-1 -> invalid_argument naming the text.
Result<int64_t> parse_memory_size(std::string_view text);

// The shortest exact form: 536870912 -> "512Mi", 256000000 -> "256M", 1000 -> "1k", 1023 -> "1023".
// parse_memory_size(format_memory_size(n)) == n for every n >= 0.
std::string format_memory_size(int64_t bytes);

}  // namespace zl::spec
