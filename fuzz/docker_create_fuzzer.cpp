// Docker API request bodies: POST /containers/create JSON becomes a ContainerSpec or a
// precise refusal, and docker's `filters` parameter is read without surprises.
#include <nlohmann/json.hpp>

#include "api/docker/docker_api.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto body = nlohmann::json::parse(fuzz_text(data, size), nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return 0;
  auto spec = zl::api::docker::spec_from_create(body, "fuzz");
  if (!spec) ZL_FUZZ_CHECK(spec.error().kind == zl::ErrorKind::invalid_argument, "a bad body is invalid_argument");
  (void)zl::api::docker::filter_values(body, "label");
  return 0;
}
