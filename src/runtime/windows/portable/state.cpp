#include "runtime/windows/portable/state.h"

#include <algorithm>

namespace zl::win {
namespace {

nlohmann::json layers_json(const std::vector<HcsLayer>& layers) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& l : layers) a.push_back({{"id", l.id.str()}, {"path", l.path}});
  return a;
}

Result<std::vector<HcsLayer>> layers_from(const nlohmann::json& a) {
  std::vector<HcsLayer> out;
  if (!a.is_array()) return corrupt("layer list is not an array");
  for (const auto& l : a) {
    if (!l.is_object() || !l.contains("id") || !l.contains("path") || !l["id"].is_string() ||
        !l["path"].is_string())
      return corrupt("layer entry without id and path");
    ZL_TRY_ASSIGN(Guid id, parse_guid(l["id"].get<std::string>()));
    out.push_back({id, l["path"].get<std::string>()});
  }
  return out;
}

}  // namespace

Result<ImageIndex> ImageIndex::parse(std::string_view json) {
  ImageIndex idx;
  if (json.empty()) return idx;
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return corrupt("Windows image index is not a JSON object");
  for (auto& [name, chain] : j.items()) {
    auto layers = layers_from(chain);
    if (!layers) return tl::unexpected(layers.error().wrap("Windows image index, image " + name));
    idx.images_[name] = std::move(*layers);
  }
  return idx;
}

std::string ImageIndex::dump() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, chain] : images_) j[name] = layers_json(chain);
  return j.dump(2);
}

Result<std::vector<HcsLayer>> ImageIndex::chain(const std::string& name) const {
  auto it = images_.find(name);
  if (it == images_.end())
    return not_found("image {} is not in the Windows image store (import it first)", name);
  return it->second;
}

Status ImageIndex::tag(const std::string& source, const std::string& target) {
  ZL_TRY_ASSIGN(auto c, chain(source));
  images_[target] = std::move(c);
  return {};
}

Status ImageIndex::remove(const std::string& name) {
  if (!images_.erase(name)) return not_found("image {} is not in the Windows image store", name);
  return {};
}

std::vector<Guid> ImageIndex::unreferenced(const std::vector<Guid>& on_disk,
                                           const std::set<std::string>& in_use) const {
  std::set<std::string> used = in_use;
  for (const auto& [name, chain] : images_)
    for (const auto& l : chain) used.insert(l.id.str());
  std::vector<Guid> out;
  for (const auto& g : on_disk)
    if (!used.contains(g.str())) out.push_back(g);
  return out;
}

nlohmann::json ContainerRecord::to_json() const {
  nlohmann::json j = {{"id", id},
                      {"image", image},
                      {"isolation", to_string(isolation)},
                      {"layers", layers_json(layers)},
                      {"scratch_path", scratch_path},
                      {"address", address},
                      {"command", command},
                      {"created_unix", created_unix},
                      {"owner_pid", owner_pid}};
  if (endpoint) j["endpoint"] = endpoint->str();
  if (network_namespace) j["namespace"] = network_namespace->str();
  if (uvm_runtime_id) j["uvm_runtime_id"] = uvm_runtime_id->str();
  if (memory_limit) j["memory_limit"] = *memory_limit;
  return j;
}

Result<ContainerRecord> ContainerRecord::from_json(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return corrupt("container record is not a JSON object");
  try {
    ContainerRecord r;
    r.id = j.at("id").get<std::string>();
    r.image = j.value("image", "");
    ZL_TRY_ASSIGN(r.isolation, parse_isolation(j.value("isolation", "process")));
    ZL_TRY_ASSIGN(r.layers, layers_from(j.at("layers")));
    r.scratch_path = j.value("scratch_path", "");
    r.address = j.value("address", "");
    r.command = j.value("command", std::vector<std::string>{});
    r.created_unix = j.value("created_unix", int64_t{0});
    r.owner_pid = j.value("owner_pid", uint32_t{0});
    auto guid_field = [&](const char* k) -> Result<std::optional<Guid>> {
      if (!j.contains(k)) return std::optional<Guid>{};
      ZL_TRY_ASSIGN(Guid g, parse_guid(j[k].get<std::string>()));
      return std::optional<Guid>{g};
    };
    ZL_TRY_ASSIGN(r.endpoint, guid_field("endpoint"));
    ZL_TRY_ASSIGN(r.network_namespace, guid_field("namespace"));
    ZL_TRY_ASSIGN(r.uvm_runtime_id, guid_field("uvm_runtime_id"));
    if (j.contains("memory_limit")) r.memory_limit = j["memory_limit"].get<uint64_t>();
    return r;
  } catch (const nlohmann::json::exception& e) {
    return corrupt("container record: {}", e.what());
  }
}

}  // namespace zl::win
