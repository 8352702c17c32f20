// Image references as users type them ("busybox", "host:5000/ns/app:v1", "app@sha256:..."),
// normalized like docker: default registry docker.io, "library/" namespace, tag "latest".
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/digest.h"

namespace zl {

inline constexpr std::string_view default_registry = "docker.io";
inline constexpr std::string_view default_tag = "latest";

// A registry as typed to `login`/`logout` ("localhost:5000", "https://index.docker.io/v1/"):
// scheme and path dropped, Docker Hub's aliases -> "docker.io"; invalid_argument when malformed.
Result<std::string> parse_registry(std::string_view s);

// Host[:port] that serves the registry API: registry-1.docker.io for docker.io, else `registry`.
std::string registry_api_host(std::string_view registry);

struct Reference {
  std::string registry;    // "docker.io", "localhost:5000", "[::1]:5000"
  std::string repository;  // "library/busybox"
  std::string tag;         // "latest" unless a digest was given without a tag (then empty)
  std::optional<Digest> digest;

  // invalid_argument naming the reference and what is wrong with it.
  static Result<Reference> parse(std::string_view s);

  std::string str() const;       // "docker.io/library/busybox:latest", "h:5000/a@sha256:..."
  std::string familiar() const;  // "busybox:latest" for Docker Hub, else like str()
  std::string name() const;      // "docker.io/library/busybox"
  std::string api_host() const { return registry_api_host(registry); }
  // What to ask the registry for: the digest when pinned, else the tag.
  std::string manifest_ref() const { return digest ? digest->str() : tag; }
  // The same repository pinned to `d` (tag dropped): "docker.io/library/busybox@sha256:...".
  Reference with_digest(const Digest& d) const;
  friend bool operator==(const Reference&, const Reference&) = default;
};

// A stored reference as docker shows it ("busybox:1.36" for docker.io/library/busybox:1.36);
// one that does not parse is shown as it is.
std::string familiar_image(const std::string& reference);

}  // namespace zl
