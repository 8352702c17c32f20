// Docker config.json credentials, base64, WWW-Authenticate parsing and the token flow of the
// distribution spec ("Token Authentication Specification").
#include "image/auth.h"

#include <algorithm>
#include <cstdlib>

#include <nlohmann/json.hpp>

namespace zl {

namespace {

using json = nlohmann::json;

constexpr std::string_view docker_hub_key = "https://index.docker.io/v1/";

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

std::string normalize_registry_key(std::string_view key) {
  if (auto scheme = key.find("://"); scheme != std::string_view::npos) key.remove_prefix(scheme + 3);
  key = key.substr(0, key.find('/'));
  std::string k = lower(key);
  if (k == "index.docker.io" || k == "registry-1.docker.io" || k == "registry.hub.docker.com")
    return "docker.io";
  return k;
}

namespace {

Result<json> read_config(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return json::object();
  ZL_TRY_ASSIGN(std::string text, read_file(path));
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return json::object();
  try {
    json doc = json::parse(text);
    if (!doc.is_object())
      return invalid_argument("credentials file {}: expected a JSON object", path.string());
    return doc;
  } catch (const json::exception& e) {
    return invalid_argument("credentials file {}: not valid JSON ({})", path.string(), e.what());
  }
}

Result<Credentials> credentials_from_entry(const json& entry, const std::string& key, const fs::path& path) {
  if (auto auth = entry.find("auth");
      auth != entry.end() && auth->is_string() && !auth->get<std::string>().empty()) {
    auto decoded = base64_decode(auth->get<std::string>());
    if (!decoded)
      return invalid_argument("credentials file {}: \"auth\" of {} is not base64", path.string(), key);
    auto colon = decoded->find(':');
    if (colon == std::string::npos)
      return invalid_argument("credentials file {}: \"auth\" of {} is not \"user:password\"", path.string(),
                              key);
    return Credentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
  }
  Credentials c{entry.value("username", ""), entry.value("password", "")};
  if (c.username.empty())
    return invalid_argument("credentials file {}: entry {} has neither \"auth\" nor \"username\"",
                            path.string(), key);
  return c;
}

// WWW-Authenticate tokenizer: scheme, then name=value or name="quoted \"value\"" pairs.
struct ChallengeLexer {
  std::string_view s;
  size_t i = 0;
  void skip_ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == ',')) ++i;
  }
  std::string token() {
    size_t start = i;
    while (i < s.size() && s[i] != '=' && s[i] != ' ' && s[i] != ',' && s[i] != '\t') ++i;
    return std::string(s.substr(start, i - start));
  }
  Result<std::string> value() {
    if (i < s.size() && s[i] == '"') {
      std::string out;
      for (++i; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) {
          out.push_back(s[++i]);
        } else if (s[i] == '"') {
          ++i;
          return out;
        } else {
          out.push_back(s[i]);
        }
      }
      return invalid_argument("invalid WWW-Authenticate header \"{}\": unterminated quoted value", s);
    }
    return token();
  }
};

}  // namespace

fs::path default_auth_config_path() {
  if (const char* dir = std::getenv("DOCKER_CONFIG"); dir && *dir) return fs::path(dir) / "config.json";
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : "/root") / ".docker" / "config.json";
}

Result<std::optional<Credentials>> load_credentials(std::string_view registry, const fs::path& config_path) {
  ZL_TRY_ASSIGN(json doc, read_config(config_path));
  auto auths = doc.find("auths");
  if (auths == doc.end() || !auths->is_object()) return std::optional<Credentials>();
  std::string want = normalize_registry_key(registry);
  for (const auto& [key, entry] : auths->items()) {
    if (normalize_registry_key(key) != want || !entry.is_object()) continue;
    ZL_TRY_ASSIGN(Credentials c, credentials_from_entry(entry, key, config_path));
    return std::optional<Credentials>(std::move(c));
  }
  return std::optional<Credentials>();
}

Status save_login(std::string_view registry, std::string_view username, std::string_view password,
                  const fs::path& config_path) {
  if (username.empty()) return invalid_argument("login to {}: empty username", registry);
  ZL_TRY_ASSIGN(json doc, read_config(config_path));
  if (!doc.contains("auths") || !doc["auths"].is_object()) doc["auths"] = json::object();
  std::string want = normalize_registry_key(registry);
  json& auths = doc["auths"];
  for (auto it = auths.begin(); it != auths.end();) {
    it = normalize_registry_key(it.key()) == want ? auths.erase(it) : std::next(it);
  }
  std::string key = want == "docker.io" ? std::string(docker_hub_key) : want;
  auths[key] = {{"auth", base64_encode(fmt::format("{}:{}", username, password))}};
  if (config_path.has_parent_path()) ZL_TRY(make_dirs(config_path.parent_path(), 0700));
  return write_file_atomic(config_path, doc.dump(2) + "\n", 0600);
}

Result<bool> remove_login(std::string_view registry, const fs::path& config_path) {
  ZL_TRY_ASSIGN(json doc, read_config(config_path));
  auto auths = doc.find("auths");
  if (auths == doc.end() || !auths->is_object()) return false;
  std::string want = normalize_registry_key(registry);
  bool removed = false;
  for (auto it = auths->begin(); it != auths->end();) {
    bool match = normalize_registry_key(it.key()) == want;
    removed |= match;
    it = match ? auths->erase(it) : std::next(it);
  }
  if (removed) ZL_TRY(write_file_atomic(config_path, doc.dump(2) + "\n", 0600));
  return removed;
}

