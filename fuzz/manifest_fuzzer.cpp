// Registry documents (image manifests and indexes, OCI and Docker v2, image configs): any body
// parses or is refused with a message; a parsed index can be asked for a platform.
#include "fuzz/fuzz_check.h"
#include "image/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body = fuzz_text(data, size);
  if (auto m = zl::parse_manifest(body); !m) {
    ZL_FUZZ_CHECK(!m.error().message.empty(), "manifest error message");
  } else {
    (void)zl::check_image_config(body, *m);  // the same text as an image config
  }
  if (auto idx = zl::parse_index(body); idx) {
    (void)zl::select_platform(*idx, zl::Platform{});
    (void)zl::select_platform(*idx, zl::Platform{.os = "linux", .architecture = "arm64", .variant = "v8"});
  }
  (void)zl::detect_media_type(body);
  return 0;
}
