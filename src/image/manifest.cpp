// Parses OCI / Docker v2s2 manifests and indexes into plain structs with errors that name the
// offending field, and picks an index entry for a platform.
#include "image/manifest.h"

#include <fmt/ranges.h>
#include <sys/utsname.h>

#include <algorithm>

namespace zl {

namespace {

using json = nlohmann::json;

constexpr std::string_view docker_schema1 = "application/vnd.docker.distribution.manifest.v1+json";
constexpr std::string_view docker_schema1_signed =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";

// nlohmann messages start with "[json.exception.parse_error.101] "; users need only the rest.
std::string json_error_text(const std::exception& e) {
  std::string_view m = e.what();
  if (m.starts_with("[json.exception.")) {
    if (auto close = m.find("] "); close != std::string_view::npos) m.remove_prefix(close + 2);
  }
  return std::string(m);
}

Result<json> parse_json_object(std::string_view body, std::string_view what) {
  json doc;
  try {
    doc = json::parse(body);
  } catch (const json::exception& e) {
    return invalid_argument("invalid {}: not valid JSON: {}", what, json_error_text(e));
  }
  if (!doc.is_object()) return invalid_argument("invalid {}: expected a JSON object", what);
  return doc;
}

// "application/json; charset=utf-8" -> "application/json"
std::string_view strip_params(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && content_type.back() == ' ') content_type.remove_suffix(1);
  return content_type;
}

Result<std::string> string_field(const json& obj, const char* key, std::string_view where, bool required) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) return invalid_argument("{}: missing field \"{}\"", where, key);
    return std::string();
  }
  if (!it->is_string()) return invalid_argument("{}: field \"{}\" must be a string", where, key);
  return it->get<std::string>();
}

Result<Platform> parse_platform_object(const json& p, std::string_view where) {
  if (!p.is_object()) return invalid_argument("{}: \"platform\" must be an object", where);
  Platform out;
  ZL_TRY_ASSIGN(out.os, string_field(p, "os", fmt::format("{}.platform", where), true));
  ZL_TRY_ASSIGN(out.architecture, string_field(p, "architecture", fmt::format("{}.platform", where), true));
  ZL_TRY_ASSIGN(out.variant, string_field(p, "variant", fmt::format("{}.platform", where), false));
  return out;
}

Result<Descriptor> parse_descriptor(const json& d, const std::string& where) {
  if (!d.is_object()) return invalid_argument("{}: expected a descriptor object", where);
  Descriptor out{.digest = Digest::from_hex(std::string(64, '0'))};
  ZL_TRY_ASSIGN(out.media_type, string_field(d, "mediaType", where, true));
  ZL_TRY_ASSIGN(std::string digest, string_field(d, "digest", where, true));
  auto parsed = Digest::parse(digest);
  if (!parsed) return tl::unexpected(parsed.error().wrap(where));
  out.digest = *parsed;
  auto size = d.find("size");
  if (size == d.end()) return invalid_argument("{}: missing field \"size\"", where);
  if (!size->is_number_integer() || size->get<int64_t>() < 0)
    return invalid_argument("{}: field \"size\" must be a non-negative integer", where);
  out.size = size->get<int64_t>();
  if (auto p = d.find("platform"); p != d.end()) {
    ZL_TRY_ASSIGN(out.platform, parse_platform_object(*p, where));
  }
  if (auto u = d.find("urls"); u != d.end() && u->is_array()) {
    for (const auto& url : *u)
      if (url.is_string()) out.urls.push_back(url.get<std::string>());
  }
  if (auto a = d.find("annotations"); a != d.end() && a->is_object()) out.annotations = *a;
  return out;
}

// Common checks of the top level: schemaVersion 2, not the deprecated schema 1.
Status check_schema_version(const json& doc, std::string_view what) {
  auto v = doc.find("schemaVersion");
  if (v == doc.end()) return invalid_argument("invalid {}: missing field \"schemaVersion\"", what);
  if (!v->is_number_integer())
    return invalid_argument("invalid {}: \"schemaVersion\" must be an integer", what);
  int version = v->get<int>();
  if (version == 1)
    return unsupported(
        "unsupported {}: Docker image manifest schema 1 is deprecated and not supported; "
        "the image must be pushed again as Docker schema 2 or OCI",
        what);
  if (version != 2)
    return unsupported("unsupported {}: schemaVersion {} (only 2 is supported)", what, version);
  return {};
}

