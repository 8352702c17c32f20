// The k8s-file log reader: parses lines, joins partial chunks per stream, applies since/tail,
// and follows ctr.log across conmon's reopen with inotify.
#include "runtime/linux/log_reader.h"

#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <deque>

#include "runtime/linux/log_rotation.h"

namespace zl {

namespace {

template <class T>
bool parse_num(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// Joins P chunks into lines, per stream, and hands complete entries on.
class LineAssembler {
 public:
  explicit LineAssembler(std::function<Status(LogEntry)> out) : out_(std::move(out)) {}

  Status feed(const K8sLogLine& l) {
    auto& pending = pending_[l.stream == LogEntry::Stream::stdout_stream ? 0 : 1];
    if (!pending) pending = LogEntry{l.stream, l.time_unix_nano, {}};
    pending->text.append(l.text);
    if (l.partial) return {};
    pending->text.push_back('\n');
    LogEntry e = std::move(*pending);
    pending.reset();
    return out_(std::move(e));
  }
  // Hands on the unfinished lines as they are (oldest first).
  Status flush() {
    auto& a = pending_[0];
    auto& b = pending_[1];
    if (a && b && b->time_unix_nano < a->time_unix_nano) std::swap(a, b);
    for (auto* p : {&a, &b}) {
      if (!*p) continue;
      LogEntry e = std::move(**p);
      p->reset();
      ZL_TRY(out_(std::move(e)));
    }
    return {};
  }

 private:
  std::function<Status(LogEntry)> out_;
  std::array<std::optional<LogEntry>, 2> pending_;
};

// Reads complete lines from an fd as they are appended; keeps an incomplete tail for later.
class LineReader {
 public:
  // Feeds every complete line now readable from fd to `line`.
  Status drain(int fd, const std::function<Status(std::string_view)>& line) {
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errno_error(errno, "read container log");
      if (n == 0) return {};
      partial_.append(buf, static_cast<size_t>(n));
      size_t start = 0;
      for (size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1) {
        ZL_TRY(line(std::string_view(partial_).substr(start, nl - start)));
      }
      partial_.erase(0, start);
    }
  }
  // A new file starts: conmon never splits a line across files, so drop any torn tail.
  void reset() { partial_.clear(); }

 private:
  std::string partial_;
};

// since/tail in front of the caller's sink.
class Filter {
 public:
  Filter(const LogQuery& q, const std::function<Status(const LogEntry&)>& sink) : q_(q), sink_(sink) {}
  Status add(LogEntry e) {
    if (q_.since_unix_nano && e.time_unix_nano < *q_.since_unix_nano) return {};
    if (!q_.tail || live_) return sink_(e);
    if (*q_.tail == 0) return {};
    held_.push_back(std::move(e));
    if (held_.size() > *q_.tail) held_.pop_front();
    return {};
  }
  // End of the history: hand the tail on; from now on entries go straight through.
  Status go_live() {
    live_ = true;
    for (auto& e : held_) ZL_TRY(sink_(e));
    held_.clear();
    return {};
  }

 private:
  const LogQuery& q_;
  const std::function<Status(const LogEntry&)>& sink_;
  std::deque<LogEntry> held_;
  bool live_ = false;
};

// inotify on the log's directory: wakes on writes to, and replacement of, the log.
Result<UniqueFd> watch_dir(const fs::path& dir) {
  UniqueFd fd(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!fd) return errno_error(errno, "inotify_init1");
  if (::inotify_add_watch(fd.get(), dir.c_str(), IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE) < 0)
    return errno_error(errno, fmt::format("watch {}", dir.string()));
  return fd;
}

void wait_for_change(int inotify_fd, int timeout_ms) {
  pollfd p{inotify_fd, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) > 0) {
    char buf[4096];
    while (::read(inotify_fd, buf, sizeof buf) > 0) {
    }
  }
}

bool replaced(const fs::path& log, const LogFile& cur) {
  struct stat st {};
  if (::stat(log.c_str(), &st) != 0) return false;
  return st.st_dev != cur.dev || st.st_ino != cur.ino;
}

Status follow(const fs::path& log_path, LogFile cur, const LogQuery& q, LineReader& reader,
              const std::function<Status(std::string_view)>& on_line, LineAssembler& lines) {
  ZL_TRY_ASSIGN(UniqueFd inotify, watch_dir(log_path.parent_path()));
  for (;;) {
    bool stopping = q.stop && q.stop();
    ZL_TRY(reader.drain(cur.fd.get(), on_line));
    if (replaced(log_path, cur)) {  // conmon reopened: finish the old file, go on in the new
      ZL_TRY(reader.drain(cur.fd.get(), on_line));
      (void)settle_log_rotation(log_path);
      auto gens = open_log_generations(log_path);
      if (!gens.empty() && gens.back().path == log_path) {
        cur = std::move(gens.back());
        reader.reset();
        continue;
      }
    }
    if (stopping) return lines.flush();
    wait_for_change(inotify.get(), 100);
  }
}

}  // namespace

