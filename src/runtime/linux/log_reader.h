// Reads a container's conmon log (k8s-file format: "<RFC3339Nano> stdout|stderr F|P <text>"),
// across the rotated file, with docker's logs options: tail, since, timestamps, follow.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/fs.h"

namespace zl {

struct LogEntry {
  enum class Stream { stdout_stream, stderr_stream };
  Stream stream;
  int64_t time_unix_nano = 0;  // when the (first chunk of the) line was written
  std::string text;            // one full line, with its '\n' (partial P chunks joined); no '\n'
                               // only for a last line the container never ended
};

struct LogQuery {
  std::optional<size_t> tail;              // last N lines
  std::optional<int64_t> since_unix_nano;  // lines written at or after this time
  bool follow = false;                     // keep reading until `stop()` says so
  std::function<bool()> stop;              // polled while following (every 100 ms and on each change), e.g.
                                           // "container exited"; what was written before it said so is read
};

// Calls `sink` for each entry in order; returns when the log is read (or follow stops, or the
// sink returns an error: that error). A missing log is an empty one. Reading first settles a
// pending rotation (see log_rotation.h).
Status read_container_log(const fs::path& log_path, const LogQuery& q,
                          const std::function<Status(const LogEntry&)>& sink);

// One line of a k8s-file log, without its '\n'.
struct K8sLogLine {
  int64_t time_unix_nano = 0;
  LogEntry::Stream stream = LogEntry::Stream::stdout_stream;
  bool partial = false;   // "P": the text continues in the next line of the same stream
  std::string_view text;  // refers into the parsed line
};
std::optional<K8sLogLine> parse_k8s_log_line(std::string_view line);
// "2024-01-02T03:04:05.123456789+01:00" (or Z, fewer fraction digits) -> unix nanoseconds.
std::optional<int64_t> parse_rfc3339_nano(std::string_view s);

}  // namespace zl
