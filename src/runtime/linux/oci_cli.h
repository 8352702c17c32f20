// Runs commands of the OCI runtime binary (runc or crun) with zlayer's global flags (--root) and
// turns a failure into an Error with the runtime's own words ("container does not exist" -> not_found).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/fs.h"
#include "common/subprocess.h"

namespace zl {

class OciCli {
 public:
  OciCli(std::string name, std::string path, fs::path root)
      : name_(std::move(name)), path_(std::move(path)), root_(std::move(root)) {}

  // [binary, --root, <root>, args...]
  std::vector<std::string> argv(const std::vector<std::string>& args) const;
  // Global flags that send the runtime's own log (JSON lines) to `file`.
  std::vector<std::string> log_flags(const fs::path& file) const;
  // Runs a command to completion; a non-zero exit is an Error "<what> <id>: <runtime message>".
  Result<std::string> run(std::string_view what, const std::string& id, const std::vector<std::string>& args,
                          std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;

  const std::string& name() const { return name_; }
  const std::string& path() const { return path_; }
  const fs::path& root() const { return root_; }

 private:
  std::string name_, path_;
  fs::path root_;
};

}  // namespace zl
