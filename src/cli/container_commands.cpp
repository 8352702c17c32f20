// Container commands: run, create, start, ps, logs, exec, stop, kill, restart, rm, inspect,
// stats, wait, pause, unpause — docker's CLI where it can be.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "cli/container_flags.h"
#include "cli/daemon_client.h"
#include "cli/format.h"
#include "common/time_format.h"
#include "image/puller.h"
#include "image/reference.h"
#include "net/port_spec.h"
#include "runtime/container_json.h"

namespace zl::cli {

namespace {

using json = nlohmann::json;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ago_ns(int64_t t) {
  return time_ago(t / 1000000000);
}

// Makes sure the image is in the store (pulling by policy) and returns its normalized name.
Result<std::string> ensure_image(Context& ctx, const std::string& typed, const std::string& policy_text) {
  ZL_TRY_ASSIGN(ImageStore * store, ctx.store());
  std::string name = ctx.store_name(*store, typed);
  if (store->resolve(name)) {
    if (policy_text == "if_not_present" || policy_text == "missing" || policy_text == "never") return name;
  }
  ZL_TRY_ASSIGN(auto ref, Reference::parse(typed));
  ZL_TRY_ASSIGN(auto policy, parse_pull_policy(policy_text));
  Puller puller(*store, ctx.registry_options());
  if (stderr_is_terminal() && policy != PullPolicy::never) std::cerr << "Pulling " << ref.familiar() << "\n";
  ZL_TRY_ASSIGN(auto rec, puller.pull(ref, PullOptions{.policy = policy}));
  return rec.reference;
}

Result<ContainerInfo> create(Context& ctx, const ContainerFlags& f, bool auto_remove = false) {
  ZL_TRY_ASSIGN(ContainerSpec spec, to_container_spec(f));
  spec.auto_remove = auto_remove;
  ZL_TRY_ASSIGN(spec.image, ensure_image(ctx, f.image, f.pull));
  ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
  return rt->create_container(spec);
}

// Copies the container's log to our stdout/stderr as it grows, until the container exits.
Status follow_output(LinuxRuntime& rt, const std::string& id) {
  LogQuery q{.follow = true};
  return rt.container_logs(id, q, [](const LogEntry& e) -> Status {
    auto& os = e.stream == LogEntry::Stream::stderr_stream ? std::cerr : std::cout;
    os << e.text << std::flush;
    return {};
  });
}

// While alive, SIGINT and SIGTERM sent to us go to the container (a thread waits for them).
class SignalForwarder {
 public:
  SignalForwarder(LinuxRuntime& rt, const std::string& id) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR2);  // our own wake-up when the container is done
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    thread_ = std::thread([&rt, id, set] {
      int sig = 0;
      while (sigwait(&set, &sig) == 0) {
        if (sig == SIGUSR2) return;
        (void)rt.kill_container(id, std::to_string(sig));
      }
    });
  }
  SignalForwarder(const SignalForwarder&) = delete;
  SignalForwarder& operator=(const SignalForwarder&) = delete;
  ~SignalForwarder() {
    pthread_kill(thread_.native_handle(), SIGUSR2);
    thread_.join();
  }

 private:
  std::thread thread_;
};

// The container's exit as ours (125 when it has none), after removing it with --rm.
Result<int> exit_code(LinuxRuntime& rt, const ContainerInfo& c, const std::optional<ExitInfo>& exit,
                      bool remove) {
  int code = exit ? exit->exit_code : -1;
  if (exit && exit->reason == ExitInfo::Reason::runtime_error)
    std::cerr << "zlayer: container " << c.name << ": " << exit->message << "\n";
  if (remove) ZL_TRY(rt.remove_container(c.id, true));
  return code < 0 ? 125 : code;
}

// `start -a`: the container's log (earlier runs included), then its output as it comes.
Result<int> run_foreground(LinuxRuntime& rt, const ContainerInfo& c, bool remove) {
  ZL_TRY(rt.start_container(c.id));
  auto forward = std::make_optional<SignalForwarder>(rt, c.id);
  Status followed = follow_output(rt, c.id);
  auto exit = rt.wait_container(c.id);
  forward.reset();
  ZL_TRY(followed);
  ZL_TRY(exit);
  return exit_code(rt, c, *exit, remove);
}

