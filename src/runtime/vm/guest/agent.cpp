// zlayer's guest agent: PID 1 of an isolation: vm micro-VM. It mounts the basics, loads the
// kernel modules the initramfs carries, mounts the 9p shares (the container's rootfs, the
// state share, the debug share), runs the container's process (config.json's process, chrooted
// into the rootfs), writes its output to the state share as a k8s-file log and its exit status
// as an exit file, and answers the host on the virtio-serial port (protocol.h): exec, signals,
// stats. When the container's process exits it powers the VM off.
//
// Static, no dependencies beyond libc and nlohmann-json (header-only): it is the whole userland
// of the initramfs. Kernel command line: zlayer.port=<port name> [zlayer.probe=1].
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <net/route.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/vm/guest/protocol.h"

using json = nlohmann::json;

namespace {

constexpr const char* kRoot = "/run/root";    // the container's rootfs (9p "rootfs")
constexpr const char* kState = "/run/zl";     // config.json in, ctr.log and exit out (9p "state")
constexpr const char* kDebug = "/run/debug";  // boot diagnostics (9p "debug")

std::string g_boot_log;

double uptime() {
  timespec ts{};
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

void note(const std::string& msg) {
  char head[32];
  snprintf(head, sizeof head, "[%8.3f] ", uptime());
  std::string line = head + msg + "\n";
  g_boot_log += line;
  if (int fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC); fd >= 0) {
    std::string out = "zlayer-agent: " + line;
    (void)!write(fd, out.data(), out.size());
    close(fd);
  }
}

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        pollfd p{fd, POLLOUT, 0};
        poll(&p, 1, 100);
        continue;
      }
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Written whole or not at all (temp file, fsync, rename): the host reads these.
bool write_file_atomic(const std::string& path, const std::string& data) {
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  bool ok = write_all(fd, data) && fsync(fd) == 0;
  close(fd);
  return ok && rename(tmp.c_str(), path.c_str()) == 0;
}

void mount_or_note(const char* src, const char* dst, const char* type, unsigned long flags,
                   const char* data) {
  mkdir(dst, 0755);
  if (mount(src, dst, type, flags, data) != 0)
    note(std::string("mount ") + type + " on " + dst + ": " + strerror(errno));
}

// The guest's clock: the RTC gives whole seconds (behind by up to one); the host's time at launch
// (zlayer.time, unix ns) plus the time since boot is closer. Log timestamps depend on it.
void set_clock(std::map<std::string, std::string>& args) {
  if (!args.count("time")) return;
  int64_t launch = std::atoll(args["time"].c_str());
  timespec up{}, now{};
  clock_gettime(CLOCK_BOOTTIME, &up);
  clock_gettime(CLOCK_REALTIME, &now);
  int64_t estimate = launch + up.tv_sec * 1000000000LL + up.tv_nsec;
  if (estimate <= now.tv_sec * 1000000000LL + now.tv_nsec) return;
  timespec ts{estimate / 1000000000LL, estimate % 1000000000LL};
  clock_settime(CLOCK_REALTIME, &ts);
}

void mkdir_p(const std::string& path) {
  for (size_t i = 1; i <= path.size(); ++i)
    if (i == path.size() || path[i] == '/') mkdir(path.substr(0, i).c_str(), 0755);
}

// The container's own mounts (mounts.json in the state share): a host directory as a 9p share
// (its tag), or a tmpfs.
void mount_user_mounts() {
  std::string text = read_text(std::string(kState) + "/mounts.json");
  if (text.empty()) return;
  try {
    for (const auto& m : json::parse(text)) {
      std::string target = std::string(kRoot) + m.at("target").get<std::string>();
      mkdir_p(target);
      unsigned long flags = m.value("ro", false) ? MS_RDONLY : 0;
      if (m.at("kind") == "9p") {
        std::string opts = "trans=virtio,version=9p2000.L,msize=262144,cache=mmap";
        if (mount(m.at("tag").get<std::string>().c_str(), target.c_str(), "9p", flags, opts.c_str()) != 0)
          note("mount " + target + ": " + strerror(errno));
      } else if (m.at("kind") == "tmpfs") {
        std::string data = m.value("data", "");
        if (mount("tmpfs", target.c_str(), "tmpfs", flags | MS_NOSUID | MS_NODEV, data.c_str()) != 0)
          note("mount tmpfs " + target + ": " + strerror(errno));
      }
    }
  } catch (const std::exception& e) {
    note(std::string("mounts.json: ") + e.what());
  }
}

