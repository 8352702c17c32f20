// Windows container image layers on disk (wclayer directories) through computestorage.dll:
// import an extracted layer over its parents, a container's writable scratch layer, removal,
// and VM access grants for utility VMs. Windows only.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "runtime/windows/portable/hcs_document.h"
#include "runtime/windows/win_util.h"

namespace zl::win {

// HcsImportLayer: `source` (an extracted layer: Files/, Hives/...) into `layer_dir`, whose
// parents are `parents` (child first).
Status import_layer(const std::filesystem::path& layer_dir, const std::filesystem::path& source,
                    const std::vector<HcsLayer>& parents);
Status destroy_layer(const std::filesystem::path& layer_dir);

// A container's writable layer: <dir>/sandbox.vhdx of `size_gib` (dynamic), formatted
// (HcsFormatWritableLayerVhd), attached without a drive letter, initialized over the image's
// chain (HcsInitializeWritableLayer) with the storage filter on its volume. The volume path is
// the compute system's Storage.Path. Detached (the handle's lifetime), the VHDX and the
// directory deleted on destruction: it lives exactly as long as the `run` that holds it.
class ScratchLayer {
 public:
  static Result<ScratchLayer> create(const std::filesystem::path& dir, uint64_t size_gib,
                                     const std::vector<HcsLayer>& chain);
  ScratchLayer(ScratchLayer&& o) noexcept
      : dir_(std::exchange(o.dir_, {})),
        vhd_(std::move(o.vhd_)),
        volume_(std::move(o.volume_)),
        filter_attached_(std::exchange(o.filter_attached_, false)) {}
  ScratchLayer& operator=(ScratchLayer&&) = delete;
  ~ScratchLayer();
  const std::string& volume_path() const { return volume_; }

 private:
  ScratchLayer(std::filesystem::path dir, UniqueHandle vhd) : dir_(std::move(dir)), vhd_(std::move(vhd)) {}
  std::filesystem::path dir_;
  UniqueHandle vhd_;
  std::string volume_;
  bool filter_attached_ = false;
};

// What a dead `run` left of its scratch layer (the disk detached with its handle): the directory.
Status remove_scratch_dir(const std::filesystem::path& dir);

// HcsGrantVmAccess(vm, path): the VM's virtual account may open `path`.
Status grant_vm_access(const Guid& vm, const std::filesystem::path& path);

}  // namespace zl::win
