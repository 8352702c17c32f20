// OCI / Docker v2 schema 2 manifests and indexes: media types, parsing with precise errors,
// and choosing the manifest for a platform from a multi-platform index.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/digest.h"

namespace zl::media {
inline constexpr std::string_view oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view oci_config = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view oci_layer_tar = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view oci_layer_gzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view oci_layer_zstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view docker_manifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view docker_manifest_list =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view docker_config = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view docker_layer_gzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view docker_foreign_layer_gzip =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
}  // namespace zl::media

namespace zl {

struct Platform {
  std::string os = "linux";
  std::string architecture = "amd64";
  std::string variant;  // e.g. "v8" for arm64, "v7" for arm
  static Result<Platform> parse(std::string_view s);  // "linux/amd64", "linux/arm64/v8"
  static Platform host();
  std::string str() const;
  friend bool operator==(const Platform&, const Platform&) = default;
};

struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::optional<Platform> platform;           // in indexes
  std::vector<std::string> urls;              // foreign layers
  nlohmann::json annotations = nlohmann::json::object();
  nlohmann::json to_json() const;
};

struct ImageManifest {
  std::string media_type;  // oci_manifest or docker_manifest
  Descriptor config;
  std::vector<Descriptor> layers;
};

struct ImageIndexDoc {
  std::string media_type;  // oci_index or docker_manifest_list
  std::vector<Descriptor> manifests;
};

bool is_index_media_type(std::string_view mt);
bool is_manifest_media_type(std::string_view mt);
bool is_layer_media_type(std::string_view mt);

// `content_type` is the registry's Content-Type (may be empty; then the document's mediaType
// field, or its shape, decides).
Result<ImageManifest> parse_manifest(std::string_view body, std::string_view content_type = {});
Result<ImageIndexDoc> parse_index(std::string_view body, std::string_view content_type = {});
// The media type a manifest-or-index document declares (field, else header, else shape).
Result<std::string> detect_media_type(std::string_view body, std::string_view content_type = {});

// The entry of `index` for `want` (variant matched when given; arm64 treats "" and "v8" alike).
// not_found lists the platforms the index does have.
Result<Descriptor> select_platform(const ImageIndexDoc& index, const Platform& want);

// An image config blob as a pull checks it against its manifest: a JSON object whose
// rootfs.diff_ids has one entry per layer; its platform (os, architecture, variant: strings when
// present). invalid_argument naming the config's digest otherwise.
Result<Platform> check_image_config(std::string_view config, const ImageManifest& m);

}  // namespace zl
