// The Linux driver against the real runc and conmon: bundles made by hand (busybox rootfs, config
// from `runc spec`), every container with its own id, cgroup and state dir, removed even on failure.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/subprocess.h"
#include "runtime/linux/cgroup_stats.h"
#include "runtime/linux/conmon_runtime.h"
#include "runtime/linux/log_reader.h"
#include "runtime/linux/log_rotation.h"

namespace zl {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kCgroupParent = "/zlayer-test";

std::string missing_prerequisite() {
  if (::geteuid() != 0) return "needs root";
  for (const char* p : {"runc", "conmon"}) {
    if (find_program(p).empty()) return std::string(p) + " is not installed";
  }
  if (::access("/bin/busybox", X_OK) != 0) return "/bin/busybox (busybox-static) is not installed";
  return "";
}

// `runc spec`'s config, once per process.
const json& base_config() {
  static const json config = [] {
    auto dir = TempDir::create(fs::temp_directory_path(), "zl-spec-");
    if (!dir) return json();
    auto r = run_process({"runc", "spec", "--bundle", dir->path().string()});
    if (!r || !r->ok()) return json();
    auto text = read_file(dir->path() / "config.json");
    return text ? json::parse(*text, nullptr, false) : json();
  }();
  return config;
}

// A rootfs with the host's static busybox and its applets, plus a non-executable /noexec.
Status make_rootfs(const fs::path& rootfs) {
  ZL_TRY(make_dirs(rootfs / "bin"));
  ZL_TRY_ASSIGN(auto busybox, read_file("/bin/busybox"));
  ZL_TRY(write_file_atomic(rootfs / "bin" / "busybox", busybox, 0755));
  ZL_TRY_ASSIGN(auto list, run_process({"/bin/busybox", "--list"}));
  std::string_view names = list.out;
  while (!names.empty()) {
    auto nl = names.find('\n');
    std::string name(names.substr(0, nl));
    names = nl == std::string_view::npos ? std::string_view() : names.substr(nl + 1);
    if (!name.empty() && name != "busybox") fs::create_symlink("busybox", rootfs / "bin" / name);
  }
  for (const char* d : {"proc", "dev", "sys", "tmp"}) ZL_TRY(make_dirs(rootfs / d));
  return write_file_atomic(rootfs / "noexec", "#!/bin/sh\necho never\n", 0644);
}

class RuntimeDriverE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = missing_prerequisite(); !why.empty()) GTEST_SKIP() << why;
    ASSERT_FALSE(base_config().is_null()) << "runc spec failed";
    auto dir = TempDir::create(fs::temp_directory_path(), "zl-rt-e2e-");
    ASSERT_TRUE(dir) << dir.error().message;
    tmp_.emplace(std::move(*dir));
    runtime_.emplace(OciRuntime{"runc", find_program("runc"), "test"}, tmp_->path() / "state");
  }
  void TearDown() override {
    containers_.clear();  // removes them (see Ctr)
    (void)remove_cgroup(kCgroupParent);
  }

  // One container of the test; removed (forced) when the test ends, however it ends.
  struct Ctr {
    ConmonRuntime* rt;
    std::string id;
    ContainerPaths paths;
    std::string cgroup;
    Ctr(ConmonRuntime* r, std::string i, ContainerPaths p, std::string c)
        : rt(r), id(std::move(i)), paths(std::move(p)), cgroup(std::move(c)) {}
    Ctr(const Ctr&) = delete;
    ~Ctr() {
      (void)rt->remove(id, paths, true);
      (void)remove_cgroup(cgroup);
    }
  };

  // Makes the bundle for `args` and creates the container (not started).
  Ctr& create(const std::vector<std::string>& args, const std::function<void(json&)>& edit = {},
              CreateOptions opts = {}) {
    static std::atomic<int> n{0};
    std::string id = fmt::format("zlt-{}-{}", ::getpid(), n++);
    ContainerPaths paths{tmp_->path() / "containers" / id};
    std::string cgroup = fmt::format("{}/{}", kCgroupParent, id);
    EXPECT_TRUE(make_rootfs(paths.bundle() / "rootfs"));
    json config = base_config();
    config["process"]["args"] = args;
    config["process"]["terminal"] = false;
    config["linux"]["cgroupsPath"] = cgroup;
    if (edit) edit(config);
    EXPECT_TRUE(write_file_atomic(paths.config(), config.dump(2)));
    containers_.push_back(std::make_unique<Ctr>(&*runtime_, id, paths, cgroup));
    auto created = runtime_->create(id, paths, opts);
    EXPECT_TRUE(created) << created.error().message;
    return *containers_.back();
  }
  Ctr& run(const std::vector<std::string>& args, const std::function<void(json&)>& edit = {},
           CreateOptions opts = {}) {
    Ctr& c = create(args, edit, opts);
    auto started = runtime_->start(c.id, c.paths);
    EXPECT_TRUE(started) << started.error().message;
    return c;
  }
  ExitInfo wait_exit(const Ctr& c, std::chrono::milliseconds timeout = 10s) {
    auto r = runtime_->wait(c.id, c.paths, timeout);
    EXPECT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r && *r) << "container " << c.id << " did not exit in time";
    return r && *r ? **r : ExitInfo{.exit_code = -999};
  }
  std::vector<LogEntry> logs(const Ctr& c, const LogQuery& q = {}) {
    std::vector<LogEntry> out;
    auto s = read_container_log(c.paths.log(), q, [&](const LogEntry& e) -> Status {
      out.push_back(e);
      return {};
    });
    EXPECT_TRUE(s) << s.error().message;
    return out;
  }
  // Waits until the container's log has a line containing `text` (e.g. "a trap is installed").
  bool log_shows(const Ctr& c, const std::string& text, std::chrono::milliseconds timeout = 5s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      for (const auto& e : logs(c))
        if (e.text.find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  // After a removal: no runtime state, cgroup or conmon left; the exit still readable.
  void expect_removed(const Ctr& c, int exit_code) {
    EXPECT_FALSE(fs::exists(tmp_->path() / "state" / c.id));
    for (const auto& d : cgroup_dirs(c.cgroup)) EXPECT_FALSE(fs::exists(d)) << d;
    EXPECT_FALSE(runtime_->monitor_alive(c.paths));
    auto st = runtime_->status(c.id);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().kind, ErrorKind::not_found);
    auto e = runtime_->exit_info(c.id, c.paths);
    ASSERT_TRUE(e && *e);
    EXPECT_EQ((*e)->exit_code, exit_code);
  }
  static std::string freezer_state(const Ctr& c) {
    auto t = read_file(fs::path("/sys/fs/cgroup/freezer") / c.cgroup.substr(1) / "freezer.state");
    if (!t) t = read_file(fs::path("/sys/fs/cgroup") / c.cgroup.substr(1) / "cgroup.freeze");
    std::string s = t ? *t : "?";
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }

  std::optional<TempDir> tmp_;
  std::optional<ConmonRuntime> runtime_;
  std::vector<std::unique_ptr<Ctr>> containers_;
};

