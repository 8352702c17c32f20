// Client of one registry's OCI distribution API (/v2/): manifests by tag or digest, verified
// blob downloads, and the /v2/ ping used by `login`. Retries transient failures with backoff.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/digest.h"
#include "common/fs.h"
#include "image/auth.h"
#include "common/http_client.h"
#include "image/manifest.h"
#include "store/content_store.h"

namespace zl {

struct RegistryOptions {
  // Registries ("host" or "host:port") reached over plain HTTP. 127.0.0.0/8 and localhost
  // always are; everything else uses HTTPS.
  std::vector<std::string> insecure_registries;
  fs::path auth_config;                              // empty: default_auth_config_path()
  std::optional<Credentials> credentials;            // when set, used instead of the config file
  int max_attempts = 4;                              // per request, for connection errors, 429 and 5xx
  std::chrono::milliseconds retry_base_delay{200};   // doubled after each failed attempt
  std::chrono::milliseconds max_retry_after{10000};  // a longer Retry-After is not waited for
  int max_parallel_downloads = 4;
  std::string user_agent = "zlayer/" ZLAYER_VERSION;
};

// True when `registry` is spoken to over plain HTTP (loopback, localhost or configured insecure).
bool registry_is_insecure(std::string_view registry, const std::vector<std::string>& insecure);

struct FetchedManifest {
  std::string body;
  std::string media_type;  // declared by the document, else the Content-Type
  Digest digest;           // sha256 of body (checked against the requested digest / the header)
};

class RegistryClient {
 public:
  // `registry` as in a Reference ("docker.io", "127.0.0.1:5000"). Loads credentials from
  // options or the config file (an unreadable config file is an error).
  static Result<std::unique_ptr<RegistryClient>> create(std::string_view registry, RegistryOptions opts);

  // Manifest or index by tag or digest ("sha256:..."). not_found for an unknown repository or
  // tag; corrupt when the body does not hash to the requested digest.
  Result<FetchedManifest> get_manifest(const std::string& repository, const std::string& tag_or_digest);
  // The digest a tag points at now, without downloading the manifest (HEAD).
  Result<Digest> head_manifest(const std::string& repository, const std::string& tag_or_digest);
  // Streams blob `d` into `out` (reset before each retry). On success `out` holds exactly
  // d.size bytes hashing to d.digest (not yet committed); corrupt otherwise.
  // `progress(bytes_so_far)` is optional; an error it returns aborts the download.
  using ProgressFn = std::function<Status(uint64_t bytes_so_far)>;
  Status fetch_blob(const std::string& repository, const Descriptor& d, BlobWriter& out,
                    const ProgressFn& progress = {});
  // A small blob (an image config) in memory, verified like fetch_blob.
  Result<std::string> get_blob(const std::string& repository, const Descriptor& d);
  // GET /v2/ with our credentials: ok when the registry accepts them (or needs none).
  Status ping();

  const std::string& registry() const { return registry_; }
  std::string base_url() const;  // "https://registry-1.docker.io"

 private:
  RegistryClient(std::string registry, RegistryOptions opts, std::optional<Credentials> creds);

  struct RetryHint {
    std::optional<std::chrono::milliseconds> retry_after;
  };
  using AttemptFn = std::function<Status(RetryHint&)>;
  // Runs `attempt` until it succeeds, fails with a kind other than unavailable, or runs out.
  Status with_retries(const AttemptFn& attempt);
  // Sends `req` with our Authorization for `scope`, answering 401 challenges.
  Result<HttpResponse> send(HttpRequest req, const std::string& scope);
  // The download loop behind fetch_blob/get_blob: `restart` before each attempt, bytes to `sink`.
  Status stream_blob(const std::string& repository, const Descriptor& d,
                     const std::function<Status()>& restart,
                     const std::function<Status(std::string_view)>& sink, const ProgressFn& progress);
  // The error for a request still refused after answering the registry's challenges.
  tl::unexpected<Error> access_denied(const std::string& scope, const HttpResponse& resp) const;
  // Maps a non-2xx answer to an error (429/5xx -> unavailable with Retry-After in `hint`).
  Status check_status(const HttpResponse& resp, const std::string& what, RetryHint& hint) const;
  std::string manifest_url(const std::string& repository, const std::string& ref) const;
  static std::string pull_scope(const std::string& repository);

  std::string registry_;
  RegistryOptions opts_;
  HttpClient http_;
  RegistryAuth auth_;
};

}  // namespace zl
