// Manifest and index parsing (OCI and Docker v2s2), their errors, and platform selection.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "image/manifest.h"

namespace zl {
namespace {

using json = nlohmann::json;

std::string digest_of(char c) {
  return "sha256:" + std::string(64, c);
}

json descriptor(std::string_view media_type, char c, int64_t size) {
  return {{"mediaType", media_type}, {"digest", digest_of(c)}, {"size", size}};
}

json oci_manifest() {
  return {
      {"schemaVersion", 2},
      {"mediaType", media::oci_manifest},
      {"config", descriptor(media::oci_config, 'a', 100)},
      {"layers", {descriptor(media::oci_layer_gzip, 'b', 2000), descriptor(media::oci_layer_tar, 'c', 10)}}};
}

json index_with(std::vector<json> platforms) {
  json idx = {{"schemaVersion", 2}, {"mediaType", media::oci_index}, {"manifests", json::array()}};
  char c = '1';
  for (auto& p : platforms) {
    json d = descriptor(media::oci_manifest, c++, 500);
    d["platform"] = p;
    idx["manifests"].push_back(d);
  }
  return idx;
}

TEST(Manifest, ParsesOciManifest) {
  auto m = parse_manifest(oci_manifest().dump());
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->media_type, media::oci_manifest);
  EXPECT_EQ(m->config.digest.str(), digest_of('a'));
  EXPECT_EQ(m->config.size, 100);
  ASSERT_EQ(m->layers.size(), 2u);
  EXPECT_EQ(m->layers[0].media_type, media::oci_layer_gzip);
  EXPECT_EQ(m->layers[1].digest.str(), digest_of('c'));
}

TEST(Manifest, ParsesDockerV2S2FromContentTypeWhenFieldMissing) {
  json doc = oci_manifest();
  doc.erase("mediaType");
  doc["config"]["mediaType"] = media::docker_config;
  doc["layers"] = {descriptor(media::docker_layer_gzip, 'b', 5)};
  auto m = parse_manifest(doc.dump(), std::string(media::docker_manifest) + "; charset=utf-8");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->media_type, media::docker_manifest);
  EXPECT_EQ(m->layers.size(), 1u);
}

TEST(Manifest, ShapeDecidesWithoutFieldOrHeader) {
  json doc = oci_manifest();
  doc.erase("mediaType");
  auto mt = detect_media_type(doc.dump());
  ASSERT_TRUE(mt);
  EXPECT_EQ(*mt, media::oci_manifest);
  json idx = index_with({{{"os", "linux"}, {"architecture", "amd64"}}});
  idx.erase("mediaType");
  EXPECT_EQ(*detect_media_type(idx.dump()), media::oci_index);
}

// Found by fuzz/manifest_fuzzer: a schemaVersion that is not a number threw out of detection.
TEST(Manifest, ASchemaVersionOfTheWrongTypeIsAnErrorNotAThrow) {
  std::string body = R"({"schemaVersion": {"mediaType": "x"}})";
  auto mt = detect_media_type(body);
  EXPECT_FALSE(mt);
  EXPECT_FALSE(parse_manifest(body));
  EXPECT_FALSE(parse_index(body));
}

TEST(ImageConfig, DiffIdsPerLayerAndPlatformFieldsAsStrings) {
  auto m = parse_manifest(oci_manifest().dump());
  ASSERT_TRUE(m);
  json config = {{"os", "linux"}, {"architecture", "arm64"}, {"variant", "v8"},
                 {"rootfs", {{"type", "layers"}, {"diff_ids", {"sha256:1", "sha256:2"}}}}};
  auto p = check_image_config(config.dump(), *m);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->str(), "linux/arm64/v8");
  // Each of these is refused with a message, never thrown.
  json wrong_type = config;
  wrong_type["os"] = 5;
  auto bad = check_image_config(wrong_type.dump(), *m);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("\"os\" must be a string"), std::string::npos) << bad.error().message;
  json one_layer = config;
  one_layer["rootfs"]["diff_ids"] = {"sha256:1"};
  EXPECT_FALSE(check_image_config(one_layer.dump(), *m));
  EXPECT_FALSE(check_image_config("[1]", *m));
  EXPECT_FALSE(check_image_config("{", *m));
}

