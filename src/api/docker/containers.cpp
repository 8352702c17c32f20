// Docker API: containers — create, start, attach (hijacked connection), wait, list, inspect,
// logs, stop, kill, restart, pause, unpause, remove; `run --rm` through HostConfig.AutoRemove.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <boost/asio/write.hpp>
#include <charconv>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "api/docker/docker_api.h"
#include "api/docker/stream.h"
#include "common/fs.h"
#include "common/strings.h"
#include "image/local_name.h"
#include "runtime/container_json.h"
#include "runtime/linux/cgroup_stats.h"
#include "runtime/vm/vm_runtime.h"

namespace zl::api::docker {

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::string state_word(ContainerStatus s) {
  switch (s) {
    case ContainerStatus::created:
      return "created";
    case ContainerStatus::running:
      return "running";
    case ContainerStatus::paused:
      return "paused";
    case ContainerStatus::exited:
      return "exited";
    default:
      return "dead";
  }
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json mounts_json(const ContainerInfo& c) {
  json out = json::array();
  for (const auto& m : c.spec.mounts) {
    json j = {{"Type", m.type == Mount::Type::bind     ? "bind"
                       : m.type == Mount::Type::volume ? "volume"
                                                       : "tmpfs"},
              {"Source", m.source},
              {"Destination", m.target},
              {"Mode", ""},
              {"RW", !m.read_only},
              {"Propagation", ""}};
    if (m.type == Mount::Type::volume) j["Name"] = m.source, j["Driver"] = "local";
    out.push_back(j);
  }
  return out;
}

// `docker ps`'s Ports: [{IP, PrivatePort, PublicPort, Type}].
json ports_json(const ContainerInfo& c) {
  json out = json::array();
  if (!c.network) return out;
  for (const auto& p : c.network->ports)
    out.push_back({{"IP", p.host_ip.empty() ? "0.0.0.0" : p.host_ip},
                   {"PrivatePort", p.container_port},
                   {"PublicPort", p.host_port},
                   {"Type", p.protocol}});
  return out;
}

json summary_json(const ContainerInfo& c) {
  std::string cmd;
  for (const auto& a : c.command) cmd += (cmd.empty() ? "" : " ") + a;
  return {{"Id", c.id},
          {"Names", json::array({"/" + c.name})},
          {"Image", familiar_image(c.image)},
          {"ImageID", c.image_id},
          {"Command", cmd},
          {"Created", c.created_at / 1'000'000'000},
          {"Ports", ports_json(c)},
          {"Labels", c.spec.labels},
          {"State", state_word(c.status)},
          {"Status", status_text(c, now_ns())},
          {"HostConfig", {{"NetworkMode", c.spec.network_mode.empty() ? "default" : c.spec.network_mode}}},
          {"NetworkSettings", {{"Networks", docker_network_settings(c)["Networks"]}}},
          {"Mounts", mounts_json(c)}};
}

json inspect_json(const ContainerInfo& c) {
  const auto& s = c.spec;
  std::vector<std::string> env = s.env;
  json cfg = {{"Hostname", s.hostname.empty() ? c.id.substr(0, 12) : s.hostname},
              {"User", s.user},
              {"Tty", s.tty},
              {"OpenStdin", s.open_stdin},
              {"AttachStdout", true},
              {"AttachStderr", true},
              {"Env", env},
              {"Cmd", s.cmd},
              {"Image", familiar_image(c.image)},
              {"WorkingDir", s.workdir},
              {"Entrypoint", s.entrypoint ? json(*s.entrypoint) : json(nullptr)},
              {"Labels", s.labels},
              {"StopSignal", s.stop_signal}};
  bool running = c.status == ContainerStatus::running || c.status == ContainerStatus::paused;
  json state = {{"Status", state_word(c.status)},
                {"Running", running},
                {"Paused", c.status == ContainerStatus::paused},
                {"Restarting", false},
                {"OOMKilled", c.exit && c.exit->reason == ExitInfo::Reason::oom_killed},
                {"Dead", false},
                {"Pid", c.pid},
                {"ExitCode", c.exit ? c.exit->exit_code : 0},
                {"Error", c.exit && c.exit->reason == ExitInfo::Reason::runtime_error ? c.exit->message : ""},
                {"StartedAt", rfc3339(c.started_at)},
                {"FinishedAt", rfc3339(c.finished_at)}};
  if (c.health) state["Health"] = docker_health_json(*c.health);
  json host = {{"AutoRemove", s.auto_remove},
               {"Privileged", s.privileged},
               {"ReadonlyRootfs", s.read_only_rootfs},
               {"CapAdd", s.cap_add},
               {"CapDrop", s.cap_drop},
               {"Memory", s.resources.memory.value_or(0)},
               {"NanoCpus", static_cast<int64_t>(s.resources.cpus.value_or(0) * 1e9)},
               {"PidsLimit", s.resources.pids_limit.value_or(0)},
               {"NetworkMode", s.network_mode.empty() ? "default" : s.network_mode},
               {"LogConfig", {{"Type", "json-file"}, {"Config", json::object()}}},
               {"RestartPolicy", {{"Name", "no"}, {"MaximumRetryCount", 0}}}};
  std::vector<std::string> args;
  if (c.command.size() > 1) args.assign(c.command.begin() + 1, c.command.end());
  return {{"Id", c.id},
          {"Created", rfc3339(c.created_at)},
          {"Path", c.command.empty() ? "" : c.command[0]},
          {"Args", args},
          {"State", state},
          {"Image", c.image_id},
          {"Name", "/" + c.name},
          {"RestartCount", 0},
          {"Driver", "overlay"},
          {"Platform", "linux"},
          {"MountLabel", ""},
          {"ProcessLabel", ""},
          {"AppArmorProfile", ""},
          {"HostConfig", host},
          {"Config", cfg},
          {"Mounts", mounts_json(c)},
          {"NetworkSettings", docker_network_settings(c)}};
}

constexpr int64_t kMinMemory = 6 << 20;  // docker's smallest memory limit

template <class T>
T value_or(const json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    // nlohmann would cast a fraction or an out-of-range number (1e40) without a word.
    bool fits = it->is_number_unsigned()  ? std::in_range<T>(it->get<uint64_t>())
                : it->is_number_integer() ? std::in_range<T>(it->get<int64_t>())
                                          : false;
    if (!fits) throw std::invalid_argument(fmt::format("{}: expected an integer, got {}", key, json_text(*it)));
  }
  try {
    return it->get<T>();
  } catch (const json::type_error&) {  // the field, not nlohmann's words
    const char* want = std::is_same_v<T, bool>                                 ? "true or false"
                       : std::is_same_v<T, std::string>                        ? "a string"
                       : std::is_same_v<T, std::vector<std::string>>           ? "a list of strings"
                       : std::is_same_v<T, std::map<std::string, std::string>> ? "an object of strings"
                                                                               : "another type";
    throw std::invalid_argument(fmt::format("{}: expected {}, got {}", key, want, json_text(*it)));
  }
}

// A port of PortBindings ("8080" in "8080/tcp", or a HostPort): 1-65535.
uint16_t port_number(const std::string& s) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 1 || v > 65535)
    throw std::invalid_argument(fmt::format("invalid port specification: \"{}\"", s));
  return static_cast<uint16_t>(v);
}

