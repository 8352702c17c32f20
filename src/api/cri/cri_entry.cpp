// The entry point of the zlayer-cri.so module: what its loader (cri_module.cpp) looks up.
#include "api/cri/cri_server.h"

extern "C" [[gnu::visibility("default")]] const zl::api::CriModule* zlayer_cri_module() {
  static const zl::api::CriModule module{ZLAYER_VERSION, &zl::api::start_cri_server};
  return &module;
}
