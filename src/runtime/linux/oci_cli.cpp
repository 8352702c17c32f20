// The OCI runtime's command line: argv building, running, error translation.
#include "runtime/linux/oci_cli.h"

#include "runtime/linux/runtime_message.h"

namespace zl {

std::vector<std::string> OciCli::argv(const std::vector<std::string>& args) const {
  std::vector<std::string> v = {path_, "--root", root_.string()};
  v.insert(v.end(), args.begin(), args.end());
  return v;
}

std::vector<std::string> OciCli::log_flags(const fs::path& file) const {
  // runc and crun both take a plain path and "json" (crun also knows "file:" / "journald:" prefixes).
  return {"--log=" + file.string(), "--log-format=json"};
}

Result<std::string> OciCli::run(std::string_view what, const std::string& id,
                                const std::vector<std::string>& args,
                                std::chrono::milliseconds timeout) const {
  SubprocessOptions o;
  o.timeout = timeout;
  ZL_TRY_ASSIGN(auto r, run_process(argv(args), o));
  if (r.ok()) return std::move(r.out);
  std::string msg = clean_runtime_message(r.err);
  if (r.timed_out) msg = fmt::format("{} timed out after {} s", name_, timeout.count() / 1000);
  if (msg.empty()) msg = fmt::format("{} {}", name_, r.describe());
  return make_error(r.timed_out ? ErrorKind::unavailable : runtime_error_kind(msg), "{} {}: {}", what, id,
                    msg);
}

}  // namespace zl
