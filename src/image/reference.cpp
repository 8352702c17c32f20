// Parser for image references following the docker/distribution grammar, hand-written so
// each rule that fails can be named in the error.
#include "image/reference.h"

#include <algorithm>
#include <cctype>

namespace zl {

namespace {

constexpr size_t max_name_length = 255;
constexpr size_t max_tag_length = 128;

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_alnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}
bool has_upper(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

struct Parser {
  std::string_view input;
  std::string_view what = "reference";  // or "registry"

  template <class... Args>
  tl::unexpected<Error> fail(fmt::format_string<Args...> f, Args&&... args) const {
    return invalid_argument("invalid {} \"{}\": {}", what, input,
                            fmt::format(f, std::forward<Args>(args)...));
  }

  // [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
  Status check_tag(std::string_view tag) const {
    if (tag.empty()) return fail("empty tag after ':'");
    if (tag.size() > max_tag_length)
      return fail("tag is {} characters long (at most {})", tag.size(), max_tag_length);
    if (tag[0] == '.' || tag[0] == '-') return fail("tag \"{}\" must start with a letter, digit or '_'", tag);
    for (char c : tag)
      if (!is_alnum(c) && c != '_' && c != '.' && c != '-')
        return fail("tag \"{}\" contains '{}' (allowed: letters, digits, '_', '.', '-')", tag, c);
    return {};
  }

  // host[:port] where host is dotted DNS labels or an [IPv6] literal.
  Status check_registry(std::string_view reg) const {
    std::string_view host = reg;
    std::optional<std::string_view> port;
    if (reg.starts_with('[')) {
      auto close = reg.find(']');
      if (close == std::string_view::npos) return fail("registry \"{}\" has an unclosed '['", reg);
      host = reg.substr(1, close - 1);
      std::string_view after = reg.substr(close + 1);
      if (!after.empty() && after[0] != ':') return fail("unexpected \"{}\" after ']' in registry", after);
      if (!after.empty()) port = after.substr(1);
      if (host.empty() || host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos)
        return fail("registry \"{}\" is not a valid IPv6 address", reg);
    } else {
      if (auto colon = reg.find(':'); colon != std::string_view::npos) {
        host = reg.substr(0, colon);
        port = reg.substr(colon + 1);
      }
      ZL_TRY(check_hostname(host, reg));
    }
    if (port && port->empty()) return fail("registry \"{}\" has an empty port", reg);
    if (port && !valid_port(*port)) return fail("registry \"{}\" has an invalid port \"{}\"", reg, *port);
    return {};
  }

  static bool valid_port(std::string_view port) {
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos)
      return false;
    int n = std::stoi(std::string(port));
    return n > 0 && n <= 65535;
  }

  Status check_hostname(std::string_view host, std::string_view reg) const {
    if (host.empty()) return fail("empty registry host");
    size_t start = 0;
    while (start <= host.size()) {
      auto dot = host.find('.', start);
      std::string_view label =
          host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
      if (label.empty()) return fail("registry \"{}\" has an empty name between dots", reg);
      if (label.front() == '-' || label.back() == '-')
        return fail("registry \"{}\": \"{}\" must not start or end with '-'", reg, label);
      for (char c : label)
        if (!is_alnum(c) && c != '-') return fail("registry \"{}\" contains '{}'", reg, c);
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    return {};
  }

  // Components [a-z0-9]+ joined by '.', '_', '__' or runs of '-', separated by '/'.
  Status check_repository(std::string_view repo) const {
    if (repo.empty()) return fail("empty repository name");
    if (has_upper(repo)) return fail("repository name \"{}\" must be lowercase", repo);
    if (repo.find(':') != std::string_view::npos)
      return fail("repository name \"{}\" contains ':' (only one \":tag\" is allowed, after the name)", repo);
    size_t start = 0;
    while (true) {
      auto slash = repo.find('/', start);
      std::string_view comp =
          repo.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
      ZL_TRY(check_component(comp, repo));
      if (slash == std::string_view::npos) break;
      start = slash + 1;
    }
    return {};
  }

  Status check_component(std::string_view comp, std::string_view repo) const {
    if (comp.empty()) return fail("repository name \"{}\" has an empty path component", repo);
    if (!is_lower_alnum(comp.front()) || !is_lower_alnum(comp.back()))
      return fail("path component \"{}\" must start and end with a lowercase letter or digit", comp);
    for (size_t i = 0; i < comp.size(); ++i) {
      char c = comp[i];
      if (is_lower_alnum(c) || c == '-') continue;
      if (c == '.' || c == '_') {
        bool double_underscore = c == '_' && comp[i + 1] == '_' && is_lower_alnum(comp[i + 2]);
        if (is_lower_alnum(comp[i + 1]) || double_underscore) {
          i += double_underscore ? 1 : 0;
          continue;
        }
        return fail("path component \"{}\" has a misplaced '{}'", comp, c);
      }
      return fail("path component \"{}\" contains '{}' (allowed: a-z, 0-9, '.', '_', '-')", comp, c);
    }
    return {};
  }
};

// The first path component is a registry if it looks like a host: has '.' or ':', is
// "localhost", or has uppercase letters (which a repository never has) — docker's rule.
bool looks_like_registry(std::string_view first) {
  return first.find_first_of(".:") != std::string_view::npos || first == "localhost" || has_upper(first) ||
         first.starts_with('[');
}

}  // namespace

Result<Reference> Reference::parse(std::string_view s) {
  Parser p{s};
  if (s.empty()) return invalid_argument("invalid reference \"\": empty image name");
  if (s.find_first_of(" \t\n\r") != std::string_view::npos) return p.fail("contains whitespace");
  if (s.find("::") != std::string_view::npos && !s.starts_with('['))
    return p.fail("contains \"::\" (expected name[:tag][@digest])");

  Reference ref;
  std::string_view rest = s;
  if (auto at = rest.find('@'); at != std::string_view::npos) {
    std::string_view d = rest.substr(at + 1);
    if (d.find('@') != std::string_view::npos) return p.fail("more than one '@'");
    auto digest = Digest::parse(d);
    if (!digest) return p.fail("{}", digest.error().message);
    ref.digest = *digest;
    rest = rest.substr(0, at);
    if (rest.empty()) return p.fail("missing image name before '@'");
  }

  // Registry: the part before the first '/', when it looks like a host.
  std::string_view path = rest;
  if (auto slash = rest.find('/');
      slash != std::string_view::npos && looks_like_registry(rest.substr(0, slash))) {
    ref.registry = std::string(rest.substr(0, slash));
    path = rest.substr(slash + 1);
    ZL_TRY(p.check_registry(ref.registry));
  } else {
    ref.registry = std::string(default_registry);
  }
  if (ref.registry == "index.docker.io") ref.registry = std::string(default_registry);

  // Tag: after the last ':' of the path (the registry's port is already split off).
  if (auto colon = path.rfind(':'); colon != std::string_view::npos) {
    ref.tag = std::string(path.substr(colon + 1));
    path = path.substr(0, colon);
    ZL_TRY(p.check_tag(ref.tag));
  }
  ZL_TRY(p.check_repository(path));
  ref.repository = std::string(path);
  if (ref.registry == default_registry && ref.repository.find('/') == std::string::npos)
    ref.repository = "library/" + ref.repository;
  if (ref.name().size() > max_name_length)
    return p.fail("name is {} characters long (at most {})", ref.name().size(), max_name_length);
  if (ref.tag.empty() && !ref.digest) ref.tag = std::string(default_tag);
  return ref;
}

std::string Reference::name() const {
  return registry + "/" + repository;
}

std::string Reference::str() const {
  std::string s = name();
  if (!tag.empty()) s += ":" + tag;
  if (digest) s += "@" + digest->str();
  return s;
}

std::string familiar_image(const std::string& reference) {
  auto ref = Reference::parse(reference);
  return ref ? ref->familiar() : reference;
}

std::string Reference::familiar() const {
  std::string s = str();
  if (registry != default_registry) return s;
  s.erase(0, registry.size() + 1);
  if (s.starts_with("library/")) s.erase(0, 8);
  return s;
}

Result<std::string> parse_registry(std::string_view s) {
  Parser p{s, "registry"};
  std::string_view host = s;
  if (auto scheme = host.find("://"); scheme != std::string_view::npos) host.remove_prefix(scheme + 3);
  host = host.substr(0, host.find('/'));
  if (host.empty()) return p.fail("empty host");
  ZL_TRY(p.check_registry(host));
  std::string out(host);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  if (out == "index.docker.io" || out == "registry-1.docker.io" || out == "registry.hub.docker.com")
    return std::string(default_registry);
  return out;
}

std::string registry_api_host(std::string_view registry) {
  return registry == default_registry ? std::string("registry-1.docker.io") : std::string(registry);
}

Reference Reference::with_digest(const Digest& d) const {
  Reference r = *this;
  r.tag.clear();
  r.digest = d;
  return r;
}

}  // namespace zl
