// The JSON documents zlayer hands to the Host Compute Service (HCS schema 2.x field names):
// the compute system of a process-isolated container, the utility VM of a Hyper-V-isolated one,
// shutdown options, process parameters and the layer list of HcsImportLayer. Pure functions of
// their inputs, portable, so the Linux unit tests compare them field by field.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "runtime/windows/portable/guid.h"

namespace zl::win {

// Stamped on every compute system zlayer creates ("Owner") and prefixed to its HCN endpoints'
// names: how a restarted agent finds what an earlier run left behind.
inline constexpr std::string_view kOwner = "zlayer";
inline constexpr uint64_t kDefaultScratchSizeGiB = 20;

enum class Isolation { process, hyperv };
std::string_view to_string(Isolation isolation);
Result<Isolation> parse_isolation(std::string_view text);  // "process" | "hyperv"

// One read-only image layer as HCS names it: a GUID and the wclayer directory.
struct HcsLayer {
  Guid id;
  std::string path;
  friend bool operator==(const HcsLayer&, const HcsLayer&) = default;
};

// What a container's compute system is built from (the parts of a service spec that have a
// Windows meaning, plus the paths the runtime prepared).
struct ContainerDocInput {
  std::optional<double> cpus;           // cores; fractions round up to whole processors
  std::optional<int64_t> memory_bytes;  // rounded up to whole MiB
  std::optional<std::string> hostname;
  std::vector<HcsLayer> layers;           // the image's chain, child (top) first, base last
  std::string scratch_path;               // the container's writable layer directory
  std::optional<Guid> network_namespace;  // HCN namespace when attached
  std::string hosting_system_id;          // hyperv: the utility VM's compute system
};

// The processor count HCS gets: ceil(cpus), at least 1; nullopt when unset or not positive.
std::optional<uint32_t> processor_count(std::optional<double> cpus);
// Bytes -> MiB rounded up; nullopt when unset or not positive.
std::optional<uint64_t> memory_mib(std::optional<int64_t> bytes);

// The ComputeSystem document of a process-isolated container. invalid_argument when there is
// no layer or no scratch path.
Result<nlohmann::json> container_document(const ContainerDocInput& in);

// A Hyper-V isolated container's utility VM (paths from UvmPaths, see uvm_layout.h).
struct UtilityVmDocInput {
  Guid runtime_id;
  std::optional<double> cpus;
  std::optional<int64_t> memory_bytes;  // default 1 GiB for the VM
  std::string sandbox_vhdx;             // SCSI 0:0, writable
  std::string os_files_dir;             // the image's UtilityVM/Files as VSMB share "os"
  std::string debug_dir;                // writable VSMB share "zlayer-debug"
  std::string crash_dir;                // host-only: crash dumps and saved state
};
Result<nlohmann::json> utility_vm_document(const UtilityVmDocInput& in);

// HcsShutDownComputeSystem's options: {"TimeoutSeconds": max(1, seconds)}.
nlohmann::json shutdown_options(int64_t timeout_seconds);

// HcsCreateProcess's parameters: stdout and stderr as pipes, no stdin, no console.
struct ProcessDocInput {
  std::vector<std::string> argv;
  std::string working_directory;
  std::map<std::string, std::string> env;
  bool create_stdin = false;
};
Result<nlohmann::json> process_parameters(const ProcessDocInput& in);

// argv as one Windows command line, quoted so CommandLineToArgvW / the C runtime split it back
// into the same arguments (spaces, tabs, quotes and backslashes before quotes escaped).
std::string windows_command_line(const std::vector<std::string>& argv);

// HcsImportLayer / HcsInitializeWritableLayer's layerData: the parent layers, top first.
nlohmann::json layer_data(const std::vector<HcsLayer>& parents);

// `kill` on Windows: the signal must be a valid name or number (as on Linux), and every signal
// then means HcsTerminateComputeSystem (Windows containers have no POSIX signals).
Status check_kill_signal(std::string_view signal);

// HcsEnumerateComputeSystems's query for the systems zlayer owns.
nlohmann::json owner_query();

}  // namespace zl::win