const std::vector<std::string> kSleeper = {"sh", "-c", "echo ready; while true; do sleep 0.05; done"};

TEST_F(RuntimeDriverE2E, ExitCodesAreExact) {
  Ctr& ok = run({"true"});
  Ctr& seven = run({"sh", "-c", "exit 7"});
  auto a = wait_exit(ok);
  auto b = wait_exit(seven);
  EXPECT_EQ(a.exit_code, 0);
  EXPECT_EQ(a.reason, ExitInfo::Reason::exited);
  EXPECT_EQ(b.exit_code, 7);
  EXPECT_EQ(b.reason, ExitInfo::Reason::exited);
  EXPECT_GT(b.finished_at_unix_nano, 0);
  auto again = runtime_->exit_info(seven.id, seven.paths);
  ASSERT_TRUE(again && *again);
  EXPECT_EQ((*again)->exit_code, 7);
}

TEST_F(RuntimeDriverE2E, SigkillIs137WithReasonSignal) {
  Ctr& c = run({"sleep", "100"});
  auto none = runtime_->wait(c.id, c.paths, 100ms);
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);  // still running: the timeout passes
  ASSERT_TRUE(runtime_->kill(c.id, SIGKILL));
  auto e = wait_exit(c);
  EXPECT_EQ(e.exit_code, 137);
  EXPECT_EQ(e.reason, ExitInfo::Reason::signal);
  EXPECT_EQ(e.signal, 9);
}

