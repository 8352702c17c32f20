// The values of docker's DefaultLinuxSpec, as data.
#include "oci/defaults.h"

namespace zl {

using json = nlohmann::json;

const std::vector<std::string>& default_masked_paths() {
  static const std::vector<std::string> paths = {
      "/proc/asound",
      "/proc/acpi",
      "/proc/kcore",
      "/proc/keys",
      "/proc/latency_stats",
      "/proc/timer_list",
      "/proc/timer_stats",
      "/proc/sched_debug",
      "/proc/scsi",
      "/sys/firmware",
      "/sys/devices/virtual/powercap",
  };
  return paths;
}

const std::vector<std::string>& default_readonly_paths() {
  static const std::vector<std::string> paths = {
      "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
  };
  return paths;
}

json default_mounts() {
  auto m = [](const char* dest, const char* type, const char* source, std::vector<std::string> opts) {
    return json{{"destination", dest}, {"type", type}, {"source", source}, {"options", std::move(opts)}};
  };
  return json::array({
      m("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      m("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      m("/dev/pts", "devpts", "devpts",
        {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      m("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      m("/sys/fs/cgroup", "cgroup", "cgroup", {"ro", "nosuid", "noexec", "nodev"}),
      m("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      m("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=67108864"}),
  });
}

json default_device_rules() {
  auto rule = [](bool allow, const char* type, int64_t major, int64_t minor, const char* access) {
    json r = {{"allow", allow}, {"type", type}, {"access", access}};
    if (major >= 0) r["major"] = major;  // -1: any
    if (minor >= 0) r["minor"] = minor;
    return r;
  };
  return json::array({
      json{{"allow", false}, {"access", "rwm"}}, rule(true, "c", 1, 3, "rwm"),  // /dev/null
      rule(true, "c", 1, 5, "rwm"),                                             // /dev/zero
      rule(true, "c", 1, 7, "rwm"),                                             // /dev/full
      rule(true, "c", 1, 8, "rwm"),                                             // /dev/random
      rule(true, "c", 1, 9, "rwm"),                                             // /dev/urandom
      rule(true, "c", 5, 0, "rwm"),                                             // /dev/tty
      rule(true, "c", 5, 1, "rwm"),                                             // /dev/console
      rule(true, "c", 5, 2, "rwm"),                                             // /dev/ptmx
      rule(true, "c", 136, -1, "rwm"),                                          // /dev/pts/*
      rule(false, "c", 10, 229, "rwm"),  // /dev/fuse, unless mapped explicitly
      // Wildcards last: cgroup v1 cannot apply a specific deny after a wildcard allow.
      rule(true, "c", -1, -1, "m"),  // mknod of any char device
      rule(true, "b", -1, -1, "m"),  // mknod of any block device
  });
}

}  // namespace zl
