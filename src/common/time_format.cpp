#include "common/time_format.h"

#include <fmt/format.h>

#include <ctime>

namespace zl {

namespace {

std::string utc_seconds(int64_t unix_nano) {
  std::time_t secs = unix_nano / 1'000'000'000;
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

}  // namespace

std::string rfc3339_nano(int64_t unix_nano) {
  if (unix_nano <= 0) return "0001-01-01T00:00:00Z";
  return fmt::format("{}.{:09d}Z", utc_seconds(unix_nano), unix_nano % 1'000'000'000);
}

std::string rfc3339_seconds(int64_t unix_nano) {
  return utc_seconds(unix_nano) + "Z";
}

}  // namespace zl
