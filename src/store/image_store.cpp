// ImageStore: the image operations (resolve, list, inspect, tag, remove, prune, verify, commit)
// over the content store, the layer store and the index.
#include "store/image_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <set>
#include <system_error>
#include <thread>

#include "common/failpoint.h"
#include "common/log.h"
#include "store/image_docs.h"

namespace zl {
namespace {

constexpr size_t kMaxUnpackThreads = 4;
constexpr size_t kMinIdPrefix = 4;

std::string short_id(const Digest& config) {
  return std::string(config.hex().substr(0, 12));
}

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : std::string(sep)) + item;
  return out;
}

// An image id (config digest hex, "sha256:" optional): full or a unique prefix.
Result<std::optional<ImageRecord>> find_by_id(const std::vector<ImageRecord>& records, std::string_view id) {
  if (id.starts_with("sha256:")) id.remove_prefix(7);
  if (id.size() < kMinIdPrefix || id.size() > 64 || !is_hex(id)) return std::optional<ImageRecord>();
  std::vector<const ImageRecord*> matches;
  std::set<Digest> configs;
  for (const auto& r : records) {
    if (r.config_digest.hex().starts_with(id) && configs.insert(r.config_digest).second)
      matches.push_back(&r);
  }
  if (matches.size() > 1) {
    std::vector<std::string> ids;
    for (const auto* r : matches) ids.push_back(short_id(r->config_digest));
    return invalid_argument("image id prefix \"{}\" is ambiguous: it matches {}", id, join(ids, ", "));
  }
  if (matches.empty()) return std::optional<ImageRecord>();
  return std::optional<ImageRecord>(*matches.front());
}

Result<ImageRecord> resolve_in(const std::vector<ImageRecord>& records, const std::string& name) {
  for (const auto& r : records) {
    if (r.reference == name) return r;
  }
  if (auto d = Digest::parse(name)) {
    for (const auto& r : records) {
      if (r.manifest_digest == *d) return r;
    }
  }
  ZL_TRY_ASSIGN(auto by_id, find_by_id(records, name));
  if (by_id) return std::move(*by_id);
  return not_found("image {} not found", name);
}

std::vector<std::string> references_of(const std::vector<ImageRecord>& records, const Digest& config) {
  std::vector<std::string> refs;
  for (const auto& r : records) {
    if (r.config_digest == config) refs.push_back(r.reference);
  }
  std::sort(refs.begin(), refs.end());
  return refs;
}

// Unpacks the image's layers, up to kMaxUnpackThreads at a time; the first failure (in layer
// order) is returned and stops layers not yet started.
Status unpack_layers(LayerStore& layers, const ContentStore& content, const ImageDocs& docs) {
  size_t n = docs.layer_blobs.size();
  std::vector<Status> results(n);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  auto work = [&] {
    for (size_t i; !failed && (i = next++) < n;) {
      results[i] = layers.ensure_unpacked(content.blob_path(docs.layer_blobs[i]), docs.diff_ids[i]);
      if (!results[i]) failed = true;
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < std::min(n, kMaxUnpackThreads); ++t) {
    try {
      pool.emplace_back(work);
    } catch (const std::system_error&) {
      break;  // no more threads: this one does the rest
    }
  }
  work();
  for (auto& t : pool) t.join();
  for (auto& r : results) ZL_TRY(r);
  return {};
}

Status check_blobs_present(const ContentStore& content, const ImageDocs& docs, const Digest& manifest) {
  if (!content.has(docs.config_digest))
    return not_found("config {} of manifest {} is missing from the content store", docs.config_digest.str(),
                     manifest.str());
  for (const auto& d : docs.layer_blobs) {
    if (!content.has(d))
      return not_found("layer blob {} of manifest {} is missing from the content store", d.str(),
                       manifest.str());
  }
  return {};
}

// What a record needs that is missing, as sentences.
std::vector<std::string> record_problems(const ContentStore& content, const LayerStore& layers,
                                         const ImageRecord& rec) {
  std::vector<std::string> problems;
  auto docs = read_image_docs(content, rec.manifest_digest);
  if (!docs) return {fmt::format("image {}: {}", rec.reference, docs.error().message)};
  if (auto st = check_blobs_present(content, *docs, rec.manifest_digest); !st)
    problems.push_back(fmt::format("image {}: {}", rec.reference, st.error().message));
  if (rec.index_digest && !content.has(*rec.index_digest))
    problems.push_back(fmt::format("image {}: index {} is missing", rec.reference, rec.index_digest->str()));
  for (const auto& id : docs->diff_ids) {
    if (!layers.has(id))
      problems.push_back(fmt::format("image {}: layer {} is not unpacked", rec.reference, id.str()));
  }
  return problems;
}

// flock(LOCK_EX|LOCK_NB): the fd holds the lock, or is empty when someone else holds it.
Result<UniqueFd> try_lock(const fs::path& lock_file) {
  UniqueFd fd(::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) return errno_error(errno, "open lock " + lock_file.string());
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) return fd;
  if (errno != EWOULDBLOCK) return errno_error(errno, "lock " + lock_file.string());
  return UniqueFd();
}

