// humantime-style durations: a sum of <integer><unit> pieces.
#include "spec/duration.h"

#include <array>
#include <limits>

namespace zl::spec {
namespace {

struct Unit {
  std::string_view name;
  int64_t nanos;
};

constexpr int64_t kUs = 1000, kMs = 1000 * kUs, kSec = 1000 * kMs, kMin = 60 * kSec, kHour = 60 * kMin,
                  kDay = 24 * kHour, kWeek = 7 * kDay;

constexpr std::array kUnits = {
    Unit{"ns", 1},         Unit{"us", kUs},       Unit{"\xC2\xB5s", kUs}, Unit{"ms", kMs},
    Unit{"s", kSec},       Unit{"sec", kSec},     Unit{"secs", kSec},     Unit{"second", kSec},
    Unit{"seconds", kSec}, Unit{"m", kMin},       Unit{"min", kMin},      Unit{"mins", kMin},
    Unit{"minute", kMin},  Unit{"minutes", kMin}, Unit{"h", kHour},       Unit{"hr", kHour},
    Unit{"hrs", kHour},    Unit{"hour", kHour},   Unit{"hours", kHour},   Unit{"d", kDay},
    Unit{"day", kDay},     Unit{"days", kDay},    Unit{"w", kWeek},       Unit{"week", kWeek},
    Unit{"weeks", kWeek},
};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_unit_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || static_cast<unsigned char>(c) >= 0x80;
}

tl::unexpected<Error> bad(std::string_view text, std::string_view why) {
  return invalid_argument(
      "invalid duration \"{}\": {}; expected a number and a unit like \"500ms\", \"30s\", "
      "\"1m30s\" or \"2h\"",
      text, why);
}

}  // namespace

Result<Duration> parse_duration(std::string_view text) {
  std::string_view rest = text;
  auto skip_spaces = [&] {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  };
  skip_spaces();
  if (rest.empty()) return bad(text, "it is empty");
  int64_t total = 0;
  while (!rest.empty()) {
    if (!is_digit(rest.front())) {
      if (rest.front() == '-' || rest.front() == '+') return bad(text, "a duration has no sign");
      return bad(text, fmt::format("\"{}\" is not a number", rest.substr(0, 1)));
    }
    int64_t value = 0;
    while (!rest.empty() && is_digit(rest.front())) {
      if (__builtin_mul_overflow(value, int64_t{10}, &value) ||
          __builtin_add_overflow(value, int64_t{rest.front() - '0'}, &value))
        return bad(text, "it is too long");
      rest.remove_prefix(1);
    }
    if (!rest.empty() && rest.front() == '.') return bad(text, "fractions are not allowed (write 1s500ms)");
    if (rest.starts_with(' ')) {  // "3 seconds"
      size_t spaces = rest.find_first_not_of(' ');
      if (spaces != std::string_view::npos && is_unit_char(rest[spaces])) rest.remove_prefix(spaces);
    }
    size_t n = 0;
    while (n < rest.size() && is_unit_char(rest[n])) ++n;
    std::string_view unit = rest.substr(0, n);
    if (unit.empty()) {
      if (rest.find_first_not_of(' ') == std::string_view::npos)
        return bad(text, fmt::format("the number {} has no unit", value));
      return bad(text, fmt::format("unexpected \"{}\"", rest.substr(0, 1)));
    }
    const Unit* found = nullptr;
    for (const auto& u : kUnits)
      if (u.name == unit) found = &u;
    if (!found) return bad(text, fmt::format("unknown unit \"{}\" (use ns, us, ms, s, m, h, d or w)", unit));
    int64_t nanos = 0;
    if (__builtin_mul_overflow(value, found->nanos, &nanos) || __builtin_add_overflow(total, nanos, &total))
      return bad(text, "it is too long");
    rest.remove_prefix(n);
    skip_spaces();
  }
  return Duration(total);
}

std::string format_duration(Duration d) {
  int64_t left = d.count();
  if (left == 0) return "0s";
  std::string out;
  if (left < 0) {  // not produced by parse_duration; printed for completeness
    out = "-";
    left = left == std::numeric_limits<int64_t>::min() ? std::numeric_limits<int64_t>::max() : -left;
  }
  constexpr std::array<Unit, 8> kParts = {Unit{"w", kWeek}, Unit{"d", kDay}, Unit{"h", kHour},
                                          Unit{"m", kMin},  Unit{"s", kSec}, Unit{"ms", kMs},
                                          Unit{"us", kUs},  Unit{"ns", 1}};
  for (const auto& u : kParts) {
    if (left >= u.nanos) {
      out += fmt::format("{}{}", left / u.nanos, u.name);
      left %= u.nanos;
    }
  }
  return out;
}

int64_t ceil_seconds(Duration d) {
  int64_t n = d.count();
  if (n <= 0) return 0;
  return n / kSec + (n % kSec != 0 ? 1 : 0);
}

}  // namespace zl::spec
