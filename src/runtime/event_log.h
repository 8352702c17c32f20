// What happened to containers and images, as `docker events` reports it: one JSON line per
// event appended to <root>/events.jsonl by whichever process did it (CLI or daemon), and read
// back (replayed from a time, then followed) by the daemon's Docker API.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "common/fs.h"

namespace zl {

struct Event {
  std::string type;    // "container", "image"
  std::string action;  // create, start, die, kill, stop, pause, unpause, rename, destroy; pull, tag, untag, delete, load
  std::string id;      // container id, or image reference / id
  std::map<std::string, std::string> attributes;  // name, image, exitCode, signal, oldName
  int64_t time_unix_nano = 0;                     // set by record() when 0
};

struct EventQuery {
  int64_t since_unix_nano = 0;  // events at or after this time
  std::optional<int64_t> until_unix_nano;  // and before this one
  bool follow = false;  // after the recorded ones, new ones as they come, until `until` or stop()
  std::function<bool()> stop;
};

class EventLog {
 public:
  explicit EventLog(fs::path file) : file_(std::move(file)) {}

  // Appends the event with one O_APPEND write, so that lines from several processes never mix.
  // An event never fails the action it reports: errors are logged. Past 8 MiB the file is
  // rotated to <file>.1 (the one before that is dropped).
  void record(Event e) const;
  // An image event (pull, tag, untag, delete, load) as docker's: the image's id or reference,
  // and its name as an attribute. Recorded where the action happens (CLI and Docker API alike).
  void record_image(const std::string& action, const std::string& id, const std::string& name) const {
    record(Event{.type = "image", .action = action, .id = id, .attributes = {{"name", name}}});
  }
  // Passes the events the query selects, in the order they were recorded, to `sink` (an error
  // from it ends the read and is returned).
  Status read(const EventQuery& q, const std::function<Status(const Event&)>& sink) const;

 private:
  fs::path file_;
};

}  // namespace zl
