#include "runtime/windows/portable/hcs_results.h"

#include <gtest/gtest.h>

namespace zl::win {
namespace {

TEST(HcsExitCode, FromSystemExitedPayload) {
  EXPECT_EQ(exit_code_from_payload(R"({"ExitCode":42})"), 42);
  EXPECT_EQ(exit_code_from_payload(R"({"ExitCode":3221225477})"), static_cast<int>(0xC0000005u));
  EXPECT_EQ(exit_code_from_payload(""), std::nullopt);
  EXPECT_EQ(exit_code_from_payload("not json"), std::nullopt);
  EXPECT_EQ(exit_code_from_payload(R"({"NoExitCode":1})"), std::nullopt);
  EXPECT_EQ(exit_code_from_payload(R"({"ExitCode":"1"})"), std::nullopt);
}

TEST(HcsExitCode, EventsToOutcomes) {
  EXPECT_EQ(exit_from_event(HcsEventKind::system_exited, R"({"ExitCode":7})"),
            (HcsExit{7, ExitReason::exited}));
  EXPECT_EQ(exit_from_event(HcsEventKind::system_exited, ""), (HcsExit{0, ExitReason::exited}));
  EXPECT_EQ(exit_from_event(HcsEventKind::service_disconnect, R"({"ExitCode":7})"),
            (HcsExit{-1, ExitReason::runtime_error}));
  EXPECT_EQ(exit_from_event(HcsEventKind::process_exited, R"({"ExitCode":7})"), std::nullopt);
  EXPECT_EQ(to_string(ExitReason::runtime_error), "runtime_error");
}

TEST(HcsExitCode, ProcessStatusNestedAndFlat) {
  EXPECT_EQ(process_exit_code(R"({"ProcessStatus":{"ExitCode":7}})"), 7);
  EXPECT_EQ(process_exit_code(R"({"ExitCode":9})"), 9);
  EXPECT_EQ(process_exit_code(R"({})"), std::nullopt);
  EXPECT_EQ(process_exit_code(R"({"ProcessStatus":{"Exited":false,"ExitCode":0}})"), std::nullopt);
  EXPECT_EQ(process_exit_code(R"({"ProcessId":4,"Exited":true,"ExitCode":3})"), 3);
  EXPECT_EQ(process_exit_code(R"([1])"), std::nullopt);
}

TEST(HcsStats, TranslatesTicksAndWorkingSet) {
  auto s = translate_stats(R"({"Statistics":{"Uptime100ns":50000000,
      "Processor":{"TotalRuntime100ns":12345000,"RuntimeUser100ns":10000000,"RuntimeKernel100ns":2345000},
      "Memory":{"MemoryUsageCommitBytes":400,"MemoryUsageCommitPeakBytes":500,"MemoryUsagePrivateWorkingSetBytes":268435456},
      "Storage":{"ReadSizeBytes":4096,"WriteSizeBytes":8192}}})");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->cpu_usage_usec, 1234500u);
  EXPECT_EQ(s->cpu_user_usec, 1000000u);
  EXPECT_EQ(s->cpu_kernel_usec, 234500u);
  EXPECT_EQ(s->memory_bytes, 268435456u);
  EXPECT_EQ(s->memory_commit_bytes, 400u);
  EXPECT_EQ(s->memory_limit, kUnlimitedMemory);
  EXPECT_EQ(s->read_bytes, 4096u);
  EXPECT_EQ(s->write_bytes, 8192u);
  EXPECT_EQ(s->uptime_usec, 5000000u);
}

TEST(HcsStats, MissingBlocksAreZeroAndLimitIsKept) {
  auto s = translate_stats("{}", 512u * 1024 * 1024);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->cpu_usage_usec, 0u);
  EXPECT_EQ(s->memory_bytes, 0u);
  EXPECT_EQ(s->memory_limit, 512u * 1024 * 1024);
  EXPECT_EQ(translate_stats("nope").error().kind, ErrorKind::invalid_argument);
}

TEST(HcsOwner, ZombiesAreOwnedAndUnknown) {
  auto systems = parse_compute_systems(R"([
    {"Id":"web-0","Owner":"zlayer","SystemType":"Container","State":"Running"},
    {"Id":"web-1","Owner":"zlayer","SystemType":"Container","State":"Running"},
    {"Id":"other","Owner":"docker","SystemType":"Container","State":"Running"},
    {"Id":"","Owner":"zlayer"}, 17])");
  ASSERT_TRUE(systems) << systems.error().message;
  ASSERT_EQ(systems->size(), 4u);
  EXPECT_EQ((*systems)[0].system_type, "Container");
  EXPECT_EQ(zombie_systems(*systems, "zlayer", {"web-0"}), std::vector<std::string>{"web-1"});
  EXPECT_TRUE(parse_compute_systems("null")->empty());
  EXPECT_FALSE(parse_compute_systems(R"({"Id":1})"));
}

}  // namespace
}  // namespace zl::win