std::map<std::string, std::string> kernel_args() {
  std::map<std::string, std::string> out;
  std::istringstream in(read_text("/proc/cmdline"));
  std::string word;
  while (in >> word) {
    auto eq = word.find('=');
    if (word.rfind("zlayer.", 0) == 0 && eq != std::string::npos)
      out[word.substr(7, eq - 7)] = word.substr(eq + 1);
  }
  return out;
}

void load_modules() {
  std::istringstream order(read_text("/modules.load"));
  std::string name;
  while (std::getline(order, name)) {
    if (name.empty()) continue;
    std::string path = "/modules/" + name + ".ko";
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      note("module " + name + ": " + strerror(errno));
      continue;
    }
    if (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST)
      note("module " + name + ": " + strerror(errno));
    close(fd);
  }
}

// /dev/vportNpM of the port called `name` (its /sys/class/virtio-ports/*/name), once it shows.
std::string find_port(const std::string& name) {
  for (int tries = 0; tries < 500; ++tries) {
    if (DIR* d = opendir("/sys/class/virtio-ports")) {
      while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        std::string n = read_text(std::string("/sys/class/virtio-ports/") + e->d_name + "/name");
        while (!n.empty() && n.back() == '\n') n.pop_back();
        if (n == name) {
          std::string dev = std::string("/dev/") + e->d_name;
          closedir(d);
          return dev;
        }
      }
      closedir(d);
    }
    usleep(10000);
  }
  return {};
}

// The NIC the host joined to the container's network (net.json in the state share: address,
// prefix_len, gateway; its MAC is the container's), and lo.
void configure_network() {
  std::string text = read_text(std::string(kState) + "/net.json");
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  auto up = [&](const std::string& name) {
    ifreq ifr{};
    strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
      ifr.ifr_flags |= IFF_UP;
      if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) note("up " + name + ": " + strerror(errno));
    }
  };
  up("lo");
  if (text.empty()) {
    close(s);
    return;
  }
  try {
    auto j = json::parse(text);
    std::string nic;
    if (DIR* d = opendir("/sys/class/net")) {
      while (dirent* e = readdir(d))
        if (e->d_name[0] != '.' && strcmp(e->d_name, "lo") != 0) nic = e->d_name;
      closedir(d);
    }
    if (nic.empty()) throw std::runtime_error("no network interface");
    auto addr_of = [](const std::string& a) {
      sockaddr_in sin{};
      sin.sin_family = AF_INET;
      inet_pton(AF_INET, a.c_str(), &sin.sin_addr);
      return sin;
    };
    ifreq ifr{};
    strncpy(ifr.ifr_name, nic.c_str(), IFNAMSIZ - 1);
    sockaddr_in a = addr_of(j.at("address").get<std::string>());
    memcpy(&ifr.ifr_addr, &a, sizeof a);
    if (ioctl(s, SIOCSIFADDR, &ifr) != 0)
      throw std::runtime_error(std::string("address: ") + strerror(errno));
    int prefix = j.at("prefix_len").get<int>();
    sockaddr_in m{};
    m.sin_family = AF_INET;
    m.sin_addr.s_addr = htonl(prefix ? ~uint32_t{0} << (32 - prefix) : 0);
    memcpy(&ifr.ifr_netmask, &m, sizeof m);
    if (ioctl(s, SIOCSIFNETMASK, &ifr) != 0)
      throw std::runtime_error(std::string("netmask: ") + strerror(errno));
    up(nic);
    std::string gw = j.value("gateway", "");
    if (!gw.empty()) {
      rtentry rt{};
      sockaddr_in g = addr_of(gw), any{};
      any.sin_family = AF_INET;
      memcpy(&rt.rt_gateway, &g, sizeof g);
      memcpy(&rt.rt_dst, &any, sizeof any);
      memcpy(&rt.rt_genmask, &any, sizeof any);
      rt.rt_flags = RTF_UP | RTF_GATEWAY;
      if (ioctl(s, SIOCADDRT, &rt) != 0)
        throw std::runtime_error(std::string("default route: ") + strerror(errno));
    }
    note("network " + nic + " " + j.at("address").get<std::string>() + "/" + std::to_string(prefix));
  } catch (const std::exception& e) {
    note(std::string("network: ") + e.what());
  }
  close(s);
}

