// resolve_user: passwd/group parsing, with the files opened by openat2(RESOLVE_IN_ROOT) relative
// to the rootfs so that absolute symlinks and ".." resolve inside the image, never on the host.
#include "oci/user.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <sstream>

#include "common/fs.h"

namespace zl {
namespace {

constexpr size_t kMaxFile = 16 << 20;    // a passwd/group file larger than this is not one
constexpr uint32_t kMaxId = 0x7fffffff;  // ids above are not valid (runc's range)

// Reads rootfs/<path> with every path component resolved inside the rootfs. nullopt if absent.
Result<std::optional<std::string>> read_in_root(int root_fd, const std::filesystem::path& rootfs,
                                                const char* path) {
  struct open_how how {};
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  long fd_ret;
  do {
    fd_ret = ::syscall(SYS_openat2, root_fd, path, &how, sizeof how);
  } while (fd_ret < 0 && (errno == EINTR || errno == EAGAIN));
  if (fd_ret < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    return errno_error(errno, fmt::format("open {} in {}", path, rootfs.string()));
  }
  UniqueFd fd(static_cast<int>(fd_ret));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return errno_error(errno, fmt::format("stat {}", path));
  if (!S_ISREG(st.st_mode)) return invalid_argument("the image's {} is not a regular file", path);
  if (static_cast<size_t>(st.st_size) > kMaxFile)
    return invalid_argument("the image's {} is too large ({} bytes)", path, st.st_size);
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_error(errno, fmt::format("read {}", path));
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

std::optional<uint32_t> parse_id(std::string_view s) {
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v > kMaxId) return std::nullopt;
  return v;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.emplace_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

// Non-comment lines split on ':'; lines with fewer than `min_fields` or a bad id are skipped.
std::vector<std::vector<std::string>> entries(const std::optional<std::string>& file, size_t min_fields) {
  std::vector<std::vector<std::string>> out;
  if (!file) return out;
  std::istringstream in(*file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line[0] == '+' || line[0] == '-') continue;
    auto f = split(line, ':');
    if (f.size() >= min_fields && parse_id(f[2])) out.push_back(std::move(f));
  }
  return out;
}

}  // namespace

Result<ResolvedUser> resolve_user(const std::filesystem::path& rootfs, std::string_view user) {
  std::string_view user_part = user, group_part;
  bool explicit_group = false;
  if (auto colon = user.find(':'); colon != std::string_view::npos) {
    user_part = user.substr(0, colon);
    group_part = user.substr(colon + 1);
    explicit_group = true;
    if (group_part.empty()) return invalid_argument("invalid user \"{}\": empty group", user);
  }
  if (user_part.empty()) {
    if (explicit_group) return invalid_argument("invalid user \"{}\": empty user", user);
    user_part = "0";
  }
  auto uid_arg = parse_id(user_part);
  if (!uid_arg &&
      std::all_of(user_part.begin(), user_part.end(), [](unsigned char c) { return std::isdigit(c); }))
    return invalid_argument("invalid user \"{}\": uid out of range", user);

  UniqueFd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return errno_error(errno, fmt::format("open rootfs {}", rootfs.string()));
  ZL_TRY_ASSIGN(auto passwd, read_in_root(root.get(), rootfs, "/etc/passwd"));

  ResolvedUser out;
  std::string name;  // the passwd entry's name, when there is one
  bool found = false;
  for (const auto& e : entries(passwd, 4)) {  // name:pw:uid:gid[:gecos:home:shell]
    if (e[0] == user_part || (uid_arg && *parse_id(e[2]) == *uid_arg)) {
      name = e[0];
      out.uid = *parse_id(e[2]);
      out.gid = parse_id(e[3]).value_or(0);
      if (e.size() >= 6 && !e[5].empty()) out.home = e[5];
      found = true;
      break;
    }
  }
  if (!found) {
    if (!uid_arg) return invalid_argument("user \"{}\" not found in the image's /etc/passwd", user_part);
    out.uid = *uid_arg;
  }

  std::optional<std::string> group_file;
  if (explicit_group || !name.empty()) {
    ZL_TRY_ASSIGN(group_file, read_in_root(root.get(), rootfs, "/etc/group"));
  }
  std::vector<uint32_t> supplementary;
  if (explicit_group) {
    auto gid_arg = parse_id(group_part);
    bool group_found = false;
    for (const auto& g : entries(group_file, 3)) {  // name:pw:gid[:members]
      if (g[0] == group_part || (gid_arg && *parse_id(g[2]) == *gid_arg)) {
        out.gid = *parse_id(g[2]);
        group_found = true;
        break;
      }
    }
    if (!group_found) {
      if (!gid_arg) return invalid_argument("group \"{}\" not found in the image's /etc/group", group_part);
      out.gid = *gid_arg;
    }
  } else if (!name.empty()) {
    for (const auto& g : entries(group_file, 4)) {
      auto members = split(g[3], ',');
      if (std::find(members.begin(), members.end(), name) != members.end())
        supplementary.push_back(*parse_id(g[2]));
    }
  }

  out.additional_gids.push_back(out.gid);
  for (uint32_t g : supplementary)
    if (std::find(out.additional_gids.begin(), out.additional_gids.end(), g) == out.additional_gids.end())
      out.additional_gids.push_back(g);
  return out;
}

}  // namespace zl
