// Deployment specs (`*.zlayer.yml`): any text parses and validates, or is refused with a
// message that names the file.
#include "fuzz/fuzz_check.h"
#include "spec/parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto spec = zl::spec::parse_deployment(fuzz_text(data, size), "fuzz.zlayer.yml");
  if (!spec) ZL_FUZZ_CHECK(spec.error().message.find("fuzz.zlayer.yml") != std::string::npos, "errors name the file");
  return 0;
}
