// Parsing of stored manifest/config blobs. nlohmann exceptions stop here and become Errors.
#include "store/image_docs.h"

#include <numeric>
#include <string>

namespace zl {
namespace {

using json = nlohmann::json;

struct Desc {
  Digest digest;
  uint64_t size;
};

// Throws json::exception on a wrong shape.
Result<Desc> parse_descriptor(const json& j) {
  ZL_TRY_ASSIGN(Digest d, Digest::parse(j.at("digest").get<std::string>()));
  int64_t size = j.at("size").get<int64_t>();
  if (size < 0) return invalid_argument("negative size {} for {}", size, d.str());
  return Desc{std::move(d), static_cast<uint64_t>(size)};
}

Result<ImageDocs> parse_manifest(const std::string& text) {
  json doc = json::parse(text);
  if (!doc.is_object() || !doc.contains("layers") || !doc.contains("config"))
    return invalid_argument("not an image manifest (no config and layers)");
  ZL_TRY_ASSIGN(Desc config, parse_descriptor(doc.at("config")));
  ImageDocs docs{.config_digest = config.digest, .config_size = config.size};
  for (const auto& layer : doc.at("layers")) {
    ZL_TRY_ASSIGN(Desc d, parse_descriptor(layer));
    docs.layer_blobs.push_back(std::move(d.digest));
    docs.layer_sizes.push_back(d.size);
  }
  docs.manifest = std::move(doc);
  return docs;
}

struct ConfigDoc {
  json doc;
  std::vector<Digest> diff_ids;
};

Result<ConfigDoc> parse_config(const std::string& text) {
  ConfigDoc config{json::parse(text), {}};
  for (const auto& item : config.doc.at("rootfs").at("diff_ids")) {
    ZL_TRY_ASSIGN(Digest d, Digest::parse(item.get<std::string>()));
    config.diff_ids.push_back(std::move(d));
  }
  return config;
}

// Runs parse(text) with json exceptions turned into invalid_argument naming the blob.
template <class Parse>
auto parse_blob(const ContentStore& content, const Digest& d, std::string_view what, Parse parse)
    -> decltype(parse(std::string())) {
  auto text = content.read(d);
  if (!text) return tl::unexpected(text.error().wrap(fmt::format("read {}", what)));
  try {
    auto r = parse(*text);
    if (!r) return tl::unexpected(r.error().wrap(fmt::format("{} {}", what, d.str())));
    return r;
  } catch (const json::exception& e) {
    return invalid_argument("{} {} is not valid: {}", what, d.str(), e.what());
  }
}

}  // namespace

uint64_t ImageDocs::size() const {
  return std::accumulate(layer_sizes.begin(), layer_sizes.end(), config_size);
}

Result<ImageDocs> read_manifest_docs(const ContentStore& content, const Digest& manifest) {
  return parse_blob(content, manifest, "manifest", parse_manifest);
}

Result<ImageDocs> read_image_docs(const ContentStore& content, const Digest& manifest) {
  ZL_TRY_ASSIGN(ImageDocs docs, read_manifest_docs(content, manifest));
  ZL_TRY_ASSIGN(ConfigDoc config, parse_blob(content, docs.config_digest, "config", parse_config));
  docs.config = std::move(config.doc);
  docs.diff_ids = std::move(config.diff_ids);
  if (docs.diff_ids.size() != docs.layer_blobs.size())
    return invalid_argument("manifest {} has {} layers but its config {} lists {} diff_ids", manifest.str(),
                            docs.layer_blobs.size(), docs.config_digest.str(), docs.diff_ids.size());
  return docs;
}

}  // namespace zl
