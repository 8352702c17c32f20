#include "runtime/windows/hcs_api.h"

#include <mutex>

#include "runtime/windows/win_util.h"

namespace zl::win {
namespace {

// Resolves fn pointers from one DLL; remembers the first failure as the error for everyone.
class Loader {
 public:
  explicit Loader(const wchar_t* dll) : dll_name_(dll) {
    module_ = LoadLibraryExW(dll, nullptr, LOAD_LIBRARY_SEARCH_SYSTEM32);
    if (!module_)
      fail(
          fmt::format("{} could not be loaded ({}); Windows containers need the Containers feature "
                      "(and Hyper-V for hyperv isolation) on Windows Server 2019 / Windows 10 1809 or later",
                      narrow(dll_name_), win32_error(GetLastError(), "LoadLibrary").message));
  }
  template <class Fn>
  void get(Fn& fn, const char* name) {
    if (!module_) return;
    FARPROC p = GetProcAddress(module_, name);
    if (!p) {
      fail(fmt::format("{} has no {} (a Windows version older than zlayer needs)", narrow(dll_name_), name));
      return;
    }
    // Through a generic function pointer type: the documented way to convert FARPROC.
    fn = reinterpret_cast<Fn>(reinterpret_cast<void (*)()>(p));
  }
  // Null when missing: the caller has a fallback for older Windows.
  template <class Fn>
  void get_optional(Fn& fn, const char* name) {
    if (FARPROC p = module_ ? GetProcAddress(module_, name) : nullptr)
      fn = reinterpret_cast<Fn>(reinterpret_cast<void (*)()>(p));
  }
  template <class Api>
  Result<const Api*> result(const Api* api) const {
    if (error_.empty()) return api;
    return unavailable("{}: {}", kHcsUnavailable, error_);
  }

 private:
  void fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
  }
  std::wstring dll_name_;
  HMODULE module_ = nullptr;
  std::string error_;
};

#define ZL_GET(fn) loader.get(api.fn, #fn)

}  // namespace

Result<const HcsApi*> hcs_api() {
  static HcsApi api;
  static Result<const HcsApi*> result = [] {
    Loader loader(L"computecore.dll");
    ZL_GET(HcsCreateOperation);
    ZL_GET(HcsCloseOperation);
    ZL_GET(HcsWaitForOperationResult);
    ZL_GET(HcsWaitForOperationResultAndProcessInfo);
    ZL_GET(HcsEnumerateComputeSystems);
    ZL_GET(HcsCreateComputeSystem);
    ZL_GET(HcsOpenComputeSystem);
    ZL_GET(HcsCloseComputeSystem);
    ZL_GET(HcsStartComputeSystem);
    ZL_GET(HcsShutDownComputeSystem);
    ZL_GET(HcsTerminateComputeSystem);
    ZL_GET(HcsGetComputeSystemProperties);
    ZL_GET(HcsSetComputeSystemCallback);
    ZL_GET(HcsCreateProcess);
    ZL_GET(HcsCloseProcess);
    ZL_GET(HcsTerminateProcess);
    loader.get_optional(api.HcsWaitForProcessExit, "HcsWaitForProcessExit");
    ZL_GET(HcsGetProcessProperties);
    ZL_GET(HcsGrantVmAccess);
    return loader.result(&api);
  }();
  return result;
}

Result<const HcnApi*> hcn_api() {
  static HcnApi api;
  static Result<const HcnApi*> result = [] {
    Loader loader(L"computenetwork.dll");
    ZL_GET(HcnEnumerateNetworks);
    ZL_GET(HcnCreateNetwork);
    ZL_GET(HcnOpenNetwork);
    ZL_GET(HcnCloseNetwork);
    ZL_GET(HcnEnumerateEndpoints);
    ZL_GET(HcnCreateEndpoint);
    ZL_GET(HcnOpenEndpoint);
    ZL_GET(HcnQueryEndpointProperties);
    ZL_GET(HcnDeleteEndpoint);
    ZL_GET(HcnCloseEndpoint);
    ZL_GET(HcnCreateNamespace);
    ZL_GET(HcnModifyNamespace);
    ZL_GET(HcnDeleteNamespace);
    ZL_GET(HcnCloseNamespace);
    return loader.result(&api);
  }();
  return result;
}

Result<const HcsStorageApi*> hcs_storage_api() {
  static HcsStorageApi api;
  static Result<const HcsStorageApi*> result = [] {
    Loader loader(L"computestorage.dll");
    ZL_GET(HcsImportLayer);
    ZL_GET(HcsDestroyLayer);
    ZL_GET(HcsInitializeWritableLayer);
    ZL_GET(HcsAttachLayerStorageFilter);
    ZL_GET(HcsDetachLayerStorageFilter);
    ZL_GET(HcsFormatWritableLayerVhd);
    ZL_GET(HcsGetLayerVhdMountPath);
    return loader.result(&api);
  }();
  return result;
}

Result<const VirtDiskApi*> virtdisk_api() {
  static VirtDiskApi api;
  static Result<const VirtDiskApi*> result = [] {
    Loader loader(L"virtdisk.dll");
    ZL_GET(CreateVirtualDisk);
    ZL_GET(AttachVirtualDisk);
    return loader.result(&api);
  }();
  return result;
}

}  // namespace zl::win