// `run`, `start -ai`: our stdio wired to the container's (through its pty with -t; our input only
// with -i), connected before it starts so none of its output is missed.
Result<int> run_attached(LinuxRuntime& rt, const ContainerInfo& c, bool remove) {
  auto forward = std::make_optional<SignalForwarder>(rt, c.id);
  Status attached = rt.attach_container(c.id, AttachIo{}, /*start=*/true);
  forward.reset();
  if (!attached) {
    if (remove) (void)rt.remove_container(c.id, true);
    return tl::unexpected(attached.error());
  }
  ZL_TRY_ASSIGN(auto exit, rt.wait_container(c.id));
  return exit_code(rt, c, exit, remove);
}

Result<int> run(Context& ctx, const ContainerFlags& f, bool detach, bool remove) {
  ZL_TRY_ASSIGN(auto c, create(ctx, f, remove));
  ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
  if (detach) {
    auto started = rt->start_container(c.id);
    if (!started) {
      if (remove) (void)rt->remove_container(c.id, true);
      return tl::unexpected(started.error());
    }
    std::cout << c.id << "\n";
    if (remove) {
      // --rm with -d: a detached helper removes the container when it exits.
      pid_t pid = ::fork();
      if (pid == 0) {
        ::setsid();
        int devnull = ::open("/dev/null", O_RDWR);
        for (int fd = 0; fd <= 2; ++fd) ::dup2(devnull, fd);
        (void)rt->wait_container(c.id);
        (void)rt->remove_container(c.id, true);
        ::_exit(0);
      }
    }
    return 0;
  }
  // Attached like docker, rather than following the log: the output comes as it is written, and
  // there is nothing to watch (a log watch costs ~15 ms to tear down) or re-read.
  return run_attached(*rt, c, remove);
}

// Runs `action` for each named container, printing the name on success like docker.
Result<int> for_each(const std::vector<std::string>& refs,
                     const std::function<Status(const std::string&)>& action) {
  int failures = 0;
  for (const auto& r : refs) {
    if (auto st = action(r); !st) {
      std::cerr << "zlayer: " << st.error().message << "\n";
      ++failures;
    } else {
      std::cout << r << "\n";
    }
  }
  return failures ? 1 : 0;
}

struct StartArgs {
  std::vector<std::string> containers;
  bool attach = false, interactive = false;
};

struct RmArgs {
  std::vector<std::string> containers;
  bool force = false, volumes = false;
};

struct PsArgs {
  bool all = false, quiet = false, no_trunc = false;
  std::string format;
};

std::string ports_column(const ContainerInfo& c) {
  std::string out;
  if (!c.network) return out;
  for (const auto& p : c.network->ports) out += (out.empty() ? "" : ", ") + net::format_port_mapping(p);
  return out;
}

