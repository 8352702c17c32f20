// The HCS documents, field by field against the schema's names (HCS schema 2.x).
#include "runtime/windows/portable/hcs_document.h"

#include <gtest/gtest.h>

namespace zl::win {
namespace {

Guid guid(const char* s) {
  return *parse_guid(s);
}

ContainerDocInput sample_input() {
  ContainerDocInput in;
  in.cpus = 1.5;
  in.memory_bytes = 512LL * 1024 * 1024 + 1;
  in.hostname = "web-0";
  in.layers = {{guid("11111111-2222-3333-4444-555555555555"), "C:\\zl\\layers\\top"},
               {guid("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"), "C:\\zl\\layers\\base"}};
  in.scratch_path = "C:\\zl\\scratch\\web-0";
  return in;
}

TEST(HcsDocument, ProcessIsolatedContainerFieldByField) {
  auto doc = container_document(sample_input());
  ASSERT_TRUE(doc) << doc.error().message;
  const auto& d = *doc;
  EXPECT_EQ(d.at("Owner"), "zlayer");
  EXPECT_EQ(d.at("SchemaVersion").at("Major"), 2);
  EXPECT_EQ(d.at("SchemaVersion").at("Minor"), 1);
  EXPECT_EQ(d.at("ShouldTerminateOnLastHandleClosed"), true);
  EXPECT_FALSE(d.contains("VirtualMachine"));
  EXPECT_FALSE(d.contains("HostingSystemId"));
  const auto& c = d.at("Container");
  ASSERT_EQ(c.at("Storage").at("Layers").size(), 2u);
  EXPECT_EQ(c.at("Storage").at("Layers")[0].at("Id"), "11111111-2222-3333-4444-555555555555");
  EXPECT_EQ(c.at("Storage").at("Layers")[0].at("Path"), "C:\\zl\\layers\\top");  // child first
  EXPECT_EQ(c.at("Storage").at("Layers")[1].at("Path"), "C:\\zl\\layers\\base");
  EXPECT_EQ(c.at("Storage").at("Path"), "C:\\zl\\scratch\\web-0");
  EXPECT_EQ(c.at("HostName"), "web-0");
  EXPECT_EQ(c.at("Processor").at("Count"), 2);    // 1.5 cores round up
  EXPECT_EQ(c.at("Memory").at("SizeInMB"), 513);  // one byte over 512 MiB rounds up
  EXPECT_FALSE(c.contains("Networking"));         // not attached: no namespace
  // No field beyond the ones above (a typo in a name would show up here).
  for (auto& [k, v] : c.items())
    EXPECT_TRUE(k == "Storage" || k == "HostName" || k == "Processor" || k == "Memory") << k;
}

TEST(HcsDocument, NetworkNamespaceWhenAttached) {
  auto in = sample_input();
  in.network_namespace = guid("{0A0B0C0D-0000-4000-8000-000000000001}");
  auto doc = container_document(in);
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->at("Container").at("Networking").at("Namespace"), "0a0b0c0d-0000-4000-8000-000000000001");
}

TEST(HcsDocument, HostedInAUtilityVm) {
  auto in = sample_input();
  in.hosting_system_id = "web-0-uvm";
  EXPECT_EQ(container_document(in)->at("HostingSystemId"), "web-0-uvm");
}

TEST(HcsDocument, OptionalLimitsAreLeftOut) {
  auto in = sample_input();
  in.cpus.reset();
  in.memory_bytes.reset();
  in.hostname.reset();
  auto doc = container_document(in);
  ASSERT_TRUE(doc);
  EXPECT_FALSE(doc->at("Container").contains("Processor"));
  EXPECT_FALSE(doc->at("Container").contains("Memory"));
  EXPECT_FALSE(doc->at("Container").contains("HostName"));
}

TEST(HcsDocument, RefusesNoLayersOrNoScratch) {
  auto in = sample_input();
  in.layers.clear();
  EXPECT_EQ(container_document(in).error().kind, ErrorKind::invalid_argument);
  in = sample_input();
  in.scratch_path.clear();
  EXPECT_EQ(container_document(in).error().kind, ErrorKind::invalid_argument);
}

TEST(HcsDocument, ProcessorCountRoundsUp) {
  EXPECT_EQ(processor_count(0.25), 1u);
  EXPECT_EQ(processor_count(1.0), 1u);
  EXPECT_EQ(processor_count(2.01), 3u);
  EXPECT_EQ(processor_count(0.0), std::nullopt);
  EXPECT_EQ(processor_count(-1.0), std::nullopt);
  EXPECT_EQ(processor_count(std::nullopt), std::nullopt);
}

TEST(HcsDocument, MemoryMibRoundsUp) {
  EXPECT_EQ(memory_mib(1), 1u);
  EXPECT_EQ(memory_mib(1024 * 1024), 1u);
  EXPECT_EQ(memory_mib(1536LL * 1024 * 1024), 1536u);
  EXPECT_EQ(memory_mib(0), std::nullopt);
}

TEST(HcsDocument, UtilityVmFieldByField) {
  UtilityVmDocInput in;
  in.runtime_id = guid("deadbeef-cafe-4000-8000-123456789abc");
  in.cpus = 0.5;
  in.sandbox_vhdx = "C:\\zl\\uvms\\c1\\sandbox.vhdx";
  in.os_files_dir = "C:\\zl\\layers\\base\\UtilityVM\\Files";
  in.debug_dir = "C:\\zl\\uvms\\c1\\debug";
  in.crash_dir = "C:\\zl\\uvms\\c1\\crash";
  auto doc = utility_vm_document(in);
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(doc->at("Owner"), "zlayer");
  EXPECT_FALSE(doc->contains("Container"));
  const auto& vm = doc->at("VirtualMachine");
  EXPECT_EQ(vm.at("RuntimeId"), "deadbeef-cafe-4000-8000-123456789abc");
  EXPECT_EQ(vm.at("ComputeTopology").at("Processor").at("Count"), 1);
  EXPECT_EQ(vm.at("ComputeTopology").at("Memory").at("SizeInMB"), 1024);  // the VM's default
  EXPECT_EQ(vm.at("Devices").at("Scsi").at("0").at("Attachments").at("0").at("Path"), in.sandbox_vhdx);
  EXPECT_EQ(vm.at("Devices").at("Scsi").at("0").at("Attachments").at("0").at("Type"), "VirtualDisk");
  const auto& shares = vm.at("Devices").at("VirtualSmb").at("Shares");
  ASSERT_EQ(shares.size(), 2u);
  EXPECT_EQ(shares[0].at("Name"), "os");
  EXPECT_EQ(shares[0].at("Path"), in.os_files_dir);
  EXPECT_EQ(shares[0].at("Options").at("ReadOnly"), true);
  EXPECT_EQ(shares[1].at("Name"), "zlayer-debug");
  EXPECT_FALSE(shares[1].at("Options").contains("ReadOnly"));  // the guest writes there
  // Crash output goes to the host-only directory, never to a share.
  EXPECT_EQ(vm.at("GuestCrashReporting").at("WindowsCrashSettings").at("DumpFileName"),
            "C:\\zl\\uvms\\c1\\crash\\guest-crash.dmp");
  EXPECT_EQ(vm.at("DebugOptions").at("BugcheckSavedStateFileName"), "C:\\zl\\uvms\\c1\\crash\\bugcheck.vmrs");
  for (const auto& s : shares) EXPECT_NE(s.at("Path"), in.crash_dir);
}

TEST(HcsDocument, UtilityVmNeedsARuntimeId) {
  UtilityVmDocInput in;
  in.sandbox_vhdx = "s";
  in.os_files_dir = "o";
  EXPECT_EQ(utility_vm_document(in).error().kind, ErrorKind::invalid_argument);
}

TEST(HcsDocument, ShutdownOptions) {
  EXPECT_EQ(shutdown_options(10).dump(), R"({"TimeoutSeconds":10})");
  EXPECT_EQ(shutdown_options(0).at("TimeoutSeconds"), 1);
}

TEST(HcsDocument, ProcessParametersPipeStdoutAndStderr) {
  ProcessDocInput in;
  in.argv = {"cmd", "/c", "echo hi"};
  in.env = {{"A", "1"}};
  in.working_directory = "C:\\app";
  auto p = process_parameters(in);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->at("CommandLine"), "cmd /c \"echo hi\"");
  EXPECT_EQ(p->at("CreateStdOutPipe"), true);
  EXPECT_EQ(p->at("CreateStdErrPipe"), true);
  EXPECT_EQ(p->at("CreateStdInPipe"), false);
  EXPECT_EQ(p->at("EmulateConsole"), false);
  EXPECT_EQ(p->at("WorkingDirectory"), "C:\\app");
  EXPECT_EQ(p->at("Environment").at("A"), "1");
  in.argv.clear();
  EXPECT_EQ(process_parameters(in).error().kind, ErrorKind::invalid_argument);
}