TEST_F(RuntimeDriverE2E, OutOfMemoryIsOomKilled) {
  Ctr& c = run({"sh", "-c", "x=a; while true; do x=$x$x; done"}, [](json& cfg) {
    cfg["linux"]["resources"]["memory"] = {{"limit", 8 << 20}, {"swap", 8 << 20}};
  });
  auto e = wait_exit(c);
  EXPECT_EQ(e.reason, ExitInfo::Reason::oom_killed);
  EXPECT_EQ(e.exit_code, 137);
  EXPECT_TRUE(fs::exists(c.paths.persist_dir() / "oom"));
  // Had conmon missed the OOM notice, the cgroup's own counter (until `delete`) tells.
  ASSERT_TRUE(fs::remove(c.paths.persist_dir() / "oom"));
  auto again = runtime_->exit_info(c.id, c.paths);
  ASSERT_TRUE(again && *again);
  EXPECT_EQ((*again)->reason, ExitInfo::Reason::oom_killed);
  EXPECT_TRUE(fs::exists(c.paths.persist_dir() / "oom"));  // recorded: it survives the cgroup
}

TEST_F(RuntimeDriverE2E, SigtermReachesTheContainersTrap) {
  Ctr& c =
      run({"sh", "-c", "trap 'echo got TERM; exit 3' TERM; echo ready; while true; do sleep 0.05; done"});
  ASSERT_TRUE(log_shows(c, "ready"));
  ASSERT_TRUE(runtime_->kill(c.id, SIGTERM));
  auto e = wait_exit(c);
  EXPECT_EQ(e.exit_code, 3);
  EXPECT_EQ(e.reason, ExitInfo::Reason::exited);
  EXPECT_TRUE(log_shows(c, "got TERM", 1s));
}

TEST_F(RuntimeDriverE2E, PauseFreezesAndResumeThaws) {
  Ctr& c = run(kSleeper);
  ASSERT_TRUE(runtime_->pause(c.id));
  auto st = runtime_->status(c.id);
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->status, "paused");
  EXPECT_GT(st->pid, 0);
  EXPECT_TRUE(freezer_state(c) == "FROZEN" || freezer_state(c) == "1") << freezer_state(c);
  ASSERT_TRUE(runtime_->resume(c.id));
  EXPECT_EQ(runtime_->status(c.id)->status, "running");
  EXPECT_TRUE(freezer_state(c) == "THAWED" || freezer_state(c) == "0") << freezer_state(c);
}

TEST_F(RuntimeDriverE2E, ExecBuffered) {
  Ctr& c = run(kSleeper);
  ExecOptions o;
  o.args = {"sh", "-c", "echo out $FOO; id -u; pwd; echo err >&2; exit 5"};
  o.env = {"FOO=bar"};
  o.user = "1000:1000";
  o.workdir = "/tmp";
  auto r = runtime_->exec(c.id, o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->exit_code, 5);
  EXPECT_EQ(r->out, "out bar\n1000\n/tmp\n");
  EXPECT_EQ(r->err, "err\n");
  ExecOptions tty;
  tty.args = {"sh", "-c", "tty; echo err >&2"};
  tty.tty = true;
  auto t = runtime_->exec(c.id, tty);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->exit_code, 0);
  EXPECT_NE(t->out.find("/dev/pts/"), std::string::npos) << t->out;
  EXPECT_NE(t->out.find("err"), std::string::npos) << t->out;  // a terminal has one stream
}

