// Registry credentials: docker-style config.json (read, and written by `login`), HTTP basic,
// and the bearer-token flow driven by a registry's WWW-Authenticate challenge.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/fs.h"
#include "common/http_client.h"

namespace zl {

struct Credentials {
  std::string username;
  std::string password;
  friend bool operator==(const Credentials&, const Credentials&) = default;
};

// A registry as a login names it: "https://host:5000/v1/" -> "host:5000"; Docker Hub's aliases
// -> "docker.io".
std::string normalize_registry_key(std::string_view key);

// $DOCKER_CONFIG/config.json, else $HOME/.docker/config.json.
fs::path default_auth_config_path();

// The login for `registry` ("docker.io", "host:5000") from a docker config.json: an `auths`
// entry with "auth" (base64 "user:pass") or "username"/"password". Keys may be written as
// URLs ("https://host:5000/v1/"); docker.io also matches docker's "https://index.docker.io/v1/".
// A missing file or entry is not an error (nullopt).
Result<std::optional<Credentials>> load_credentials(std::string_view registry, const fs::path& config_path);

// Records a login in config.json, keeping every other entry and key; written atomically with
// mode 0600 (parent created 0700 if missing).
Status save_login(std::string_view registry, std::string_view username, std::string_view password,
                  const fs::path& config_path);

// Removes the login for `registry`; false when there was none.
Result<bool> remove_login(std::string_view registry, const fs::path& config_path);

std::string base64_encode(std::string_view data);
Result<std::string> base64_decode(std::string_view text);
std::string basic_authorization(const Credentials& c);  // "Basic <base64(user:pass)>"

// One challenge of a WWW-Authenticate header: `Bearer realm="https://auth",service="reg",scope="..."`.
struct AuthChallenge {
  std::string scheme;                         // lowercased: "bearer", "basic"
  std::map<std::string, std::string> params;  // names lowercased
  std::string param(const std::string& name) const;
};
Result<AuthChallenge> parse_www_authenticate(std::string_view value);

// Answers one registry's challenges; bearer tokens are cached per scope. Thread-safe.
class RegistryAuth {
 public:
  RegistryAuth(HttpClient& http, std::string registry, std::optional<Credentials> creds);

  // The Authorization header value to send for `scope` ("repository:ns/app:pull"; empty for
  // the /v2/ ping), when one is known: a cached, unexpired bearer token or basic credentials.
  std::optional<std::string> authorization(const std::string& scope) const;

  // Handles a 401 carrying `www_authenticate` for a request sent with `sent` (its Authorization,
  // if any): for Bearer, fetches a token from the realm (with basic credentials when we have
  // some); for Basic, arms the credentials. unauthorized when credentials are missing or were
  // rejected, unavailable when the token server can't be reached.
  Status on_challenge(std::string_view www_authenticate, const std::string& scope,
                      const std::optional<std::string>& sent);

  bool has_credentials() const { return creds_.has_value(); }

 private:
  Status fetch_token(const AuthChallenge& ch, const std::string& scope);

  struct Token {
    std::string value;
    std::chrono::steady_clock::time_point expires;
  };
  HttpClient& http_;
  std::string registry_;
  std::optional<Credentials> creds_;
  mutable std::mutex mu_;
  std::map<std::string, Token> tokens_;  // by scope
  bool use_basic_ = false;
};

}  // namespace zl
