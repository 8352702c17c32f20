// Kernel parameters for a container: only those namespaced per container (docker's list), so a
// container can never change the host's.
#pragma once

#include <map>
#include <string>

#include "common/error.h"

namespace zl {

// net.* (only with a network namespace of its own), kernel.msgmax/msgmnb/msgmni/sem/shmall/
// shmmax/shmmni/shm_rmid_forced and fs.mqueue.* (IPC namespace). Others -> invalid_argument.
Status validate_sysctl(const std::string& key, bool host_network);

// linux.sysctl: docker's defaults for a private network (unprivileged ping and low ports, when the
// kernel has them) overridden by the user's, each validated.
Result<std::map<std::string, std::string>> build_sysctls(const std::map<std::string, std::string>& user,
                                                         bool host_network);

}  // namespace zl
