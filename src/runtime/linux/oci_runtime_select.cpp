// Choosing runc or crun: each candidate is tried for real (create + delete of a throwaway
// container), the verdicts are cached per binary and boot, and the choice comes with its reason.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "common/ids.h"
#include "runtime/linux/conmon_runtime.h"
#include "runtime/linux/runtime_message.h"

namespace zl {

namespace {

using json = nlohmann::json;

struct Candidate {
  std::string name, path;
};

struct Verdict {
  bool ok = false;
  std::string error;  // why not, in the runtime's words
};

// Changes when the binary is replaced or the machine reboots (cgroup layout, kernel).
std::string fingerprint(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return fmt::format("{}.{}:{}:{}", st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_size, boot_id());
}

// The least a runtime needs to `create`: an empty rootfs, with a /probe file because runc checks
// that the program exists (it never runs: create stops before exec), and /proc (runc needs it).
json probe_config(const std::string& cgroups_path) {
  return json{
      {"ociVersion", "1.0.2"},
      {"process",
       {{"args", {"/probe"}}, {"cwd", "/"}, {"user", {{"uid", 0}, {"gid", 0}}}, {"env", {"PATH=/"}}}},
      {"root", {{"path", "rootfs"}}},
      {"mounts", {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}}}},
      {"linux",
       {{"namespaces", {{{"type", "pid"}}, {{"type", "mount"}}, {{"type", "ipc"}}, {{"type", "uts"}}}},
        {"cgroupsPath", cgroups_path}}}};
}

Status make_probe_bundle(const fs::path& bundle, const std::string& cgroups_path) {
  ZL_TRY(make_dirs(bundle / "rootfs"));
  UniqueFd probe(::open((bundle / "rootfs" / "probe").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0755));
  if (!probe) return errno_error(errno, "create probe program");
  return write_file_atomic(bundle / "config.json", probe_config(cgroups_path).dump());
}

// Creates and deletes a throwaway container with `c`.
Result<Verdict> probe(const Candidate& c, const fs::path& state_dir) {
  static std::atomic<int> counter{0};
  ZL_TRY_ASSIGN(auto tmp, TempDir::create(state_dir, ".oci-probe-"));
  std::string id = fmt::format("zlayer-probe-{}-{}", ::getpid(), counter++);
  std::string cgroup = "/" + id;
  ZL_TRY(make_probe_bundle(tmp.path() / "bundle", cgroup));
  OciCli cli(c.name, c.path, tmp.path() / "root");
  fs::path out_file = tmp.path() / "create.out";
  UniqueFd out(::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!out) return errno_error(errno, "create " + out_file.string());
  SpawnOptions so;
  so.stdout_fd = so.stderr_fd = out.get();  // the container holds these: a file, not a pipe we wait on
  ZL_TRY_ASSIGN(auto child,
                Child::spawn(cli.argv({"create", "--bundle", (tmp.path() / "bundle").string(), id}), so));
  ZL_TRY_ASSIGN(auto done, child.wait_for(std::chrono::seconds(30)));
  Verdict v;
  if (!done) {
    child.signal(SIGKILL);
    v.error = fmt::format("{} create did not finish within 30 s", c.name);
  } else if (done->code() != 0) {
    auto text = read_file(out_file);
    v.error = text ? clean_runtime_message(*text) : "";
    if (v.error.empty()) v.error = fmt::format("{} create failed with exit code {}", c.name, done->code());
  } else {
    v.ok = true;
  }
  (void)cli.run("delete probe container", id, {"delete", "--force", id});
  (void)remove_cgroup(cgroup);
  return v;
}

class VerdictCache {
 public:
  explicit VerdictCache(fs::path file) : file_(std::move(file)) {
    auto text = read_file(file_);
    if (text) doc_ = json::parse(*text, nullptr, false);
    if (!doc_.is_object() || !doc_["verdicts"].is_object()) doc_ = json{{"verdicts", json::object()}};
  }
  std::optional<Verdict> get(const std::string& path) const {
    const auto& v = doc_["verdicts"];
    if (!v.contains(path) || v[path].value("fingerprint", "") != fingerprint(path)) return std::nullopt;
    return Verdict{v[path].value("ok", false), v[path].value("error", "")};
  }
  Status put(const std::string& path, const Verdict& v) {
    doc_["verdicts"][path] = json{{"fingerprint", fingerprint(path)}, {"ok", v.ok}, {"error", v.error}};
    return write_file_atomic(file_, doc_.dump(2) + "\n");
  }

 private:
  fs::path file_;
  json doc_;
};

Result<std::vector<Candidate>> candidates(const std::string& preference) {
  if (preference == "auto")
    return std::vector<Candidate>{{"crun", find_program("crun")}, {"runc", find_program("runc")}};
  if (preference == "runc" || preference == "crun")
    return std::vector<Candidate>{{preference, find_program(preference)}};
  if (preference.find('/') != std::string::npos) {
    return std::vector<Candidate>{{fs::path(preference).filename().string(), find_program(preference)}};
  }
  return invalid_argument("OCI runtime \"{}\" is not one of auto, runc, crun or a path", preference);
}

}  // namespace

Result<OciRuntime> select_oci_runtime(const std::string& preference, const fs::path& state_dir) {
  ZL_TRY_ASSIGN(auto cands, candidates(preference));
  ZL_TRY(make_dirs(state_dir, 0700));
  ZL_TRY_ASSIGN(auto lock, FileLock::acquire(state_dir / "oci-runtime.lock"));
  VerdictCache cache(state_dir / "oci-runtime.json");
  bool forced = preference != "auto";
  std::vector<std::string> why_not;
  for (const auto& c : cands) {
    if (c.path.empty()) {
      if (forced) return not_found("OCI runtime {} is not installed", preference);
      why_not.push_back(c.name + " is not installed");
      continue;
    }
    auto v = cache.get(c.path);
    if (!v) {
      ZL_TRY_ASSIGN(v, probe(c, state_dir));
      ZL_TRY(cache.put(c.path, *v));
    }
    if (!v->ok) {
      if (forced) return unsupported("OCI runtime {} cannot run containers here: {}", c.name, v->error);
      why_not.push_back(c.name + ": " + v->error);
      continue;
    }
    std::string reason =
        forced ? fmt::format("{} as configured", c.name) : fmt::format("{} works here", c.name);
    if (!why_not.empty()) {
      reason.clear();
      for (const auto& w : why_not) reason += w + "; ";
      reason += "using " + c.name;
    }
    return OciRuntime{c.name, c.path, reason};
  }
  std::string all;
  for (const auto& w : why_not) all += (all.empty() ? "" : "; ") + w;
  return unavailable("no OCI runtime works here: {}", all);
}

}  // namespace zl
