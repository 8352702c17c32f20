// Memory quantities: integer arithmetic only, so "1.5Gi" is exact and overflow is caught.
#include "spec/quantity.h"

#include <array>

namespace zl::spec {
namespace {

struct Suffix {
  std::string_view name;
  int64_t factor;
};

constexpr int64_t kKi = 1024, kK = 1000;
constexpr std::array kSuffixes = {
    Suffix{"Ki", kKi},
    Suffix{"Mi", kKi* kKi},
    Suffix{"Gi", kKi* kKi* kKi},
    Suffix{"Ti", kKi* kKi* kKi* kKi},
    Suffix{"Pi", kKi* kKi* kKi* kKi* kKi},
    Suffix{"Ei", kKi* kKi* kKi* kKi* kKi* kKi},
    Suffix{"k", kK},
    Suffix{"K", kK},
    Suffix{"M", kK* kK},
    Suffix{"G", kK* kK* kK},
    Suffix{"T", kK* kK* kK* kK},
    Suffix{"P", kK* kK* kK* kK* kK},
    Suffix{"E", kK* kK* kK* kK* kK* kK},
};

tl::unexpected<Error> bad(std::string_view text, std::string_view why) {
  return invalid_argument(
      "invalid size \"{}\": {}; expected bytes or a number with a suffix like \"512Mi\", "
      "\"1Gi\" or \"256M\"",
      text, why);
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

Result<int64_t> parse_memory_size(std::string_view text) {
  std::string_view rest = text;
  if (rest.empty()) return bad(text, "it is empty");
  if (rest.front() == '-' || rest.front() == '+') return bad(text, "a size has no sign");
  int64_t whole = 0;
  size_t digits = 0;
  while (!rest.empty() && is_digit(rest.front())) {
    if (__builtin_mul_overflow(whole, int64_t{10}, &whole) ||
        __builtin_add_overflow(whole, int64_t{rest.front() - '0'}, &whole))
      return bad(text, "it is too large");
    rest.remove_prefix(1);
    ++digits;
  }
  // Fraction digits as a numerator over 10^n (n <= 18 keeps it in int64).
  int64_t frac = 0, frac_den = 1;
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    size_t n = 0;
    while (!rest.empty() && is_digit(rest.front())) {
      if (++n > 18) return bad(text, "too many decimals");
      frac = frac * 10 + (rest.front() - '0');
      frac_den *= 10;
      rest.remove_prefix(1);
    }
    if (n == 0) return bad(text, "a number is missing after the decimal point");
    digits += n;
  }
  if (digits == 0) return bad(text, "it does not start with a number");

  int64_t factor = 1;
  if (!rest.empty()) {
    const Suffix* found = nullptr;
    for (const auto& s : kSuffixes)
      if (s.name == rest) found = &s;
    if (!found) {
      if (rest == "m" || rest == "g")
        return bad(text, fmt::format("the suffix \"{}\" is ambiguous (write {}i for powers of 1024 or {} for "
                                     "powers of 1000)",
                                     rest, static_cast<char>(rest[0] - 'a' + 'A'),
                                     static_cast<char>(rest[0] - 'a' + 'A')));
      return bad(text, fmt::format("unknown suffix \"{}\" (use Ki, Mi, Gi, Ti, k, M, G or T)", rest));
    }
    factor = found->factor;
  }

  int64_t bytes = 0;
  if (__builtin_mul_overflow(whole, factor, &bytes)) return bad(text, "it is too large");
  if (frac != 0) {
    // frac / frac_den * factor must be whole: compute with 128-bit intermediates.
    __extension__ using i128 = __int128;
    i128 num = static_cast<i128>(frac) * factor;
    if (num % frac_den != 0) return bad(text, "it is not a whole number of bytes");
    i128 part = num / frac_den;
    if (part > INT64_MAX - bytes) return bad(text, "it is too large");
    bytes += static_cast<int64_t>(part);
  }
  return bytes;
}

std::string format_memory_size(int64_t bytes) {
  std::string best = std::to_string(bytes);
  if (bytes <= 0) return best;
  // The shortest exact spelling; on a tie the binary suffix (listed first) wins.
  for (const auto& s : kSuffixes) {
    if (s.name == "K" || bytes % s.factor != 0) continue;  // "k" is the canonical spelling
    std::string candidate = fmt::format("{}{}", bytes / s.factor, s.name);
    if (candidate.size() < best.size()) best = std::move(candidate);
  }
  return best;
}

}  // namespace zl::spec
