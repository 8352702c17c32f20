// Persistent network namespaces: a fresh namespace kept alive by a bind mount of its nsfs file
// on `path` (as `ip netns add` does under /run/netns), so that CNI plugins and the container's
// OCI config can name it by path and it outlives the process that made it. Its lo is up.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <utility>

#include "common/error.h"

namespace zl::net {

class NetNs {
 public:
  // A new namespace bound on `path` (created; its parent must exist). already_exists when a
  // namespace is bound there already.
  static Result<NetNs> create(const std::filesystem::path& path);
  NetNs(NetNs&& o) noexcept : path_(std::exchange(o.path_, {})) {}
  NetNs& operator=(NetNs&&) = delete;
  NetNs(const NetNs&) = delete;
  ~NetNs();

  const std::filesystem::path& path() const { return path_; }
  // Keeps the namespace: the caller (a container's record) owns it now.
  std::filesystem::path release() { return std::exchange(path_, {}); }

 private:
  explicit NetNs(std::filesystem::path p) : path_(std::move(p)) {}
  std::filesystem::path path_;
};

// Unmounts and deletes a namespace made by NetNs::create. A missing or unmounted file is success.
Status remove_netns(const std::filesystem::path& path);
// True when a namespace is bound on `path` (it is an nsfs mount).
bool netns_mounted(const std::filesystem::path& path);

// Runs `fn` on a short-lived thread that has joined the network namespace at `ns_file` (a
// bound namespace, or /proc/<pid>/ns/net); the calling thread stays where it is.
Status run_in_netns(const std::filesystem::path& ns_file, const std::function<Status()>& fn);

}  // namespace zl::net
