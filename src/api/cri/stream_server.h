// The CRI streaming server: Exec and Attach answer with a one-time URL on it (a TCP port on
// 127.0.0.1 by default, like containerd's); the client (kubelet, crictl) opens that URL as a
// WebSocket speaking Kubernetes' remotecommand protocol, v5.channel.k8s.io or v4.channel.k8s.io:
// binary frames whose first byte is the stream (0 stdin, 1 stdout, 2 stderr, 3 the exit status as
// a JSON Status, 4 terminal size as JSON; in v5, [255, n] closes stream n). SPDY is not spoken
// (crictl --transport websocket; the kubelet proxies what its client chose). Its own Asio thread,
// plus one thread per running stream for the blocking runtime call.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/linux/linux_runtime.h"

namespace zl::api::cri {

struct StreamRequest {
  enum class Kind { exec, attach };
  Kind kind = Kind::exec;
  std::string container_id;
  std::vector<std::string> cmd;  // exec
  bool tty = false, in = false, out = true, err = true;
};

class StreamServer {
 public:
  // `address` "127.0.0.1:0" (any free port) or "IP:PORT".
  static Result<std::unique_ptr<StreamServer>> start(LinuxRuntime& rt, const std::string& address);
  ~StreamServer();
  void shutdown();
  // The URL that serves `req` once, within a minute.
  std::string url_for(StreamRequest req);

  struct Core;

 private:
  explicit StreamServer(std::shared_ptr<Core> core);
  std::shared_ptr<Core> core_;
};

// The JSON Status of the error stream for an exit code (0: Success, else NonZeroExitCode).
std::string exit_status_json(int exit_code);

}  // namespace zl::api::cri
