// The rules of a deployment spec that span fields or services: schedules only for cron services,
// unique endpoints, health check ports, dependencies that exist and do not go round, distinct
// mount targets. parse_deployment() runs them; a spec built another way can be checked here too.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/error.h"
#include "spec/deployment_spec.h"

namespace zl::spec {

// Where each value of a spec was written: "services.web.scale.min" -> line and column (1-based).
class SourceMap {
 public:
  SourceMap() = default;
  explicit SourceMap(std::string file) : file_(std::move(file)) {}

  void add(const std::string& path, int line, int column) {
    positions_.emplace(path, Position{line, column});
  }

  // The prefix of a message about `path`: "app.zlayer.yml:12:7: services.web.scale.min". A path
  // not recorded (a default) takes the position of its nearest recorded parent; without any,
  // just "app.zlayer.yml: <path>" or "<path>".
  std::string where(std::string_view path) const;

 private:
  struct Position {
    int line, column;
  };
  std::string file_;
  std::map<std::string, Position, std::less<>> positions_;
};

// The cross-field rules; the first broken one -> invalid_argument starting with where.where(path).
Status validate_deployment(const DeploymentSpec& deployment, const SourceMap& where = SourceMap());

}  // namespace zl::spec
