#include "common/failpoint.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

namespace zl::failpoint_detail {
namespace {

struct Armed {
  std::mutex mu;
  std::map<std::string, long, std::less<>> remaining;  // name -> passes left before it fires
};

const char* env() {
  const char* v = std::getenv("ZLAYER_FAILPOINTS");
  return v && *v ? v : nullptr;
}

Armed& armed() {
  static Armed* a = [] {
    auto* a = new Armed;  // never destroyed: a point may be passed while the process exits
    std::string list = env() ? env() : "";
    size_t start = 0;
    while (start <= list.size()) {
      size_t comma = list.find(',', start);
      std::string item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      start = comma == std::string::npos ? list.size() + 1 : comma + 1;
      if (item.empty()) continue;
      long nth = 1;
      if (auto at = item.find('@'); at != std::string::npos) {
        nth = std::strtol(item.c_str() + at + 1, nullptr, 10);
        item.resize(at);
        if (nth < 1) nth = 1;
      }
      a->remaining[item] = nth;
    }
    return a;
  }();
  return *a;
}

}  // namespace

const bool kArmed = env() != nullptr;

void hit(std::string_view name) {
  Armed& a = armed();
  {
    std::lock_guard lock(a.mu);
    auto it = a.remaining.find(name);
    if (it == a.remaining.end() || --it->second > 0) return;
  }
  std::string msg = "zlayer: failpoint " + std::string(name) + " hit\n";
  (void)!::write(STDERR_FILENO, msg.data(), msg.size());
  ::raise(SIGKILL);
  ::_exit(137);  // not reached
}

}  // namespace zl::failpoint_detail