// "src:dst[:ro|rw]" (HostConfig.Binds): a host path or a volume name.
Result<Mount> parse_bind(const std::string& b) {
  auto first = b.find(':');
  if (first == std::string::npos)
    return invalid_argument("invalid bind \"{}\": expected SOURCE:TARGET[:ro]", b);
  Mount m;
  m.source = b.substr(0, first);
  std::string rest = b.substr(first + 1);
  auto second = rest.find(':');
  m.target = rest.substr(0, second);
  if (second != std::string::npos) {
    for (const auto& opt : split(rest.substr(second + 1), ','))
      if (opt == "ro")
        m.read_only = true;
      else if (opt != "rw" && opt != "z" && opt != "Z")
        m.options.push_back(opt);
  }
  m.type = !m.source.empty() && m.source[0] == '/' ? Mount::Type::bind : Mount::Type::volume;
  return m;
}

}  // namespace

Result<ContainerSpec> spec_from_create(const json& body, const std::string& name) {
  if (!body.is_object()) return invalid_argument("the request body must be a JSON object");
  try {
    ContainerSpec s;
    s.name = name;
    s.image = value_or<std::string>(body, "Image", "");
    if (s.image.empty()) return invalid_argument("no image given (Image is empty)");
    s.cmd = value_or<std::vector<std::string>>(body, "Cmd", {});
    if (body.contains("Entrypoint") && !body["Entrypoint"].is_null()) {
      if (body["Entrypoint"].is_string())
        s.entrypoint = std::vector<std::string>{body["Entrypoint"].get<std::string>()};
      else
        s.entrypoint = body["Entrypoint"].get<std::vector<std::string>>();
    }
    s.env = value_or<std::vector<std::string>>(body, "Env", {});
    s.workdir = value_or<std::string>(body, "WorkingDir", "");
    s.user = value_or<std::string>(body, "User", "");
    s.tty = value_or<bool>(body, "Tty", false);
    s.open_stdin = value_or<bool>(body, "OpenStdin", false);
    s.hostname = value_or<std::string>(body, "Hostname", "");
    s.stop_signal = value_or<std::string>(body, "StopSignal", "");
    if (body.contains("StopTimeout") && body["StopTimeout"].is_number())
      s.stop_timeout = body["StopTimeout"].get<int>();
    s.labels = value_or<std::map<std::string, std::string>>(body, "Labels", {});
    json host = body.value("HostConfig", json::object());
    if (host.is_null()) host = json::object();
    s.auto_remove = value_or<bool>(host, "AutoRemove", false);
    // Docker's VM isolation ("hyperv", as on Windows) or ours by name: a micro-VM (issue 10).
    if (auto iso = value_or<std::string>(host, "Isolation", ""); iso == "hyperv" || iso == "vm")
      s.labels[vm::kIsolationLabel] = "vm";
    s.privileged = value_or<bool>(host, "Privileged", false);
    s.read_only_rootfs = value_or<bool>(host, "ReadonlyRootfs", false);
    s.cap_add = value_or<std::vector<std::string>>(host, "CapAdd", {});
    s.cap_drop = value_or<std::vector<std::string>>(host, "CapDrop", {});
    // docker's bounds, with its words.
    if (auto m = value_or<int64_t>(host, "Memory", 0); m != 0) {
      if (m < kMinMemory) return invalid_argument("Minimum memory limit allowed is 6MB");
      s.resources.memory = m;
    }
    if (auto m = value_or<int64_t>(host, "MemorySwap", 0); m != 0) s.resources.memory_swap = m;
    if (auto n = value_or<int64_t>(host, "NanoCpus", 0); n != 0) {
      int64_t cpus = std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN));
      if (n < 0 || n > cpus * 1'000'000'000)
        return invalid_argument("Range of CPUs is from 0.01 to {}.00, as there are only {} CPUs available", cpus, cpus);
      s.resources.cpus = static_cast<double>(n) / 1e9;
    }
    if (auto n = value_or<int64_t>(host, "CpuShares", 0); n > 0)
      s.resources.cpu_shares = static_cast<uint64_t>(n);
    if (auto p = value_or<int64_t>(host, "PidsLimit", 0); p > 0) s.resources.pids_limit = p;
    if (auto c = value_or<std::string>(host, "CpusetCpus", ""); !c.empty()) s.resources.cpuset_cpus = c;
    s.sysctls = value_or<std::map<std::string, std::string>>(host, "Sysctls", {});
    for (const auto& b : value_or<std::vector<std::string>>(host, "Binds", {})) {
      ZL_TRY_ASSIGN(auto m, parse_bind(b));
      s.mounts.push_back(std::move(m));
    }
    for (const auto& [target, opts] : value_or<std::map<std::string, std::string>>(host, "Tmpfs", {})) {
      Mount m{.type = Mount::Type::tmpfs, .target = target};
      if (!opts.empty()) m.options = split(opts, ',');
      s.mounts.push_back(std::move(m));
    }
    if (host.contains("Ulimits") && host["Ulimits"].is_array())
      for (const auto& u : host["Ulimits"])
        s.ulimits.push_back(
            Ulimit{u.value("Name", ""), u.value("Soft", uint64_t{0}), u.value("Hard", uint64_t{0})});
    // Networking: the mode (docker's "default" is our default network) and published ports.
    std::string mode = value_or<std::string>(host, "NetworkMode", "");
    if (!mode.empty() && mode != "default") s.network_mode = mode;
    if (host.contains("PortBindings") && host["PortBindings"].is_object()) {
      for (const auto& [key, bindings] : host["PortBindings"].items()) {
        auto slash = key.find('/');
        uint16_t container_port = port_number(key.substr(0, slash));
        std::string proto = slash == std::string::npos ? "tcp" : key.substr(slash + 1);
        if (!bindings.is_array()) continue;
        for (const auto& b : bindings) {
          std::string host_port = b.value("HostPort", "");
          if (host_port.empty())
            return invalid_argument("publishing {} on a random host port is not supported", key);
          s.ports.push_back(PortMapping{.host_ip = b.value("HostIp", ""),
                                        .host_port = port_number(host_port),
                                        .container_port = container_port,
                                        .protocol = proto});
        }
      }
    }
    for (const auto& opt : value_or<std::vector<std::string>>(host, "SecurityOpt", {})) {
      if (opt == "no-new-privileges" || opt == "no-new-privileges:true" || opt == "no-new-privileges=true")
        s.no_new_privileges = true;
      else if (opt.starts_with("seccomp=") || opt.starts_with("seccomp:"))
        s.seccomp_profile = opt.substr(8);
      else
        return invalid_argument("security option \"{}\" is not supported", opt);
    }
    return s;
  } catch (const json::exception& e) {
    return invalid_argument("bad container config: {}", e.what());
  } catch (const std::exception& e) {  // a number out of range, a bad port
    return invalid_argument("bad container config: {}", e.what());
  }
}