std::string media_type_of(const json& doc, std::string_view content_type) {
  if (auto mt = doc.find("mediaType"); mt != doc.end() && mt->is_string()) return mt->get<std::string>();
  auto ct = strip_params(content_type);
  if (is_index_media_type(ct) || is_manifest_media_type(ct) || ct == docker_schema1 ||
      ct == docker_schema1_signed)
    return std::string(ct);
  if (doc.contains("manifests")) return std::string(media::oci_index);
  if (doc.contains("config") || doc.contains("layers")) return std::string(media::oci_manifest);
  // (json::value would throw on a schemaVersion that is not a number: found by fuzz/manifest_fuzzer.)
  auto version = doc.find("schemaVersion");
  bool v1 = version != doc.end() && version->is_number_integer() && version->get<int64_t>() == 1;
  if (v1 || doc.contains("fsLayers")) return std::string(docker_schema1);
  return std::string(ct);
}

Status check_config_media_type(const Descriptor& config) {
  if (config.media_type == media::oci_config || config.media_type == media::docker_config) return {};
  return unsupported(
      "unsupported image manifest: config media type \"{}\" is not a container image config "
      "(is this an artifact rather than an image?)",
      config.media_type);
}

// Arch names as Go (GOARCH) spells them; variants that are the default collapse to "".
Platform normalized(const Platform& p) {
  Platform n = p;
  std::transform(n.os.begin(), n.os.end(), n.os.begin(), ::tolower);
  std::transform(n.architecture.begin(), n.architecture.end(), n.architecture.begin(), ::tolower);
  std::transform(n.variant.begin(), n.variant.end(), n.variant.begin(), ::tolower);
  const std::string& a = n.architecture;
  if (a == "x86_64" || a == "x86-64") n.architecture = "amd64";
  if (a == "aarch64") n.architecture = "arm64";
  if (a == "i386" || a == "i686") n.architecture = "386";
  if (a == "armhf") n = {n.os, "arm", "v7"};
  if (a == "armel") n = {n.os, "arm", "v6"};
  if (n.architecture == "arm64" && n.variant == "v8") n.variant.clear();
  if (n.architecture == "amd64" && n.variant == "v1") n.variant.clear();
  return n;
}

bool platform_matches(const Platform& have, const Platform& want) {
  Platform h = normalized(have), w = normalized(want);
  if (h.os != w.os || h.architecture != w.architecture) return false;
  return w.variant.empty() || h.variant == w.variant;
}

}  // namespace

