#include "cli/context.h"

#include "image/local_name.h"

#include "image/reference.h"

namespace zl::cli {

Result<ImageStore*> Context::store() {
  if (!store_) {
    auto s = std::make_unique<ImageStore>(root);
    ZL_TRY(s->init().map_error([&](Error e) { return std::move(e).wrap("open image store in " + root); }));
    store_ = std::move(s);
  }
  return store_.get();
}

Result<LinuxRuntime*> Context::runtime() {
  if (!runtime_) {
    ZL_TRY_ASSIGN(ImageStore * images, store());
    runtime_ = std::make_unique<LinuxRuntime>(root, *images, LinuxRuntimeOptions{.oci_runtime = oci_runtime, .net = net});
  }
  return runtime_.get();
}

RegistryOptions Context::registry_options() const {
  RegistryOptions o;
  o.insecure_registries = insecure_registries;
  if (!auth_config.empty()) o.auth_config = auth_config;
  return o;
}

std::string Context::store_name(ImageStore& store, const std::string& typed) const {
  return local_image_name(store, typed);
}

}  // namespace zl::cli