TEST(HcsDocument, WindowsCommandLineQuoting) {
  EXPECT_EQ(windows_command_line({"a", "b c"}), "a \"b c\"");
  EXPECT_EQ(windows_command_line({""}), "\"\"");
  EXPECT_EQ(windows_command_line({"say \"hi\""}), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(windows_command_line({"C:\\dir with space\\"}), "\"C:\\dir with space\\\\\"");
  EXPECT_EQ(windows_command_line({"C:\\no\\quote"}), "C:\\no\\quote");  // backslashes stay literal
}

TEST(HcsDocument, LayerDataListsParentsTopFirst) {
  auto d = layer_data({{guid("11111111-2222-3333-4444-555555555555"), "C:\\l\\1"}});
  EXPECT_EQ(d.at("Layers")[0].at("Id"), "11111111-2222-3333-4444-555555555555");
  EXPECT_EQ(d.at("Layers")[0].at("Path"), "C:\\l\\1");
  EXPECT_EQ(d.at("SchemaVersion").at("Major"), 2);
}

TEST(HcsDocument, OwnerQueryAndKillSignals) {
  EXPECT_EQ(owner_query().dump(), R"({"Owners":["zlayer"]})");
  EXPECT_TRUE(check_kill_signal("SIGTERM"));
  EXPECT_TRUE(check_kill_signal("kill"));
  EXPECT_TRUE(check_kill_signal("9"));
  EXPECT_TRUE(check_kill_signal(""));  // default: SIGKILL
  EXPECT_EQ(check_kill_signal("SIGBOGUS").error().kind, ErrorKind::invalid_argument);
}

TEST(HcsIsolation, ParsesBoth) {
  EXPECT_EQ(*parse_isolation("hyperv"), Isolation::hyperv);
  EXPECT_EQ(*parse_isolation("process"), Isolation::process);
  EXPECT_FALSE(parse_isolation("vm"));
}

}  // namespace
}  // namespace zl::win
