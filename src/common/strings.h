// Small string helpers shared by parsers of user input.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace zl {

// "a,b,,c" -> {"a", "b", "c"} (empty pieces dropped).
inline std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  while (true) {
    auto pos = s.find(sep);
    std::string_view piece = s.substr(0, pos);
    if (!piece.empty()) out.emplace_back(piece);
    if (pos == std::string_view::npos) return out;
    s.remove_prefix(pos + 1);
  }
}

}  // namespace zl
