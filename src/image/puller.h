// Pulls an image from its registry into the ImageStore according to a pull policy. Every blob
// is verified before any is committed, so a failed pull leaves the store as it was.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "image/blob_fetcher.h"
#include "image/manifest.h"
#include "image/pull_policy.h"
#include "image/reference.h"
#include "image/registry_client.h"
#include "store/image_store.h"

namespace zl {

struct PullOptions {
  PullPolicy policy = PullPolicy::if_not_present;
  std::optional<Platform> platform;  // unset: Platform::host()
  PullProgressFn progress;
};

class Puller {
 public:
  Puller(ImageStore& store, RegistryOptions opts);

  // The image's record after the pull (or the local one when the policy says so). Errors are
  // prefixed "pull <reference>: ".
  Result<ImageRecord> pull(const Reference& ref, const PullOptions& opts = {});

 private:
  // The index record of `ref`; for a digest reference also an image pulled under another name
  // with that manifest or index digest (then recorded under `ref` as well).
  Result<std::optional<ImageRecord>> find_local(const Reference& ref);
  // For `newer`: true when the registry's digest for the tag differs from the local record's.
  Result<bool> changed_upstream(RegistryClient& client, const Reference& ref, const ImageRecord& local) const;
  Result<ImageRecord> fetch(RegistryClient& client, const Reference& ref, const PullOptions& opts);

  ImageStore& store_;
  RegistryOptions opts_;
};

}  // namespace zl