std::optional<int64_t> parse_rfc3339_nano(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
      s[16] != ':')
    return std::nullopt;
  int64_t y = 0;
  unsigned mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!parse_num(s.substr(0, 4), y) || !parse_num(s.substr(5, 2), mo) || !parse_num(s.substr(8, 2), d) ||
      !parse_num(s.substr(11, 2), h) || !parse_num(s.substr(14, 2), mi) || !parse_num(s.substr(17, 2), sec))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  auto rest = s.substr(19);
  int64_t nanos = 0;
  if (!rest.empty() && rest[0] == '.') {
    size_t n = 1;
    while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') ++n;
    auto digits = rest.substr(1, n - 1);
    if (digits.empty() || digits.size() > 9) return std::nullopt;
    for (size_t i = 0; i < 9; ++i) nanos = nanos * 10 + (i < digits.size() ? digits[i] - '0' : 0);
    rest.remove_prefix(n);
  }
  int64_t offset_s = 0;
  if (rest == "Z" || rest == "z") {
    offset_s = 0;
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    unsigned oh = 0, om = 0;
    if (!parse_num(rest.substr(1, 2), oh) || !parse_num(rest.substr(4, 2), om)) return std::nullopt;
    offset_s = (rest[0] == '-' ? -1 : 1) * static_cast<int64_t>(oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_s;
  return secs * 1000000000 + nanos;
}

std::optional<K8sLogLine> parse_k8s_log_line(std::string_view line) {
  auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return std::nullopt;
  auto ts = parse_rfc3339_nano(line.substr(0, sp1));
  if (!ts) return std::nullopt;
  auto rest = line.substr(sp1 + 1);
  K8sLogLine l;
  l.time_unix_nano = *ts;
  if (rest.substr(0, 7) == "stdout ") {
    l.stream = LogEntry::Stream::stdout_stream;
  } else if (rest.substr(0, 7) == "stderr ") {
    l.stream = LogEntry::Stream::stderr_stream;
  } else {
    return std::nullopt;
  }
  rest.remove_prefix(7);
  if (rest.size() < 1 || (rest[0] != 'F' && rest[0] != 'P')) return std::nullopt;
  l.partial = rest[0] == 'P';
  if (rest.size() > 1 && rest[1] != ' ') return std::nullopt;
  l.text = rest.size() > 2 ? rest.substr(2) : std::string_view();
  return l;
}

Status read_container_log(const fs::path& log_path, const LogQuery& q,
                          const std::function<Status(const LogEntry&)>& sink) {
  (void)settle_log_rotation(log_path);  // best effort: a reader without write access still reads
  Filter filter(q, sink);
  LineAssembler lines([&](LogEntry e) { return filter.add(std::move(e)); });
  auto on_line = [&](std::string_view raw) -> Status {
    auto l = parse_k8s_log_line(raw);
    return l ? lines.feed(*l) : Status{};
  };
  LineReader reader;
  auto gens = open_log_generations(log_path);
  for (auto& g : gens) {
    reader.reset();
    ZL_TRY(reader.drain(g.fd.get(), on_line));
  }
  if (!q.follow || gens.empty()) {
    ZL_TRY(lines.flush());
    return filter.go_live();
  }
  ZL_TRY(filter.go_live());
  return follow(log_path, std::move(gens.back()), q, reader, on_line, lines);
}

}  // namespace zl
