// A service spec on Windows: the fields that have a Windows meaning (resources, hostname,
// command, env, isolation: `vm` is Hyper-V isolation), and an `unsupported` error naming the
// first field that has none (Linux capabilities, sysctls, ulimits, devices, ...) or that the
// Windows backend does not do yet (storage, user). Portable: tested on Linux too.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/windows/portable/hcs_document.h"
#include "spec/deployment_spec.h"

namespace zl::win {

struct WindowsServiceFields {
  std::optional<double> cpus;
  std::optional<int64_t> memory_bytes;
  std::optional<std::string> hostname;
  Isolation isolation = Isolation::process;
  std::vector<std::string> argv;  // entrypoint + args
  std::string workdir;
  std::map<std::string, std::string> env;
};

Result<WindowsServiceFields> windows_service_fields(const spec::ServiceSpec& service);

}  // namespace zl::win