// The store lock and the gc lock (exclusive), never waiting for one while holding the other:
// callers may nest them in either order (a puller holds its lease, then commits).
Result<std::pair<FileLock, UniqueFd>> lock_for_prune(const fs::path& root) {
  fs::path gc = root / "locks" / "gc.lock";
  ZL_TRY(make_dirs(root / "locks"));
  for (;;) {
    {
      ZL_TRY_ASSIGN(auto store_lock, FileLock::acquire(root / "locks" / "store.lock"));
      ZL_TRY_ASSIGN(auto gc_lock, try_lock(gc));
      if (gc_lock) return std::pair{std::move(store_lock), std::move(gc_lock)};
    }  // store lock released: now wait for the leases to end, holding nothing
    ZL_TRY(FileLock::acquire(gc, FileLock::Mode::exclusive));
  }
}

}  // namespace

ImageStore::ImageStore(fs::path root) : root_(root), content_(root), layers_(root), index_(root) {}

Status ImageStore::init() {
  ZL_TRY(make_dirs(root_, 0700));  // zlayer's state is root's alone
  ZL_TRY(make_dirs(root_ / "locks"));
  ZL_TRY(content_.init());
  return layers_.init();
}

Result<FileLock> ImageStore::lock_exclusive() {
  ZL_TRY(make_dirs(root_ / "locks"));
  return FileLock::acquire(root_ / "locks" / "store.lock", FileLock::Mode::exclusive);
}

Result<FileLock> ImageStore::lease() {
  ZL_TRY(make_dirs(root_ / "locks"));
  return FileLock::acquire(root_ / "locks" / "gc.lock", FileLock::Mode::shared);
}

Result<ImageRecord> ImageStore::resolve(const std::string& name_or_id) const {
  ZL_TRY_ASSIGN(auto records, index_.list());
  return resolve_in(records, name_or_id);
}

Result<std::vector<ImageSummary>> ImageStore::list() const {
  ZL_TRY_ASSIGN(auto records, index_.list());
  std::vector<ImageSummary> out;
  for (const auto& r : records) {
    ImageSummary s{r.reference, r.manifest_digest, r.config_digest, 0, r.created_unix};
    if (auto docs = read_manifest_docs(content_, r.manifest_digest)) {
      s.size = docs->size();
    } else {
      spdlog::warn("image {}: {}", r.reference, docs.error().message);
    }
    out.push_back(std::move(s));
  }
  return out;
}

Result<ImageDetails> ImageStore::inspect(const std::string& name_or_id) const {
  ZL_TRY_ASSIGN(ImageRecord rec, resolve(name_or_id));
  ZL_TRY_ASSIGN(ImageDocs docs, read_image_docs(content_, rec.manifest_digest));
  ImageDetails d{.record = std::move(rec), .size = docs.size()};
  for (const auto& id : docs.diff_ids) d.layer_dirs.push_back(layers_.layer_dir(id));
  d.manifest = std::move(docs.manifest);
  d.config = std::move(docs.config);
  d.layer_blobs = std::move(docs.layer_blobs);
  d.diff_ids = std::move(docs.diff_ids);
  return d;
}

Status ImageStore::tag(const std::string& source, const std::string& target_reference) {
  if (target_reference.empty()) return invalid_argument("tag {}: empty target reference", source);
  ZL_TRY_ASSIGN(auto lock, lock_exclusive());
  ZL_TRY_ASSIGN(ImageRecord rec, resolve(source));
  rec.reference = target_reference;
  rec.created_unix = static_cast<int64_t>(std::time(nullptr));
  return index_.put(rec);
}