std::string rfc3339_now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t{};
  gmtime_r(&ts.tv_sec, &t);
  char buf[64];
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &t);
  snprintf(buf + n, sizeof buf - n, ".%09ldZ", ts.tv_nsec);
  return buf;
}

// The container's output, as conmon's k8s-file log: "<time> stdout|stderr F|P <text>".
class LogWriter {
 public:
  void open_at(const std::string& path) {
    fd_ = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  }
  void write(const char* stream, std::string_view data) {
    if (fd_ < 0) return;
    std::string out, ts = rfc3339_now();
    while (!data.empty()) {
      auto nl = data.find('\n');
      bool full = nl != std::string_view::npos;
      std::string_view line = full ? data.substr(0, nl) : data;
      out += ts + " " + stream + (full ? " F " : " P ") + std::string(line) + "\n";
      data.remove_prefix(full ? nl + 1 : data.size());
    }
    write_all(fd_, out);
  }

 private:
  int fd_ = -1;
};

struct ProcessSpec {
  std::vector<std::string> args, env;
  std::string cwd = "/";
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
};

std::vector<char*> cstrs(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// In the child: into the container's root as its user, then exec. 127 not found, 126 not runnable.
[[noreturn]] void exec_in_container(ProcessSpec p) {
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  setsid();
  if (chroot(kRoot) != 0 || chdir("/") != 0) _exit(126);
  if (chdir(p.cwd.c_str()) != 0) {
    dprintf(2, "zlayer-agent: cannot enter working directory %s: %s\n", p.cwd.c_str(), strerror(errno));
    _exit(126);
  }
  if (setgroups(p.groups.size(), p.groups.data()) != 0 || setgid(p.gid) != 0 || setuid(p.uid) != 0) {
    dprintf(2, "zlayer-agent: cannot become %u:%u: %s\n", p.uid, p.gid, strerror(errno));
    _exit(126);
  }
  if (p.args.empty()) _exit(127);
  for (const auto& e : p.env)
    if (e.rfind("PATH=", 0) == 0) setenv("PATH", e.c_str() + 5, 1);
  auto argv = cstrs(p.args);
  auto envp = cstrs(p.env);
  execvpe(argv[0], argv.data(), envp.data());
  int err = errno;
  dprintf(2, "zlayer-agent: exec %s: %s\n", argv[0], strerror(err));
  _exit(err == ENOENT ? 127 : 126);
}

struct Pipe {
  int r = -1, w = -1;
  bool make() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return false;
    r = fds[0];
    w = fds[1];
    return true;
  }
};

// A started process with its stdio on pipes (our ends: in_w, out_r, err_r).
struct Running {
  pid_t pid = -1;
  int in_w = -1, out_r = -1, err_r = -1;
};

std::optional<Running> spawn(const ProcessSpec& p, bool with_stdin) {
  Pipe in, out, err;
  if ((with_stdin && !in.make()) || !out.make() || !err.make()) return std::nullopt;
  pid_t pid = fork();
  if (pid < 0) return std::nullopt;
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDWR);
    dup2(with_stdin ? in.r : devnull, 0);
    dup2(out.w, 1);
    dup2(err.w, 2);
    exec_in_container(p);
  }
  if (with_stdin) close(in.r);
  close(out.w);
  close(err.w);
  fcntl(out.r, F_SETFL, O_NONBLOCK);
  fcntl(err.r, F_SETFL, O_NONBLOCK);
  return Running{pid, with_stdin ? in.w : -1, out.r, err.r};
}