struct BadManifest {
  std::string name;
  std::function<void(json&)> mutate;
  ErrorKind kind;
  std::string error_part;
};

TEST(Manifest, RejectsWithPreciseErrors) {
  const BadManifest cases[] = {
      {"missing config", [](json& d) { d.erase("config"); }, ErrorKind::invalid_argument,
       "missing field \"config\""},
      {"missing layers", [](json& d) { d.erase("layers"); }, ErrorKind::invalid_argument,
       "missing field \"layers\""},
      {"layers not array", [](json& d) { d["layers"] = 3; }, ErrorKind::invalid_argument, "must be an array"},
      {"bad digest", [](json& d) { d["layers"][1]["digest"] = "sha256:xyz"; }, ErrorKind::invalid_argument,
       "layers[1]: invalid digest \"sha256:xyz\""},
      {"missing size", [](json& d) { d["config"].erase("size"); }, ErrorKind::invalid_argument,
       "config: missing field \"size\""},
      {"negative size", [](json& d) { d["layers"][0]["size"] = -1; }, ErrorKind::invalid_argument,
       "layers[0]: field \"size\" must be a non-negative integer"},
      {"missing mediaType", [](json& d) { d["layers"][0].erase("mediaType"); }, ErrorKind::invalid_argument,
       "layers[0]: missing field \"mediaType\""},
      {"no schemaVersion", [](json& d) { d.erase("schemaVersion"); }, ErrorKind::invalid_argument,
       "missing field \"schemaVersion\""},
      {"schema 1", [](json& d) { d["schemaVersion"] = 1; }, ErrorKind::unsupported, "schema 1 is deprecated"},
      {"schema 3", [](json& d) { d["schemaVersion"] = 3; }, ErrorKind::unsupported, "schemaVersion 3"},
      {"unknown type", [](json& d) { d["mediaType"] = "application/x-foo"; }, ErrorKind::unsupported,
       "unsupported manifest media type \"application/x-foo\""},
      {"index type", [](json& d) { d["mediaType"] = media::oci_index; }, ErrorKind::invalid_argument,
       "got an index"},
      {"artifact config",
       [](json& d) { d["config"]["mediaType"] = "application/vnd.cncf.helm.config.v1+json"; },
       ErrorKind::unsupported, "not a container image config"},
      {"unknown layer", [](json& d) { d["layers"][1]["mediaType"] = "application/x-tar-lz4"; },
       ErrorKind::unsupported, "layers[1] has media type \"application/x-tar-lz4\""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    json doc = oci_manifest();
    c.mutate(doc);
    auto m = parse_manifest(doc.dump());
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().kind, c.kind) << m.error().message;
    EXPECT_NE(m.error().message.find(c.error_part), std::string::npos) << m.error().message;
  }
}

TEST(Manifest, RejectsNonJsonAndNonObjects) {
  auto bad = parse_manifest("{\"schemaVersion\": 2,");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::invalid_argument);
  EXPECT_NE(bad.error().message.find("invalid image manifest: not valid JSON"), std::string::npos);
  EXPECT_EQ(bad.error().message.find("json.exception"), std::string::npos) << bad.error().message;
  auto arr = parse_manifest("[1,2]");
  ASSERT_FALSE(arr);
  EXPECT_NE(arr.error().message.find("expected a JSON object"), std::string::npos);
}

TEST(Manifest, DockerSchema1IsUnsupported) {
  json v1 = {
      {"schemaVersion", 1}, {"name", "library/busybox"}, {"tag", "latest"}, {"fsLayers", json::array()}};
  auto m = parse_manifest(v1.dump(), "application/vnd.docker.distribution.manifest.v1+prettyjws");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().kind, ErrorKind::unsupported);
  EXPECT_NE(m.error().message.find("schema 1"), std::string::npos);
}

TEST(Index, ParsesIndexAndManifestList) {
  json idx = index_with({{{"os", "linux"}, {"architecture", "amd64"}},
                         {{"os", "linux"}, {"architecture", "arm64"}, {"variant", "v8"}}});
  auto i = parse_index(idx.dump());
  ASSERT_TRUE(i) << i.error().message;
  EXPECT_EQ(i->media_type, media::oci_index);
  ASSERT_EQ(i->manifests.size(), 2u);
  EXPECT_EQ(i->manifests[1].platform->variant, "v8");

  idx["mediaType"] = media::docker_manifest_list;
  auto list = parse_index(idx.dump());
  ASSERT_TRUE(list);
  EXPECT_EQ(list->media_type, media::docker_manifest_list);
}

