// CRI ImageService over the image store and the puller (the same ones `zlayer pull` uses).
#include <sys/stat.h>

#include <chrono>
#include <map>

#include "api/cri/cri_services.h"
#include "image/auth.h"
#include "image/puller.h"
#include "image/reference.h"

namespace zl::api::cri {

namespace {

// One CRI Image per image id: every reference to it as a repo tag or repo digest.
Result<std::map<std::string, v1::Image>> images_by_id(const ImageStore& images) {
  ZL_TRY_ASSIGN(auto all, images.list());
  std::map<std::string, v1::Image> out;
  for (const auto& s : all) {
    std::string id = s.config_digest.str();
    auto& img = out[id];
    img.set_id(id);
    img.set_size(s.size);
    auto ref = Reference::parse(s.reference);
    std::string name = ref ? ref->name() : s.reference.substr(0, s.reference.find_first_of("@"));
    std::string repo_digest = name + "@" + s.manifest_digest.str();
    if (s.reference.find('@') == std::string::npos) img.add_repo_tags(s.reference);
    bool seen = false;
    for (const auto& d : img.repo_digests()) seen |= d == repo_digest;
    if (!seen) img.add_repo_digests(repo_digest);
  }
  return out;
}

// The user the image runs as (config.User): a uid or a name.
void fill_user(const ImageStore& images, const std::string& id, v1::Image* img) {
  auto details = images.inspect(id.substr(7));
  if (!details) return;
  const auto& cfg = details->config;
  if (!cfg.is_object() || !cfg.contains("config") || !cfg["config"].is_object()) return;
  const auto& u = cfg["config"];
  if (!u.contains("User") || !u["User"].is_string()) return;
  std::string user = u["User"].get<std::string>();
  user = user.substr(0, user.find(':'));
  if (user.empty()) return;
  if (user.find_first_not_of("0123456789") == std::string::npos) {
    img->mutable_uid()->set_value(std::stoll(user));
  } else {
    img->set_username(user);
  }
}

// Bytes and inodes under a directory (not following links, each inode once).
std::pair<uint64_t, uint64_t> disk_usage(const fs::path& dir) {
  uint64_t bytes = 0, inodes = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st{};
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    bytes += static_cast<uint64_t>(st.st_blocks) * 512;
    ++inodes;
  }
  return {bytes, inodes};
}

void fill_usage(const fs::path& dir, v1::FilesystemUsage* u) {
  auto [bytes, inodes] = disk_usage(dir);
  u->set_timestamp(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  u->mutable_fs_id()->set_mountpoint(dir.string());
  u->mutable_used_bytes()->set_value(bytes);
  u->mutable_inodes_used()->set_value(inodes);
}

}  // namespace

Result<ImageRecord> resolve_image(const ImageStore& images, const std::string& name) {
  if (name.starts_with("sha256:")) return images.resolve(name.substr(7));
  if (auto ref = Reference::parse(name))
    if (auto rec = images.resolve(ref->str())) return rec;
  return images.resolve(name);
}

grpc::Status ImageServiceImpl::ListImages(grpc::ServerContext*, const v1::ListImagesRequest* req,
                                          v1::ListImagesResponse* out) {
  auto all = images_by_id(d_.images);
  if (!all) return to_grpc(all.error());
  std::string only;
  if (!req->filter().image().image().empty()) {
    auto rec = resolve_image(d_.images, req->filter().image().image());
    if (!rec) return grpc::Status::OK;  // nothing matches
    only = rec->config_digest.str();
  }
  for (auto& [id, img] : *all) {
    if (!only.empty() && id != only) continue;
    fill_user(d_.images, id, &img);
    *out->add_images() = std::move(img);
  }
  return grpc::Status::OK;
}

grpc::Status ImageServiceImpl::ImageStatus(grpc::ServerContext*, const v1::ImageStatusRequest* req,
                                           v1::ImageStatusResponse* out) {
  auto rec = resolve_image(d_.images, req->image().image());
  if (!rec) return rec.error().kind == ErrorKind::not_found ? grpc::Status::OK : to_grpc(rec.error());
  auto all = images_by_id(d_.images);
  if (!all) return to_grpc(all.error());
  auto it = all->find(rec->config_digest.str());
  if (it == all->end()) return grpc::Status::OK;
  fill_user(d_.images, it->first, &it->second);
  *out->mutable_image() = std::move(it->second);
  return grpc::Status::OK;
}

grpc::Status ImageServiceImpl::PullImage(grpc::ServerContext*, const v1::PullImageRequest* req,
                                         v1::PullImageResponse* out) {
  auto ref = Reference::parse(req->image().image());
  if (!ref) return to_grpc(ref.error());
  RegistryOptions registry = d_.registry;
  const auto& auth = req->auth();
  if (!auth.username().empty()) {
    registry.credentials = Credentials{auth.username(), auth.password()};
  } else if (!auth.auth().empty()) {
    auto decoded = base64_decode(auth.auth());
    if (!decoded || decoded->find(':') == std::string::npos)
      return to_grpc(Error{ErrorKind::invalid_argument, "PullImage: auth is not base64 of user:password"});
    auto colon = decoded->find(':');
    registry.credentials = Credentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
  }
  Puller puller(d_.images, registry);
  auto rec = puller.pull(*ref, PullOptions{.policy = PullPolicy::always});
  if (!rec) return to_grpc(rec.error());
  out->set_image_ref(rec->config_digest.str());
  return grpc::Status::OK;
}

grpc::Status ImageServiceImpl::RemoveImage(grpc::ServerContext*, const v1::RemoveImageRequest* req,
                                           v1::RemoveImageResponse*) {
  auto rec = resolve_image(d_.images, req->image().image());
  if (!rec) return rec.error().kind == ErrorKind::not_found ? grpc::Status::OK : to_grpc(rec.error());
  // Every reference to the image goes (CRI removes images, not names), unless a container uses it.
  auto& rt = d_.runtime;
  if (rt.image_in_use(rec->config_digest))
    return to_grpc(Error{ErrorKind::conflict, "RemoveImage: image " + rec->config_digest.str() + " is in use"});
  auto all = d_.images.list();
  if (!all) return to_grpc(all.error());
  for (const auto& s : *all) {
    if (s.config_digest != rec->config_digest) continue;
    auto removed = d_.images.remove(s.reference, true);
    if (!removed && removed.error().kind != ErrorKind::not_found) return to_grpc(removed.error());
  }
  (void)d_.images.prune();
  return grpc::Status::OK;
}

grpc::Status ImageServiceImpl::ImageFsInfo(grpc::ServerContext*, const v1::ImageFsInfoRequest*,
                                           v1::ImageFsInfoResponse* out) {
  fill_usage(d_.images.root() / "layers", out->add_image_filesystems());
  fill_usage(fs::path(d_.root) / "containers", out->add_container_filesystems());
  return grpc::Status::OK;
}

}  // namespace zl::api::cri