int wait_code(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

json stats() {
  json out{{"ok", true}};
  std::istringstream mem(read_text("/proc/meminfo"));
  std::string key;
  uint64_t value = 0;
  std::string unit;
  while (mem >> key >> value) {
    std::getline(mem, unit);
    if (key == "MemTotal:") out["mem_total"] = value * 1024;
    if (key == "MemAvailable:") out["mem_available"] = value * 1024;
  }
  std::istringstream cpu(read_text("/proc/stat"));
  std::string label;
  cpu >> label;
  uint64_t ticks = 0, v = 0;
  for (int i = 0; i < 8 && cpu >> v; ++i)
    if (i != 3 && i != 4) ticks += v;  // all but idle and iowait
  out["cpu_usage_usec"] = ticks * (1000000 / sysconf(_SC_CLK_TCK));
  uint64_t pids = 0;
  if (DIR* d = opendir("/proc")) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] < '1' || e->d_name[0] > '9' || strcmp(e->d_name, "1") == 0) continue;
      if (!read_text(std::string("/proc/") + e->d_name + "/cmdline").empty()) ++pids;
    }
    closedir(d);
  }
  out["pids"] = pids;
  return out;
}

class Agent {
  // One host connection's state: its port, what came in, its exec.
  struct Session {
    int port = -1;
    bool connected = false;
    bool idle = false;  // the host is not connected: not polled until the next round
    std::string inbuf;
    Running exec;
    std::optional<int> exec_status;
    json cur_id;
  };

 public:
  int run() {
    auto args = kernel_args();
    mount_or_note("proc", "/proc", "proc", 0, nullptr);
    args = kernel_args();
    mount_or_note("sysfs", "/sys", "sysfs", 0, nullptr);
    mount_or_note("devtmpfs", "/dev", "devtmpfs", 0, nullptr);
    note("agent started");
    set_clock(args);
    load_modules();
    note("modules loaded");
    if (args.count("probe")) {
      note("probe ok");
      power_off();
    }
    const char* opts9p = "trans=virtio,version=9p2000.L,msize=262144";
    mount_or_note("debug", kDebug, "9p", 0, opts9p);
    mount_or_note("state", kState, "9p", 0, opts9p);
    mount_or_note("rootfs", kRoot, "9p", 0, "trans=virtio,version=9p2000.L,msize=262144,cache=mmap");
    configure_network();
    write_boot_log();
    // Port 0 is named by the runtime id, the others <id>.1 ...: one host call at a time on each.
    int nports = std::max(1, std::atoi(args.count("ports") ? args["ports"].c_str() : "1"));
    for (int i = 0; i < nports; ++i) {
      std::string name = i == 0 ? args["port"] : args["port"] + "." + std::to_string(i);
      std::string path = find_port(name);
      if (path.empty()) note("no virtio-serial port " + name);
      Session s;
      s.port = path.empty() ? -1 : open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
      sessions_.push_back(std::move(s));
    }
    if (!start_container()) finish(127);
    note("container started");
    write_boot_log();
    loop();
    return 0;
  }

 private:
  void write_boot_log() { write_file_atomic(std::string(kDebug) + "/boot.log", g_boot_log); }

  [[noreturn]] void power_off() {
    sync();
    reboot(RB_POWER_OFF);
    for (;;) pause();
  }

  // The container is done: its status for the host, then off.
  [[noreturn]] void finish(int code) {
    note("container exited with " + std::to_string(code));
    write_boot_log();
    write_file_atomic(std::string(kState) + "/exit", std::to_string(code));
    kill(-1, SIGKILL);
    power_off();
  }

