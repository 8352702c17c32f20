// RAII over HCS handles: an operation, a compute system (with its exit observed through the
// SystemExited / ServiceDisconnect events), and a process inside it (stdout and stderr pipes
// read as they come). Every call goes through hcs_api(), so on a host without HCS each one
// returns the "HCS is not available on this host" error. Windows only.
#pragma once

#include <windows.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/windows/hcs_api.h"
#include "runtime/windows/portable/hcs_results.h"
#include "runtime/windows/win_util.h"

namespace zl::win {

// One HCS operation: created per call, waited on, closed on destruction.
class HcsOperation {
 public:
  static Result<HcsOperation> create(const HcsApi& api);
  HcsOperation(HcsOperation&& o) noexcept : api_(o.api_), op_(o.op_) { o.op_ = nullptr; }
  HcsOperation& operator=(HcsOperation&&) = delete;
  ~HcsOperation();
  HCS_OPERATION get() const { return op_; }
  // Waits for the result document; a failed HRESULT becomes an error naming `what` and HCS's
  // own error document.
  Result<std::string> wait(std::string_view what, DWORD timeout_ms = INFINITE);

 private:
  HcsOperation(const HcsApi& api, HCS_OPERATION op) : api_(&api), op_(op) {}
  const HcsApi* api_;
  HCS_OPERATION op_;
};

// Exit state shared with the HCS event callback (which runs on an HCS thread).
struct ExitWatch {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<HcsExit> exit;
  void record(const HcsExit& e);
};

class ComputeSystem {
 public:
  // HcsCreateComputeSystem with `document` (see hcs_document.h), then subscribes to its events
  // before anything can exit unseen.
  static Result<ComputeSystem> create(const std::string& id, const std::string& document);
  static Result<ComputeSystem> open(const std::string& id);
  // The systems zlayer owns (HcsEnumerateComputeSystems with the owner query), as JSON.
  static Result<std::string> enumerate_owned();

  ComputeSystem(ComputeSystem&&) noexcept;
  ComputeSystem& operator=(ComputeSystem&&) = delete;
  ~ComputeSystem();  // closes the handle: HCS terminates the system (ShouldTerminateOnLastHandleClosed)

  const std::string& id() const { return id_; }
  Status start();
  // Graceful shutdown with {"TimeoutSeconds"}; if it fails or the system is still up after the
  // timeout, terminate.
  Status shutdown(std::chrono::seconds timeout);
  Status terminate();
  Result<std::string> properties(std::string_view query);
  // The exit once it happened; waits up to `timeout` (forever when nullopt).
  std::optional<HcsExit> wait(std::optional<std::chrono::milliseconds> timeout);
  HCS_SYSTEM handle() const { return system_; }

 private:
  ComputeSystem(const HcsApi& api, std::string id, HCS_SYSTEM h);
  Status subscribe();
  const HcsApi* api_;
  std::string id_;
  HCS_SYSTEM system_;
  std::unique_ptr<ExitWatch> watch_;  // stable address for the callback context
};

struct ProcessOutput {
  std::function<void(std::string_view)> on_stdout, on_stderr;
};

// HcsCreateProcess in `system` with `parameters_json` (see process_parameters), streams stdout
// and stderr to `out` while it runs, and returns its exit code.
Result<int> run_process(ComputeSystem& system, const std::string& parameters_json, const ProcessOutput& out);

}  // namespace zl::win