TEST(Index, RejectsWithPreciseErrors) {
  auto manifest_as_index = parse_index(oci_manifest().dump());
  ASSERT_FALSE(manifest_as_index);
  EXPECT_NE(manifest_as_index.error().message.find("got an image manifest"), std::string::npos);

  json idx = index_with({{{"os", "linux"}}});
  auto no_arch = parse_index(idx.dump());
  ASSERT_FALSE(no_arch);
  EXPECT_NE(no_arch.error().message.find("manifests[0].platform: missing field \"architecture\""),
            std::string::npos)
      << no_arch.error().message;

  json no_list = {{"schemaVersion", 2}, {"mediaType", media::oci_index}};
  auto missing = parse_index(no_list.dump());
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("missing field \"manifests\""), std::string::npos);
}

TEST(Platform, ParsesAndNormalizes) {
  EXPECT_EQ(Platform::parse("linux/amd64")->str(), "linux/amd64");
  EXPECT_EQ(Platform::parse("linux/arm64/v8")->str(), "linux/arm64");
  EXPECT_EQ(Platform::parse("linux/aarch64")->str(), "linux/arm64");
  EXPECT_EQ(Platform::parse("linux/x86_64")->str(), "linux/amd64");
  EXPECT_EQ(Platform::parse("linux/arm/v7")->str(), "linux/arm/v7");
  for (const char* bad : {"linux", "", "linux/", "/amd64", "linux/arm/v7/x"}) {
    auto p = Platform::parse(bad);
    ASSERT_FALSE(p) << bad;
    EXPECT_NE(p.error().message.find("expected os/arch[/variant]"), std::string::npos);
  }
  EXPECT_FALSE(Platform::host().architecture.empty());
}

TEST(SelectPlatform, PicksTheMatchingEntry) {
  auto idx = *parse_index(index_with({{{"os", "linux"}, {"architecture", "amd64"}},
                                      {{"os", "linux"}, {"architecture", "arm64"}, {"variant", "v8"}},
                                      {{"os", "linux"}, {"architecture", "arm"}, {"variant", "v6"}},
                                      {{"os", "linux"}, {"architecture", "arm"}, {"variant", "v7"}},
                                      {{"os", "unknown"}, {"architecture", "unknown"}}})
                              .dump());
  EXPECT_EQ(select_platform(idx, *Platform::parse("linux/amd64"))->digest.str(), digest_of('1'));
  EXPECT_EQ(select_platform(idx, *Platform::parse("linux/arm64"))->digest.str(), digest_of('2'));
  EXPECT_EQ(select_platform(idx, Platform{"linux", "arm64", "v8"})->digest.str(), digest_of('2'));
  EXPECT_EQ(select_platform(idx, *Platform::parse("linux/arm/v7"))->digest.str(), digest_of('4'));

  auto missing = select_platform(idx, *Platform::parse("linux/s390x"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::not_found);
  EXPECT_NE(missing.error().message.find("no image for platform linux/s390x"), std::string::npos);
  EXPECT_NE(missing.error().message.find("linux/amd64, linux/arm64/v8, linux/arm/v6, linux/arm/v7"),
            std::string::npos)
      << missing.error().message;
}

TEST(SelectPlatform, PrefersTheDefaultVariantWhenNoneIsAsked) {
  auto idx = *parse_index(index_with({{{"os", "linux"}, {"architecture", "amd64"}, {"variant", "v3"}},
                                      {{"os", "linux"}, {"architecture", "amd64"}}})
                              .dump());
  EXPECT_EQ(select_platform(idx, *Platform::parse("linux/amd64"))->digest.str(), digest_of('2'));
}

TEST(Descriptor, ToJsonRoundTrips) {
  json d = descriptor(media::oci_manifest, 'e', 42);
  d["platform"] = {{"os", "linux"}, {"architecture", "arm64"}, {"variant", "v8"}};
  json idx = {{"schemaVersion", 2}, {"mediaType", media::oci_index}, {"manifests", {d}}};
  auto parsed = parse_index(idx.dump());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->manifests[0].to_json(), d);
}

}  // namespace
}  // namespace zl