  bool start_container() {
    json cfg;
    try {
      cfg = json::parse(read_text(std::string(kState) + "/config.json"));
      const auto& p = cfg.at("process");
      base_.args = p.at("args").get<std::vector<std::string>>();
      base_.env = p.value("env", std::vector<std::string>{});
      base_.cwd = p.value("cwd", "/");
      base_.uid = p.at("user").value("uid", 0u);
      base_.gid = p.at("user").value("gid", 0u);
      base_.groups = p.at("user").value("additionalGids", std::vector<gid_t>{});
      std::string host = cfg.value("hostname", "");
      if (!host.empty()) sethostname(host.data(), host.size());
    } catch (const std::exception& e) {
      note(std::string("config.json: ") + e.what());
      return false;
    }
    std::string root = kRoot;
    mount_or_note("proc", (root + "/proc").c_str(), "proc", 0, nullptr);
    mount_or_note("sysfs", (root + "/sys").c_str(), "sysfs", MS_RDONLY, nullptr);
    mount_or_note("devtmpfs", (root + "/dev").c_str(), "devtmpfs", 0, nullptr);
    mount_or_note("devpts", (root + "/dev/pts").c_str(), "devpts", 0, "newinstance,ptmxmode=0666");
    mount_or_note("shm", (root + "/dev/shm").c_str(), "tmpfs", 0, "mode=1777");
    mount_user_mounts();
    for (const char* f : {"hosts", "hostname", "resolv.conf"}) {
      std::string src = std::string(kState) + "/" + f, dst = root + "/etc/" + f;
      if (access(src.c_str(), R_OK) == 0 && access(dst.c_str(), F_OK) == 0)
        mount(src.c_str(), dst.c_str(), nullptr, MS_BIND, nullptr);
    }
    log_.open_at(std::string(kState) + "/ctr.log");
    auto r = spawn(base_, false);
    if (!r) return false;
    main_ = *r;
    return true;
  }

  void send(Session& s, char type, std::string_view payload) {
    if (s.port >= 0 && s.connected) write_all(s.port, zl::vmproto::frame(type, payload));
  }
  // Answers carry the request's "id": the host skips answers to requests it gave up on.
  void reply(Session& s, json j) {
    if (!s.cur_id.is_null()) j["id"] = s.cur_id;
    send(s, 'J', j.dump());
  }

  void handle(Session& s, char type, const std::string& payload) {
    if (type == 'I') {
      if (s.exec.pid > 0 && s.exec.in_w >= 0) {
        if (payload.empty()) {
          close(s.exec.in_w);
          s.exec.in_w = -1;
        } else {
          write_all(s.exec.in_w, payload);
        }
      }
      return;
    }
    if (type != 'J') return;
    json req;
    try {
      req = json::parse(payload);
    } catch (const std::exception& e) {
      return reply(s, {{"ok", false}, {"error", std::string("bad request: ") + e.what()}});
    }
    s.cur_id = req.contains("id") ? req["id"] : json();
    std::string op = req.value("op", "");
    if (op == "ping") return reply(s, {{"ok", true}});
    if (op == "stats") return reply(s, stats());
    if (op == "signal") {
      int sig = req.value("signal", SIGTERM);
      if (main_.pid > 0 && kill(main_.pid, sig) != 0)
        return reply(s, {{"ok", false}, {"error", std::string("kill: ") + strerror(errno)}});
      return reply(s, {{"ok", true}});
    }
    if (op == "exec") {
      if (s.exec.pid > 0)
        return reply(s, {{"ok", false}, {"error", "an exec is running on this connection"}});
      ProcessSpec p = base_;
      try {
        p.args = req.at("args").get<std::vector<std::string>>();
        for (const auto& e : req.value("env", std::vector<std::string>{})) p.env.push_back(e);
        if (!req.value("cwd", "").empty()) p.cwd = req.value("cwd", "");
        if (req.contains("uid")) p.uid = req["uid"].get<uid_t>();
        if (req.contains("gid")) p.gid = req["gid"].get<gid_t>();
      } catch (const std::exception& e) {
        return reply(s, {{"ok", false}, {"error", std::string("bad exec request: ") + e.what()}});
      }
      auto r = spawn(p, req.value("stdin", false));
      if (!r)
        return reply(s, {{"ok", false}, {"error", std::string("cannot start process: ") + strerror(errno)}});
      s.exec = *r;
      return;
    }
    reply(s, {{"ok", false}, {"error", "unknown op " + op}});
  }

