// Pull policies, index -> platform manifest resolution, config checks, and the commit that
// moves verified blobs into the store and registers the image (rolled back on failure).
#include "image/puller.h"

#include <chrono>
#include <set>


#include "common/log.h"

namespace zl {

namespace {

constexpr int max_index_depth = 3;

// The platform-specific manifest an image reference leads to, and the indexes on the way.
struct Resolved {
  FetchedManifest manifest;
  std::vector<FetchedManifest> indexes;  // outermost first
};

// "linux/arm64" for {linux, aarch64, v8}: the normalized spelling records and comparisons use.
std::string platform_key(const Platform& p) {
  return Platform::parse(p.str()).value_or(p).str();
}

std::vector<Descriptor> unique_layers(const ImageManifest& m) {
  std::set<Digest> seen;
  std::vector<Descriptor> out;
  for (const auto& l : m.layers)
    if (seen.insert(l.digest).second) out.push_back(l);
  return out;
}

int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<PullPolicy> parse_pull_policy(std::string_view s) {
  if (s == "always") return PullPolicy::always;
  if (s == "newer") return PullPolicy::newer;
  if (s == "if_not_present" || s == "if-not-present" || s == "missing") return PullPolicy::if_not_present;
  if (s == "never") return PullPolicy::never;
  return invalid_argument("invalid pull policy \"{}\": expected always, newer, if_not_present or never", s);
}

std::string_view to_string(PullPolicy p) {
  switch (p) {
    case PullPolicy::always:
      return "always";
    case PullPolicy::newer:
      return "newer";
    case PullPolicy::if_not_present:
      return "if_not_present";
    case PullPolicy::never:
      return "never";
  }
  return "?";
}

Puller::Puller(ImageStore& store, RegistryOptions opts) : store_(store), opts_(std::move(opts)) {}

Result<ImageRecord> Puller::pull(const Reference& ref, const PullOptions& opts) {
  auto pulled = [&]() -> Result<ImageRecord> {
    ZL_TRY_ASSIGN(std::optional<ImageRecord> local, find_local(ref));
    // An explicit --platform other than the local image's means the local image does not count.
    if (local && opts.platform && local->platform != platform_key(*opts.platform)) local.reset();
    if (opts.policy == PullPolicy::never) {
      if (local) return *local;
      return not_found("not present locally{} and the pull policy is never",
                       opts.platform ? " for platform " + platform_key(*opts.platform) : "");
    }
    if (local && opts.policy == PullPolicy::if_not_present) return *local;
    ZL_TRY_ASSIGN(auto client, RegistryClient::create(ref.registry, opts_));
    if (local && opts.policy == PullPolicy::newer) {
      auto changed = changed_upstream(*client, ref, *local);
      if (!changed && changed.error().kind == ErrorKind::unavailable) {
        spdlog::warn("image={} policy=newer using the local copy: {}", ref.str(), changed.error().message);
        return *local;
      }
      if (!changed) return tl::unexpected(changed.error());
      if (!*changed) return *local;
    }
    return fetch(*client, ref, opts);
  }();
  if (!pulled) return tl::unexpected(std::move(pulled).error().wrap("pull " + ref.familiar()));
  return pulled;
}

Result<std::optional<ImageRecord>> Puller::find_local(const Reference& ref) {
  ZL_TRY_ASSIGN(std::optional<ImageRecord> rec, store_.index().find(ref.str()));
  if (rec || !ref.digest) return rec;
  // Content pulled under another name is here already when the digest matches: record this name too.
  ZL_TRY_ASSIGN(std::vector<ImageRecord> all, store_.index().list());
  for (const auto& r : all) {
    if (r.manifest_digest != *ref.digest && r.index_digest != ref.digest) continue;
    ImageRecord alias = r;
    alias.reference = ref.str();
    alias.created_unix = 0;
    ZL_TRY(store_.commit_image(alias));
    return store_.index().find(ref.str());
  }
  return std::optional<ImageRecord>();
}

Result<bool> Puller::changed_upstream(RegistryClient& client, const Reference& ref,
                                      const ImageRecord& local) const {
  if (ref.digest) return false;  // a digest names immutable content
  ZL_TRY_ASSIGN(Digest upstream, client.head_manifest(ref.repository, ref.tag));
  bool same = upstream == local.manifest_digest || (local.index_digest && upstream == *local.index_digest);
  spdlog::debug("image={} local={} upstream={} changed={}", ref.str(),
                local.index_digest.value_or(local.manifest_digest).str(), upstream.str(), !same);
  return !same;
}

namespace {

// Follows indexes down to the manifest for `want` (each child fetched by, and checked against, its digest).
Result<Resolved> resolve(RegistryClient& client, const Reference& ref, FetchedManifest top,
                         const Platform& want) {
  Resolved r{.manifest = std::move(top)};
  for (int depth = 0; is_index_media_type(r.manifest.media_type); ++depth) {
    if (depth == max_index_depth)
      return invalid_argument("image index nesting deeper than {}", max_index_depth);
    ZL_TRY_ASSIGN(ImageIndexDoc index, parse_index(r.manifest.body, r.manifest.media_type));
    ZL_TRY_ASSIGN(Descriptor entry, select_platform(index, want));
    ZL_TRY_ASSIGN(FetchedManifest child, client.get_manifest(ref.repository, entry.digest.str()));
    r.indexes.push_back(std::move(r.manifest));
    r.manifest = std::move(child);
  }
  return r;
}

}  // namespace

Result<ImageRecord> Puller::fetch(RegistryClient& client, const Reference& ref, const PullOptions& opts) {
  const Platform want = opts.platform.value_or(Platform::host());
  ZL_TRY_ASSIGN(FetchedManifest top, client.get_manifest(ref.repository, ref.manifest_ref()));
  ZL_TRY_ASSIGN(Resolved r, resolve(client, ref, std::move(top), want));
  ZL_TRY_ASSIGN(ImageManifest m, parse_manifest(r.manifest.body, r.manifest.media_type));

  // Keeps prune() from deleting what this pull writes until the image is committed.
  ZL_TRY_ASSIGN(FileLock lease, store_.lease());
  // The config first: it is small, and it tells whether the layers are worth downloading.
  ContentStore& content = store_.content();
  bool have_config = content.has(m.config.digest);
  std::string config;
  if (have_config) {
    ZL_TRY_ASSIGN(config, content.read(m.config.digest));
  } else {
    ZL_TRY_ASSIGN(config, client.get_blob(ref.repository, m.config));
  }
  if (opts.progress) {
    auto state = have_config ? BlobProgress::State::already_exists : BlobProgress::State::verified;
    auto size = static_cast<uint64_t>(m.config.size);
    opts.progress(BlobProgress{m.config.digest, true, state, size, size});
  }
  ZL_TRY_ASSIGN(Platform config_platform, check_image_config(config, m));
  std::string platform = platform_key(config_platform);
  if (r.indexes.empty() && platform != platform_key(want))
    spdlog::warn("image={} platform={} differs from the wanted platform {}", ref.str(), platform,
                 platform_key(want));

  BlobFetcher fetcher(client, content, opts_.max_parallel_downloads, opts.progress);
  ZL_TRY_ASSIGN(StagedBlobs layers, fetcher.fetch(ref.repository, unique_layers(m)));

  // Everything is verified: move it into the store and register the image.
  std::vector<Digest> added;
  auto commit = [&]() -> Status {
    ZL_TRY(layers.commit_all(added));
    auto put = [&](std::string_view data, const Digest& d) -> Status {
      if (content.has(d)) return {};
      ZL_TRY(content.put_verified(data, d));
      added.push_back(d);
      return {};
    };
    ZL_TRY(put(config, m.config.digest));
    ZL_TRY(put(r.manifest.body, r.manifest.digest));
    for (const auto& index : r.indexes) ZL_TRY(put(index.body, index.digest));
    ImageRecord rec{
        .reference = ref.str(),
        .manifest_digest = r.manifest.digest,
        .config_digest = m.config.digest,
        .index_digest = r.indexes.empty() ? std::nullopt : std::optional(r.indexes.front().digest),
        .platform = platform,
        .created_unix = now_unix()};
    return store_.commit_image(rec);
  };
  if (auto st = commit(); !st) {
    for (const auto& d : added) (void)content.remove(d);  // blobs no record references
    return tl::unexpected(st.error());
  }
  ZL_TRY_ASSIGN(std::optional<ImageRecord> rec, find_local(ref));
  if (!rec) return internal("image {} was committed but is not in the index", ref.str());
  return *rec;
}

}  // namespace zl
