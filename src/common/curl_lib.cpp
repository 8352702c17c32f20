#include "common/curl_lib.h"

#include <dlfcn.h>

#include <mutex>

namespace zl {

namespace {

template <typename Fn>
bool resolve(void* lib, const char* name, Fn& fn) {
  fn = reinterpret_cast<Fn>(::dlsym(lib, name));
  return fn != nullptr;
}

Result<CurlLib> load() {
  // Never unloaded: handles and the global state live as long as the process.
  void* lib = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  if (!lib) return unavailable("cannot load libcurl (install libcurl4): {}", ::dlerror());
  CurlLib c{};
  bool ok = resolve(lib, "curl_easy_init", c.easy_init) && resolve(lib, "curl_easy_cleanup", c.easy_cleanup) &&
            resolve(lib, "curl_easy_reset", c.easy_reset) && resolve(lib, "curl_easy_setopt", c.easy_setopt) &&
            resolve(lib, "curl_easy_perform", c.easy_perform) &&
            resolve(lib, "curl_easy_getinfo", c.easy_getinfo) &&
            resolve(lib, "curl_easy_strerror", c.easy_strerror) &&
            resolve(lib, "curl_slist_append", c.slist_append) &&
            resolve(lib, "curl_slist_free_all", c.slist_free_all);
  decltype(&::curl_global_init) global_init = nullptr;
  if (!ok || !resolve(lib, "curl_global_init", global_init))
    return unavailable("libcurl.so.4 lacks a function zlayer needs: {}", ::dlerror());
  if (CURLcode rc = global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK)
    return unavailable("cannot initialize libcurl: {}", c.easy_strerror(rc));
  return c;
}

}  // namespace

Result<const CurlLib*> curl_lib() {
  static std::once_flag once;
  static Result<CurlLib> loaded = unavailable("libcurl not loaded");
  std::call_once(once, [] { loaded = load(); });
  if (!loaded) return tl::unexpected(loaded.error());
  return &*loaded;
}

}  // namespace zl
