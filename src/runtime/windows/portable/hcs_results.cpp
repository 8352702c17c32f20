#include "runtime/windows/portable/hcs_results.h"

#include <nlohmann/json.hpp>

namespace zl::win {
namespace {

std::optional<nlohmann::json> parse(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::optional<int> int_field(const nlohmann::json& j, const char* name) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(name);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  // HCS reports Win32 exit codes as unsigned 32-bit (0xC0000005): keep the bits.
  return static_cast<int>(static_cast<uint32_t>(it->get<int64_t>()));
}

uint64_t u64(const nlohmann::json& obj, const char* block, const char* field) {
  auto b = obj.find(block);
  if (b == obj.end() || !b->is_object()) return 0;
  auto f = b->find(field);
  if (f == b->end() || !f->is_number()) return 0;
  return f->is_number_unsigned() ? f->get<uint64_t>()
                                 : static_cast<uint64_t>(std::max<int64_t>(0, f->get<int64_t>()));
}

std::string str_field(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string_view to_string(ExitReason reason) {
  return reason == ExitReason::runtime_error ? "runtime_error" : "exited";
}

std::optional<int> exit_code_from_payload(std::string_view json) {
  auto j = parse(json);
  if (!j) return std::nullopt;
  return int_field(*j, "ExitCode");
}

std::optional<HcsExit> exit_from_event(HcsEventKind kind, std::string_view payload) {
  switch (kind) {
    case HcsEventKind::system_exited:
      return HcsExit{exit_code_from_payload(payload).value_or(0), ExitReason::exited};
    case HcsEventKind::service_disconnect:
      return HcsExit{-1, ExitReason::runtime_error};
    default:
      return std::nullopt;
  }
}

std::optional<int> process_exit_code(std::string_view json) {
  auto j = parse(json);
  if (!j || !j->is_object()) return std::nullopt;
  const nlohmann::json* status = &*j;
  if (auto it = j->find("ProcessStatus"); it != j->end() && it->is_object()) status = &*it;
  if (auto exited = status->find("Exited");
      exited != status->end() && exited->is_boolean() && !exited->get<bool>())
    return std::nullopt;  // still running: its ExitCode is not one yet
  return int_field(*status, "ExitCode");
}

Result<WindowsStats> translate_stats(std::string_view json, std::optional<uint64_t> memory_limit) {
  auto j = parse(json);
  if (!j || !j->is_object()) return invalid_argument("HCS statistics are not a JSON object");
  const nlohmann::json* s = &*j;
  if (auto it = j->find("Statistics"); it != j->end() && it->is_object()) s = &*it;
  WindowsStats out;
  out.cpu_usage_usec = u64(*s, "Processor", "TotalRuntime100ns") / 10;
  out.cpu_user_usec = u64(*s, "Processor", "RuntimeUser100ns") / 10;
  out.cpu_kernel_usec = u64(*s, "Processor", "RuntimeKernel100ns") / 10;
  out.memory_bytes = u64(*s, "Memory", "MemoryUsagePrivateWorkingSetBytes");
  out.memory_commit_bytes = u64(*s, "Memory", "MemoryUsageCommitBytes");
  out.read_bytes = u64(*s, "Storage", "ReadSizeBytes");
  out.write_bytes = u64(*s, "Storage", "WriteSizeBytes");
  if (auto it = s->find("Uptime100ns"); it != s->end() && it->is_number_unsigned())
    out.uptime_usec = it->get<uint64_t>() / 10;
  if (memory_limit && *memory_limit > 0) out.memory_limit = *memory_limit;
  return out;
}

Result<std::vector<ComputeSystemSummary>> parse_compute_systems(std::string_view json) {
  auto j = parse(json);
  if (!j) return invalid_argument("HCS compute system list is not JSON");
  if (j->is_null()) return std::vector<ComputeSystemSummary>{};
  if (!j->is_array()) return invalid_argument("HCS compute system list is not a JSON array");
  std::vector<ComputeSystemSummary> out;
  for (const auto& e : *j) {
    if (!e.is_object()) continue;
    out.push_back(
        {str_field(e, "Id"), str_field(e, "Owner"), str_field(e, "SystemType"), str_field(e, "State")});
  }
  return out;
}

std::vector<std::string> zombie_systems(const std::vector<ComputeSystemSummary>& systems,
                                        std::string_view owner, const std::set<std::string>& known) {
  std::vector<std::string> out;
  for (const auto& s : systems)
    if (s.owner == owner && !s.id.empty() && !known.contains(s.id)) out.push_back(s.id);
  return out;
}

}  // namespace zl::win
