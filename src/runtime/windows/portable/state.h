// What the Windows backend keeps on disk, as JSON written atomically: the image index
// (<root>/images.json: name -> layer chain) and one record per container
// (<root>/containers/<id>.json: what its removal must undo). Portable: tested on Linux too.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "runtime/windows/portable/hcs_document.h"

namespace zl::win {

// Image name -> its layers, child (top) first: the order HCS's Storage.Layers wants.
class ImageIndex {
 public:
  static Result<ImageIndex> parse(std::string_view json);  // "" -> empty
  std::string dump() const;

  const std::map<std::string, std::vector<HcsLayer>>& images() const { return images_; }
  Result<std::vector<HcsLayer>> chain(const std::string& name) const;  // not_found naming it
  void put(const std::string& name, std::vector<HcsLayer> chain) { images_[name] = std::move(chain); }
  Status tag(const std::string& source, const std::string& target);  // target now names source's chain
  Status remove(const std::string& name);                            // not_found when absent
  // Layer ids no image and no container (`in_use`) refers to: prune deletes their directories.
  std::vector<Guid> unreferenced(const std::vector<Guid>& on_disk, const std::set<std::string>& in_use) const;

 private:
  std::map<std::string, std::vector<HcsLayer>> images_;
};

struct ContainerRecord {
  std::string id;
  std::string image;
  Isolation isolation = Isolation::process;
  std::vector<HcsLayer> layers;
  std::string scratch_path;
  std::optional<Guid> endpoint, network_namespace;
  std::string address;
  std::optional<Guid> uvm_runtime_id;  // hyperv: the utility VM's id (its system is "<id>-uvm")
  std::optional<uint64_t> memory_limit;
  std::vector<std::string> command;
  int64_t created_unix = 0;
  uint32_t owner_pid = 0;  // the `zlayer run` holding its compute system; gone -> the record is stale

  nlohmann::json to_json() const;
  static Result<ContainerRecord> from_json(std::string_view json);
  friend bool operator==(const ContainerRecord&, const ContainerRecord&) = default;
};

}  // namespace zl::win
