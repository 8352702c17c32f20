// conmon's side of the contract, as podman speaks it (API version 1): its command line, the JSON
// messages it writes on the _OCI_SYNCPIPE fd ({"data": pid} or {"data": -1, "message": ..}), and
// the framing of its attach socket and ctl fifo.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/linux/conmon_runtime.h"

namespace zl {

// conmon's argv to create container `id` from paths.bundle() with the runtime `cli`.
std::vector<std::string> conmon_argv(const std::string& conmon_path, const OciCli& cli, const std::string& id,
                                     const ContainerPaths& paths, const CreateOptions& opts);

struct SyncMessage {
  int data = 0;         // > 0: the container's pid; < 0: failure
  std::string message;  // the runtime's stderr when it failed
};
Result<SyncMessage> parse_sync_message(std::string_view line);

// The attach socket (SOCK_SEQPACKET, paths.attach_socket()). Each packet conmon sends is one byte
// naming the stream (its stdpipe_t) and up to 8192 bytes of output; with a tty all of it is
// stdout. Each packet it receives is raw input for the container's stdin (conmon reads at most
// 32 KiB a packet and drops the rest); our shutdown(SHUT_WR) closes that stdin. conmon accepts in
// its event loop and sends output only to clients it has accepted; it closes the connection once
// the container has exited and its output is drained.
enum class AttachStream : unsigned char { stdin_stream = 1, stdout_stream = 2, stderr_stream = 3 };
constexpr size_t kAttachOutputPacketMax = 1 + 8192;  // stream byte + conmon's STDIO_BUF_SIZE
constexpr size_t kAttachInputPacketMax = 32768;      // conmon's CONN_SOCK_BUF_SIZE

// The ctl fifo line that resizes the container's pty: "1 <rows> <cols>\n".
std::string resize_message(unsigned short rows, unsigned short cols);

}  // namespace zl