Result<int> ps(Context& ctx, const PsArgs& a) {
  ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
  ZL_TRY_ASSIGN(auto list, rt->list_containers());
  std::erase_if(list, [&](const ContainerInfo& c) {
    return !a.all && c.status != ContainerStatus::running && c.status != ContainerStatus::paused;
  });
  auto short_id = [&](const std::string& id) { return a.no_trunc ? id : id.substr(0, 12); };
  if (a.quiet) {
    for (const auto& c : list) std::cout << short_id(c.id) << "\n";
    return 0;
  }
  if (a.format == "json") {
    json out = json::array();
    for (const auto& c : list)
      out.push_back({{"Id", c.id},
                     {"Name", c.name},
                     {"Image", c.image},
                     {"Command", c.command},
                     {"State", to_string(c.status)},
                     {"Status", status_text(c, now_ns())},
                     {"Created", c.created_at / 1000000000},
                     {"Pid", c.pid},
                     {"ExitCode", c.exit ? c.exit->exit_code : 0}});
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (!a.format.empty())
    return invalid_argument("unknown --format \"{}\": only \"json\" is supported", a.format);
  Table t({"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"});
  for (const auto& c : list) {
    std::string cmd;
    for (const auto& part : c.command) cmd += (cmd.empty() ? "" : " ") + part;
    if (!a.no_trunc && cmd.size() > 20) cmd = cmd.substr(0, 19) + "…";
    auto ref = Reference::parse(c.image);
    t.add({short_id(c.id), ref ? ref->familiar() : c.image, "\"" + cmd + "\"", ago_ns(c.created_at),
           status_text(c, now_ns()), ports_column(c), c.name});
  }
  std::cout << t.str();
  return 0;
}

json inspect_json(const ContainerInfo& c, const VolumeStore& volumes) {
  json state = {{"Status", to_string(c.status)},
                {"Running", c.status == ContainerStatus::running || c.status == ContainerStatus::paused},
                {"Paused", c.status == ContainerStatus::paused},
                {"OOMKilled", c.exit && c.exit->reason == ExitInfo::Reason::oom_killed},
                {"Pid", c.pid},
                {"ExitCode", c.exit ? c.exit->exit_code : 0},
                {"Error", c.exit ? c.exit->message : ""},
                {"StartedAt", rfc3339_nano(c.started_at)},
                {"FinishedAt", rfc3339_nano(c.finished_at)}};
  if (c.exit) state["Exit"] = to_json(*c.exit);
  if (c.health) state["Health"] = docker_health_json(*c.health);
  json mounts = json::array();
  for (const auto& m : c.spec.mounts) {
    if (m.type == Mount::Type::volume) {  // docker's form: the name, and where it is on the host
      mounts.push_back({{"Type", "volume"},
                        {"Name", m.source},
                        {"Source", volumes.data_dir(m.source).string()},
                        {"Destination", m.target},
                        {"Driver", "local"},
                        {"RW", !m.read_only}});
      continue;
    }
    mounts.push_back({{"Type", m.type == Mount::Type::bind ? "bind" : "tmpfs"},
                      {"Source", m.source},
                      {"Destination", m.target},
                      {"RW", !m.read_only}});
  }
  return {
      {"Id", c.id},
      {"Name", c.name},
      {"Created", rfc3339_nano(c.created_at)},
      {"Path", c.command.empty() ? "" : c.command[0]},
      {"Args", c.command.size() > 1 ? json(std::vector<std::string>(c.command.begin() + 1, c.command.end()))
                                    : json::array()},
      {"State", state},
      {"Image", c.image_id},
      {"ImageName", c.image},
      {"Config", to_json(c.spec)},
      {"Mounts", mounts},
      {"NetworkSettings", docker_network_settings(c)},
      {"GraphDriver", {{"Name", "overlay"}, {"Data", {{"MergedDir", c.rootfs.string()}}}}},
      {"CgroupsPath", c.cgroups_path},
      {"OciRuntime", c.oci_runtime}};
}

Result<int> inspect(Context& ctx, const std::vector<std::string>& refs) {
  ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
  json out = json::array();
  int failures = 0;
  for (const auto& r : refs) {
    auto c = rt->inspect_container(r);
    if (!c) {
      std::cerr << "zlayer: " << c.error().message << "\n";
      ++failures;
      continue;
    }
    out.push_back(inspect_json(*c, rt->volumes()));
  }
  std::cout << out.dump(4) << "\n";
  return failures ? 1 : 0;
}

struct LogsArgs {
  std::string container, since;
  bool follow = false, timestamps = false;
  std::string tail = "all";
};

Result<int64_t> parse_since(const std::string& s) {
  if (s.empty()) return 0;
  // "10s", "5m", "2h" ago, or unix seconds.
  char unit = s.back();
  if (unit == 's' || unit == 'm' || unit == 'h') {
    try {
      int64_t n = std::stoll(s.substr(0, s.size() - 1));
      int64_t mult = unit == 's' ? 1 : unit == 'm' ? 60 : 3600;
      return now_ns() - n * mult * 1000000000;
    } catch (...) {
    }
  }
  try {
    size_t pos = 0;
    double secs = std::stod(s, &pos);
    if (pos == s.size()) return static_cast<int64_t>(secs * 1e9);
  } catch (...) {
  }
  return invalid_argument("invalid --since \"{}\": use a duration like 10m or unix seconds", s);
}

Result<int> logs(Context& ctx, const LogsArgs& a) {
  ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
  LogQuery q{.follow = a.follow};
  if (a.tail != "all") {
    try {
      q.tail = std::stoul(a.tail);
    } catch (...) {
      return invalid_argument("invalid --tail \"{}\": a number of lines or \"all\"", a.tail);
    }
  }
  if (!a.since.empty()) {
    ZL_TRY_ASSIGN(q.since_unix_nano, parse_since(a.since));
  }
  if (auto found = rt->containers().resolve(a.container);
      !found && found.error().kind == ErrorKind::not_found &&
      (!ctx.daemon.host.empty() || fs::exists(daemon_socket_path(ctx.root))))
    return service_logs(ctx, a.container, a.follow, a.timestamps, q.tail);
  ZL_TRY(rt->container_logs(a.container, q, [&](const LogEntry& e) -> Status {
    auto& os = e.stream == LogEntry::Stream::stderr_stream ? std::cerr : std::cout;
    if (a.timestamps) os << rfc3339_nano(e.time_unix_nano) << " ";
    os << e.text << std::flush;
    return {};
  }));
  return 0;
}

struct ExecArgs {
  std::string container, workdir, user;
  std::vector<std::string> env, command;
  bool interactive = false, tty = false, detach = false;
};

Result<int> exec(Context& ctx, const ExecArgs& a) {
  ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
  ExecOptions o{.args = a.command, .env = a.env, .workdir = a.workdir, .user = a.user, .tty = a.tty};
  if (a.command.empty()) return invalid_argument("exec needs a command");
  if (a.interactive || a.tty) return rt->exec_interactive(a.container, o);
  int code = 0;
  ZL_TRY(rt->exec_stream(a.container, o, [&](const ExecEvent& e) -> Status {
    if (e.kind == ExecEvent::Kind::stdout_data) std::cout << e.data << std::flush;
    if (e.kind == ExecEvent::Kind::stderr_data) std::cerr << e.data << std::flush;
    if (e.kind == ExecEvent::Kind::exit) code = e.exit_code;
    return {};
  }));
  return code;
}

Result<int> stats(Context& ctx, std::vector<std::string> refs, bool no_stream) {
  ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
  if (refs.empty()) {
    ZL_TRY_ASSIGN(auto list, rt->list_containers());
    for (const auto& c : list)
      if (c.status == ContainerStatus::running) refs.push_back(c.name);
  }
  std::map<std::string, std::pair<uint64_t, int64_t>> last_cpu;  // id -> (usec, at)
  for (int round = 0;; ++round) {
    Table t({"CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"});
    for (const auto& r : refs) {
      auto c = rt->inspect_container(r);
      auto s = rt->container_stats(r);
      if (!c || !s) continue;
      const CgroupStats& g = s->cgroup;
      double cpu = 0;
      if (auto it = last_cpu.find(c->id); it != last_cpu.end() && s->read_at_unix_nano > it->second.second) {
        cpu = 100.0 * static_cast<double>(g.cpu_usage_usec - it->second.first) * 1000.0 /
              static_cast<double>(s->read_at_unix_nano - it->second.second);
      }
      last_cpu[c->id] = {g.cpu_usage_usec, s->read_at_unix_nano};
      double mem_pct = g.memory_limit_bytes ? 100.0 * static_cast<double>(g.memory_usage_bytes) /
                                                  static_cast<double>(g.memory_limit_bytes)
                                            : 0;
      t.add({c->id.substr(0, 12), c->name, fmt::format("{:.2f}%", cpu),
             human_size(g.memory_usage_bytes) + " / " + human_size(g.memory_limit_bytes),
             fmt::format("{:.2f}%", mem_pct),
             human_size(s->net_rx_bytes) + " / " + human_size(s->net_tx_bytes),
             human_size(g.blkio_read_bytes) + " / " + human_size(g.blkio_write_bytes),
             std::to_string(g.pids_current)});
    }
    if (no_stream && round == 0) {
      // One sample needs a second reading to show CPU %: take it after a short interval.
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    if (stdout_is_terminal() && !no_stream) std::cout << "\x1b[2J\x1b[H";
    std::cout << t.str() << std::flush;
    if (no_stream) return 0;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

}  // namespace

void add_container_commands(CLI::App& app, Context& ctx) {
  auto run_flags = std::make_shared<ContainerFlags>();
  auto run_opts = std::make_shared<std::pair<bool, bool>>(false, false);  // detach, rm
  auto* r = app.add_subcommand("run", "Create and start a container");
  r->add_flag("-d,--detach", run_opts->first, "Run in the background and print the id");
  r->add_flag("--rm", run_opts->second, "Remove the container when it exits");
  add_container_flags(r, *run_flags);
  r->callback(run([&ctx, r, run_flags, run_opts] {
    run_flags->command = command_after_positionals(r);
    return run(ctx, *run_flags, run_opts->first, run_opts->second);
  }));

  auto create_flags = std::make_shared<ContainerFlags>();
  auto* c = app.add_subcommand("create", "Create a container without starting it");
  add_container_flags(c, *create_flags);
  c->callback(run([&ctx, c, create_flags]() -> Result<int> {
    create_flags->command = command_after_positionals(c);
    ZL_TRY_ASSIGN(auto info, create(ctx, *create_flags));
    std::cout << info.id << "\n";
    return 0;
  }));

  auto names = [](CLI::App* cmd, std::vector<std::string>& v) {
    cmd->add_option("container", v)->required();
  };

  auto start_args = std::make_shared<StartArgs>();
  auto* st = app.add_subcommand("start", "Start containers");
  names(st, start_args->containers);
  st->add_flag("-a,--attach", start_args->attach, "Follow the output until the container exits");
  st->add_flag("-i,--interactive", start_args->interactive, "Attach stdin (and the tty) to the container's");
  st->callback(run([&ctx, start_args]() -> Result<int> {
    ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
    if (start_args->attach || start_args->interactive) {
      if (start_args->containers.size() != 1)
        return invalid_argument("--attach and --interactive take one container");
      ZL_TRY_ASSIGN(auto info, rt->inspect_container(start_args->containers[0]));
      return start_args->interactive ? run_attached(*rt, info, false) : run_foreground(*rt, info, false);
    }
    return for_each(start_args->containers, [rt](const std::string& n) { return rt->start_container(n); });
  }));

  auto attach_args = std::make_shared<std::pair<std::string, bool>>();
  auto* at = app.add_subcommand("attach", "Connect to a running container's stdio until it exits");
  at->add_option("container", attach_args->first)->required();
  at->add_flag("--no-stdin", attach_args->second, "Do not send our input to the container");
  at->callback(run([&ctx, attach_args]() -> Result<int> {
    ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
    ZL_TRY_ASSIGN(auto info, rt->inspect_container(attach_args->first));
    if (info.status != ContainerStatus::running && info.status != ContainerStatus::paused)
      return conflict("cannot attach to container {}: it is not running ({})", info.name,
                      to_string(info.status));
    AttachIo io;
    if (attach_args->second) io.in_fd = -1;
    auto forward = std::make_optional<SignalForwarder>(*rt, info.id);
    ZL_TRY(rt->attach_container(info.id, io));
    forward.reset();
    ZL_TRY_ASSIGN(auto exit, rt->wait_container(info.id));
    return exit_code(*rt, info, exit, false);
  }));

  auto ps_args = std::make_shared<PsArgs>();
  auto* p = app.add_subcommand("ps", "List containers");
  p->add_flag("-a,--all", ps_args->all, "Include stopped containers");
  p->add_flag("-q,--quiet", ps_args->quiet, "Only ids");
  p->add_flag("--no-trunc", ps_args->no_trunc, "Full ids and commands");
  p->add_option("--format", ps_args->format, "json");
  p->callback(run([&ctx, ps_args] { return ps(ctx, *ps_args); }));

  auto logs_args = std::make_shared<LogsArgs>();
  auto* l = app.add_subcommand("logs", "Show a container's output");
  l->add_option("container", logs_args->container)->required();
  l->add_flag("-f,--follow", logs_args->follow);
  l->add_flag("-t,--timestamps", logs_args->timestamps);
  l->add_option("-n,--tail", logs_args->tail, "Lines from the end, or all");
  l->add_option("--since", logs_args->since, "Only newer entries: 10m, 1h, or unix seconds");
  l->callback(run([&ctx, logs_args] { return logs(ctx, *logs_args); }));

  auto exec_args = std::make_shared<ExecArgs>();
  auto* e = app.add_subcommand("exec", "Run a command in a running container");
  e->add_flag("-i,--interactive", exec_args->interactive);
  e->add_flag("-t,--tty", exec_args->tty);
  e->add_flag("-d,--detach", exec_args->detach);
  e->add_option("-e,--env", exec_args->env)->allow_extra_args(false);
  e->add_option("-w,--workdir", exec_args->workdir);
  e->add_option("-u,--user", exec_args->user);
  e->add_option("container", exec_args->container)->required();
  e->prefix_command();  // the command follows the container, options included
  e->callback(run([&ctx, e, exec_args] {
    exec_args->command = command_after_positionals(e);
    return exec(ctx, *exec_args);
  }));

  auto stop_args = std::make_shared<std::pair<std::vector<std::string>, int>>(std::vector<std::string>{}, -1);
  auto* so = app.add_subcommand("stop", "Stop containers (stop signal, then SIGKILL)");
  names(so, stop_args->first);
  so->add_option("-t,--time", stop_args->second, "Seconds to wait before SIGKILL");
  so->callback(run([&ctx, stop_args]() -> Result<int> {
    ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
    std::optional<std::chrono::seconds> t;
    if (stop_args->second >= 0) t = std::chrono::seconds(stop_args->second);
    return for_each(stop_args->first, [rt, t](const std::string& n) { return rt->stop_container(n, t); });
  }));

  auto restart_args =
      std::make_shared<std::pair<std::vector<std::string>, int>>(std::vector<std::string>{}, -1);
  auto* rs = app.add_subcommand("restart", "Restart containers");
  names(rs, restart_args->first);
  rs->add_option("-t,--time", restart_args->second, "Seconds to wait before SIGKILL");
  rs->callback(run([&ctx, restart_args]() -> Result<int> {
    ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
    std::optional<std::chrono::seconds> t;
    if (restart_args->second >= 0) t = std::chrono::seconds(restart_args->second);
    return for_each(restart_args->first, [rt, t](const std::string& n) -> Status {
      ZL_TRY(rt->stop_container(n, t));
      return rt->start_container(n);
    });
  }));

  auto kill_args =
      std::make_shared<std::pair<std::vector<std::string>, std::string>>(std::vector<std::string>{}, "KILL");
  auto* k = app.add_subcommand("kill", "Send a signal to containers");
  names(k, kill_args->first);
  k->add_option("-s,--signal", kill_args->second, "Signal name or number")->capture_default_str();
  k->callback(run([&ctx, kill_args]() -> Result<int> {
    ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
    return for_each(kill_args->first, [rt, kill_args](const std::string& n) {
      return rt->kill_container(n, kill_args->second);
    });
  }));

  auto rm_args = std::make_shared<RmArgs>();
  auto* rm = app.add_subcommand("rm", "Remove containers");
  names(rm, rm_args->containers);
  rm->add_flag("-f,--force", rm_args->force, "Kill a running container first");
  rm->add_flag("-v,--volumes", rm_args->volumes, "Remove the container's anonymous volumes too");
  rm->callback(run([&ctx, rm_args]() -> Result<int> {
    ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
    return for_each(rm_args->containers, [rt, rm_args](const std::string& n) -> Status {
      if (!rm_args->volumes) return rt->remove_container(n, rm_args->force);
      ZL_TRY_ASSIGN(auto c, rt->inspect_container(n));
      ZL_TRY(rt->remove_container(c.id, rm_args->force));
      return rt->remove_anonymous_volumes(c.spec);
    });
  }));

  auto inspect_args = std::make_shared<std::vector<std::string>>();
  auto* in = app.add_subcommand("inspect", "Show containers' configuration and state as JSON");
  names(in, *inspect_args);
  in->callback(run([&ctx, inspect_args] { return inspect(ctx, *inspect_args); }));

  auto stats_args = std::make_shared<std::pair<std::vector<std::string>, bool>>();
  auto* sa = app.add_subcommand("stats", "Show containers' resource usage");
  sa->add_option("container", stats_args->first);
  sa->add_flag("--no-stream", stats_args->second, "One sample, then exit");
  sa->callback(run([&ctx, stats_args] { return stats(ctx, stats_args->first, stats_args->second); }));

  auto wait_args = std::make_shared<std::vector<std::string>>();
  auto* w = app.add_subcommand("wait", "Wait for containers to exit and print their exit codes");
  names(w, *wait_args);
  w->callback(run([&ctx, wait_args]() -> Result<int> {
    ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
    for (const auto& n : *wait_args) {
      ZL_TRY_ASSIGN(auto exit, rt->wait_container(n));
      std::cout << (exit ? exit->exit_code : -1) << "\n";
    }
    return 0;
  }));

  auto pause_args = std::make_shared<std::vector<std::string>>();
  auto* pa = app.add_subcommand("pause", "Freeze all processes of containers");
  names(pa, *pause_args);
  pa->callback(run([&ctx, pause_args]() -> Result<int> {
    ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
    return for_each(*pause_args, [rt](const std::string& n) { return rt->pause_container(n); });
  }));
  auto unpause_args = std::make_shared<std::vector<std::string>>();
  auto* up = app.add_subcommand("unpause", "Thaw paused containers");
  names(up, *unpause_args);
  up->callback(run([&ctx, unpause_args]() -> Result<int> {
    ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
    return for_each(*unpause_args, [rt](const std::string& n) { return rt->resume_container(n); });
  }));

  auto rename_args = std::make_shared<std::pair<std::string, std::string>>();
  auto* rn = app.add_subcommand("rename", "Give a container a new name");
  rn->add_option("container", rename_args->first, "Container name or id")->required();
  rn->add_option("new-name", rename_args->second, "Its new name (unique)")->required();
  rn->callback(run([&ctx, rename_args]() -> Result<int> {
    ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
    ZL_TRY(rt->rename_container(rename_args->first, rename_args->second));
    return 0;
  }));
}

}  // namespace zl::cli
