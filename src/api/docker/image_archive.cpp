// Docker API: `docker save` (GET /images/{name}/get, GET /images/get?names=...) and `docker
// load` (POST /images/load): image archives streamed out of and into the image store, in the
// format docker 25+ writes (an OCI layout with docker's manifest.json beside it; either is read).
#include "api/docker/docker_api.h"
#include "common/log.h"
#include "image/archive_io.h"
#include "image/local_name.h"

namespace zl::api::docker {

using nlohmann::json;

namespace {

// Streams the archive of the images named as the user typed them; 404 for an unknown one.
void send_images(DockerApiDeps& d, const std::vector<std::string>& typed, Responder& res) {
  if (typed.empty()) return send_error(res, Error{ErrorKind::invalid_argument, "no image named"});
  std::vector<std::string> names;
  for (const auto& n : typed) {
    std::string local = local_image_name(d.images, n);
    if (!d.images.inspect(local)) return send_error(res, Error{ErrorKind::not_found, "No such image: " + n});
    names.push_back(local);
  }
  res.begin_stream(200, "application/x-tar");
  if (auto st = write_images(d.images, names, stream_to(res)); !st)
    spdlog::warn("docker save: {}", st.error().message);
}

}  // namespace

void add_image_archive_routes(Router& r, const std::shared_ptr<DockerApiDeps>& d) {
  r.add("GET", "/images/get",
        [d](Request& req, Responder& res) { send_images(*d, req.query_params("names"), res); });
  r.add("GET", "/images/{name...}/get",
        [d](Request& req, Responder& res) { send_images(*d, {req.params["name"]}, res); });

  r.add(
      "POST", "/images/load",
      [d](Request& req, Responder& res) {
        auto loaded = load_images(d->images, req.read_body);
        if (!loaded) return send_error(res, loaded.error());
        res.begin_stream(200, "application/json");
        for (const auto& ref : *loaded) {
          image_event(*d, "load", familiar_image(ref), familiar_image(ref));
          res.write(json_text(json{{"stream", "Loaded image: " + familiar_image(ref) + "\n"}}) + "\n");
        }
      },
      Router::Body::streamed);
}

}  // namespace zl::api::docker
