#include "api/docker/docker_api.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <thread>

#include "common/time_format.h"
#include "image/reference.h"

namespace zl::api {

using nlohmann::json;

namespace docker {

void send_json(Responder& res, int status, const json& body) {
  res.send(status, "application/json", json_text(body));
}

void send_error(Responder& res, const Error& e) {
  send_json(res, http_status_for(e.kind), {{"message", e.message}});
}

std::set<std::string> filter_values(const json& filters, const char* key) {
  std::set<std::string> out;
  if (!filters.is_object() || !filters.contains(key)) return out;
  const auto& f = filters[key];
  if (f.is_array()) {
    for (const auto& v : f)
      if (v.is_string()) out.insert(v.get<std::string>());
  } else if (f.is_object()) {
    for (const auto& [k, v] : f.items()) out.insert(k);
  }
  return out;
}

WriteFn stream_to(Responder& res) {
  return [&res](std::string_view chunk) -> Status {
    if (!res.write(chunk)) return unavailable("the client went away");
    return {};
  };
}

std::string rfc3339(int64_t unix_nano) {
  return rfc3339_nano(unix_nano);
}

}  // namespace docker

void strip_docker_version(Request& req) {
  // "/v1.41/containers/json" -> "/containers/json"
  auto strip = [](std::string& p) {
    if (p.size() < 3 || p.compare(0, 2, "/v") != 0 || !std::isdigit(static_cast<unsigned char>(p[2]))) return;
    auto slash = p.find('/', 1);
    if (slash == std::string::npos) return;
    p.erase(0, slash);
  };
  strip(req.target);
  strip(req.path);
}

Router make_docker_router(DockerApiDeps deps) {
  Router r;
  auto d = std::make_shared<DockerApiDeps>(std::move(deps));
  auto ping = [](Request& req, Responder& res) {
    std::vector<std::pair<std::string, std::string>> h = {
        {"Api-Version", kDockerApiVersion},
        {"Docker-Experimental", "false"},
        {"Ostype", "linux"},
        {"Cache-Control", "no-cache, no-store, must-revalidate"}};
    res.send(200, "text/plain; charset=utf-8", req.method == "HEAD" ? "" : "OK", h);
  };
  r.add("GET", "/_ping", ping);
  r.add("HEAD", "/_ping", ping);
  r.add("GET", "/version", [](Request&, Responder& res) {
    utsname u{};
    ::uname(&u);
    json details = {{"ApiVersion", kDockerApiVersion},
                    {"MinAPIVersion", kDockerMinApiVersion},
                    {"GitCommit", "zlayer"},
                    {"GoVersion", "none (C++20)"},
                    {"Os", "linux"},
                    {"Arch", "amd64"},
                    {"KernelVersion", u.release},
                    {"BuildTime", ""}};
    json v = details;  // the engine's fields, and the same again as its component's details
    v["Version"] = ZLAYER_VERSION;
    details["Experimental"] = "false";
    v["Components"] = json::array({{{"Name", "Engine"}, {"Version", ZLAYER_VERSION}, {"Details", details}}});
    docker::send_json(res, 200, v);
  });
  r.add("GET", "/info", [d](Request&, Responder& res) {
    int running = 0, paused = 0, stopped = 0, total = 0;
    if (auto all = d->runtime.list_containers()) {
      for (const auto& c : *all) {
        ++total;
        if (c.status == ContainerStatus::running)
          ++running;
        else if (c.status == ContainerStatus::paused)
          ++paused;
        else
          ++stopped;
      }
    }
    size_t images = 0;
    if (auto l = d->images.list()) images = l->size();
    utsname u{};
    ::uname(&u);
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    auto oci = d->runtime.oci_runtime();
    std::string rt = oci ? oci->name : "runc";
    json info = {{"ID", "zlayer"},
                 {"Containers", total},
                 {"ContainersRunning", running},
                 {"ContainersPaused", paused},
                 {"ContainersStopped", stopped},
                 {"Images", images},
                 {"Driver", "overlay"},
                 {"DockerRootDir", d->root},
                 {"Name", host},
                 {"OperatingSystem", "zlayer"},
                 {"OSType", "linux"},
                 {"Architecture", u.machine},
                 {"KernelVersion", u.release},
                 {"NCPU", std::thread::hardware_concurrency()},
                 {"MemTotal", static_cast<int64_t>(::sysconf(_SC_PHYS_PAGES)) * ::sysconf(_SC_PAGESIZE)},
                 {"ServerVersion", ZLAYER_VERSION},
                 {"DefaultRuntime", rt},
                 {"Runtimes", {{rt, {{"path", oci ? oci->path : rt}}}}},
                 {"CgroupDriver", "cgroupfs"},
                 {"SecurityOptions", json::array({"name=seccomp,profile=builtin"})},
                 {"Plugins",
                  {{"Volume", json::array({"local"})}, {"Network", json::array({"bridge", "host", "null"})}}},
                 {"Labels", json::array()},
                 {"Debug", false}};
    docker::send_json(res, 200, info);
  });
  docker::add_image_routes(r, d);
  docker::add_container_routes(r, d);
  docker::add_exec_routes(r, d);
  docker::add_volume_routes(r, d);
  docker::add_network_routes(r, d);
  docker::add_archive_routes(r, d);
  docker::add_image_archive_routes(r, d);
  docker::add_auth_routes(r, d);
  docker::add_event_routes(r, d);
  return r;
}

}  // namespace zl::api