  // Reads what a pipe has; false at its end.
  bool drain(int& fd, const std::function<void(std::string_view)>& sink) {
    char buf[16384];
    for (;;) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n > 0) {
        sink(std::string_view(buf, static_cast<size_t>(n)));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return true;
      close(fd);
      fd = -1;
      return false;
    }
  }

  void finish_exec_if_done(Session& s) {
    if (s.exec.pid > 0 && s.exec_status && s.exec.out_r < 0 && s.exec.err_r < 0) {
      if (s.exec.in_w >= 0) close(s.exec.in_w);
      reply(s, {{"ok", true}, {"exit_code", *s.exec_status}});
      s.exec = {};
      s.exec_status.reset();
    }
  }

  void disconnect(Session& s) {
    s.connected = false;
    s.inbuf.clear();
    if (s.exec.pid > 0) kill(-s.exec.pid, SIGKILL);  // nobody reads its output any more
  }

  void loop() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    std::optional<int> main_status;
    for (;;) {
      std::vector<pollfd> fds;
      fds.push_back({sfd, POLLIN, 0});
      for (int fd : {main_.out_r, main_.err_r})
        if (fd >= 0) fds.push_back({fd, POLLIN, 0});
      bool any_idle = false;
      for (auto& s : sessions_) {
        for (int fd : {s.exec.out_r, s.exec.err_r})
          if (fd >= 0) fds.push_back({fd, POLLIN, 0});
        if (s.port >= 0 && !s.idle) fds.push_back({s.port, POLLIN, 0});
        any_idle = any_idle || s.idle;
      }
      int timeout = any_idle ? 20 : -1;  // a port without its host reads as closed: looked at again
      if (main_status) timeout = 20;     // output still draining
      int n = poll(fds.data(), fds.size(), timeout);
      if (n < 0 && errno != EINTR) break;
      signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == sizeof si) {
      }
      int status = 0;
      pid_t pid;
      while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid == main_.pid) main_status = wait_code(status);
        for (auto& s : sessions_)
          if (pid == s.exec.pid) s.exec_status = wait_code(status);
      }
      if (main_.out_r >= 0) drain(main_.out_r, [&](std::string_view d) { log_.write("stdout", d); });
      if (main_.err_r >= 0) drain(main_.err_r, [&](std::string_view d) { log_.write("stderr", d); });
      for (auto& s : sessions_) {
        if (s.exec.out_r >= 0) drain(s.exec.out_r, [&](std::string_view d) { send(s, 'O', d); });
        if (s.exec.err_r >= 0) drain(s.exec.err_r, [&](std::string_view d) { send(s, 'E', d); });
        finish_exec_if_done(s);
        s.idle = false;
        if (s.port >= 0) read_port(s);
      }
      if (main_status) {
        // Its output is read to the end (or given up on after 200 ms: a child kept the pipe).
        if (!main_done_at_) main_done_at_ = uptime();
        if ((main_.out_r < 0 && main_.err_r < 0) || uptime() - *main_done_at_ > 0.2) finish(*main_status);
      }
    }
    finish(255);
  }

  void read_port(Session& s) {
    char buf[65536];
    for (;;) {
      ssize_t n = read(s.port, buf, sizeof buf);
      if (n > 0) {
        s.connected = true;
        s.inbuf.append(buf, static_cast<size_t>(n));
        char type;
        std::string payload;
        bool bad = false;
        while (zl::vmproto::take_frame(s.inbuf, type, payload, bad)) handle(s, type, payload);
        if (bad) disconnect(s);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) {  // the host is not connected: look again in a moment
        if (s.connected) disconnect(s);
        s.idle = true;
      }
      return;
    }
  }

  ProcessSpec base_;
  Running main_;
  std::optional<double> main_done_at_;
  LogWriter log_;
  std::vector<Session> sessions_;
};

}  // namespace

int main() {
  if (getpid() != 1) {
    fprintf(stderr, "zlayer-vm-agent: runs as PID 1 of a zlayer micro-VM only\n");
    return 2;
  }
  Agent agent;
  return agent.run();
}
