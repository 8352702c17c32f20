// docker's multiplexed attach/logs stream: each chunk behind an 8-byte header
// {stream (1 stdout, 2 stderr), 0, 0, 0, big-endian uint32 length}. With a tty there is no
// framing: the raw bytes go as they are.
#pragma once

#include <string>
#include <string_view>

#include "api/http_server.h"

namespace zl::api::docker {

enum class StreamKind : unsigned char { stdin_stream = 0, stdout_stream = 1, stderr_stream = 2 };

std::string frame(StreamKind kind, std::string_view data);

// Answers 101 (Upgrade: tcp) with the stream's content type (raw with a tty, else multiplexed)
// and takes the connection over, as docker's attach and exec start do; `pending` gets what the
// client sent past its request.
Result<UnixSocket> hijack(Responder& res, bool tty, std::string& pending);

}  // namespace zl::api::docker
