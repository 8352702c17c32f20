#include "runtime/windows/wclayer.h"

#include "runtime/windows/hcs_api.h"
#include "runtime/windows/win_util.h"

namespace zl::win {

namespace fs = std::filesystem;

Status import_layer(const fs::path& layer_dir, const fs::path& source, const std::vector<HcsLayer>& parents) {
  ZL_TRY_ASSIGN(const HcsStorageApi* api, hcs_storage_api());
  std::wstring data = widen(layer_data(parents).dump());
  HRESULT hr = api->HcsImportLayer(layer_dir.c_str(), source.c_str(), data.c_str());
  if (FAILED(hr))
    return tl::unexpected(
        hresult_error(hr, "import layer " + source.string() + " into " + layer_dir.string()));
  return {};
}

Status destroy_layer(const fs::path& layer_dir) {
  ZL_TRY_ASSIGN(const HcsStorageApi* api, hcs_storage_api());
  std::error_code ec;
  if (!fs::exists(layer_dir, ec)) return {};
  HRESULT hr = api->HcsDestroyLayer(layer_dir.c_str());
  if (FAILED(hr)) return tl::unexpected(hresult_error(hr, "destroy layer " + layer_dir.string()));
  return {};
}

namespace {

// {EC984AEC-A0F9-47E9-901F-71415A66345B}: VIRTUAL_STORAGE_TYPE_VENDOR_MICROSOFT.
constexpr GUID kMicrosoftVendor = {
    0xec984aec, 0xa0f9, 0x47e9, {0x90, 0x1f, 0x71, 0x41, 0x5a, 0x66, 0x34, 0x5b}};

}  // namespace

Result<ScratchLayer> ScratchLayer::create(const fs::path& dir, uint64_t size_gib,
                                          const std::vector<HcsLayer>& chain) {
  ZL_TRY_ASSIGN(const HcsStorageApi* api, hcs_storage_api());
  ZL_TRY_ASSIGN(const VirtDiskApi* vd, virtdisk_api());
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return io("create scratch directory {}: {}", dir.string(), ec.message());
  fs::path vhdx = dir / "sandbox.vhdx";

  VIRTUAL_STORAGE_TYPE type{VIRTUAL_STORAGE_TYPE_DEVICE_VHDX, kMicrosoftVendor};
  CREATE_VIRTUAL_DISK_PARAMETERS params{};
  params.Version = CREATE_VIRTUAL_DISK_VERSION_2;
  params.Version2.MaximumSize = (size_gib ? size_gib : kDefaultScratchSizeGiB) << 30;
  HANDLE raw = nullptr;
  DWORD err = vd->CreateVirtualDisk(&type, vhdx.c_str(), VIRTUAL_DISK_ACCESS_NONE, nullptr,
                                    CREATE_VIRTUAL_DISK_FLAG_NONE, 0, &params, nullptr, &raw);
  if (err != ERROR_SUCCESS) {
    fs::remove_all(dir, ec);
    return tl::unexpected(win32_error(err, "create scratch disk " + vhdx.string()));
  }
  ScratchLayer layer(dir, UniqueHandle(raw));  // from here the destructor undoes it all

  HRESULT hr = api->HcsFormatWritableLayerVhd(layer.vhd_.get());
  if (FAILED(hr)) return tl::unexpected(hresult_error(hr, "format scratch disk " + vhdx.string()));
  ATTACH_VIRTUAL_DISK_PARAMETERS attach{};
  attach.Version = ATTACH_VIRTUAL_DISK_VERSION_1;
  err = vd->AttachVirtualDisk(layer.vhd_.get(), nullptr, ATTACH_VIRTUAL_DISK_FLAG_NO_DRIVE_LETTER, 0, &attach,
                              nullptr);
  if (err != ERROR_SUCCESS) return tl::unexpected(win32_error(err, "attach scratch disk " + vhdx.string()));
  PWSTR mount = nullptr;
  hr = api->HcsGetLayerVhdMountPath(layer.vhd_.get(), &mount);
  layer.volume_ = take_hcs_string(mount);
  if (FAILED(hr)) return tl::unexpected(hresult_error(hr, "find the volume of " + vhdx.string()));
  std::wstring volume = widen(layer.volume_), data = widen(layer_data(chain).dump());
  hr = api->HcsInitializeWritableLayer(volume.c_str(), data.c_str(), nullptr);
  if (FAILED(hr)) return tl::unexpected(hresult_error(hr, "initialize scratch layer " + layer.volume_));
  hr = api->HcsAttachLayerStorageFilter(volume.c_str(), data.c_str());
  if (FAILED(hr)) return tl::unexpected(hresult_error(hr, "attach storage filter to " + layer.volume_));
  layer.filter_attached_ = true;
  return layer;
}

ScratchLayer::~ScratchLayer() {
  if (dir_.empty()) return;  // moved from
  if (filter_attached_)
    if (auto api = hcs_storage_api()) (*api)->HcsDetachLayerStorageFilter(widen(volume_).c_str());
  vhd_.reset();  // detaches the disk: it was attached for the handle's lifetime
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

Status remove_scratch_dir(const fs::path& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) return io("remove scratch layer {}: {}", dir.string(), ec.message());
  return {};
}

Status grant_vm_access(const Guid& vm, const fs::path& path) {
  ZL_TRY_ASSIGN(const HcsApi* api, hcs_api());
  HRESULT hr = api->HcsGrantVmAccess(widen(vm.str()).c_str(), path.c_str());
  if (FAILED(hr)) return tl::unexpected(hresult_error(hr, "HcsGrantVmAccess(" + path.string() + ")"));
  return {};
}

}  // namespace zl::win
