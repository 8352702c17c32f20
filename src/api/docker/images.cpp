// Docker API: images — list, inspect, pull (POST /images/create, streamed JSON progress), tag,
// remove.
#include <mutex>
#include <set>

#include "api/docker/docker_api.h"
#include "image/local_name.h"
#include "image/puller.h"
#include "image/reference.h"

namespace zl::api::docker {

using nlohmann::json;

namespace {

json image_summary(const ImageSummary& i, const std::vector<std::string>& tags) {
  return {
      {"Id", i.config_digest.str()}, {"ParentId", ""},  {"RepoTags", tags}, {"RepoDigests", json::array()},
      {"Created", i.created_unix},   {"Size", i.size},  {"SharedSize", -1}, {"VirtualSize", i.size},
      {"Labels", json::object()},    {"Containers", -1}};
}

json image_inspect(const ImageDetails& img, const std::vector<std::string>& tags) {
  const json& cfg = img.config;
  json out = {
      {"Id", img.record.config_digest.str()},
      {"RepoTags", tags},
      {"RepoDigests", json::array()},
      {"Parent", ""},
      {"Comment", cfg.value("comment", "")},
      {"Created", cfg.value("created", "0001-01-01T00:00:00Z")},
      {"Container", ""},
      {"DockerVersion", ""},
      {"Author", cfg.value("author", "")},
      {"Config", cfg.contains("config") && cfg["config"].is_object() ? cfg["config"] : json::object()},
      {"Architecture", cfg.value("architecture", "")},
      {"Os", cfg.value("os", "")},
      {"Size", img.size},
      {"VirtualSize", img.size},
      {"GraphDriver", {{"Name", "overlay"}, {"Data", json::object()}}},
      {"RootFS", {{"Type", "layers"}, {"Layers", json::array()}}},
      {"Metadata", {{"LastTagTime", "0001-01-01T00:00:00Z"}}}};
  for (const auto& d : img.diff_ids) out["RootFS"]["Layers"].push_back(d.str());
  return out;
}

// All familiar names of each image id.
std::map<std::string, std::vector<std::string>> tags_by_id(const std::vector<ImageSummary>& list) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& i : list) out[i.config_digest.str()].push_back(familiar_image(i.reference));
  return out;
}

}  // namespace

void add_image_routes(Router& r, const std::shared_ptr<DockerApiDeps>& d) {
  r.add("GET", "/images/json", [d](Request&, Responder& res) {
    auto list = d->images.list();
    if (!list) return send_error(res, list.error());
    auto tags = tags_by_id(*list);
    json out = json::array();
    std::set<std::string> seen;
    for (const auto& i : *list)
      if (seen.insert(i.config_digest.str()).second)
        out.push_back(image_summary(i, tags[i.config_digest.str()]));
    send_json(res, 200, out);
  });

  r.add("GET", "/images/{name...}/json", [d](Request& req, Responder& res) {
    auto img = d->images.inspect(local_image_name(d->images, req.params["name"]));
    if (!img) return send_error(res, Error{img.error().kind, "No such image: " + req.params["name"]});
    std::vector<std::string> tags;
    if (auto list = d->images.list())
      for (const auto& i : *list)
        if (i.config_digest == img->record.config_digest) tags.push_back(familiar_image(i.reference));
    send_json(res, 200, image_inspect(*img, tags));
  });

  r.add("POST", "/images/create", [d](Request& req, Responder& res) {
    std::string from = req.query_param("fromImage").value_or("");
    std::string tag = req.query_param("tag").value_or("");
    if (from.empty())
      return send_error(
          res, Error{ErrorKind::invalid_argument, "fromImage is required (import is not supported)"});
    std::string name = from;
    if (!tag.empty()) name += (tag.starts_with("sha256:") ? "@" : ":") + tag;
    auto ref = Reference::parse(name);
    if (!ref) return send_error(res, ref.error());
    res.begin_stream(200, "application/json");
    std::mutex mu;
    auto line = [&](const json& j) {
      std::lock_guard lock(mu);
      res.write(json_text(j) + "\r\n");
    };
    line({{"status", fmt::format("Pulling from {}", ref->repository)}, {"id", ref->manifest_ref()}});
    PullOptions po;
    po.policy = PullPolicy::always;
    po.progress = [&](const BlobProgress& p) {
      std::string id(p.digest.hex().substr(0, 12));
      switch (p.state) {
        case BlobProgress::State::waiting:
          line({{"status", "Waiting"}, {"id", id}});
          break;
        case BlobProgress::State::already_exists:
          line({{"status", "Already exists"}, {"id", id}});
          break;
        case BlobProgress::State::downloading:
          line({{"status", "Downloading"},
                {"id", id},
                {"progressDetail", {{"current", p.done}, {"total", p.total}}}});
          break;
        case BlobProgress::State::verified:
          line({{"status", "Download complete"}, {"id", id}});
          break;
      }
    };
    RegistryOptions registry = d->registry;
    if (auto creds = registry_auth(req)) registry.credentials = *creds;  // from `docker login`
    Puller puller(d->images, registry);
    auto rec = puller.pull(*ref, po);
    if (!rec) {
      line({{"errorDetail", {{"message", rec.error().message}}}, {"error", rec.error().message}});
      return;
    }
    image_event(*d, "pull", ref->familiar(), ref->repository);
    line({{"status", "Digest: " + rec->manifest_digest.str()}});
    line({{"status", "Status: Downloaded newer image for " + ref->familiar()}});
  });

  r.add("POST", "/images/{name...}/tag", [d](Request& req, Responder& res) {
    std::string repo = req.query_param("repo").value_or("");
    std::string tag = req.query_param("tag").value_or("latest");
    auto target = Reference::parse(repo + ":" + tag);
    if (!target) return send_error(res, target.error());
    auto st = d->images.tag(local_image_name(d->images, req.params["name"]), target->str());
    if (!st) return send_error(res, st.error());
    if (auto img = d->images.inspect(target->str()))
      image_event(*d, "tag", img->record.config_digest.str(), target->familiar());
    res.send(201, "", "");
  });

  r.add("DELETE", "/images/{name...}", [d](Request& req, Responder& res) {
    auto& rt = d->runtime;
    auto in_use = [&rt](const Digest& id) { return rt.image_in_use(id); };
    std::string name = local_image_name(d->images, req.params["name"]);
    auto before = d->images.inspect(name);
    auto removed = d->images.remove(name, req.query_flag("force"), in_use);
    if (!removed) {
      if (removed.error().kind == ErrorKind::not_found)
        return send_error(res, Error{ErrorKind::not_found, "No such image: " + req.params["name"]});
      return send_error(res, removed.error());
    }
    json out = json::array();
    std::string image_id = before ? before->record.config_digest.str() : "";
    for (const auto& u : *removed) {
      out.push_back({{"Untagged", familiar_image(u)}});
      image_event(*d, "untag", image_id, familiar_image(u));
    }
    if (before && !d->images.inspect(std::string(before->record.config_digest.hex()))) {
      (void)d->images.prune();
      out.push_back({{"Deleted", image_id}});
      image_event(*d, "delete", image_id, image_id);
    }
    send_json(res, 200, out);
  });

  r.add("POST", "/images/prune", [d](Request&, Responder& res) {
    auto report = d->images.prune();
    if (!report) return send_error(res, report.error());
    send_json(res, 200, {{"ImagesDeleted", json::array()}, {"SpaceReclaimed", 0}});
  });
}

}  // namespace zl::api::docker