Result<Platform> Platform::parse(std::string_view s) {
  std::vector<std::string> parts;
  std::string_view rest = s;
  while (true) {
    auto slash = rest.find('/');
    parts.emplace_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  bool empty_part = std::any_of(parts.begin(), parts.end(), [](const std::string& p) { return p.empty(); });
  if (parts.size() < 2 || parts.size() > 3 || empty_part)
    return invalid_argument("invalid platform \"{}\": expected os/arch[/variant], e.g. linux/arm64", s);
  Platform p{parts[0], parts[1], parts.size() == 3 ? parts[2] : ""};
  return normalized(p);
}

Platform Platform::host() {
  struct utsname u {};
  if (::uname(&u) != 0) return Platform{};
  return normalized(Platform{"linux", u.machine, ""});
}

std::string Platform::str() const {
  return variant.empty() ? fmt::format("{}/{}", os, architecture)
                         : fmt::format("{}/{}/{}", os, architecture, variant);
}

nlohmann::json Descriptor::to_json() const {
  json j = {{"mediaType", media_type}, {"digest", digest.str()}, {"size", size}};
  if (platform) {
    j["platform"] = {{"os", platform->os}, {"architecture", platform->architecture}};
    if (!platform->variant.empty()) j["platform"]["variant"] = platform->variant;
  }
  if (!urls.empty()) j["urls"] = urls;
  if (!annotations.empty()) j["annotations"] = annotations;
  return j;
}

bool is_index_media_type(std::string_view mt) {
  return mt == media::oci_index || mt == media::docker_manifest_list;
}

bool is_manifest_media_type(std::string_view mt) {
  return mt == media::oci_manifest || mt == media::docker_manifest;
}

bool is_layer_media_type(std::string_view mt) {
  static constexpr std::string_view known[] = {
      media::oci_layer_tar,
      media::oci_layer_gzip,
      media::oci_layer_zstd,
      media::docker_layer_gzip,
      media::docker_foreign_layer_gzip,
      "application/vnd.oci.image.layer.nondistributable.v1.tar",
      "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
      "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
  };
  return std::find(std::begin(known), std::end(known), mt) != std::end(known);
}

Result<std::string> detect_media_type(std::string_view body, std::string_view content_type) {
  ZL_TRY_ASSIGN(json doc, parse_json_object(body, "manifest"));
  std::string mt = media_type_of(doc, content_type);
  if (mt.empty())
    return invalid_argument("invalid manifest: cannot tell its media type (no \"mediaType\" field)");
  return mt;
}

Result<ImageManifest> parse_manifest(std::string_view body, std::string_view content_type) {
  ZL_TRY_ASSIGN(json doc, parse_json_object(body, "image manifest"));
  ZL_TRY(check_schema_version(doc, "image manifest"));
  std::string media_type = media_type_of(doc, content_type);
  if (is_index_media_type(media_type))
    return invalid_argument("expected an image manifest but got an index ({})", media_type);
  if (!is_manifest_media_type(media_type))
    return unsupported("unsupported manifest media type \"{}\"", media_type);
  auto config = doc.find("config");
  if (config == doc.end()) return invalid_argument("invalid image manifest: missing field \"config\"");
  ZL_TRY_ASSIGN(Descriptor config_desc, parse_descriptor(*config, "invalid image manifest: config"));
  ZL_TRY(check_config_media_type(config_desc));
  ImageManifest m{.media_type = std::move(media_type), .config = std::move(config_desc)};
  auto layers = doc.find("layers");
  if (layers == doc.end()) return invalid_argument("invalid image manifest: missing field \"layers\"");
  if (!layers->is_array()) return invalid_argument("invalid image manifest: \"layers\" must be an array");
  for (size_t i = 0; i < layers->size(); ++i) {
    ZL_TRY_ASSIGN(Descriptor layer,
                  parse_descriptor((*layers)[i], fmt::format("invalid image manifest: layers[{}]", i)));
    if (!is_layer_media_type(layer.media_type))
      return unsupported("unsupported image manifest: layers[{}] has media type \"{}\"", i, layer.media_type);
    m.layers.push_back(std::move(layer));
  }
  return m;
}

Result<ImageIndexDoc> parse_index(std::string_view body, std::string_view content_type) {
  ZL_TRY_ASSIGN(json doc, parse_json_object(body, "image index"));
  ZL_TRY(check_schema_version(doc, "image index"));
  ImageIndexDoc idx;
  idx.media_type = media_type_of(doc, content_type);
  if (is_manifest_media_type(idx.media_type))
    return invalid_argument("expected an image index but got an image manifest ({})", idx.media_type);
  if (!is_index_media_type(idx.media_type))
    return unsupported("unsupported index media type \"{}\"", idx.media_type);
  auto manifests = doc.find("manifests");
  if (manifests == doc.end()) return invalid_argument("invalid image index: missing field \"manifests\"");
  if (!manifests->is_array()) return invalid_argument("invalid image index: \"manifests\" must be an array");
  for (size_t i = 0; i < manifests->size(); ++i) {
    ZL_TRY_ASSIGN(Descriptor d,
                  parse_descriptor((*manifests)[i], fmt::format("invalid image index: manifests[{}]", i)));
    idx.manifests.push_back(std::move(d));
  }
  return idx;
}

Result<Descriptor> select_platform(const ImageIndexDoc& index, const Platform& want) {
  std::vector<std::string> available;
  const Descriptor* best = nullptr;
  for (const auto& d : index.manifests) {
    if (!d.platform) continue;
    if (d.platform->os == "unknown") continue;  // buildx attestation manifests
    available.push_back(d.platform->str());
    if (!platform_matches(*d.platform, want)) continue;
    // With no variant asked for, an entry without a variant (the default one) wins.
    if (!best || (!normalized(*best->platform).variant.empty() && normalized(*d.platform).variant.empty()))
      best = &d;
  }
  if (best) return *best;
  if (available.empty())
    return not_found("no image for platform {}: the index lists no platforms", want.str());
  return not_found("no image for platform {} in the index; it has {}", want.str(),
                   fmt::join(available, ", "));
}

Result<Platform> check_image_config(std::string_view config, const ImageManifest& m) {
  json doc = json::parse(config, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return invalid_argument("image config {} is not valid JSON", m.config.digest.str());
  if (!doc.is_object()) return invalid_argument("image config {} is not a JSON object", m.config.digest.str());
  json diff_ids;
  if (auto rootfs = doc.find("rootfs"); rootfs != doc.end() && rootfs->is_object())
    if (auto ids = rootfs->find("diff_ids"); ids != rootfs->end()) diff_ids = *ids;
  if (!diff_ids.is_array() || diff_ids.size() != m.layers.size())
    return invalid_argument("image config {} lists {} layer diff_ids but the manifest has {} layers",
                            m.config.digest.str(), diff_ids.is_array() ? diff_ids.size() : 0, m.layers.size());
  // A field of the wrong type is refused (json::value would throw).
  auto text = [&](const char* key, const char* fallback) -> Result<std::string> {
    auto it = doc.find(key);
    if (it == doc.end() || it->is_null()) return std::string(fallback);
    if (!it->is_string()) return invalid_argument("image config {}: \"{}\" must be a string", m.config.digest.str(), key);
    return it->get<std::string>();
  };
  Platform p;
  ZL_TRY_ASSIGN(p.os, text("os", "linux"));
  ZL_TRY_ASSIGN(p.architecture, text("architecture", "amd64"));
  ZL_TRY_ASSIGN(p.variant, text("variant", ""));
  return p;
}

}  // namespace zl
