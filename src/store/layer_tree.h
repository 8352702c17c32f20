// Writes the entries of one layer under a root directory, and nowhere else: every parent is
// opened with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS) and every entry made with *at() calls.
#pragma once

#include <sys/stat.h>  // UTIME_OMIT
#include <sys/types.h>
#include <time.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/fs.h"

namespace zl {

// A layer entry's path, checked lexically: relative, no ".." component. "./a//b/" -> {a, b}.
struct EntryPath {
  std::vector<std::string> parts;  // empty for the layer root itself
  bool is_root() const { return parts.empty(); }
  const std::string& leaf() const { return parts.back(); }
  std::string str() const;  // "a/b", "." for the root
};
// invalid_argument naming the problem ("absolute path", "\"..\" component") when refused.
Result<EntryPath> parse_entry_path(std::string_view name);
// True when a relative symlink target, resolved lexically from the link's own directory,
// climbs above the layer root. Absolute targets are resolved inside the container: never.
bool symlink_escapes(const EntryPath& link, std::string_view target);

struct EntryMeta {
  uid_t uid = 0;
  gid_t gid = 0;
  mode_t perm = 0644;  // including setuid/setgid/sticky
  struct timespec atime = {0, UTIME_OMIT};
  struct timespec mtime = {0, UTIME_OMIT};
  std::vector<std::pair<std::string, std::string>> xattrs;
};

// Xattr policy: every xattr is applied except
//  - trusted.overlay.* from the archive (dropped: only our whiteout conversion may set overlay
//    metadata, a layer must not steer overlayfs redirects/metacopy),
//  - ones the filesystem does not support at all (ENOTSUP), except security.capability, and
//    user.* on symlinks/devices/fifos, which the kernel forbids (both harmless: nothing could
//    read them here). Any other failure is an error.
// Where a tree may differ from an image layer's (for files copied into a container).
struct LayerTreeOptions {
  // Any symlink target, also a relative one climbing above the root: nothing here follows
  // symlinks, and the container resolves them inside its own root.
  bool any_symlink_target = false;
  // A directory may replace a non-directory of the same name and the other way round (later
  // layer entries do); false: that is refused with conflict.
  bool replace_kind = true;
};

class LayerTree {
 public:
  using Options = LayerTreeOptions;
  static Result<LayerTree> open(const fs::path& root, Options opts = {});
  // The tree below an open directory (taken over).
  static LayerTree adopt(UniqueFd root, Options opts = {}) { return LayerTree(std::move(root), opts); }

  // Creates (replacing what is there) an empty regular file; returns its fd for the data.
  Result<UniqueFd> create_file(const EntryPath& p);
  Status finish_file(int fd, const EntryPath& p, const EntryMeta& m);
  Status make_dir(const EntryPath& p, const EntryMeta& m);
  Status make_symlink(const EntryPath& p, const std::string& target, const EntryMeta& m);
  Status make_hardlink(const EntryPath& p, const EntryPath& target);
  Status make_node(const EntryPath& p, mode_t type, dev_t dev, const EntryMeta& m);  // chr, blk, fifo
  // overlayfs whiteout (a 0/0 char device) named p.
  Status make_whiteout(const EntryPath& p, const EntryMeta& m);
  // trusted.overlay.opaque=y on directory p (created if missing).
  Status make_opaque(const EntryPath& dir);
  // Sets directory mtimes (deferred: creating children changes them).
  Status finish();

 private:
  LayerTree(UniqueFd root, Options opts) : root_(std::move(root)), opts_(opts) {}
  // Makes room for a new non-directory entry `leaf` in dirfd: removes what is there (a
  // directory only when opts_.replace_kind), then runs make() once more.
  template <class Make>
  Status create_replacing(int dirfd, const std::string& leaf, Make make, std::string_view what) const;
  // Opens the first n components of p as a directory beneath the root; missing ones are made
  // (0755) when create is true.
  Result<UniqueFd> open_dir(const EntryPath& p, size_t n, bool create) const;
  Result<UniqueFd> open_parent(const EntryPath& p) const { return open_dir(p, p.parts.size() - 1, true); }

  UniqueFd root_;
  Options opts_;
  std::vector<std::pair<EntryPath, EntryMeta>> dir_times_;
};

}  // namespace zl
