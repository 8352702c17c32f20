// zlayer's own REST API (JSON over the daemon's unix socket): deployments, services, containers,
// images and /metrics. It only translates requests into calls on the agent, the runtime and
// the image store. Its contract is the OpenAPI document served at /v1/openapi.json
// (src/api/openapi.json), which the tests check the answers against.
#pragma once

#include "agent/service_manager.h"
#include "api/http_server.h"
#include "api/metrics.h"
#include "runtime/runtime.h"
#include "store/image_store.h"

namespace zl::api {

struct RestApiDeps {
  ServiceManager& agent;
  Runtime& runtime;
  ImageStore& images;
  ApiLatency& latency;
};

Router make_rest_router(RestApiDeps deps);

// The OpenAPI 3 document of the API (embedded at build time).
std::string_view openapi_document();

}  // namespace zl::api
