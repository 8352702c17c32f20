// Docker API: `docker cp` — GET/HEAD/PUT /containers/{id}/archive: a tar of a path in the
// container, its stat (X-Docker-Container-Path-Stat), and a tar extracted into the container.
// The files are reached through LinuxRuntime::open_root and resolved inside that root only.
#include "api/docker/docker_api.h"
#include "common/log.h"
#include "image/auth.h"
#include "rootfs/root_files.h"

namespace zl::api::docker {

using nlohmann::json;

namespace {

// st_mode as Go's os.FileMode, which docker's path stat carries.
uint32_t go_file_mode(mode_t m) {
  static constexpr std::pair<mode_t, uint32_t> kTypes[] = {
      {S_IFDIR, 1u << 31}, {S_IFLNK, 1u << 27}, {S_IFBLK, 1u << 26},
      {S_IFCHR, (1u << 26) | (1u << 21)}, {S_IFIFO, 1u << 25}, {S_IFSOCK, 1u << 24}};
  static constexpr std::pair<mode_t, uint32_t> kBits[] = {{S_ISUID, 1u << 23}, {S_ISGID, 1u << 22}, {S_ISVTX, 1u << 20}};
  uint32_t out = m & 0777;
  for (auto [type, bit] : kTypes)
    if ((m & S_IFMT) == type) out |= bit;
  for (auto [flag, bit] : kBits)
    if (m & flag) out |= bit;
  return out;
}

std::pair<std::string, std::string> stat_header(const RootPathStat& st) {
  json j = {{"name", st.name},
            {"size", st.size},
            {"mode", go_file_mode(st.mode)},
            {"mtime", rfc3339(st.mtime_unix_nano)},
            {"linkTarget", st.link_target}};
  return {"X-Docker-Container-Path-Stat", base64_encode(json_text(j))};
}

// docker's words for a path that is not there, with its status.
Error path_error(const Error& e, const std::string& path, const ContainerInfo& c) {
  if (e.kind == ErrorKind::not_found)
    return Error{ErrorKind::not_found, fmt::format("Could not find the file {} in container {}", path, c.name)};
  return e;
}

}  // namespace

void add_archive_routes(Router& r, const std::shared_ptr<DockerApiDeps>& d) {
  auto& rt = d->runtime;
  // The container's root and the ?path= of the request, or the error already sent.
  auto open = [&rt](Request& req, Responder& res) -> std::optional<std::pair<ContainerRoot, std::string>> {
    std::string path = req.query_param("path").value_or("");
    if (path.empty()) {
      send_error(res, Error{ErrorKind::invalid_argument, "path is required"});
      return std::nullopt;
    }
    auto root = rt.open_root(req.params["id"]);
    if (!root) {
      Error e = root.error();
      if (e.kind == ErrorKind::not_found) e.message = "No such container: " + req.params["id"];
      send_error(res, e);
      return std::nullopt;
    }
    return std::make_pair(std::move(*root), std::move(path));
  };

  r.add("GET", "/containers/{id}/archive", [open](Request& req, Responder& res) {
    auto opened = open(req, res);
    if (!opened) return;
    auto& [root, path] = *opened;
    auto st = stat_in_root(root.fd.get(), path);
    if (!st) return send_error(res, path_error(st.error(), path, root.container));
    if (req.method == "HEAD") return res.send(200, "", "", {stat_header(*st)});
    res.begin_stream(200, "application/x-tar", {stat_header(*st)});
    auto sent = tar_from_root(root.fd.get(), path, stream_to(res));
    if (!sent) spdlog::warn("docker cp from {}:{}: {}", root.container.name, path, sent.error().message);
  });

  r.add(
      "PUT", "/containers/{id}/archive",
      [open](Request& req, Responder& res) {
        auto opened = open(req, res);
        if (!opened) return;
        auto& [root, path] = *opened;
        if (root.container.spec.read_only_rootfs && root.container.pid <= 0)
          return send_error(res, Error{ErrorKind::permission_denied, "container rootfs is marked read-only"});
        RootExtractOptions opts{.replace_kind = !req.query_flag("noOverwriteDirNonDir")};
        if (!req.query_flag("copyUIDGID")) opts.owner = std::make_pair(uid_t{0}, gid_t{0});
        auto st = extract_to_root(root.fd.get(), path, req.read_body, opts);
        if (!st) {
          Error e = path_error(st.error(), path, root.container);
          if (e.kind == ErrorKind::conflict) e.kind = ErrorKind::invalid_argument;  // docker: 400
          return send_error(res, e);
        }
        res.send(200, "", "");
      },
      Router::Body::streamed);
}

}  // namespace zl::api::docker
