// Two runc commands that zlayer does itself, each saving a Go process start (~8 ms here) per
// container: starting a created container (a read of a fifo) and deleting a stopped one (a few
// rmdirs and its state dir). Both follow runc 1.1's own steps (libcontainer's exec() and destroy())
// and answer false whenever the container is not in the shape they handle: the caller then runs
// `runc start` / `runc delete` as before (a delete may have removed some empty cgroups first,
// which runc's own delete takes as already gone). Only for runc: crun's
// fifo goes the other way and its state is kept differently.
#pragma once

#include <sys/types.h>

#include "common/error.h"
#include "common/fs.h"

namespace zl {

// `runc start` of a created container: its runc init waits, blocked opening
// <container state dir>/exec.fifo for writing, for a reader; it then writes "0" and execs the
// process, whose exec closes that end. Reading the fifo to its end and removing it is all runc
// start does. `init_pid` is the container's init (its pid file). false: there is no runc fifo to
// read (started already, or not runc's state dir); an error when the init died before it wrote.
Result<bool> runc_start_direct(const fs::path& container_state_dir, pid_t init_pid);

// `runc delete` of a stopped container: the cgroup dirs that state.json lists are removed, then
// the state dir. false when runc has more to do than that: its init still lives, hooks or Intel
// RDT are configured, the PID namespace is not its own (processes may outlive the init), or a
// cgroup is not empty or has children (runc kills, retries and removes those).
Result<bool> runc_delete_stopped_direct(const fs::path& container_state_dir);

}  // namespace zl
