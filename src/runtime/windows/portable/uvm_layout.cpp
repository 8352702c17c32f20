#include "runtime/windows/portable/uvm_layout.h"

#include <cstdlib>
#include <system_error>
#include <vector>

namespace zl::win {
namespace {

constexpr const char* kUvmsDir = "uvms";

Status fs_error(const std::error_code& ec, std::string_view what, const fs::path& path) {
  if (ec == std::errc::no_such_file_or_directory)
    return not_found("{} {}: {}", what, path.string(), ec.message());
  if (ec == std::errc::permission_denied)
    return permission_denied("{} {}: {}", what, path.string(), ec.message());
  return io("{} {}: {}", what, path.string(), ec.message());
}

// Undo actions recorded while preparing, run in reverse unless dismissed or kept.
class Rollback {
 public:
  explicit Rollback(bool keep) : keep_(keep) {}
  ~Rollback() {
    if (done_ || keep_) return;
    for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) (void)(*it)();
  }
  void add(std::function<Status()> undo) { undo_.push_back(std::move(undo)); }
  void dismiss() { done_ = true; }

 private:
  std::vector<std::function<Status()>> undo_;
  bool keep_ = false, done_ = false;
};

}  // namespace

UvmBootFiles UvmBootFiles::in_layer(const fs::path& layer_dir) {
  return {layer_dir / "UtilityVM" / "Files", layer_dir / "UtilityVM" / "SystemTemplate.vhdx"};
}

Result<UvmPaths> uvm_paths(const fs::path& root, std::string_view container_id) {
  if (container_id.empty()) return invalid_argument("utility VM: the container id is empty");
  if (container_id == "." || container_id == ".." ||
      container_id.find_first_of("/\\:") != std::string_view::npos)
    return invalid_argument("utility VM: container id \"{}\" is not a plain name", container_id);
  fs::path dir = root / kUvmsDir / std::string(container_id);
  return UvmPaths{dir, dir / "sandbox.vhdx", dir / "debug", dir / "crash"};
}

Status LocalUvmFileOps::create_directory(const fs::path& path) {
  std::error_code ec;
  fs::create_directory(path, ec);
  if (ec) return fs_error(ec, "create directory", path);
  return {};
}

Status LocalUvmFileOps::copy_file(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) return fs_error(ec, "copy " + from.string() + " to", to);
  return {};
}

Status LocalUvmFileOps::remove_file(const fs::path& path) {
  std::error_code ec;
  fs::remove(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) return fs_error(ec, "remove", path);
  return {};
}

Status LocalUvmFileOps::remove_all(const fs::path& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) return fs_error(ec, "remove", path);
  return {};
}

bool LocalUvmFileOps::exists(const fs::path& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

bool keep_uvm_on_failure_from_env() {
  const char* v = std::getenv("ZLAYER_KEEP_UVM_ON_FAILURE");
  return v && std::string_view(v) == "1";
}

Result<Uvm> Uvm::prepare(UvmFileOps& ops, const fs::path& root, std::string_view container_id,
                         const UvmBootFiles& boot, const Guid& runtime_id, bool keep_on_failure) {
  auto paths = uvm_paths(root, container_id);
  if (!paths) return tl::unexpected(paths.error());
  if (runtime_id.is_nil()) return invalid_argument("utility VM of {}: the runtime id is nil", container_id);
  auto context = [&](std::string_view step) {
    return fmt::format("prepare utility VM of {}: {}", container_id, step);
  };
  Rollback rollback(keep_on_failure);

  auto wrap = [&](Status s, std::string_view step) -> Status {
    if (!s) return tl::unexpected(std::move(s).error().wrap(context(step)));
    return {};
  };
  ZL_TRY(wrap(ops.create_directory(root / kUvmsDir), "create uvms directory"));
  bool dir_existed = ops.exists(paths->dir);
  ZL_TRY(wrap(ops.create_directory(paths->dir), "create its directory"));
  if (!dir_existed) rollback.add([&ops, dir = paths->dir] { return ops.remove_all(dir); });
  if (ops.exists(paths->sandbox_vhdx))  // a stale copy from a failed earlier run
    ZL_TRY(wrap(ops.remove_file(paths->sandbox_vhdx), "remove stale sandbox"));
  ZL_TRY(wrap(ops.create_directory(paths->debug_dir), "create debug share directory"));
  rollback.add([&ops, d = paths->debug_dir] { return ops.remove_all(d); });
  ZL_TRY(wrap(ops.create_directory(paths->crash_dir), "create crash directory"));
  rollback.add([&ops, d = paths->crash_dir] { return ops.remove_all(d); });
  rollback.add([&ops, f = paths->sandbox_vhdx] { return ops.remove_file(f); });  // also a partial copy
  ZL_TRY(wrap(ops.copy_file(boot.system_template_vhdx, paths->sandbox_vhdx), "copy the system template"));
  const UvmPaths& p = *paths;
  for (const fs::path* path :
       {&p.sandbox_vhdx, &boot.os_files_dir, &boot.system_template_vhdx, &p.debug_dir, &p.crash_dir})
    ZL_TRY(wrap(ops.grant_vm_access(runtime_id, *path), "grant VM access to " + path->string()));
  rollback.dismiss();
  return Uvm(ops, std::string(container_id), std::move(*paths), boot, runtime_id, keep_on_failure);
}

Uvm::Uvm(Uvm&& o) noexcept
    : ops_(o.ops_),
      container_id_(std::move(o.container_id_)),
      paths_(std::move(o.paths_)),
      boot_(std::move(o.boot_)),
      runtime_id_(o.runtime_id_),
      keep_on_failure_(o.keep_on_failure_),
      armed_(o.armed_) {
  o.armed_ = false;
}

Uvm::~Uvm() {
  if (armed_ && !keep_on_failure_) (void)cleanup();
}

Status Uvm::cleanup() {
  armed_ = false;
  Status first;
  for (Status s : {ops_->remove_file(paths_.sandbox_vhdx), ops_->remove_all(paths_.debug_dir),
                   ops_->remove_all(paths_.crash_dir), ops_->remove_all(paths_.dir)})
    if (!s && first) first = std::move(s);
  if (!first) return tl::unexpected(first.error().wrap("remove utility VM of " + container_id_));
  return {};
}

Status remove_uvm_dir(UvmFileOps& ops, const fs::path& root, std::string_view container_id) {
  auto paths = uvm_paths(root, container_id);
  if (!paths) return tl::unexpected(paths.error());
  return ops.remove_all(paths->dir);
}

}  // namespace zl::win