std::string base64_encode(std::string_view data) {
  static constexpr char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  for (size_t i = 0; i < data.size(); i += 3) {
    uint32_t n = static_cast<uint8_t>(data[i]) << 16;
    if (i + 1 < data.size()) n |= static_cast<uint8_t>(data[i + 1]) << 8;
    if (i + 2 < data.size()) n |= static_cast<uint8_t>(data[i + 2]);
    out.push_back(table[(n >> 18) & 63]);
    out.push_back(table[(n >> 12) & 63]);
    out.push_back(i + 1 < data.size() ? table[(n >> 6) & 63] : '=');
    out.push_back(i + 2 < data.size() ? table[n & 63] : '=');
  }
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  while (!text.empty() && (text.back() == '=' || text.back() == '\n')) text.remove_suffix(1);
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = value(c);
    if (v < 0) return invalid_argument("invalid base64: unexpected character '{}'", c);
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (bits >= 6) return invalid_argument("invalid base64: truncated input");
  return out;
}

std::string basic_authorization(const Credentials& c) {
  return "Basic " + base64_encode(c.username + ":" + c.password);
}

std::string AuthChallenge::param(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

Result<AuthChallenge> parse_www_authenticate(std::string_view value) {
  ChallengeLexer lx{value};
  lx.skip_ws();
  AuthChallenge ch;
  ch.scheme = lower(lx.token());
  if (ch.scheme.empty()) return invalid_argument("invalid WWW-Authenticate header \"{}\": no scheme", value);
  while (true) {
    lx.skip_ws();
    if (lx.i >= value.size()) break;
    std::string name = lower(lx.token());
    if (lx.i >= value.size() || value[lx.i] != '=') {
      // A second challenge ("Bearer ..., Basic realm=...") starts here: we use the first one.
      break;
    }
    ++lx.i;
    ZL_TRY_ASSIGN(ch.params[name], lx.value());
  }
  return ch;
}

RegistryAuth::RegistryAuth(HttpClient& http, std::string registry, std::optional<Credentials> creds)
    : http_(http), registry_(std::move(registry)), creds_(std::move(creds)) {}

std::optional<std::string> RegistryAuth::authorization(const std::string& scope) const {
  std::lock_guard lock(mu_);
  if (auto it = tokens_.find(scope);
      it != tokens_.end() && it->second.expires > std::chrono::steady_clock::now())
    return "Bearer " + it->second.value;
  if (use_basic_ && creds_) return basic_authorization(*creds_);
  return std::nullopt;
}

Status RegistryAuth::on_challenge(std::string_view www_authenticate, const std::string& scope,
                                  const std::optional<std::string>& sent) {
  if (www_authenticate.empty())
    return unauthorized("registry {} refused access and sent no authentication challenge", registry_);
  ZL_TRY_ASSIGN(AuthChallenge ch, parse_www_authenticate(www_authenticate));
  if (ch.scheme == "basic") {
    std::lock_guard lock(mu_);
    if (!creds_) return unauthorized("registry {} requires a login (zlayer login {})", registry_, registry_);
    if (sent && sent->starts_with("Basic "))
      return unauthorized("registry {} rejected the credentials for user {}", registry_, creds_->username);
    use_basic_ = true;
    return {};
  }
  if (ch.scheme == "bearer") return fetch_token(ch, scope);
  return unsupported("registry {} asks for unsupported authentication scheme \"{}\"", registry_, ch.scheme);
}

Status RegistryAuth::fetch_token(const AuthChallenge& ch, const std::string& scope) {
  std::string realm = ch.param("realm");
  if (!realm.starts_with("http://") && !realm.starts_with("https://"))
    return unauthorized("registry {} sent a bearer challenge without a usable realm (\"{}\")", registry_,
                        realm);
  std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
  if (auto service = ch.param("service"); !service.empty())
    url += "service=" + HttpClient::url_encode(service) + "&";
  // The registry's challenge names the scope it wants; fall back to ours.
  std::string want_scope = ch.param("scope").empty() ? scope : ch.param("scope");
  if (!want_scope.empty()) url += "scope=" + HttpClient::url_encode(want_scope) + "&";
  HttpHeaders headers;
  if (creds_) {
    url += "account=" + HttpClient::url_encode(creds_->username) + "&";
    headers.emplace_back("Authorization", basic_authorization(*creds_));
  }
  url.pop_back();  // the trailing '&' or '?'

  auto resp = http_.get(url, headers);
  if (!resp) return tl::unexpected(resp.error().wrap(fmt::format("get token for {}", registry_)));
  if (resp->status == 401 || resp->status == 403) {
    if (creds_)
      return unauthorized("registry {}: token server rejected the credentials for user {}", registry_,
                          creds_->username);
    return unauthorized("registry {} requires a login (zlayer login {})", registry_, registry_);
  }
  if (resp->status >= 500 || resp->status == 429)
    return unavailable("registry {}: token server {} answered HTTP {}", registry_, realm, resp->status);
  if (resp->status != 200)
    return unauthorized("registry {}: token server {} answered HTTP {}", registry_, realm, resp->status);

  Token token;
  int expires_in = 60;
  try {
    json body = json::parse(resp->body);
    token.value = body.value("token", "");
    if (token.value.empty()) token.value = body.value("access_token", "");
    if (auto e = body.find("expires_in"); e != body.end() && e->is_number_integer())
      expires_in = e->get<int>();
  } catch (const json::exception&) {
    return unauthorized("registry {}: token server {} answered with invalid JSON", registry_, realm);
  }
  if (token.value.empty())
    return unauthorized("registry {}: token server {} returned no token", registry_, realm);
  // Renew a little early so a token does not expire in flight.
  token.expires = std::chrono::steady_clock::now() + std::chrono::seconds(std::max(expires_in - 10, 5));
  std::lock_guard lock(mu_);
  tokens_[scope] = std::move(token);
  return {};
}

}  // namespace zl
