// The host side of a Hyper-V utility VM (one per hyperv-isolated container), laid out under
// <root>/uvms/<container id>/:
//   sandbox.vhdx   a writable copy of the image's UtilityVM/SystemTemplate.vhdx (SCSI 0:0)
//   debug/         writable VSMB share "zlayer-debug": the guest's diagnostics for the host
//   crash/         host-only (never shared into the guest): crash dumps and saved state
// The image's UtilityVM/Files directory is the VM's OS share ("os"), owned by the image.
// Every path the VM touches is granted to the VM's runtime id (HcsGrantVmAccess). Preparing is
// all or nothing: a failure at any step removes what it made, unless ZLAYER_KEEP_UVM_ON_FAILURE=1
// asks to keep it for inspection. Portable: the steps run through UvmFileOps, so the Linux tests
// drive them on a temp dir and inject a failure at each step.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "runtime/windows/portable/guid.h"

namespace zl::win {

namespace fs = std::filesystem;

// The image's utility-VM payload, found in its UtilityVM layer directory.
struct UvmBootFiles {
  fs::path os_files_dir;          // <layer>/UtilityVM/Files
  fs::path system_template_vhdx;  // <layer>/UtilityVM/SystemTemplate.vhdx
  static UvmBootFiles in_layer(const fs::path& layer_dir);
};

struct UvmPaths {
  fs::path dir, sandbox_vhdx, debug_dir, crash_dir;
};
// invalid_argument for an empty id or one that is not a single path component.
Result<UvmPaths> uvm_paths(const fs::path& root, std::string_view container_id);

// The filesystem and HCS calls UVM preparation makes, so tests can fail any one of them.
class UvmFileOps {
 public:
  virtual ~UvmFileOps() = default;
  virtual Status create_directory(const fs::path& path) = 0;  // parents must exist; existing is ok
  virtual Status copy_file(const fs::path& from, const fs::path& to) = 0;
  virtual Status remove_file(const fs::path& path) = 0;  // missing is ok
  virtual Status remove_all(const fs::path& path) = 0;   // missing is ok
  virtual bool exists(const fs::path& path) = 0;
  virtual Status grant_vm_access(const Guid& vm, const fs::path& path) = 0;
};

// std::filesystem for the files, `grant` for HcsGrantVmAccess (on Linux tests: a recorder).
class LocalUvmFileOps : public UvmFileOps {
 public:
  using GrantFn = std::function<Status(const Guid&, const fs::path&)>;
  explicit LocalUvmFileOps(GrantFn grant) : grant_(std::move(grant)) {}
  Status create_directory(const fs::path& path) override;
  Status copy_file(const fs::path& from, const fs::path& to) override;
  Status remove_file(const fs::path& path) override;
  Status remove_all(const fs::path& path) override;
  bool exists(const fs::path& path) override;
  Status grant_vm_access(const Guid& vm, const fs::path& path) override { return grant_(vm, path); }

 private:
  GrantFn grant_;
};

// ZLAYER_KEEP_UVM_ON_FAILURE=1 in the environment.
bool keep_uvm_on_failure_from_env();

// One prepared utility VM's host state. Destroyed without release() or cleanup() (a failed
// create or start after preparing) it removes everything, unless kept for inspection.
class Uvm {
 public:
  // Steps, each undone on a later failure: mkdir uvms/ and uvms/<id>/, drop a stale sandbox,
  // mkdir debug/ and crash/, copy the template to sandbox.vhdx, grant `runtime_id` access to
  // the sandbox, the OS files, the template, debug/ and crash/. The root must exist.
  static Result<Uvm> prepare(UvmFileOps& ops, const fs::path& root, std::string_view container_id,
                             const UvmBootFiles& boot, const Guid& runtime_id, bool keep_on_failure);

  Uvm(Uvm&& other) noexcept;
  Uvm& operator=(Uvm&&) = delete;
  Uvm(const Uvm&) = delete;
  ~Uvm();

  const std::string& container_id() const { return container_id_; }
  const UvmPaths& paths() const { return paths_; }
  const UvmBootFiles& boot_files() const { return boot_; }
  const Guid& runtime_id() const { return runtime_id_; }

  // The state now lives on with its container (recorded on disk): nothing is removed here.
  void release() { armed_ = false; }
  // Removes the sandbox, debug/, crash/ and the directory now (the container is removed).
  Status cleanup();

 private:
  Uvm(UvmFileOps& ops, std::string id, UvmPaths paths, UvmBootFiles boot, Guid runtime_id, bool keep)
      : ops_(&ops),
        container_id_(std::move(id)),
        paths_(std::move(paths)),
        boot_(std::move(boot)),
        runtime_id_(runtime_id),
        keep_on_failure_(keep) {}

  UvmFileOps* ops_;
  std::string container_id_;
  UvmPaths paths_;
  UvmBootFiles boot_;
  Guid runtime_id_;
  bool keep_on_failure_ = false;
  bool armed_ = true;
};

// Removes a utility VM's directory as recorded by an earlier run (container removal, reaping).
Status remove_uvm_dir(UvmFileOps& ops, const fs::path& root, std::string_view container_id);

}  // namespace zl::win
