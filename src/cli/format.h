// Output for people: sizes, ages, aligned tables; and whether stdout/stderr is a terminal.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace zl::cli {

std::string human_size(uint64_t bytes);     // docker's style: "4.86MB", "512B"
std::string time_ago(int64_t unix_seconds);  // "3 minutes ago"
bool stdout_is_terminal();
bool stderr_is_terminal();

// Columns padded to the widest cell, three spaces apart, like docker's tables.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string str() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace zl::cli
