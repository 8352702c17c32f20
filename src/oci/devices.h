// Host devices given to a container (--device, --privileged): device nodes for linux.devices
// and the matching allow rules for the device cgroup.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "runtime/container_spec.h"

namespace zl {

struct DeviceSet {
  nlohmann::json devices = nlohmann::json::array();  // linux.devices
  nlohmann::json rules = nlohmann::json::array();    // linux.resources.devices
};

// One mapping: the host node (symlinks followed) or every node under a host directory, with
// its type, major/minor, mode and owner; the rule allows it with the mapping's permissions
// (a non-empty subset of "rwm"). Not a device or directory of devices -> invalid_argument.
Result<DeviceSet> devices_from_mapping(const DeviceMapping& mapping);

// Every char and block device under host_dev (skipping pts, shm, mqueue, fd and console), as
// docker gives a privileged container.
Result<nlohmann::json> host_devices(const std::filesystem::path& host_dev = "/dev");

// The container's devices: docker's default rules plus the mappings; when privileged, every host
// device (plus mappings that rename one) and one rule allowing all.
Result<DeviceSet> build_devices(const std::vector<DeviceMapping>& mappings, bool privileged);

}  // namespace zl
