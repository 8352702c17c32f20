// One old generation of a container log: conmon 2.1.6's --log-size-max only truncates (when the
// next write would pass the limit it renames an empty file over ctr.log and the old content is
// gone). We give each generation a second name, ctr.log.keep, so conmon's rename drops only the
// ctr.log name; settle_log_rotation() then makes .keep the one old file ctr.log.1 and links .keep
// to the new ctr.log. Readers see ctr.log.1, ctr.log.keep, ctr.log (oldest first, each inode once).
#pragma once

#include <cstdint>
#include <vector>

#include "common/fs.h"

namespace zl {

fs::path previous_log_path(const fs::path& log);  // ctr.log.1
fs::path kept_log_path(const fs::path& log);      // ctr.log.keep

// Before conmon starts: ctr.log exists (kept, for a restart, unless it already holds size_max
// bytes: then it becomes ctr.log.1 and a fresh one starts) and has its second name.
Status prepare_log(const fs::path& log, uint64_t size_max);
// After conmon replaced ctr.log: ctr.log.keep -> ctr.log.1 (replacing the older one), and
// ctr.log.keep linked to the new ctr.log. Nothing to do otherwise. Idempotent, serialised by a
// lock file (ctr.log.lock). Called by log readers and by anyone who looks after containers.
Status settle_log_rotation(const fs::path& log);

// An open generation of the log (an fd on it, so a rename cannot swap it under the reader).
struct LogFile {
  fs::path path;
  UniqueFd fd;
  dev_t dev = 0;
  ino_t ino = 0;
};
// The existing generations, oldest first, each inode once (the newest name wins).
std::vector<LogFile> open_log_generations(const fs::path& log);

}  // namespace zl