namespace {

// Writes everything from `fd` to the hijacked socket, framed as `kind` (raw with a tty).
void pump_output(int fd, UnixSocket& sock, std::mutex& mu, StreamKind kind, bool tty) {
  char buf[32 * 1024];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    std::string out =
        tty ? std::string(buf, static_cast<size_t>(n)) : frame(kind, {buf, static_cast<size_t>(n)});
    std::lock_guard lock(mu);
    boost::system::error_code ec;
    boost::asio::write(sock, boost::asio::buffer(out), ec);
    if (ec) return;
  }
}

// Copies the client's input (what it sent already, then the socket) into `fd` until the client
// half-closes or `stop` is set.
void pump_input(UnixSocket& sock, const std::string& pending, int fd, std::atomic<bool>& stop) {
  if (!pending.empty()) (void)write_all(fd, pending, "attach input");
  char buf[32 * 1024];
  int sfd = sock.native_handle();
  while (!stop) {
    pollfd p{.fd = sfd, .events = POLLIN, .revents = 0};
    int r = ::poll(&p, 1, 100);
    if (r <= 0) continue;
    ssize_t n = ::recv(sfd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return;
    if (!write_all(fd, std::string_view(buf, static_cast<size_t>(n)), "attach input")) return;
  }
}

// After the start of a container created with AutoRemove: remove it once it has exited.
void remove_when_exited(LinuxRuntime& rt, const std::string& id) {
  std::thread([&rt, id] {
    (void)rt.wait_container(id);
    (void)rt.remove_container(id, true);
  }).detach();
}

int exit_code_of(const std::optional<ExitInfo>& e) {
  return e ? e->exit_code : -1;
}

}  // namespace

