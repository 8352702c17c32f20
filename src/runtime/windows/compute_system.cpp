#include "runtime/windows/compute_system.h"

#include <thread>

#include "runtime/windows/portable/hcs_document.h"

namespace zl::win {

Result<HcsOperation> HcsOperation::create(const HcsApi& api) {
  HCS_OPERATION op = api.HcsCreateOperation(nullptr, nullptr);
  if (!op) return internal("HcsCreateOperation failed");
  return HcsOperation(api, op);
}

HcsOperation::~HcsOperation() {
  if (op_) api_->HcsCloseOperation(op_);
}

Result<std::string> HcsOperation::wait(std::string_view what, DWORD timeout_ms) {
  PWSTR doc = nullptr;
  HRESULT hr = api_->HcsWaitForOperationResult(op_, timeout_ms, &doc);
  std::string result = take_hcs_string(doc);
  if (FAILED(hr)) {
    Error e = hresult_error(hr, what);
    if (!result.empty()) e.message += "; HCS says: " + result;
    return tl::unexpected(std::move(e));
  }
  return result;
}

void ExitWatch::record(const HcsExit& e) {
  {
    std::lock_guard lock(mu);
    if (!exit) exit = e;
  }
  cv.notify_all();
}

namespace {

void CALLBACK on_system_event(HCS_EVENT* event, void* context) {
  if (!event || !context) return;
  auto kind = static_cast<HcsEventKind>(static_cast<uint32_t>(event->Type));
  std::string payload = event->EventData ? narrow(event->EventData) : std::string();
  if (auto e = exit_from_event(kind, payload)) static_cast<ExitWatch*>(context)->record(*e);
}

}  // namespace

ComputeSystem::ComputeSystem(const HcsApi& api, std::string id, HCS_SYSTEM h)
    : api_(&api), id_(std::move(id)), system_(h), watch_(std::make_unique<ExitWatch>()) {}

ComputeSystem::ComputeSystem(ComputeSystem&& o) noexcept
    : api_(o.api_), id_(std::move(o.id_)), system_(o.system_), watch_(std::move(o.watch_)) {
  o.system_ = nullptr;
}

ComputeSystem::~ComputeSystem() {
  if (system_) api_->HcsCloseComputeSystem(system_);
}

Status ComputeSystem::subscribe() {
  HRESULT hr = api_->HcsSetComputeSystemCallback(system_, HcsEventOptionNone, watch_.get(), on_system_event);
  if (FAILED(hr)) return tl::unexpected(hresult_error(hr, "watch compute system " + id_));
  return {};
}

Result<ComputeSystem> ComputeSystem::create(const std::string& id, const std::string& document) {
  ZL_TRY_ASSIGN(const HcsApi* api, hcs_api());
  ZL_TRY_ASSIGN(auto op, HcsOperation::create(*api));
  HCS_SYSTEM h = nullptr;
  HRESULT hr = api->HcsCreateComputeSystem(widen(id).c_str(), widen(document).c_str(), op.get(), nullptr, &h);
  if (FAILED(hr)) return tl::unexpected(hresult_error(hr, "create compute system " + id));
  ComputeSystem sys(*api, id, h);
  ZL_TRY(op.wait("create compute system " + id));
  ZL_TRY(sys.subscribe());
  return sys;
}

Result<ComputeSystem> ComputeSystem::open(const std::string& id) {
  ZL_TRY_ASSIGN(const HcsApi* api, hcs_api());
  HCS_SYSTEM h = nullptr;
  HRESULT hr = api->HcsOpenComputeSystem(widen(id).c_str(), GENERIC_ALL, &h);
  if (FAILED(hr)) return tl::unexpected(hresult_error(hr, "open compute system " + id));
  ComputeSystem sys(*api, id, h);
  ZL_TRY(sys.subscribe());
  return sys;
}

Result<std::string> ComputeSystem::enumerate_owned() {
  ZL_TRY_ASSIGN(const HcsApi* api, hcs_api());
  ZL_TRY_ASSIGN(auto op, HcsOperation::create(*api));
  HRESULT hr = api->HcsEnumerateComputeSystems(widen(owner_query().dump()).c_str(), op.get());
  if (FAILED(hr)) return tl::unexpected(hresult_error(hr, "list compute systems"));
  return op.wait("list compute systems");
}

Status ComputeSystem::start() {
  ZL_TRY_ASSIGN(auto op, HcsOperation::create(*api_));
  HRESULT hr = api_->HcsStartComputeSystem(system_, op.get(), nullptr);
  if (FAILED(hr)) return tl::unexpected(hresult_error(hr, "start compute system " + id_));
  ZL_TRY(op.wait("start compute system " + id_));
  return {};
}

Status ComputeSystem::terminate() {
  ZL_TRY_ASSIGN(auto op, HcsOperation::create(*api_));
  HRESULT hr = api_->HcsTerminateComputeSystem(system_, op.get(), nullptr);
  if (FAILED(hr)) return tl::unexpected(hresult_error(hr, "terminate compute system " + id_));
  ZL_TRY(op.wait("terminate compute system " + id_));
  return {};
}

Status ComputeSystem::shutdown(std::chrono::seconds timeout) {
  auto graceful = [&]() -> Status {
    ZL_TRY_ASSIGN(auto op, HcsOperation::create(*api_));
    std::wstring options = widen(shutdown_options(timeout.count()).dump());
    HRESULT hr = api_->HcsShutDownComputeSystem(system_, op.get(), options.c_str());
    if (FAILED(hr)) return tl::unexpected(hresult_error(hr, "shut down compute system " + id_));
    ZL_TRY(op.wait("shut down compute system " + id_, static_cast<DWORD>(timeout.count() * 1000 + 5000)));
    return {};
  };
  if (graceful() && wait(std::chrono::milliseconds(timeout) + std::chrono::seconds(1))) return {};
  return terminate();  // escalation: shutdown failed, timed out, or left the system up
}

Result<std::string> ComputeSystem::properties(std::string_view query) {
  ZL_TRY_ASSIGN(auto op, HcsOperation::create(*api_));
  HRESULT hr = api_->HcsGetComputeSystemProperties(system_, op.get(), widen(query).c_str());
  if (FAILED(hr)) return tl::unexpected(hresult_error(hr, "read properties of " + id_));
  return op.wait("read properties of " + id_);
}

std::optional<HcsExit> ComputeSystem::wait(std::optional<std::chrono::milliseconds> timeout) {
  std::unique_lock lock(watch_->mu);
  auto done = [&] { return watch_->exit.has_value(); };
  if (timeout)
    watch_->cv.wait_for(lock, *timeout, done);
  else
    watch_->cv.wait(lock, done);
  return watch_->exit;
}

namespace {

// Copies a pipe to `sink` until it closes.
void pump(HANDLE pipe, const std::function<void(std::string_view)>& sink) {
  char buf[4096];
  DWORD n = 0;
  while (ReadFile(pipe, buf, sizeof buf, &n, nullptr) && n > 0)
    if (sink) sink(std::string_view(buf, n));
}

}  // namespace

Result<int> run_process(ComputeSystem& system, const std::string& parameters_json, const ProcessOutput& out) {
  ZL_TRY_ASSIGN(const HcsApi* api, hcs_api());
  ZL_TRY_ASSIGN(auto op, HcsOperation::create(*api));
  HCS_PROCESS process = nullptr;
  HRESULT hr =
      api->HcsCreateProcess(system.handle(), widen(parameters_json).c_str(), op.get(), nullptr, &process);
  if (FAILED(hr)) return tl::unexpected(hresult_error(hr, "create process in " + system.id()));
  struct Closer {
    const HcsApi* api;
    HCS_PROCESS p;
    ~Closer() { api->HcsCloseProcess(p); }
  } closer{api, process};
  HCS_PROCESS_INFORMATION info{};
  PWSTR doc = nullptr;
  hr = api->HcsWaitForOperationResultAndProcessInfo(op.get(), INFINITE, &info, &doc);
  std::string result = take_hcs_string(doc);
  if (FAILED(hr)) {
    Error e = hresult_error(hr, "create process in " + system.id());
    if (!result.empty()) e.message += "; HCS says: " + result;
    return tl::unexpected(std::move(e));
  }
  UniqueHandle in(info.StdInput), stdout_pipe(info.StdOutput), stderr_pipe(info.StdError);
  in.reset();  // no stdin: the process sees end of input
  std::thread err_thread([&] { pump(stderr_pipe.get(), out.on_stderr); });
  pump(stdout_pipe.get(), out.on_stdout);
  err_thread.join();
  std::string exit_json;
  if (api->HcsWaitForProcessExit) {
    PWSTR exit_doc = nullptr;
    hr = api->HcsWaitForProcessExit(process, INFINITE, &exit_doc);
    exit_json = take_hcs_string(exit_doc);
    if (FAILED(hr)) return tl::unexpected(hresult_error(hr, "wait for process in " + system.id()));
    if (auto code = process_exit_code(exit_json)) return *code;
  } else {
    // Before Windows Server 2022: its output has ended, so ask until ProcessStatus says exited.
    for (int i = 0; i < 600; ++i) {
      ZL_TRY_ASSIGN(auto props_op, HcsOperation::create(*api));
      hr = api->HcsGetProcessProperties(process, props_op.get(), LR"({"PropertyTypes":["ProcessStatus"]})");
      if (FAILED(hr)) return tl::unexpected(hresult_error(hr, "read process status in " + system.id()));
      ZL_TRY_ASSIGN(exit_json, props_op.wait("read process status in " + system.id()));
      if (auto code = process_exit_code(exit_json)) return *code;
      Sleep(100);
    }
  }
  return internal("process in {} exited without an exit code: {}", system.id(), exit_json);
}

}  // namespace zl::win
