#include "runtime/event_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/log.h"

namespace zl {

using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr off_t kRotateBytes = 8 << 20;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<Event> parse_line(const std::string& line) {
  json j = json::parse(line, nullptr, false);
  if (!j.is_object()) return std::nullopt;  // a torn line of a crashed writer
  try {
    return Event{.type = j.at("type").get<std::string>(),
                 .action = j.at("action").get<std::string>(),
                 .id = j.at("id").get<std::string>(),
                 .attributes = j.value("attributes", std::map<std::string, std::string>{}),
                 .time_unix_nano = j.at("time").get<int64_t>()};
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

// Reads one file from `offset` on, passing each whole line; returns the offset after the last
// whole line (a line still being written is left for the next read).
Result<off_t> read_lines(const fs::path& file, off_t offset, const std::function<Status(const std::string&)>& line) {
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd && errno == ENOENT) return offset;
  if (!fd) return errno_error(errno, "open " + file.string());
  if (::lseek(fd.get(), offset, SEEK_SET) < 0) return errno_error(errno, "seek " + file.string());
  std::string pending;
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_error(errno, "read " + file.string());
    if (n == 0) break;
    pending.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      ZL_TRY(line(pending.substr(start, nl - start)));
      offset += static_cast<off_t>(nl + 1 - start);
    }
    pending.erase(0, start);
  }
  return offset;
}

ino_t inode_of(const fs::path& file) {
  struct stat st {};
  return ::stat(file.c_str(), &st) == 0 ? st.st_ino : 0;
}

}  // namespace

void EventLog::record(Event e) const {
  if (e.time_unix_nano == 0) e.time_unix_nano = now_ns();
  json j = {{"type", e.type}, {"action", e.action}, {"id", e.id}, {"attributes", e.attributes}, {"time", e.time_unix_nano}};
  std::string line = j.dump() + "\n";
  struct stat st {};
  if (::stat(file_.c_str(), &st) == 0 && st.st_size > kRotateBytes) {
    fs::path old = file_;
    old += ".1";
    ::rename(file_.c_str(), old.c_str());
  }
  UniqueFd fd(::open(file_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (!fd || !write_all(fd.get(), line, file_.string())) {
    spdlog::warn("cannot record the event {} {} of {}: {}", e.type, e.action, e.id, std::strerror(errno));
  }
}

Status EventLog::read(const EventQuery& q, const std::function<Status(const Event&)>& sink) const {
  bool past_until = false;
  auto pass = [&](const std::string& line) -> Status {
    auto e = parse_line(line);
    if (!e || e->time_unix_nano < q.since_unix_nano) return {};
    if (q.until_unix_nano && e->time_unix_nano >= *q.until_unix_nano) {
      past_until = true;
      return {};
    }
    return sink(*e);
  };
  fs::path old = file_;
  old += ".1";
  if (q.since_unix_nano > 0) ZL_TRY(read_lines(old, 0, pass));
  ino_t inode = inode_of(file_);
  off_t offset = 0;
  if (q.since_unix_nano > 0 || !q.follow) {
    ZL_TRY_ASSIGN(offset, read_lines(file_, 0, pass));
  } else {
    struct stat st {};  // only what comes from now on
    if (::stat(file_.c_str(), &st) == 0) offset = st.st_size;
  }
  while (q.follow && !past_until) {
    if (q.stop && q.stop()) return {};
    if (q.until_unix_nano && now_ns() >= *q.until_unix_nano) return {};
    std::this_thread::sleep_for(100ms);
    if (ino_t now = inode_of(file_); now != inode) {  // rotated: the rest of the old one, then the new
      if (inode != 0) ZL_TRY(read_lines(old, offset, pass));
      inode = now;
      offset = 0;
    }
    ZL_TRY_ASSIGN(offset, read_lines(file_, offset, pass));
  }
  return {};
}

}  // namespace zl