TEST_F(RuntimeDriverE2E, ExecStreamsEventsAsTheyCome) {
  Ctr& c = run(kSleeper);
  ExecOptions o;
  o.args = {"sh", "-c", "echo one; sleep 0.4; echo two >&2; exit 2"};
  std::vector<ExecEvent> events;
  std::vector<std::chrono::steady_clock::time_point> at;
  auto s = runtime_->exec_stream(c.id, o, [&](const ExecEvent& e) -> Status {
    events.push_back(e);
    at.push_back(std::chrono::steady_clock::now());
    return {};
  });
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].kind, ExecEvent::Kind::stdout_data);
  EXPECT_EQ(events[0].data, "one\n");
  EXPECT_EQ(events[1].kind, ExecEvent::Kind::stderr_data);
  EXPECT_EQ(events[1].data, "two\n");
  EXPECT_EQ(events[2].kind, ExecEvent::Kind::exit);
  EXPECT_EQ(events[2].exit_code, 2);
  EXPECT_GE(at[1] - at[0], 300ms);  // "one" arrived while the process was still running

  // A sink that gives up stops the exec (its process is killed) with the sink's error.
  o.args = {"sh", "-c", "while true; do echo tick; sleep 0.05; done"};
  auto stopped = runtime_->exec_stream(c.id, o, [](const ExecEvent&) -> Status { return io("client left"); });
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().message, "client left");
  ExecOptions ps;
  ps.args = {"ps", "-o", "args"};
  auto left = runtime_->exec(c.id, ps);
  ASSERT_TRUE(left) << left.error().message;
  EXPECT_EQ(left->out.find("echo tick"), std::string::npos) << left->out;  // it was killed
}

TEST_F(RuntimeDriverE2E, ExecStartFailuresAre127And126) {
  Ctr& c = run(kSleeper);
  ExecOptions missing;
  missing.args = {"no-such-program"};
  auto r = runtime_->exec(c.id, missing);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->exit_code, 127);
  EXPECT_NE(r->err.find("executable file not found"), std::string::npos) << r->err;
  ExecOptions noexec;
  noexec.args = {"/noexec"};
  auto n = runtime_->exec(c.id, noexec);
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(n->exit_code, 126);
  EXPECT_NE(n->err.find("permission denied"), std::string::npos) << n->err;
  ExecOptions timeout;
  timeout.args = {"sleep", "10"};
  timeout.timeout = std::chrono::seconds(1);
  auto t = runtime_->exec(c.id, timeout);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().kind, ErrorKind::unavailable);
}

TEST_F(RuntimeDriverE2E, ExecInAStoppedContainerIsAConflict) {
  Ctr& c = run({"true"});
  wait_exit(c);
  ExecOptions o;
  o.args = {"true"};
  auto r = runtime_->exec(c.id, o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::conflict) << r.error().message;
}

TEST_F(RuntimeDriverE2E, ExecInteractiveHasARealPty) {
  Ctr& c = run(kSleeper);
  int in[2], out[2];
  ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  UniqueFd in_r(in[0]), in_w(in[1]), out_r(out[0]), out_w(out[1]);
  ASSERT_TRUE(write_all(in_w.get(), "hello\n", "pty input"));
  in_w.reset();
  ExecOptions o;
  // (runc sizes the container's pty just after the process starts: give it a moment.)
  o.args = {"sh", "-c", "tty; sleep 0.2; stty size; read line; echo got-$line; exit 4"};
  TerminalIo io{.in_fd = in_r.get(), .out_fd = out_w.get(), .rows = 33, .cols = 77};
  auto r = runtime_->exec_interactive(c.id, o, io);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, 4);
  out_w.reset();
  std::string output;
  char buf[4096];
  ssize_t k;
  while ((k = ::read(out_r.get(), buf, sizeof buf)) > 0) output.append(buf, static_cast<size_t>(k));
  EXPECT_NE(output.find("/dev/pts/"), std::string::npos) << output;
  EXPECT_NE(output.find("33 77"), std::string::npos) << output;
  EXPECT_NE(output.find("got-hello"), std::string::npos) << output;
}

