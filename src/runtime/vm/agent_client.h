// The host's end of the channel to a VM's guest agent (guest/protocol.h): a connection to one of
// the VM's virtio-serial unix sockets, one request at a time. qemu takes one client per socket:
// a caller takes a free port (a lock file per port beside it), or waits for one.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/fs.h"

namespace zl::vm {

// Connects to the unix socket `name` in `dir` through /proc/self/fd (a socket's path has 107
// bytes at most; a VM's directory can be longer).
Result<UniqueFd> dial_unix(const fs::path& dir, const std::string& name);
// One command ("stop", "cont") to the VM's qemu through its QMP socket (qmp.sock in `dir`).
Status qmp_command(const fs::path& dir, const std::string& command);

class AgentClient {
 public:
  // Connects to the agent of the VM in `dir` (waits up to `timeout` for the socket and for the
  // agent to answer a ping: the guest may still be booting).
  static Result<AgentClient> connect(const fs::path& dir, std::chrono::milliseconds timeout);

  // One request, its JSON answer (an {"ok":false} answer is an error).
  Result<nlohmann::json> call(const nlohmann::json& request);
  // A request whose answer comes after 'O'/'E' frames (exec): `on_output` gets them.
  Result<nlohmann::json> call_streaming(
      const nlohmann::json& request, const std::function<Status(char type, std::string_view data)>& on_output,
      int stdin_fd = -1, std::optional<std::chrono::milliseconds> timeout = {});

 private:
  AgentClient(UniqueFd lock, UniqueFd fd) : lock_(std::move(lock)), fd_(std::move(fd)) {}
  Status send(char type, std::string_view payload);
  UniqueFd lock_;  // flock of the port's lock file, held while connected
  UniqueFd fd_;
  std::string buf_;
  uint64_t next_id_ = 1;
};

}  // namespace zl::vm
