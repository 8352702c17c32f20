// Text formats of the cgroup filesystems: mountinfo lines, flat-keyed and nested-keyed files.
#include "runtime/linux/cgroup_parse.h"

#include <charconv>
#include <vector>

namespace zl {

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    auto pos = s.find(sep);
    out.push_back(s.substr(0, pos));
    if (pos == std::string_view::npos) break;
    s.remove_prefix(pos + 1);
  }
  return out;
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  for (auto w : split(s, ' ')) {
    if (!w.empty()) out.push_back(w);
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

std::optional<uint64_t> to_u64(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// mountinfo escapes blanks in paths as \040 (octal).
std::string unescape_octal(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      auto oct = s.substr(i + 1, 3);
      if (oct.find_first_not_of("01234567") == std::string_view::npos) {
        out.push_back(static_cast<char>((oct[0] - '0') * 64 + (oct[1] - '0') * 8 + (oct[2] - '0')));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

}  // namespace

CgroupMounts parse_cgroup_mounts(std::string_view mountinfo) {
  CgroupMounts m;
  for (auto line : split(mountinfo, '\n')) {
    auto dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    auto before = words(line.substr(0, dash));
    auto after = words(line.substr(dash + 3));
    if (before.size() < 5 || after.size() < 3) continue;
    fs::path mount_point = unescape_octal(before[4]);
    if (after[0] == "cgroup2") {
      if (!m.unified) m.unified = mount_point;
    } else if (after[0] == "cgroup") {
      for (auto opt : split(after[2], ',')) {
        if (opt == "rw" || opt == "ro" || opt.empty()) continue;
        m.v1.emplace(std::string(opt), mount_point);
      }
    }
  }
  return m;
}

std::map<std::string, uint64_t> parse_flat_keyed(std::string_view text) {
  std::map<std::string, uint64_t> out;
  for (auto line : split(text, '\n')) {
    auto w = words(trim(line));
    if (w.size() != 2) continue;
    if (auto v = to_u64(w[1])) out[std::string(w[0])] = *v;
  }
  return out;
}

Result<std::optional<uint64_t>> parse_limit(std::string_view text) {
  auto t = trim(text);
  if (t == "max") return std::optional<uint64_t>();
  auto v = to_u64(t);
  if (!v) return invalid_argument("bad cgroup limit \"{}\"", std::string(t));
  return v;
}

IoBytes parse_blkio_service_bytes(std::string_view text) {
  IoBytes io;
  for (auto line : split(text, '\n')) {
    auto w = words(trim(line));
    if (w.size() != 3) continue;
    auto v = to_u64(w[2]).value_or(0);
    if (w[1] == "Read") io.read += v;
    if (w[1] == "Write") io.write += v;
  }
  return io;
}

IoBytes parse_io_stat(std::string_view text) {
  IoBytes io;
  for (auto line : split(text, '\n')) {
    auto w = words(trim(line));
    for (size_t i = 1; i < w.size(); ++i) {
      auto eq = w[i].find('=');
      if (eq == std::string_view::npos) continue;
      auto key = w[i].substr(0, eq);
      auto v = to_u64(w[i].substr(eq + 1)).value_or(0);
      if (key == "rbytes") io.read += v;
      if (key == "wbytes") io.write += v;
    }
  }
  return io;
}

uint64_t parse_meminfo_total(std::string_view meminfo) {
  for (auto line : split(meminfo, '\n')) {
    if (line.substr(0, 9) != "MemTotal:") continue;
    auto w = words(line.substr(9));
    if (w.empty()) return 0;
    uint64_t kb = to_u64(w[0]).value_or(0);
    return w.size() > 1 && w[1] == "kB" ? kb * 1024 : kb;
  }
  return 0;
}

}  // namespace zl
