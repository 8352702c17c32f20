// Finds and loads zlayer-cri.so, the CRI server module, for `zlayer daemon --cri-socket`.
#include <dlfcn.h>

#include <cstring>
#include <mutex>

#include "api/cri/cri_server.h"

namespace zl::api {

namespace {

// The module, loaded once and never unloaded (its servers and gRPC's threads live in it).
Result<const CriModule*> cri_module() {
  static std::mutex mu;
  static const CriModule* loaded = nullptr;
  std::lock_guard lock(mu);
  if (loaded) return loaded;
  std::error_code ec;
  fs::path file = fs::read_symlink("/proc/self/exe", ec).parent_path() / kCriModuleFile;
  if (ec) return errno_error(ec.value(), "find the zlayer binary's directory for the CRI module");
  if (!fs::exists(file)) return unavailable("CRI: the module {} is missing (it is built and installed with zlayer)", file.string());
  // RTLD_NOW: a module of another build fails here, with the missing symbol's name.
  void* handle = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) return unavailable("CRI: cannot load {}: {}", file.string(), ::dlerror());
  auto entry = reinterpret_cast<const CriModule* (*)()>(::dlsym(handle, kCriModuleEntry));
  const CriModule* m = entry ? entry() : nullptr;
  if (!m || std::strcmp(m->version, ZLAYER_VERSION) != 0) {
    ::dlclose(handle);
    return unavailable("CRI: {} is not of this zlayer build ({})", file.string(), ZLAYER_VERSION);
  }
  return loaded = m;
}

}  // namespace

Result<std::unique_ptr<CriServer>> load_cri_server(CriDeps deps, const std::string& socket_path) {
  ZL_TRY_ASSIGN(const CriModule* m, cri_module());
  return m->start(std::move(deps), socket_path);
}

}  // namespace zl::api