TEST_F(RuntimeDriverE2E, TtyContainerRunsOnConmonsPty) {
  CreateOptions opts;
  opts.tty = true;
  Ctr& c = run(
      {"sh", "-c", "tty; echo to-stderr >&2"}, [](json& cfg) { cfg["process"]["terminal"] = true; }, opts);
  EXPECT_EQ(wait_exit(c).exit_code, 0);
  auto all = logs(c);
  std::string text;
  for (const auto& e : all) text += e.text;
  EXPECT_NE(text.find("/dev/pts/0"), std::string::npos) << text;
  EXPECT_NE(text.find("to-stderr"), std::string::npos) << text;  // one stream on a terminal
}

TEST_F(RuntimeDriverE2E, LogsKeepStreamsApartWithTailAndSince) {
  Ctr& c = run({"sh", "-c", "echo first; echo oops >&2; sleep 0.2; echo last; printf partial"});
  wait_exit(c);
  auto all = logs(c);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].text, "first\n");
  EXPECT_EQ(all[0].stream, LogEntry::Stream::stdout_stream);
  auto err = std::find_if(all.begin(), all.end(), [](const LogEntry& e) { return e.text == "oops\n"; });
  ASSERT_NE(err, all.end());
  EXPECT_EQ(err->stream, LogEntry::Stream::stderr_stream);
  EXPECT_EQ(all[2].text, "last\n");
  EXPECT_EQ(all[3].text, "partial");
  EXPECT_GT(all[2].time_unix_nano, all[0].time_unix_nano);
  LogQuery tail;
  tail.tail = 2;
  auto t = logs(c, tail);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].text, "last\n");
  LogQuery since;
  since.since_unix_nano = all[2].time_unix_nano;
  auto s = logs(c, since);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].text, "last\n");
}

TEST_F(RuntimeDriverE2E, FollowEndsWhenTheContainerHasExited) {
  Ctr& c = run({"sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.1; done"});
  LogQuery q;
  q.follow = true;
  q.stop = [&] { return !runtime_->monitor_alive(c.paths); };
  auto got = logs(c, q);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2].text, "line3\n");
}

TEST_F(RuntimeDriverE2E, LogRotationKeepsOneOldFile) {
  CreateOptions opts;
  opts.log_size_max = 4096;
  Ctr& c = run({"sh", "-c", "i=0; while [ $i -lt 120 ]; do i=$((i+1)); echo line-$i-0123456789abcdef; done"},
               {}, opts);
  wait_exit(c);
  ASSERT_TRUE(settle_log_rotation(c.paths.log()));
  EXPECT_LE(fs::file_size(c.paths.log()), 4096u);
  ASSERT_TRUE(fs::exists(previous_log_path(c.paths.log())));
  EXPECT_LE(fs::file_size(previous_log_path(c.paths.log())), 4096u);
  auto all = logs(c);
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.back().text, "line-120-0123456789abcdef\n");
  for (size_t i = 1; i < all.size(); ++i) EXPECT_GE(all[i].time_unix_nano, all[i - 1].time_unix_nano);
}

TEST_F(RuntimeDriverE2E, StatsShowTheMemoryLimit) {
  Ctr& c = run(kSleeper, [](json& cfg) {
    cfg["linux"]["resources"]["memory"] = {{"limit", 64 << 20}};
    cfg["linux"]["resources"]["pids"] = {{"limit", 100}};
  });
  ASSERT_TRUE(log_shows(c, "ready"));
  auto s = runtime_->stats(c.paths);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->memory_limit_bytes, 64u << 20);
  EXPECT_GT(s->memory_usage_bytes, 0u);
  EXPECT_GE(s->pids_current, 1u);
  EXPECT_EQ(s->pids_limit, 100u);
  EXPECT_GT(s->cpu_usage_usec, 0u);
}