void add_container_routes(Router& r, const std::shared_ptr<DockerApiDeps>& d) {
  auto& rt = d->runtime;
  auto not_found_as_docker = [](const Error& e, const std::string& ref) {
    if (e.kind == ErrorKind::not_found) return Error{ErrorKind::not_found, "No such container: " + ref};
    return e;
  };

  r.add("POST", "/containers/create", [d, &rt](Request& req, Responder& res) {
    json body = json::parse(req.body, nullptr, false);
    auto spec = spec_from_create(body, req.query_param("name").value_or(""));
    if (!spec) return send_error(res, spec.error());
    std::string typed = spec->image;
    spec->image = local_image_name(d->images, typed);
    if (!d->images.inspect(spec->image))
      return send_error(res, Error{ErrorKind::not_found, "No such image: " + typed});
    auto c = rt.create_container(*spec);
    if (!c) {
      if (c.error().kind == ErrorKind::already_exists ||
          c.error().message.find("already in use") != std::string::npos)
        return send_error(res, Error{ErrorKind::conflict, c.error().message});
      return send_error(res, c.error());
    }
    send_json(res, 201, {{"Id", c->id}, {"Warnings", json::array()}});
  });

  r.add("GET", "/containers/json", [&rt](Request& req, Responder& res) {
    auto all = rt.list_containers();
    if (!all) return send_error(res, all.error());
    bool show_all = req.query_flag("all");
    json filters = json::parse(req.query_param("filters").value_or("{}"), nullptr, false);
    auto statuses = filter_values(filters, "status"), names = filter_values(filters, "name"),
         ids = filter_values(filters, "id"), labels = filter_values(filters, "label");
    json out = json::array();
    for (const auto& c : *all) {
      bool up = c.status == ContainerStatus::running || c.status == ContainerStatus::paused;
      if (!show_all && !up && statuses.empty()) continue;
      if (!statuses.empty() && !statuses.count(state_word(c.status))) continue;
      if (!names.empty() && std::none_of(names.begin(), names.end(),
                                         [&](const auto& n) { return c.name.find(n) != std::string::npos; }))
        continue;
      if (!ids.empty() &&
          std::none_of(ids.begin(), ids.end(), [&](const auto& i) { return c.id.starts_with(i); }))
        continue;
      bool labels_ok = std::all_of(labels.begin(), labels.end(), [&](const std::string& l) {
        auto eq = l.find('=');
        auto it = c.spec.labels.find(l.substr(0, eq));
        return it != c.spec.labels.end() && (eq == std::string::npos || it->second == l.substr(eq + 1));
      });
      if (!labels_ok) continue;
      out.push_back(summary_json(c));
    }
    std::reverse(out.begin(), out.end());  // newest first, like docker
    send_json(res, 200, out);
  });

  r.add("GET", "/containers/{id}/json", [&rt, not_found_as_docker](Request& req, Responder& res) {
    auto c = rt.inspect_container(req.params["id"]);
    if (!c) return send_error(res, not_found_as_docker(c.error(), req.params["id"]));
    send_json(res, 200, inspect_json(*c));
  });

  r.add("POST", "/containers/{id}/start", [&rt, not_found_as_docker](Request& req, Responder& res) {
    auto c = rt.inspect_container(req.params["id"]);
    if (!c) return send_error(res, not_found_as_docker(c.error(), req.params["id"]));
    if (c->status == ContainerStatus::running) return res.send(304, "", "");
    auto st = rt.start_container(c->id);
    if (!st) return send_error(res, st.error());
    if (c->spec.auto_remove) remove_when_exited(rt, c->id);
    res.send(204, "", "");
  });

  r.add("POST", "/containers/{id}/wait", [&rt, not_found_as_docker](Request& req, Responder& res) {
    auto c = rt.inspect_container(req.params["id"]);
    if (!c) return send_error(res, not_found_as_docker(c.error(), req.params["id"]));
    std::string condition = req.query_param("condition").value_or("not-running");
    // The head goes out now (the CLI waits for it before it starts the container); the body
    // when the condition is met.
    res.begin_stream(200, "application/json");
    std::optional<ExitInfo> exit;
    if (condition == "next-exit" || c->status != ContainerStatus::exited) {
      while (!res.client_gone()) {
        auto w = rt.wait_container(c->id, 500ms);
        if (!w) {
          if (w.error().kind == ErrorKind::not_found) break;  // removed meanwhile (--rm)
          res.write(json_text(json{{"StatusCode", -1}, {"Error", {{"Message", w.error().message}}}}));
          return;
        }
        if (*w) {
          exit = *w;
          break;
        }
      }
    } else {
      exit = c->exit;
    }
    if (condition == "removed") {
      while (!res.client_gone() && rt.inspect_container(c->id)) std::this_thread::sleep_for(50ms);
    }
    res.write(json_text(json{{"StatusCode", exit_code_of(exit)}, {"Error", nullptr}}) + "\n");
  });

  r.add("POST", "/containers/{id}/attach", [&rt, not_found_as_docker](Request& req, Responder& res) {
    auto c = rt.inspect_container(req.params["id"]);
    if (!c) return send_error(res, not_found_as_docker(c.error(), req.params["id"]));
    bool tty = c->spec.tty;
    bool want_in = req.query_flag("stdin") && c->spec.open_stdin;
    std::string pending;
    auto hijacked = hijack(res, tty, pending);
    if (!hijacked) return;  // answered already
    UnixSocket& sock = *hijacked;
    auto out = Pipe::make(), err = Pipe::make(), in = Pipe::make();
    if (!out || !err || !in) return;
    std::mutex mu;
    std::thread out_pump([&] { pump_output(out->r.get(), sock, mu, StreamKind::stdout_stream, tty); });
    std::thread err_pump([&] { pump_output(err->r.get(), sock, mu, StreamKind::stderr_stream, tty); });
    std::atomic<bool> stop{false};
    std::optional<std::thread> in_pump;
    AttachIo io{
        .in_fd = want_in ? in->r.get() : -1, .out_fd = out->w.get(), .err_fd = err->w.get(), .tty = tty};
    if (want_in) {
      in_pump.emplace([&] {
        pump_input(sock, pending, in->w.get(), stop);
        in->w.reset();  // end of input reaches the container
      });
    }
    Status st = rt.attach_container(c->id, io);
    out->w.reset();
    err->w.reset();
    out_pump.join();
    err_pump.join();
    stop = true;
    if (in_pump) in_pump->join();
    boost::system::error_code ec;
    sock.shutdown(UnixSocket::shutdown_both, ec);
    (void)st;
  });

  r.add("GET", "/containers/{id}/logs", [&rt, not_found_as_docker](Request& req, Responder& res) {
    auto c = rt.inspect_container(req.params["id"]);
    if (!c) return send_error(res, not_found_as_docker(c.error(), req.params["id"]));
    bool want_out = req.query_flag("stdout"), want_err = req.query_flag("stderr"),
         stamps = req.query_flag("timestamps");
    LogQuery q;
    q.follow = req.query_flag("follow");
    if (auto tail = req.query_param("tail"); tail && *tail != "all" && !tail->empty()) {
      try {
        q.tail = std::stoul(*tail);
      } catch (...) {
        return send_error(res, Error{ErrorKind::invalid_argument, "invalid tail \"" + *tail + "\""});
      }
    }
    if (auto since = req.query_param("since"); since && *since != "0" && !since->empty()) {
      try {
        q.since_unix_nano = static_cast<int64_t>(std::stod(*since) * 1e9);
      } catch (...) {
        return send_error(res, Error{ErrorKind::invalid_argument, "invalid since \"" + *since + "\""});
      }
    }
    std::string id = c->id;
    q.stop = [&res, &rt, id] {
      auto now = rt.inspect_container(id);
      return res.client_gone() || !now || now->status == ContainerStatus::exited;
    };
    bool tty = c->spec.tty;
    res.begin_stream(200,
                     tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream");
    (void)rt.container_logs(c->id, q, [&](const LogEntry& e) -> Status {
      bool is_err = e.stream == LogEntry::Stream::stderr_stream;
      if ((is_err && !want_err) || (!is_err && !want_out)) return {};
      std::string text = stamps ? rfc3339(e.time_unix_nano) + " " + e.text : e.text;
      if (!res.write(tty ? text
                         : frame(is_err ? StreamKind::stderr_stream : StreamKind::stdout_stream, text)))
        return unavailable("client gone");
      return {};
    });
  });

  auto simple = [&rt, not_found_as_docker](const char* action,
                                           std::function<Status(const ContainerInfo&, Request&)> fn,
                                           std::function<bool(const ContainerInfo&)> noop = {}) {
    return [&rt, not_found_as_docker, action, fn, noop](Request& req, Responder& res) {
      auto c = rt.inspect_container(req.params["id"]);
      if (!c) return send_error(res, not_found_as_docker(c.error(), req.params["id"]));
      if (noop && noop(*c)) return res.send(304, "", "");
      auto st = fn(*c, req);
      if (!st)
        return send_error(res, Error{st.error().kind, fmt::format("cannot {} container {}: {}", action,
                                                                  req.params["id"], st.error().message)});
      res.send(204, "", "");
    };
  };
  // docker's ?t=: whole seconds, checked before anything else is looked at.
  auto seconds = [](Request& req) -> Result<std::optional<std::chrono::seconds>> {
    auto t = req.query_param("t");
    if (!t || t->empty()) return std::nullopt;
    int64_t v = 0;
    auto [end, ec] = std::from_chars(t->data(), t->data() + t->size(), v);
    if (ec != std::errc() || end != t->data() + t->size())
      return invalid_argument("invalid value for t: \"{}\" is not a whole number of seconds", *t);
    return std::chrono::seconds(v);
  };
  auto with_seconds = [seconds](Handler inner) {
    return [seconds, inner](Request& req, Responder& res) {
      if (auto t = seconds(req); !t) return send_error(res, t.error());
      inner(req, res);
    };
  };
  r.add("POST", "/containers/{id}/stop",
        with_seconds(simple(
            "stop",
            [&rt, seconds](const ContainerInfo& c, Request& req) { return rt.stop_container(c.id, *seconds(req)); },
            [](const ContainerInfo& c) {
              return c.status != ContainerStatus::running && c.status != ContainerStatus::paused;
            })));
  r.add("POST", "/containers/{id}/kill", simple("kill", [&rt](const ContainerInfo& c, Request& req) {
          return rt.kill_container(c.id, req.query_param("signal").value_or("SIGKILL"));
        }));
  r.add("POST", "/containers/{id}/restart",
        with_seconds(simple("restart", [&rt, seconds](const ContainerInfo& c, Request& req) -> Status {
          if (c.status == ContainerStatus::running || c.status == ContainerStatus::paused)
            ZL_TRY(rt.stop_container(c.id, *seconds(req)));
          return rt.start_container(c.id);
        })));
  r.add("POST", "/containers/{id}/pause",
        simple("pause", [&rt](const ContainerInfo& c, Request&) { return rt.pause_container(c.id); }));
  r.add("POST", "/containers/{id}/unpause",
        simple("unpause", [&rt](const ContainerInfo& c, Request&) { return rt.resume_container(c.id); }));
  r.add("POST", "/containers/{id}/rename",
        simple("rename", [&rt](const ContainerInfo& c, Request& req) -> Status {
          std::string name = req.query_param("name").value_or("");
          if (name.starts_with('/')) name.erase(0, 1);  // docker's "/name" form
          if (name.empty()) return invalid_argument("Neither old nor new names may be empty");
          return rt.rename_container(c.id, name);
        }));
  r.add("POST", "/containers/{id}/resize",
        simple("resize", [&rt](const ContainerInfo& c, Request& req) -> Status {
          int h = std::atoi(req.query_param("h").value_or("0").c_str());
          int w = std::atoi(req.query_param("w").value_or("0").c_str());
          if (h <= 0 || w <= 0 || h > 0xffff || w > 0xffff)
            return invalid_argument("bad terminal size h={} w={}", req.query_param("h").value_or(""),
                                    req.query_param("w").value_or(""));
          return rt.resize_container(c.id, static_cast<unsigned short>(h), static_cast<unsigned short>(w));
        }));
  r.add("POST", "/containers/prune", [&rt](Request&, Responder& res) {
    auto all = rt.list_containers();
    if (!all) return send_error(res, all.error());
    json deleted = json::array();
    for (const auto& c : *all)  // every stopped container, as docker's prune
      if ((c.status == ContainerStatus::exited || c.status == ContainerStatus::created) &&
          rt.remove_container(c.id, false))
        deleted.push_back(c.id);
    send_json(res, 200, {{"ContainersDeleted", deleted}, {"SpaceReclaimed", 0}});
  });

  r.add("GET", "/containers/{id}/stats", [&rt, not_found_as_docker](Request& req, Responder& res) {
    auto c = rt.inspect_container(req.params["id"]);
    if (!c) return send_error(res, not_found_as_docker(c.error(), req.params["id"]));
    bool stream = !req.query_param("stream") || req.query_flag("stream");
    if (req.query_flag("one-shot")) stream = false;
    auto sample = [&](json& prev) -> json {
      json j = {{"id", c->id},
                {"name", "/" + c->name},
                {"read", rfc3339(now_ns())},
                {"preread", prev.value("read", "0001-01-01T00:00:00Z")}};
      auto st = rt.container_stats(c->id);
      uint64_t cpu = 0, mem = 0, limit = 0, pids = 0, rd = 0, wr = 0, rx = 0, tx = 0;
      if (st) {
        cpu = st->cgroup.cpu_usage_usec * 1000;
        mem = st->cgroup.memory_usage_bytes;
        limit = st->cgroup.memory_limit_bytes;
        pids = st->cgroup.pids_current;
        rd = st->cgroup.blkio_read_bytes;
        wr = st->cgroup.blkio_write_bytes;
        rx = st->net_rx_bytes;
        tx = st->net_tx_bytes;
      }
      // The host's CPU time in ns (docker's system_cpu_usage): from /proc/stat.
      uint64_t system = 0;
      if (auto stat = read_file("/proc/stat")) {
        std::istringstream in(*stat);
        std::string cpu_word;
        in >> cpu_word;
        uint64_t v = 0;
        for (int i = 0; i < 8 && in >> v; ++i) system += v;
        system = system * (1'000'000'000 / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK)));
      }
      unsigned ncpu = std::thread::hardware_concurrency();
      j["cpu_stats"] = {
          {"cpu_usage", {{"total_usage", cpu}, {"usage_in_kernelmode", 0}, {"usage_in_usermode", 0}}},
          {"system_cpu_usage", system},
          {"online_cpus", ncpu},
          {"throttling_data", {{"periods", 0}, {"throttled_periods", 0}, {"throttled_time", 0}}}};
      j["precpu_stats"] =
          prev.contains("cpu_stats") ? prev["cpu_stats"] : json{{"cpu_usage", {{"total_usage", 0}}}};
      j["memory_stats"] = {{"usage", mem}, {"limit", limit}, {"stats", json::object()}};
      j["pids_stats"] = {{"current", pids}};
      j["blkio_stats"] = {{"io_service_bytes_recursive",
                           json::array({{{"major", 0}, {"minor", 0}, {"op", "read"}, {"value", rd}},
                                        {{"major", 0}, {"minor", 0}, {"op", "write"}, {"value", wr}}})}};
      j["networks"] = {{"eth0", {{"rx_bytes", rx}, {"tx_bytes", tx}}}};
      prev = j;
      return j;
    };
    json prev = json::object();
    if (!stream) return send_json(res, 200, sample(prev));
    res.begin_stream(200, "application/json");
    while (true) {
      if (!res.write(json_text(sample(prev)) + "\n")) return;
      for (int i = 0; i < 10; ++i) {
        if (res.client_gone()) return;
        std::this_thread::sleep_for(100ms);
      }
      auto now = rt.inspect_container(c->id);
      if (!now || now->status == ContainerStatus::exited) return;
    }
  });

  r.add("GET", "/containers/{id}/top", [&rt, not_found_as_docker](Request& req, Responder& res) {
    auto c = rt.inspect_container(req.params["id"]);
    if (!c) return send_error(res, not_found_as_docker(c.error(), req.params["id"]));
    if (c->status != ContainerStatus::running && c->status != ContainerStatus::paused)
      return send_error(res, Error{ErrorKind::conflict, "Container " + c->id + " is not running"});
    // The processes of the container's cgroup, as `ps -ef` would list them.
    std::set<int> pids;
    for (const auto& dir : cgroup_dirs(c->cgroups_path)) {
      if (auto procs = read_file(dir / "cgroup.procs")) {
        std::istringstream in(*procs);
        for (int pid; in >> pid;) pids.insert(pid);
      }
      if (!pids.empty()) break;
    }
    json procs = json::array();
    for (int pid : pids) {
      auto status = read_file(fmt::format("/proc/{}/status", pid));
      auto cmdline = read_file(fmt::format("/proc/{}/cmdline", pid));
      if (!status || !cmdline) continue;
      std::string uid = "0", ppid = "0";
      std::istringstream in(*status);
      for (std::string line; std::getline(in, line);) {
        if (line.starts_with("Uid:")) uid = split(line.substr(4), '\t').front();
        if (line.starts_with("PPid:")) ppid = split(line.substr(5), '\t').front();
      }
      std::string cmd = *cmdline;
      std::replace(cmd.begin(), cmd.end(), '\0', ' ');
      while (!cmd.empty() && cmd.back() == ' ') cmd.pop_back();
      procs.push_back(json::array({uid, std::to_string(pid), ppid, "0", "-", "?", "00:00:00", cmd}));
    }
    send_json(res, 200,
              {{"Titles", {"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"}}, {"Processes", procs}});
  });

  r.add("DELETE", "/containers/{id}", [&rt, not_found_as_docker](Request& req, Responder& res) {
    auto c = rt.inspect_container(req.params["id"]);
    if (!c) return send_error(res, not_found_as_docker(c.error(), req.params["id"]));
    auto st = rt.remove_container(c->id, req.query_flag("force"));
    if (!st) {
      if (st.error().kind == ErrorKind::conflict)
        return send_error(
            res, Error{ErrorKind::conflict,
                       fmt::format("You cannot remove a running container {}. Stop the container before "
                                   "attempting removal or force remove",
                                   c->id)});
      return send_error(res, st.error());
    }
    res.send(204, "", "");
  });
}

}  // namespace zl::api::docker
