// The container's user: "name", "uid", "uid:gid", "name:group" resolved through the image's
// /etc/passwd and /etc/group, read inside the rootfs so its symlinks cannot lead out of it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace zl {

struct ResolvedUser {
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> additional_gids;  // the primary gid first, then /etc/group memberships
  std::string home = "/";                 // from /etc/passwd; "/" when there is no entry
};

// Resolves `user` (empty: root) against rootfs/etc/passwd and rootfs/etc/group (docker's rules):
//  - a name must exist in /etc/passwd; a number need not (gid 0, home "/" then);
//  - an explicit group (name or number) sets the gid and no supplementary groups;
//  - otherwise the passwd gid, plus every /etc/group entry that lists the user.
// Missing files are fine for numeric ids. Unknown names -> invalid_argument.
Result<ResolvedUser> resolve_user(const std::filesystem::path& rootfs, std::string_view user);

}  // namespace zl