TEST_F(RuntimeDriverE2E, ContainerOutlivesItsCreator) {
  // The creator is a forked process that creates and starts the container, then dies hard.
  static std::atomic<int> n{0};
  std::string id = fmt::format("zlt-{}-orphan{}", ::getpid(), n++);
  ContainerPaths paths{tmp_->path() / "containers" / id};
  std::string cgroup = fmt::format("{}/{}", kCgroupParent, id);
  ASSERT_TRUE(make_rootfs(paths.bundle() / "rootfs"));
  json config = base_config();
  config["process"]["args"] = kSleeper;
  config["process"]["terminal"] = false;
  config["linux"]["cgroupsPath"] = cgroup;
  ASSERT_TRUE(write_file_atomic(paths.config(), config.dump(2)));
  containers_.push_back(std::make_unique<Ctr>(&*runtime_, id, paths, cgroup));
  pid_t creator = ::fork();
  ASSERT_GE(creator, 0);
  if (creator == 0) {
    bool ok = runtime_->create(id, paths, {}) && runtime_->start(id, paths);
    ::kill(::getpid(), ok ? SIGKILL : SIGABRT);
    ::_exit(1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(creator, &status, 0), creator);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the creator failed to start the container";
  auto st = runtime_->status(id);
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->status, "running");
  EXPECT_TRUE(runtime_->monitor_alive(paths));
  ASSERT_TRUE(runtime_->kill(id, SIGKILL));
  auto e = wait_exit(*containers_.back());
  EXPECT_EQ(e.exit_code, 137);
}

TEST_F(RuntimeDriverE2E, RemoveLeavesNothingBehind) {
  Ctr& c = run(kSleeper);
  ASSERT_TRUE(log_shows(c, "ready"));
  ASSERT_TRUE(fs::exists(tmp_->path() / "state" / c.id));
  ASSERT_TRUE(runtime_->remove(c.id, c.paths, true));
  expect_removed(c, 137);
  EXPECT_TRUE(runtime_->remove(c.id, c.paths, true));  // again: nothing to do, no error
}

// zlayer starts runc's containers itself (runc_direct.h): runc must see what its own start does.
TEST_F(RuntimeDriverE2E, StartLeavesTheContainerAsRuncStartWould) {
  Ctr& c = create(kSleeper);
  auto before = runtime_->status(c.id);
  ASSERT_TRUE(before) << before.error().message;
  EXPECT_EQ(before->status, "created");
  ASSERT_TRUE(fs::exists(tmp_->path() / "state" / c.id / "exec.fifo"));
  auto started = runtime_->start(c.id, c.paths);
  ASSERT_TRUE(started) << started.error().message;
  EXPECT_FALSE(fs::exists(tmp_->path() / "state" / c.id / "exec.fifo"));
  auto after = runtime_->status(c.id);
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(after->status, "running");
  EXPECT_TRUE(log_shows(c, "ready"));
  auto again = run_process({"runc", "--root", (tmp_->path() / "state").string(), "start", c.id});
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->ok()) << "runc started a running container again";
}

TEST_F(RuntimeDriverE2E, StartOfAContainerWhoseInitDiedIsAnError) {
  Ctr& c = create(kSleeper);
  auto pid = read_file(c.paths.pidfile());
  ASSERT_TRUE(pid);
  ASSERT_EQ(::kill(std::stoi(*pid), SIGKILL), 0);
  wait_exit(c);
  auto started = runtime_->start(c.id, c.paths);
  ASSERT_FALSE(started);
  const auto& m = started.error().message;  // ours while we wait on it, runc's once it is reaped
  EXPECT_TRUE(m.find("already dead") != std::string::npos || m.find("has stopped") != std::string::npos) << m;
}

