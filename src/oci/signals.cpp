// Linux signal table: the standard names plus SIGRTMIN+n / SIGRTMAX-n.
#include "oci/signals.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <csignal>
#include <optional>
#include <tuple>

namespace zl {
namespace {

// The kernel's real-time range (glibc reserves the first two for itself; users name them by number).
constexpr int kRtMin = 34, kRtMax = 64;

struct Named {
  const char* name;
  int number;
};
constexpr Named kSignals[] = {
    {"HUP", 1},   {"INT", 2},     {"QUIT", 3},    {"ILL", 4},   {"TRAP", 5},    {"ABRT", 6},  {"IOT", 6},
    {"BUS", 7},   {"FPE", 8},     {"KILL", 9},    {"USR1", 10}, {"SEGV", 11},   {"USR2", 12}, {"PIPE", 13},
    {"ALRM", 14}, {"TERM", 15},   {"STKFLT", 16}, {"CHLD", 17}, {"CONT", 18},   {"STOP", 19}, {"TSTP", 20},
    {"TTIN", 21}, {"TTOU", 22},   {"URG", 23},    {"XCPU", 24}, {"XFSZ", 25},   {"VTALRM", 26}, {"PROF", 27},
    {"WINCH", 28}, {"IO", 29},    {"POLL", 29},   {"PWR", 30},  {"SYS", 31},
};
// Linux's numbers (a container's signals), written out so the Windows build compiles this too.
#ifdef __linux__
static_assert(SIGHUP == 1 && SIGABRT == 6 && SIGKILL == 9 && SIGTERM == 15 && SIGSTKFLT == 16 && SIGCHLD == 17 &&
              SIGCONT == 18 && SIGSTOP == 19 && SIGURG == 23 && SIGWINCH == 28 && SIGIO == 29 && SIGPWR == 30 &&
              SIGSYS == 31);
#endif

std::optional<int> parse_int(std::string_view s) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

Result<int> parse_signal(std::string_view s) {
  if (auto n = parse_int(s)) {
    if (*n >= 1 && *n <= kRtMax) return *n;
    return invalid_argument("invalid signal \"{}\": numbers go from 1 to {}", s, kRtMax);
  }
  std::string up(s);
  std::transform(up.begin(), up.end(), up.begin(), [](unsigned char c) { return std::toupper(c); });
  std::string_view name = up;
  if (name.starts_with("SIG")) name.remove_prefix(3);
  for (const auto& sig : kSignals)
    if (name == sig.name) return sig.number;
  if (name == "RTMIN") return kRtMin;
  if (name == "RTMAX") return kRtMax;
  for (auto [prefix, base, dir] : {std::tuple{"RTMIN+", kRtMin, 1}, std::tuple{"RTMAX-", kRtMax, -1}}) {
    std::string_view p = prefix;
    if (!name.starts_with(p)) continue;
    auto off = parse_int(name.substr(p.size()));
    if (off && *off >= 0 && *off <= kRtMax - kRtMin) return base + dir * *off;
  }
  return invalid_argument("invalid signal \"{}\"", s);
}

std::string signal_name(int sig) {
  for (const auto& s : kSignals)
    if (s.number == sig && std::string_view(s.name) != "IOT" && std::string_view(s.name) != "POLL")
      return std::string("SIG") + s.name;
  if (sig == kRtMin) return "SIGRTMIN";
  if (sig == kRtMax) return "SIGRTMAX";
  if (sig > kRtMin && sig < kRtMax) return "SIGRTMIN+" + std::to_string(sig - kRtMin);
  return {};
}

}  // namespace zl
