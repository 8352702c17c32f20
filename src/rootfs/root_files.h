// Files inside a container's root, copied in and out as tar streams (`docker cp`). Every path
// is resolved beneath an open root directory as the container's own processes resolve it
// (openat2 RESOLVE_IN_ROOT): a symlink, absolute or full of "..", never leads out of the root,
// and nothing below the starting point is reached through a symlink at all.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/fs.h"
#include "store/layer_unpack.h"

namespace zl {

// One path as `docker cp` reports it.
struct RootPathStat {
  std::string name;  // its last component as given ("/" for the root, "." for "dir/.")
  int64_t size = 0;
  mode_t mode = 0;  // st_mode: type and permission bits
  int64_t mtime_unix_nano = 0;
  std::string link_target;  // a symlink's target as a path in the root ("" otherwise)
};

// The last component of `path` is not followed when it is a symlink, unless the path ends in
// "/", "/." or "/.." (then it must be a directory). not_found when it does not exist.
Result<RootPathStat> stat_in_root(int root, std::string_view path);

// Writes a tar (pax) of `path`, a file or a directory with all below it, to `out`: the top
// entry named by its last component, as docker does. Contents of proc, sysfs and cgroup
// mounts are left out; sockets too.
Status tar_from_root(int root, std::string_view path, const WriteFn& out);

struct RootExtractOptions {
  bool replace_kind = true;  // false: a directory never replaces a non-directory or back (conflict)
  std::optional<std::pair<uid_t, gid_t>> owner;  // unset: the owners the archive names
};
// Extracts the tar read from `in` into the directory `dir` (not_found when missing,
// invalid_argument when not a directory): nothing is written outside it.
Status extract_to_root(int root, std::string_view dir, const ReadFn& in, const RootExtractOptions& opts);

// Opens (O_PATH) the mount point `path` beneath `root`, making it and its missing parents
// (directories 0755; the last an empty file when `directory` is false) one component at a time,
// each resolved as the container would: a symlink in the root never leads a mount out of it.
Result<UniqueFd> make_mount_point_in_root(int root, std::string_view path, bool directory);

}  // namespace zl
