// Network probes of a container's health, made from inside its network namespace (so they work
// whatever its network mode, as a check by the container itself would): a TCP connect, or an
// HTTP GET that must answer 2xx/3xx. Each probe runs on a short-lived thread that joins the
// namespace; the daemon's own threads never change namespace.
#pragma once

#include <chrono>
#include <string>

#include "common/error.h"

namespace zl {

// Connects to 127.0.0.1:port in the netns of process `pid`. unavailable when refused or timed out.
// With `vm_address` (a container of isolation: vm, whose service answers on its own address, not
// on the loopback of the namespace its qemu runs in): to that address, from our namespace.
Status probe_tcp(int pid, int port, std::chrono::milliseconds timeout, const std::string& vm_address = {});

// GET `path` from 127.0.0.1:port in the netns of `pid`; ok for 2xx and 3xx (or, when
// `expect_status` is not 200, exactly that status), else an error naming the status. `url` may be
// a full "http://host:port/path" (host is sent as Host:, the connection goes to 127.0.0.1) or
// just a path with `port` given.
Status probe_http(int pid, const std::string& url, int default_port, int expect_status,
                  std::chrono::milliseconds timeout, const std::string& vm_address = {});

}  // namespace zl
