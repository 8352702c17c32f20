// The distribution API calls, HTTP status -> Error mapping and the retry loop. Blob bytes are
// hashed as they stream in, so a bad blob is known before anything is committed.
#include "image/registry_client.h"

#include <arpa/inet.h>

#include <algorithm>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "image/reference.h"

namespace zl {

namespace {

constexpr size_t max_manifest_bytes = 4 << 20;

std::string accept_manifest_types() {
  return fmt::format("{}, {}, {}, {}", media::oci_manifest, media::oci_index, media::docker_manifest,
                     media::docker_manifest_list);
}

// "host:port" / "[v6]:port" -> host.
std::string_view host_of(std::string_view registry) {
  if (registry.starts_with('[')) return registry.substr(1, registry.find(']') - 1);
  return registry.substr(0, registry.find(':'));
}

bool is_loopback(std::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr addr{};
  std::string h(host);
  return ::inet_pton(AF_INET, h.c_str(), &addr) == 1 && (ntohl(addr.s_addr) >> 24) == 127;
}

// The first entry of a registry's {"errors":[{"code":..,"message":..}]} body, if any.
std::string registry_error_detail(const std::string& body) {
  try {
    auto doc = nlohmann::json::parse(body);
    const auto& e = doc.at("errors").at(0);
    return fmt::format(" ({}: {})", e.value("code", "?"), e.value("message", ""));
  } catch (const std::exception&) {
    return "";
  }
}

std::optional<std::chrono::milliseconds> parse_retry_after(const HttpResponse& resp) {
  auto v = resp.header("Retry-After");
  if (!v || v->empty() || v->find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  if (v->size() > 6) return std::chrono::hours(24);
  return std::chrono::seconds(std::stoi(*v));
}

// "image host:5000/ns/app:tag" / "image host:5000/ns/app@sha256:..."
std::string ref_display(const std::string& registry, const std::string& repository, const std::string& ref) {
  return fmt::format("image {}/{}{}{}", registry, repository, ref.starts_with("sha256:") ? "@" : ":", ref);
}

}  // namespace

bool registry_is_insecure(std::string_view registry, const std::vector<std::string>& insecure) {
  if (is_loopback(host_of(registry))) return true;
  return std::any_of(insecure.begin(), insecure.end(),
                     [&](const std::string& r) { return r == registry || r == host_of(registry); });
}

Result<std::unique_ptr<RegistryClient>> RegistryClient::create(std::string_view registry,
                                                               RegistryOptions opts) {
  std::optional<Credentials> creds = opts.credentials;
  if (!creds) {
    fs::path path = opts.auth_config.empty() ? default_auth_config_path() : opts.auth_config;
    ZL_TRY_ASSIGN(creds, load_credentials(registry, path));
  }
  return std::unique_ptr<RegistryClient>(
      new RegistryClient(std::string(registry), std::move(opts), std::move(creds)));
}

RegistryClient::RegistryClient(std::string registry, RegistryOptions opts, std::optional<Credentials> creds)
    : registry_(std::move(registry)),
      opts_(std::move(opts)),
      http_(opts_.user_agent),
      auth_(http_, registry_, std::move(creds)) {}

std::string RegistryClient::base_url() const {
  bool plain = registry_is_insecure(registry_, opts_.insecure_registries);
  return fmt::format("{}://{}", plain ? "http" : "https", registry_api_host(registry_));
}

std::string RegistryClient::manifest_url(const std::string& repository, const std::string& ref) const {
  return fmt::format("{}/v2/{}/manifests/{}", base_url(), repository, ref);
}

std::string RegistryClient::pull_scope(const std::string& repository) {
  return fmt::format("repository:{}:pull", repository);
}

Status RegistryClient::with_retries(const AttemptFn& attempt) {
  int attempts = std::max(opts_.max_attempts, 1);
  auto delay = opts_.retry_base_delay;
  for (int i = 1;; ++i) {
    RetryHint hint;
    auto st = attempt(hint);
    if (st || st.error().kind != ErrorKind::unavailable) return st;
    if (i == attempts)
      return unavailable("registry {} unavailable after {} attempts: {}", registry_, attempts,
                         st.error().message);
    auto wait = delay;
    if (hint.retry_after && *hint.retry_after <= opts_.max_retry_after)
      wait = std::max(wait, *hint.retry_after);
    spdlog::debug("registry={} attempt={} error=\"{}\" retry_in_ms={}", registry_, i, st.error().message,
                  wait.count());
    std::this_thread::sleep_for(wait);
    delay *= 2;
  }
}

Result<HttpResponse> RegistryClient::send(HttpRequest req, const std::string& scope) {
  const size_t base_headers = req.headers.size();
  for (int challenge = 0;; ++challenge) {
    req.headers.resize(base_headers);
    auto authorization = auth_.authorization(scope);
    if (authorization) req.headers.emplace_back("Authorization", *authorization);
    ZL_TRY_ASSIGN(HttpResponse resp, http_.perform(req));
    if (resp.status != 401) return resp;
    if (challenge == 2) return access_denied(scope, resp);
    ZL_TRY(auth_.on_challenge(resp.header("WWW-Authenticate").value_or(""), scope, authorization));
  }
}

tl::unexpected<Error> RegistryClient::access_denied(const std::string& scope,
                                                    const HttpResponse& resp) const {
  std::string detail = registry_error_detail(resp.body);
  if (scope.empty()) return unauthorized("registry {} denied access{}", registry_, detail);
  // "repository:ns/app:pull" -> "ns/app"
  std::string repo = scope.substr(scope.find(':') + 1, scope.rfind(':') - scope.find(':') - 1);
  if (!auth_.has_credentials())
    return unauthorized("registry {} denied access to repository {}: it does not exist or needs a login{}",
                        registry_, repo, detail);
  return unauthorized("registry {} denied access to repository {}{}", registry_, repo, detail);
}

Status RegistryClient::check_status(const HttpResponse& resp, const std::string& what,
                                    RetryHint& hint) const {
  long s = resp.status;
  if (s >= 200 && s < 300) return {};
  std::string detail = registry_error_detail(resp.body);
  if (s == 429 || s >= 500) {
    hint.retry_after = parse_retry_after(resp);
    return unavailable("{}: HTTP {}{}", what, s, detail);
  }
  if (s == 404) return not_found("{} not found in registry {}{}", what, registry_, detail);
  if (s == 403) return unauthorized("registry {} denied access to {}{}", registry_, what, detail);
  return make_error(ErrorKind::invalid_argument, "{}: registry {} answered HTTP {}{}", what, registry_, s,
                    detail);
}

Result<FetchedManifest> RegistryClient::get_manifest(const std::string& repository, const std::string& ref) {
  std::string what = ref_display(registry_, repository, ref);
  HttpResponse resp;
  std::string body;
  ZL_TRY(with_retries([&](RetryHint& hint) -> Status {
    body.clear();
    HttpRequest req{.url = manifest_url(repository, ref), .headers = {{"Accept", accept_manifest_types()}}};
    req.body_sink = [&](std::string_view chunk) -> Status {
      if (body.size() + chunk.size() > max_manifest_bytes)
        return invalid_argument("manifest of {} is larger than the {} bytes allowed", what,
                                max_manifest_bytes);
      body.append(chunk);
      return {};
    };
    ZL_TRY_ASSIGN(resp, send(std::move(req), pull_scope(repository)));
    return check_status(resp, what, hint);
  }));
  FetchedManifest m{.body = std::move(body), .digest = sha256_of("")};
  m.digest = sha256_of(m.body);
  std::optional<Digest> expected;
  if (ref.starts_with("sha256:")) {
    ZL_TRY_ASSIGN(expected, Digest::parse(ref));
  } else if (auto header = resp.header("Docker-Content-Digest")) {
    if (auto d = Digest::parse(*header)) expected = *d;
  }
  if (expected && *expected != m.digest)
    return corrupt("manifest of {} does not match its digest: expected {}, got {}", what, expected->str(),
                   m.digest.str());
  auto media_type = detect_media_type(m.body, resp.content_type());
  if (!media_type) return tl::unexpected(media_type.error().wrap(what));
  m.media_type = std::move(*media_type);
  return m;
}

Result<Digest> RegistryClient::head_manifest(const std::string& repository, const std::string& ref) {
  std::string what = ref_display(registry_, repository, ref);
  HttpResponse resp;
  ZL_TRY(with_retries([&](RetryHint& hint) -> Status {
    HttpRequest req{.method = "HEAD",
                    .url = manifest_url(repository, ref),
                    .headers = {{"Accept", accept_manifest_types()}}};
    ZL_TRY_ASSIGN(resp, send(std::move(req), pull_scope(repository)));
    return check_status(resp, what, hint);
  }));
  if (auto header = resp.header("Docker-Content-Digest")) {
    if (auto d = Digest::parse(*header)) return *d;
  }
  // Not every registry sends the header on HEAD: fall back to hashing the manifest.
  ZL_TRY_ASSIGN(FetchedManifest m, get_manifest(repository, ref));
  return m.digest;
}

Status RegistryClient::stream_blob(const std::string& repository, const Descriptor& d,
                                   const std::function<Status()>& restart,
                                   const std::function<Status(std::string_view)>& sink,
                                   const ProgressFn& progress) {
  const auto expected_size = static_cast<uint64_t>(d.size);
  std::string what = fmt::format("blob {} of {}/{}", d.digest.str(), registry_, repository);
  return with_retries([&](RetryHint& hint) -> Status {
    ZL_TRY(restart());
    Sha256 hash;
    uint64_t received = 0;
    HttpRequest req{.url = fmt::format("{}/v2/{}/blobs/{}", base_url(), repository, d.digest.str())};
    req.body_sink = [&](std::string_view chunk) -> Status {
      received += chunk.size();
      if (received > expected_size)
        return corrupt("{} is larger than the {} bytes its descriptor says", what, expected_size);
      hash.update(chunk);
      ZL_TRY(sink(chunk));
      return progress ? progress(received) : Status{};
    };
    ZL_TRY_ASSIGN(HttpResponse resp, send(std::move(req), pull_scope(repository)));
    ZL_TRY(check_status(resp, what, hint));
    if (received < expected_size)  // the connection ended early: worth another try
      return unavailable("{} truncated: got {} of {} bytes", what, received, expected_size);
    if (Digest got = hash.finish(); got != d.digest)
      return corrupt("{} does not match its digest (got {})", what, got.str());
    return {};
  });
}

Status RegistryClient::fetch_blob(const std::string& repository, const Descriptor& d, BlobWriter& out,
                                  const ProgressFn& progress) {
  return stream_blob(
      repository, d, [&] { return out.reset(); }, [&](std::string_view chunk) { return out.write(chunk); },
      progress);
}

Result<std::string> RegistryClient::get_blob(const std::string& repository, const Descriptor& d) {
  if (d.size > static_cast<int64_t>(max_manifest_bytes))
    return invalid_argument("blob {} is {} bytes, too large to load in memory", d.digest.str(), d.size);
  std::string data;
  ZL_TRY(stream_blob(
      repository, d,
      [&] {
        data.clear();
        return Status{};
      },
      [&](std::string_view chunk) {
        data.append(chunk);
        return Status{};
      },
      {}));
  return data;
}

Status RegistryClient::ping() {
  return with_retries([&](RetryHint& hint) -> Status {
    ZL_TRY_ASSIGN(HttpResponse resp, send(HttpRequest{.url = base_url() + "/v2/"}, ""));
    if (resp.status == 404)
      return not_found("{} does not serve the registry API (/v2/ answered 404)", registry_);
    return check_status(resp, "/v2/", hint);
  });
}

}  // namespace zl
