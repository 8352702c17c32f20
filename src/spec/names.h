// The name rules of a deployment spec, shared by the parser and the validator.
#pragma once

#include <algorithm>
#include <cctype>
#include <string_view>

namespace zl::spec {

// A DNS label: min_len-63 of [a-z0-9-], starting and ending with a letter or digit. Deployment
// (3+), service, endpoint and volume (2+) names.
inline bool is_dns_label(std::string_view s, size_t min_len = 1) {
  if (s.size() < min_len || s.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || c == '-'; });
}

// A host name: dot-separated labels of letters, digits and "-", at most 64 in all (HOST_NAME_MAX).
inline bool is_hostname(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view label =
        s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    auto ok = [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    };
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-' ||
        !std::all_of(label.begin(), label.end(), ok))
      return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// A variable name as $E: takes it: [A-Za-z_][A-Za-z0-9_]*.
inline bool is_env_name(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

}  // namespace zl::spec
