// The Docker Engine API subset (version 1.41, the one the docker 28 CLI steps down to) served on
// the daemon's second socket, so the stock `docker` CLI and docker-py drive zlayer. It only
// translates requests into calls on the Runtime and the image store, the same ones the native
// API and the CLI use: a container made by `docker run` shows in `zlayer ps` and back.
#pragma once

#include <set>

#include "api/http_server.h"
#include "image/reference.h"  // familiar_image
#include "image/registry_client.h"
#include "runtime/linux/linux_runtime.h"
#include "store/image_store.h"

namespace zl::api {

inline constexpr const char* kDockerApiVersion = "1.41";
inline constexpr const char* kDockerMinApiVersion = "1.24";

struct DockerApiDeps {
  LinuxRuntime& runtime;
  ImageStore& images;
  RegistryOptions registry;
  std::string root;  // the zlayer root (for info)
};

Router make_docker_router(DockerApiDeps deps);
// Strips the "/v1.41" prefix docker clients put on every path.
void strip_docker_version(Request& req);

// Helpers shared by the Docker API's files.
namespace docker {
void send_json(Responder& res, int status, const nlohmann::json& body);
// docker's error body {"message": ...} with the status of the error's kind.
void send_error(Responder& res, const Error& e);
// A WriteFn over a response begun with begin_stream: each piece one chunk; unavailable once the
// client has gone.
WriteFn stream_to(Responder& res);
std::string rfc3339(int64_t unix_nano);
void add_container_routes(Router& r, const std::shared_ptr<DockerApiDeps>& d);
void add_exec_routes(Router& r, const std::shared_ptr<DockerApiDeps>& d);
void add_image_routes(Router& r, const std::shared_ptr<DockerApiDeps>& d);
void add_volume_routes(Router& r, const std::shared_ptr<DockerApiDeps>& d);
void add_network_routes(Router& r, const std::shared_ptr<DockerApiDeps>& d);
void add_archive_routes(Router& r, const std::shared_ptr<DockerApiDeps>& d);
void add_image_archive_routes(Router& r, const std::shared_ptr<DockerApiDeps>& d);
void add_auth_routes(Router& r, const std::shared_ptr<DockerApiDeps>& d);
void add_event_routes(Router& r, const std::shared_ptr<DockerApiDeps>& d);
// Records an image event (`docker events`): pull, tag, untag, delete, load.
void image_event(DockerApiDeps& d, const std::string& action, const std::string& id, const std::string& name);
// The values of one key of docker's `filters` query parameter ({"k":["v"]} or {"k":{"v":true}}).
std::set<std::string> filter_values(const nlohmann::json& filters, const char* key);
// The body of POST /containers/create as a ContainerSpec (invalid_argument naming the field).
Result<ContainerSpec> spec_from_create(const nlohmann::json& body, const std::string& name);
// The credentials a docker client sends for a registry (X-Registry-Auth: base64url JSON).
std::optional<Credentials> registry_auth(const Request& req);
}  // namespace docker

}  // namespace zl::api
