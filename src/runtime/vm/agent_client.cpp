#include "runtime/vm/agent_client.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "runtime/vm/guest/protocol.h"
#include "runtime/vm/qemu.h"

namespace zl::vm {

using namespace std::chrono_literals;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

Result<UniqueFd> dial_unix(const fs::path& dir, const std::string& name) {
  UniqueFd dfd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dfd) return unavailable("open {}: {}", dir.string(), strerror(errno));
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return io("socket: {}", strerror(errno));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string p = "/proc/self/fd/" + std::to_string(dfd.get()) + "/" + name;
  if (p.size() >= sizeof addr.sun_path) return invalid_argument("socket path {} is too long", p);
  std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return unavailable("connect to {}: {}", (dir / name).string(), strerror(errno));
  return fd;
}

Status qmp_command(const fs::path& dir, const std::string& command) {
  ZL_TRY_ASSIGN(auto fd, dial_unix(dir, "qmp.sock"));
  std::string buf;
  // Lines of JSON: the greeting, then an answer to each command (events may come between).
  auto answer = [&]() -> Result<json> {
    char chunk[4096];
    for (;;) {
      for (size_t nl; (nl = buf.find('\n')) != std::string::npos;) {
        std::string line = buf.substr(0, nl);
        buf.erase(0, nl + 1);
        json j = json::parse(line, nullptr, false);
        if (j.is_discarded() || j.contains("event")) continue;
        return j;
      }
      pollfd p{fd.get(), POLLIN, 0};
      if (::poll(&p, 1, 5000) <= 0) return unavailable("qemu's monitor in {} does not answer", dir.string());
      ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
      if (n <= 0) return unavailable("qemu's monitor in {} hung up", dir.string());
      buf.append(chunk, static_cast<size_t>(n));
    }
  };
  ZL_TRY(answer());  // {"QMP": ...}
  for (const std::string& c : {std::string("qmp_capabilities"), command}) {
    ZL_TRY(write_all(fd.get(), json{{"execute", c}}.dump() + "\n", "qemu's monitor"));
    ZL_TRY_ASSIGN(auto j, answer());
    if (j.contains("error"))
      return unavailable("qemu {}: {}", c, j["error"].value("desc", j["error"].dump()));
  }
  return {};
}

Result<AgentClient> AgentClient::connect(const fs::path& dir, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  // A free port: its lock file taken without waiting; all busy, looked at again in a moment.
  UniqueFd lock;
  int port = -1;
  while (!lock) {
    for (int i = 0; i < kAgentPorts && !lock; ++i) {
      UniqueFd f(::open((dir / fmt::format("agent.{}.lock", i)).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
      if (!f) return io("open the agent's lock in {}: {}", dir.string(), strerror(errno));
      if (::flock(f.get(), LOCK_EX | LOCK_NB) == 0) {
        lock = std::move(f);
        port = i;
      }
    }
    if (lock) break;
    if (Clock::now() >= deadline)
      return unavailable("every channel to the VM's agent in {} is busy", dir.string());
    std::this_thread::sleep_for(20ms);
  }
  std::string last;
  for (;;) {  // the socket shows once qemu is up
    auto fd = dial_unix(dir, agent_socket_name(port));
    if (fd) {
      AgentClient c(std::move(lock), std::move(*fd));
      // The guest sees what we send once the agent has opened its port (qemu holds it until
      // then); a ping is repeated until one is answered.
      for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left <= 0ms) return unavailable("the VM's agent in {} does not answer", dir.string());
        auto pong =
            c.call_streaming(json{{"op", "ping"}}, {}, -1, std::min<std::chrono::milliseconds>(left, 250ms));
        if (pong) return c;
        if (pong.error().message.find("in time") == std::string::npos)
          return tl::unexpected(pong.error().wrap("reach the VM's agent"));
      }
    }
    last = fd.error().message;
    if (Clock::now() >= deadline)
      return unavailable("the VM's agent in {} does not answer: {}", dir.string(), last);
    std::this_thread::sleep_for(20ms);
  }
}

Status AgentClient::send(char type, std::string_view payload) {
  return write_all(fd_.get(), vmproto::frame(type, payload), "the VM's agent channel");
}

Result<json> AgentClient::call(const json& request) {
  return call_streaming(request, [](char, std::string_view) -> Status { return {}; });
}

Result<json> AgentClient::call_streaming(const json& request,
                                         const std::function<Status(char, std::string_view)>& on_output,
                                         int stdin_fd, std::optional<std::chrono::milliseconds> timeout) {
  json req = request;
  uint64_t id = next_id_++;
  req["id"] = id;
  ZL_TRY(send('J', req.dump()));
  std::optional<Clock::time_point> deadline;
  if (timeout) deadline = Clock::now() + *timeout;
  char chunk[65536];
  for (;;) {
    char type;
    std::string payload;
    bool bad = false;
    while (vmproto::take_frame(buf_, type, payload, bad)) {
      if (type == 'J') {
        json j;
        try {
          j = json::parse(payload);
        } catch (const std::exception& e) {
          return io("the VM's agent sent a bad answer: {}", e.what());
        }
        if (j.value("id", uint64_t{0}) != id) continue;  // the answer to an earlier ping
        if (!j.value("ok", false))
          return unavailable("the VM's agent: {}", j.value("error", "request failed"));
        return j;
      }
      if (on_output) ZL_TRY(on_output(type, payload));
    }
    if (bad) return io("the VM's agent channel is out of step (bad frame)");
    pollfd p[2] = {{fd_.get(), POLLIN, 0}, {stdin_fd, POLLIN, 0}};
    int wait_ms = -1;
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
      if (left <= 0) return unavailable("the VM's agent did not answer in time");
      wait_ms = static_cast<int>(left);
    }
    int n = ::poll(p, stdin_fd >= 0 ? 2 : 1, wait_ms);
    if (n < 0 && errno != EINTR) return io("poll: {}", strerror(errno));
    if (stdin_fd >= 0 && (p[1].revents & (POLLIN | POLLHUP))) {
      ssize_t r = ::read(stdin_fd, chunk, sizeof chunk);
      if (r <= 0) {
        ZL_TRY(send('I', {}));
        stdin_fd = -1;
      } else {
        ZL_TRY(send('I', std::string_view(chunk, static_cast<size_t>(r))));
      }
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = ::read(fd_.get(), chunk, sizeof chunk);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return unavailable("the VM's agent hung up (the VM stopped?)");
      buf_.append(chunk, static_cast<size_t>(r));
    }
  }
}

}  // namespace zl::vm
