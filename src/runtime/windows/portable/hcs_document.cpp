#include "runtime/windows/portable/hcs_document.h"

#include <cmath>

#include "oci/signals.h"

namespace zl::win {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint64_t kDefaultUvmMemoryMiB = 1024;

nlohmann::json schema_version(int major, int minor) {
  return {{"Major", major}, {"Minor", minor}};
}

}  // namespace

std::string_view to_string(Isolation isolation) {
  return isolation == Isolation::hyperv ? "hyperv" : "process";
}

Result<Isolation> parse_isolation(std::string_view text) {
  if (text == "process") return Isolation::process;
  if (text == "hyperv") return Isolation::hyperv;
  return invalid_argument("invalid isolation \"{}\": want process or hyperv", text);
}

std::optional<uint32_t> processor_count(std::optional<double> cpus) {
  if (!cpus || !std::isfinite(*cpus) || *cpus <= 0) return std::nullopt;
  double n = std::ceil(*cpus);
  if (n > 1024) n = 1024;  // beyond any host; keeps the cast defined
  return static_cast<uint32_t>(n);
}

std::optional<uint64_t> memory_mib(std::optional<int64_t> bytes) {
  if (!bytes || *bytes <= 0) return std::nullopt;
  return (static_cast<uint64_t>(*bytes) + kMiB - 1) / kMiB;
}

Result<nlohmann::json> container_document(const ContainerDocInput& in) {
  if (in.layers.empty()) return invalid_argument("compute system document: the image has no layers");
  if (in.scratch_path.empty()) return invalid_argument("compute system document: no scratch layer path");
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : in.layers) layers.push_back({{"Id", l.id.str()}, {"Path", l.path}});
  nlohmann::json container = {{"Storage", {{"Layers", layers}, {"Path", in.scratch_path}}}};
  if (in.hostname && !in.hostname->empty()) container["HostName"] = *in.hostname;
  if (auto n = processor_count(in.cpus)) container["Processor"] = {{"Count", *n}};
  if (auto mib = memory_mib(in.memory_bytes)) container["Memory"] = {{"SizeInMB", *mib}};
  if (in.network_namespace) container["Networking"] = {{"Namespace", in.network_namespace->str()}};
  nlohmann::json doc = {{"Owner", kOwner},
                        {"SchemaVersion", schema_version(2, 1)},
                        {"Container", container},
                        {"ShouldTerminateOnLastHandleClosed", true}};
  if (!in.hosting_system_id.empty()) doc["HostingSystemId"] = in.hosting_system_id;
  return doc;
}

Result<nlohmann::json> utility_vm_document(const UtilityVmDocInput& in) {
  if (in.runtime_id.is_nil()) return invalid_argument("utility VM document: no runtime id");
  if (in.sandbox_vhdx.empty() || in.os_files_dir.empty())
    return invalid_argument("utility VM document: sandbox VHDX and OS files are required");
  uint64_t mib = memory_mib(in.memory_bytes).value_or(kDefaultUvmMemoryMiB);
  uint32_t cpus = processor_count(in.cpus).value_or(2);
  nlohmann::json vsmb_ro = {{"ReadOnly", true},
                            {"PseudoOplocks", true},
                            {"TakeBackupPrivilege", true},
                            {"CacheIo", true},
                            {"ShareRead", true}};
  nlohmann::json devices = nlohmann::json::object();
  devices["Scsi"]["0"]["Attachments"]["0"] = {{"Type", "VirtualDisk"}, {"Path", in.sandbox_vhdx}};
  devices["VirtualSmb"]["Shares"] = nlohmann::json::array(
      {{{"Name", "os"}, {"Path", in.os_files_dir}, {"Options", vsmb_ro}},
       {{"Name", "zlayer-debug"}, {"Path", in.debug_dir}, {"Options", {{"ShareRead", true}}}}});
  devices["VirtualSmb"]["DirectFileMappingInMB"] = 1024;
  devices["HvSocket"]["HvSocketConfig"]["DefaultBindSecurityDescriptor"] = "D:P(A;;FA;;;SY)(A;;FA;;;BA)";
  nlohmann::json vm = {
      {"StopOnReset", true},
      {"Chipset",
       {{"Uefi",
         {{"BootThis", {{"DevicePath", "\\EFI\\Microsoft\\Boot\\bootmgfw.efi"}, {"DeviceType", "VmbFs"}}}}}}},
      {"ComputeTopology",
       {{"Memory", {{"SizeInMB", mib}, {"AllowOvercommit", true}}}, {"Processor", {{"Count", cpus}}}}},
      {"Devices", devices},
      {"RuntimeId", in.runtime_id.str()},
  };
  if (!in.crash_dir.empty()) {
    vm["DebugOptions"] = {{"BugcheckSavedStateFileName", in.crash_dir + "\\bugcheck.vmrs"}};
    vm["GuestCrashReporting"] = {
        {"WindowsCrashSettings",
         {{"DumpFileName", in.crash_dir + "\\guest-crash.dmp"}, {"DumpType", "Full"}}}};
  }
  return nlohmann::json{{"Owner", kOwner},
                        {"SchemaVersion", schema_version(2, 1)},
                        {"VirtualMachine", vm},
                        {"ShouldTerminateOnLastHandleClosed", true}};
}

nlohmann::json shutdown_options(int64_t timeout_seconds) {
  return {{"TimeoutSeconds", timeout_seconds < 1 ? 1 : timeout_seconds}};
}

std::string windows_command_line(const std::vector<std::string>& argv) {
  std::string out;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (i) out += ' ';
    const std::string& a = argv[i];
    if (!a.empty() && a.find_first_of(" \t\n\v\"") == std::string::npos) {
      out += a;
      continue;
    }
    out += '"';
    size_t backslashes = 0;
    for (char c : a) {
      if (c == '\\') {
        ++backslashes;
        continue;
      }
      // Backslashes before a quote are doubled, and the quote escaped; elsewhere literal.
      out.append(c == '"' ? backslashes * 2 + 1 : backslashes, '\\');
      backslashes = 0;
      out += c;
    }
    out.append(backslashes * 2, '\\');  // before the closing quote
    out += '"';
  }
  return out;
}

Result<nlohmann::json> process_parameters(const ProcessDocInput& in) {
  if (in.argv.empty()) return invalid_argument("exec: the command is empty");
  nlohmann::json env = nlohmann::json::object();
  for (const auto& [k, v] : in.env) env[k] = v;
  nlohmann::json p = {
      {"CommandLine", windows_command_line(in.argv)}, {"Environment", env},       {"EmulateConsole", false},
      {"CreateStdInPipe", in.create_stdin},           {"CreateStdOutPipe", true}, {"CreateStdErrPipe", true}};
  if (!in.working_directory.empty()) p["WorkingDirectory"] = in.working_directory;
  return p;
}

nlohmann::json layer_data(const std::vector<HcsLayer>& parents) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : parents) layers.push_back({{"Id", l.id.str()}, {"Path", l.path}});
  return {{"SchemaVersion", schema_version(2, 1)}, {"Layers", layers}};
}

Status check_kill_signal(std::string_view signal) {
  auto n = parse_signal(signal.empty() ? std::string_view("SIGKILL") : signal);
  if (!n) return tl::unexpected(n.error().wrap("kill"));
  return {};
}

nlohmann::json owner_query() {
  return {{"Owners", nlohmann::json::array({kOwner})}};
}

}  // namespace zl::win
