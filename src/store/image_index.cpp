// ImageIndex: images.json read as a whole, rewritten atomically under the index lock.
#include "store/image_index.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace zl {
namespace {

using json = nlohmann::json;
constexpr int kSchemaVersion = 1;

fs::path index_file(const fs::path& root) {
  return root / "images.json";
}

json to_json(const ImageRecord& r) {
  json j = {{"reference", r.reference},
            {"manifest_digest", r.manifest_digest.str()},
            {"config_digest", r.config_digest.str()},
            {"platform", r.platform},
            {"created_unix", r.created_unix}};
  if (r.index_digest) j["index_digest"] = r.index_digest->str();
  return j;
}

Result<Digest> digest_field(const json& j, const char* key) {
  return Digest::parse(j.at(key).get<std::string>());
}

// Throws nlohmann::json::exception on a wrong shape; the caller turns it into an Error.
Result<ImageRecord> from_json(const json& j) {
  ZL_TRY_ASSIGN(Digest manifest, digest_field(j, "manifest_digest"));
  ZL_TRY_ASSIGN(Digest config, digest_field(j, "config_digest"));
  ImageRecord r{.reference = j.at("reference").get<std::string>(),
                .manifest_digest = std::move(manifest),
                .config_digest = std::move(config)};
  if (j.contains("index_digest")) {
    ZL_TRY_ASSIGN(r.index_digest, digest_field(j, "index_digest"));
  }
  r.platform = j.value("platform", "");
  r.created_unix = j.value("created_unix", int64_t{0});
  return r;
}

Result<std::vector<ImageRecord>> parse_index(const std::string& text, const fs::path& path) {
  std::vector<ImageRecord> out;
  try {
    json doc = json::parse(text);
    for (const auto& item : doc.at("images")) {
      auto rec = from_json(item);
      if (!rec) return corrupt("image index {} has a bad record: {}", path.string(), rec.error().message);
      out.push_back(std::move(*rec));
    }
  } catch (const json::exception& e) {
    return corrupt("image index {} is unreadable: {}", path.string(), e.what());
  }
  return out;
}

Result<std::vector<ImageRecord>> load(const fs::path& root) {
  auto text = read_file(index_file(root));
  if (!text && text.error().kind == ErrorKind::not_found) return std::vector<ImageRecord>{};
  if (!text) return tl::unexpected(text.error());
  return parse_index(*text, index_file(root));
}

Status save(const fs::path& root, std::vector<ImageRecord> records) {
  std::sort(records.begin(), records.end(),
            [](const ImageRecord& a, const ImageRecord& b) { return a.reference < b.reference; });
  json images = json::array();
  for (const auto& r : records) images.push_back(to_json(r));
  json doc = {{"schema_version", kSchemaVersion}, {"images", std::move(images)}};
  return write_file_atomic(index_file(root), doc.dump(2) + "\n");
}

Result<FileLock> lock_index(const fs::path& root) {
  ZL_TRY(make_dirs(root / "locks"));
  return FileLock::acquire(root / "locks" / "images.lock");
}

}  // namespace

ImageIndex::ImageIndex(fs::path root) : root_(std::move(root)) {}

Result<std::vector<ImageRecord>> ImageIndex::list() const {
  return load(root_);
}

Result<std::optional<ImageRecord>> ImageIndex::find(const std::string& reference) const {
  ZL_TRY_ASSIGN(auto records, load(root_));
  for (auto& r : records) {
    if (r.reference == reference) return std::optional<ImageRecord>(std::move(r));
  }
  return std::optional<ImageRecord>();
}

Status ImageIndex::put(const ImageRecord& rec) {
  if (rec.reference.empty()) return invalid_argument("image record needs a reference");
  ZL_TRY_ASSIGN(auto lock, lock_index(root_));
  ZL_TRY_ASSIGN(auto records, load(root_));
  std::erase_if(records, [&](const ImageRecord& r) { return r.reference == rec.reference; });
  records.push_back(rec);
  return save(root_, std::move(records));
}

Status ImageIndex::remove(const std::string& reference) {
  ZL_TRY_ASSIGN(auto lock, lock_index(root_));
  ZL_TRY_ASSIGN(auto records, load(root_));
  if (std::erase_if(records, [&](const ImageRecord& r) { return r.reference == reference; }) == 0)
    return not_found("image {} not found", reference);
  return save(root_, std::move(records));
}

}  // namespace zl
