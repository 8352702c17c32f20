// Parsing and classification of runc/crun error output.
#include "runtime/linux/runtime_message.h"

#include <nlohmann/json.hpp>

#include <vector>

namespace zl {

namespace {

struct Entry {
  std::string level;  // empty for a plain line
  std::string msg;
};

// Go's %q quoting as logrus writes it: the text between quotes with \" \\ \n \t escapes.
std::string go_unquote(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out.push_back(s[i]);
      continue;
    }
    char c = s[++i];
    out.push_back(c == 'n' ? '\n' : c == 't' ? '\t' : c);
  }
  return out;
}

// Value of key=value or key="quoted value" in a logrus text line.
std::optional<std::string> logrus_field(std::string_view line, std::string_view key) {
  std::string pat = std::string(key) + "=";
  size_t pos = 0;
  while ((pos = line.find(pat, pos)) != std::string_view::npos) {
    if (pos == 0 || line[pos - 1] == ' ') break;
    pos += pat.size();
  }
  if (pos == std::string_view::npos) return std::nullopt;
  auto rest = line.substr(pos + pat.size());
  if (rest.empty() || rest[0] != '"') return std::string(rest.substr(0, rest.find(' ')));
  size_t end = 1;
  while (end < rest.size() && rest[end] != '"') end += rest[end] == '\\' ? 2 : 1;
  return go_unquote(rest.substr(1, std::min(end, rest.size()) - 1));
}

Entry parse_line(std::string_view line) {
  if (!line.empty() && line.front() == '{') {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("msg") && j["msg"].is_string()) {
      return Entry{j.value("level", std::string("error")), j["msg"].get<std::string>()};
    }
  }
  auto msg = logrus_field(line, "msg");
  auto level = logrus_field(line, "level");
  if (msg && level) return Entry{*level, *msg};
  return Entry{"", std::string(line)};
}

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

}  // namespace

std::string clean_runtime_message(std::string_view output) {
  std::vector<std::string> msgs;
  while (!output.empty()) {
    auto nl = output.find('\n');
    auto line = output.substr(0, nl);
    output = nl == std::string_view::npos ? std::string_view() : output.substr(nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty()) continue;
    Entry e = parse_line(line);
    if (!e.level.empty() && e.level != "error" && e.level != "fatal" && e.level != "panic") continue;
    bool dup = false;
    for (const auto& m : msgs) dup = dup || m == e.msg || contains(m, e.msg);
    if (!dup) msgs.push_back(e.msg);
  }
  std::string out;
  for (const auto& m : msgs) out += (out.empty() ? "" : "; ") + m;
  return out;
}

ErrorKind runtime_error_kind(std::string_view m) {
  if (contains(m, "does not exist") || contains(m, "container not found")) return ErrorKind::not_found;
  if (contains(m, "No such file or directory") &&
      (contains(m, "/status") || contains(m, "cannot open directory")))
    return ErrorKind::not_found;  // crun: error opening file `<root>/<id>/status`
  for (auto s :
       {"not running", "is not running", "stopped", "paused", "is running", "is already", "cannot exec"}) {
    if (contains(m, s)) return ErrorKind::conflict;
  }
  return ErrorKind::internal;
}

std::optional<int> exec_start_failure_code(std::string_view m) {
  for (auto s : {"executable file not found", "no such file or directory", "No such file or directory"}) {
    if (contains(m, s)) return 127;
  }
  for (auto s : {"permission denied", "Permission denied", "is a directory", "exec format error"}) {
    if (contains(m, s)) return 126;
  }
  return std::nullopt;
}

}  // namespace zl