// An exited container is removed without `runc delete` (runc_direct.h): nothing may be left.
TEST_F(RuntimeDriverE2E, RemovalOfAnExitedContainerLeavesNothingBehind) {
  Ctr& c = run({"sh", "-c", "exit 3"});
  EXPECT_EQ(wait_exit(c).exit_code, 3);
  ASSERT_FALSE(cgroup_dirs(c.cgroup).empty());
  for (const auto& d : cgroup_dirs(c.cgroup)) ASSERT_TRUE(fs::exists(d)) << d;
  ASSERT_TRUE(runtime_->remove(c.id, c.paths, false));
  expect_removed(c, 3);
}

// A cgroup that a few rmdirs cannot remove (here: it has a child) goes through `runc delete`.
TEST_F(RuntimeDriverE2E, RemovalOfABusyCgroupFallsBackToTheRuntime) {
  Ctr& c = run({"true"});
  EXPECT_EQ(wait_exit(c).exit_code, 0);
  auto dirs = cgroup_dirs(c.cgroup);
  ASSERT_FALSE(dirs.empty());
  ASSERT_TRUE(make_dirs(dirs.front() / "child"));
  ASSERT_TRUE(runtime_->remove(c.id, c.paths, false));
  EXPECT_FALSE(fs::exists(tmp_->path() / "state" / c.id));
  for (const auto& d : dirs) EXPECT_FALSE(fs::exists(d)) << d;
}

TEST_F(RuntimeDriverE2E, CreateReportsTheRuntimesError) {
  static std::atomic<int> n{0};
  std::string id = fmt::format("zlt-{}-bad{}", ::getpid(), n++);
  ContainerPaths paths{tmp_->path() / "containers" / id};
  ASSERT_TRUE(make_rootfs(paths.bundle() / "rootfs"));
  json config = base_config();
  config["process"]["args"] = {"/no/such/program"};
  config["process"]["terminal"] = false;
  config["linux"]["cgroupsPath"] = fmt::format("{}/{}", kCgroupParent, id);
  ASSERT_TRUE(write_file_atomic(paths.config(), config.dump(2)));
  containers_.push_back(std::make_unique<Ctr>(&*runtime_, id, paths, config["linux"]["cgroupsPath"]));
  auto r = runtime_->create(id, paths, {});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("no such file or directory"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().kind, ErrorKind::invalid_argument);
}

TEST_F(RuntimeDriverE2E, SelectsARuntimeThatWorksHere) {
  fs::path state = tmp_->path() / "select";
  auto t0 = std::chrono::steady_clock::now();
  auto rt = select_oci_runtime("auto", state);
  auto probe_time = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(rt) << rt.error().message;
  EXPECT_TRUE(fs::exists(state / "oci-runtime.json"));
  bool crun_here = !find_program("crun").empty();
  if (crun_here && !cgroup_v2_unified()) {
    // crun 1.x refuses hybrid cgroup layouts: probing finds out and says so.
    EXPECT_EQ(rt->name, "runc");
    EXPECT_NE(rt->reason.find("crun: cgroups in hybrid mode not supported"), std::string::npos) << rt->reason;
    EXPECT_NE(rt->reason.find("using runc"), std::string::npos) << rt->reason;
    auto forced = select_oci_runtime("crun", state);
    ASSERT_FALSE(forced);
    EXPECT_EQ(forced.error().kind, ErrorKind::unsupported);
    EXPECT_NE(forced.error().message.find("hybrid"), std::string::npos) << forced.error().message;
  }
  // The verdicts are cached: asking again does not probe again.
  auto t1 = std::chrono::steady_clock::now();
  auto again = select_oci_runtime("auto", state);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->name, rt->name);
  EXPECT_EQ(again->reason, rt->reason);
  EXPECT_LT(std::chrono::steady_clock::now() - t1, probe_time);
  EXPECT_TRUE(select_oci_runtime("runc", state));
  EXPECT_FALSE(select_oci_runtime("kata", state));
  // No probe leftovers.
  for (const auto& e : fs::directory_iterator(state))
    EXPECT_EQ(e.path().filename().string().find(".oci-probe-"), std::string::npos) << e.path();
}

}  // namespace
}  // namespace zl
