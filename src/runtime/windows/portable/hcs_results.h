// Reading what HCS hands back: the exit of a compute system (SystemExited / ServiceDisconnect
// events), a process's exit code, statistics in zlayer's units, and the list of compute
// systems (the zombies a restarted agent terminates). Portable: tested on Linux too.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace zl::win {

// The HCS events zlayer reacts to (values of HCS_EVENT_TYPE in computedefs.h).
enum class HcsEventKind : uint32_t {
  system_exited = 0x00000001,
  process_exited = 0x00010000,
  service_disconnect = 0x02000000,
  other = 0,
};

enum class ExitReason { exited, runtime_error };
std::string_view to_string(ExitReason reason);

struct HcsExit {
  int code = 0;
  ExitReason reason = ExitReason::exited;
  friend bool operator==(const HcsExit&, const HcsExit&) = default;
};

// "ExitCode" of an event payload ({"ExitCode": 3, ...}); nullopt when the payload is empty, not
// JSON or has none.
std::optional<int> exit_code_from_payload(std::string_view json);

// What the end of a compute system means for its container: SystemExited -> its ExitCode (0
// when the payload has none), ServiceDisconnect (vmcompute went away) -> -1 / runtime_error;
// any other event -> nullopt (not an exit).
std::optional<HcsExit> exit_from_event(HcsEventKind kind, std::string_view payload);

// A process's exit code from HcsGetProcessProperties / HcsWaitForProcessExit: the
// {"ProcessStatus": {"ExitCode": n}} form or the flat {"ExitCode": n}; nullopt while the status
// says "Exited": false.
std::optional<int> process_exit_code(std::string_view json);

// Statistics in zlayer's units.
inline constexpr uint64_t kUnlimitedMemory = UINT64_MAX;  // HCS reports no limit: "unlimited"
struct WindowsStats {
  uint64_t cpu_usage_usec = 0;  // Processor.TotalRuntime100ns / 10
  uint64_t cpu_user_usec = 0;
  uint64_t cpu_kernel_usec = 0;
  uint64_t memory_bytes = 0;  // Memory.MemoryUsagePrivateWorkingSetBytes
  uint64_t memory_commit_bytes = 0;
  uint64_t memory_limit = kUnlimitedMemory;
  uint64_t read_bytes = 0, write_bytes = 0;  // Storage.ReadSizeBytes / WriteSizeBytes
  uint64_t uptime_usec = 0;
  friend bool operator==(const WindowsStats&, const WindowsStats&) = default;
};
// The Statistics property (bare or wrapped as {"Statistics": {...}}); missing blocks read as
// zero; not JSON -> invalid_argument. A configured memory limit (bytes) replaces the sentinel.
Result<WindowsStats> translate_stats(std::string_view json, std::optional<uint64_t> memory_limit = {});

// One entry of HcsEnumerateComputeSystems' result.
struct ComputeSystemSummary {
  std::string id;
  std::string owner;
  std::string system_type;  // "Container" | "VirtualMachine"
  std::string state;        // "Running", "Stopped", ...
};
Result<std::vector<ComputeSystemSummary>> parse_compute_systems(std::string_view json);

// Systems owned by `owner` whose id is not in `known`: the ones to terminate at start.
std::vector<std::string> zombie_systems(const std::vector<ComputeSystemSummary>& systems,
                                        std::string_view owner, const std::set<std::string>& known);

}  // namespace zl::win