Result<std::vector<std::string>> ImageStore::remove(const std::string& name_or_id, bool force,
                                                    const InUse& in_use) {
  ZL_TRY_ASSIGN(auto lock, lock_exclusive());
  ZL_TRY_ASSIGN(auto records, index_.list());
  ZL_TRY_ASSIGN(ImageRecord rec, resolve_in(records, name_or_id));
  std::vector<std::string> refs = references_of(records, rec.config_digest);
  bool by_reference = rec.reference == name_or_id;
  std::vector<std::string> untag;
  if (by_reference && refs.size() > 1) {
    untag = {name_or_id};
  } else {
    if (refs.size() > 1 && !force)
      return conflict("image {} is referenced by {}: remove those by name, or force",
                      short_id(rec.config_digest), join(refs, ", "));
    if (!force && in_use && in_use(rec.config_digest))
      return conflict("image {} ({}) is in use by a container", name_or_id, short_id(rec.config_digest));
    untag = refs;
  }
  for (const auto& r : untag) ZL_TRY(index_.remove(r));
  return untag;
}

Result<PruneReport> ImageStore::prune() {
  ZL_TRY_ASSIGN(auto locks, lock_for_prune(root_));
  ZL_TRY_ASSIGN(auto records, index_.list());
  std::set<Digest> keep_blobs, keep_layers;
  for (const auto& r : records) {
    auto docs = read_image_docs(content_, r.manifest_digest);
    if (!docs)
      return tl::unexpected(docs.error().wrap(
          fmt::format("prune: cannot tell what image {} uses (remove it or pull it again)", r.reference)));
    keep_blobs.insert({r.manifest_digest, docs->config_digest});
    if (r.index_digest) keep_blobs.insert(*r.index_digest);
    keep_blobs.insert(docs->layer_blobs.begin(), docs->layer_blobs.end());
    keep_layers.insert(docs->diff_ids.begin(), docs->diff_ids.end());
  }
  PruneReport report;
  ZL_TRY_ASSIGN(auto blobs, content_.list());
  for (const auto& d : blobs) {
    if (keep_blobs.contains(d)) continue;
    uint64_t size = content_.size(d).value_or(0);
    ZL_TRY(content_.remove(d));
    report.blobs_removed.push_back(d);
    report.bytes_freed += size;
  }
  ZL_TRY_ASSIGN(auto layers, layers_.list());
  for (const auto& l : layers) {
    if (keep_layers.contains(l.diff_id)) continue;
    ZL_TRY(layers_.remove(l.diff_id));
    report.layers_removed.push_back(l.diff_id);
    report.bytes_freed += l.size;
  }
  return report;
}

Status ImageStore::verify() const {
  std::vector<std::string> problems;
  ZL_TRY_ASSIGN(auto blobs, content_.list());
  for (const auto& d : blobs) {
    if (auto st = content_.verify(d); !st) problems.push_back(st.error().message);
  }
  ZL_TRY_ASSIGN(auto records, index_.list());
  for (const auto& r : records) {
    auto more = record_problems(content_, layers_, r);
    problems.insert(problems.end(), more.begin(), more.end());
  }
  if (problems.empty()) return {};
  return corrupt("image store check found {} problem{}: {}", problems.size(), problems.size() == 1 ? "" : "s",
                 join(problems, "; "));
}

Status ImageStore::commit_image(const ImageRecord& rec) {
  auto context = fmt::format("commit image {}", rec.reference);
  auto fail = [&](Error e) { return tl::unexpected(std::move(e).wrap(context)); };
  auto lease_lock = lease();
  if (!lease_lock) return fail(lease_lock.error());
  auto docs = read_image_docs(content_, rec.manifest_digest);
  if (!docs) return fail(docs.error());
  if (docs->config_digest != rec.config_digest)
    return fail(invalid_argument("the record names config {} but manifest {} has config {}",
                                 rec.config_digest.str(), rec.manifest_digest.str(),
                                 docs->config_digest.str())
                    .value());
  if (auto st = check_blobs_present(content_, *docs, rec.manifest_digest); !st) return fail(st.error());
  if (auto st = unpack_layers(layers_, content_, *docs); !st) return fail(st.error());
  ZL_FAILPOINT("image.commit.after-unpack");
  ImageRecord stored = rec;
  if (stored.created_unix == 0) stored.created_unix = static_cast<int64_t>(std::time(nullptr));
  return index_.put(stored);
}

}  // namespace zl
