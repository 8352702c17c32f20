// SharedRegistry and PullE2E helpers.
#include "e2e/pull_env.h"

namespace zl::testing {

SharedRegistry& SharedRegistry::get() {
  static SharedRegistry instance;
  return instance;
}

SharedRegistry::SharedRegistry() {
  auto r = TestRegistry::start();
  if (r) {
    registry_ = std::move(*r);
  } else {
    error_ = r.error().message;
  }
}

Result<Digest> SharedRegistry::image(const std::string& name) {
  if (auto it = pushed_.find(name); it != pushed_.end()) return it->second;
  std::string dest = host() + "/" + name;
  Result<Digest> d = internal("no recipe for test image {}", name);
  if (name == "busybox:oci") d = push_busybox_image(dest);
  if (name == "busybox:v2s2") d = push_busybox_image(dest, {.docker_format = true});
  if (name == "multi:latest") d = push_multiarch_image(dest);
  if (name == "layered:latest") d = push_layered_image(dest);
  if (d) pushed_.emplace(name, *d);
  return d;
}

void PullE2E::SetUp() {
  auto s = TempImageStore::create();
  ASSERT_TRUE(s) << s.error().message;
  store_ = std::move(*s);
  opts_.auth_config = store_->root() / "no-docker-config.json";
  opts_.retry_base_delay = std::chrono::milliseconds(10);
}

Result<ImageRecord> PullE2E::pull(const std::string& ref, const PullOptions& o) {
  ZL_TRY_ASSIGN(Reference r, Reference::parse(ref));
  Puller puller(store_->store(), opts_);
  return puller.pull(r, o);
}

std::string PullE2E::shared_ref(const std::string& name) {
  auto& shared = SharedRegistry::get();
  if (!shared.error().empty()) {
    ADD_FAILURE() << "registry: " << shared.error();
    return "";
  }
  auto d = shared.image(name);
  if (!d) ADD_FAILURE() << "push " << name << ": " << d.error().message;
  return shared.host() + "/" + name;
}

std::vector<fs::path> PullE2E::layer_dirs(const ImageRecord& rec) {
  auto details = store_->store().inspect(rec.reference);
  if (!details) {
    ADD_FAILURE() << "inspect " << rec.reference << ": " << details.error().message;
    return {};
  }
  return details->layer_dirs;
}

}  // namespace zl::testing
