// Turns conmon's exit status number and oom marker into an ExitInfo.
#include "runtime/linux/exit_file.h"

#include <charconv>

namespace zl {

Result<ExitInfo> parse_exit_file(std::string_view content, bool oom_marker, int64_t finished_at_unix_nano) {
  while (!content.empty() && (content.back() == '\n' || content.back() == ' ')) content.remove_suffix(1);
  int status = 0;
  auto [end, ec] = std::from_chars(content.data(), content.data() + content.size(), status);
  if (content.empty() || ec != std::errc() || end != content.data() + content.size() || status < -1 ||
      status > 255 + 128)
    return invalid_argument("exit file holds \"{}\", not an exit status", std::string(content));

  ExitInfo info;
  info.finished_at_unix_nano = finished_at_unix_nano;
  if (status < 0) {
    info.exit_code = -1;
    info.reason = ExitInfo::Reason::runtime_error;
    info.message = "conmon could not determine how the container exited (or its timeout fired)";
    return info;
  }
  info.exit_code = status;
  constexpr int kMaxSignal = 64;  // SIGRTMAX on Linux
  if (status > 128 && status <= 128 + kMaxSignal) {
    info.reason = ExitInfo::Reason::signal;
    info.signal = status - 128;
  }
  if (oom_marker) info.reason = ExitInfo::Reason::oom_killed;
  return info;
}

}  // namespace zl
