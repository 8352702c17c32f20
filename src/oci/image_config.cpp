// parse_image_config: type-checked reads of the image config's "config" object.
#include "oci/image_config.h"

namespace zl {
namespace {

using json = nlohmann::json;

Status read_string(const json& c, const char* key, std::string& out) {
  auto it = c.find(key);
  if (it == c.end() || it->is_null()) return {};
  if (!it->is_string()) return invalid_argument("image config: {} must be a string", key);
  out = it->get<std::string>();
  return {};
}

Status read_strings(const json& c, const char* key, std::vector<std::string>& out) {
  auto it = c.find(key);
  if (it == c.end() || it->is_null()) return {};
  if (!it->is_array()) return invalid_argument("image config: {} must be an array of strings", key);
  for (const auto& v : *it) {
    if (!v.is_string()) return invalid_argument("image config: {} must be an array of strings", key);
    out.push_back(v.get<std::string>());
  }
  return {};
}

Status read_labels(const json& c, std::map<std::string, std::string>& out) {
  auto it = c.find("Labels");
  if (it == c.end() || it->is_null()) return {};
  if (!it->is_object()) return invalid_argument("image config: Labels must be an object of strings");
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) return invalid_argument("image config: label \"{}\" must be a string", k);
    out[k] = v.get<std::string>();
  }
  return {};
}

}  // namespace

Result<ImageRunConfig> parse_image_config(const json& blob) {
  ImageRunConfig out;
  if (blob.is_null()) return out;
  if (!blob.is_object()) return invalid_argument("image config must be a JSON object");
  auto it = blob.find("config");
  if (it == blob.end() || it->is_null()) return out;
  if (!it->is_object()) return invalid_argument("image config: \"config\" must be an object");
  const json& c = *it;
  ZL_TRY(read_strings(c, "Env", out.env));
  ZL_TRY(read_strings(c, "Cmd", out.cmd));
  ZL_TRY(read_strings(c, "Entrypoint", out.entrypoint));
  ZL_TRY(read_string(c, "WorkingDir", out.working_dir));
  ZL_TRY(read_string(c, "User", out.user));
  ZL_TRY(read_string(c, "StopSignal", out.stop_signal));
  ZL_TRY(read_labels(c, out.labels));
  return out;
}

}  // namespace zl
