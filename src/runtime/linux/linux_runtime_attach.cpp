// LinuxRuntime::attach_container: a container's stdio through its conmon's attach socket, and
// when asked the container started (or run again) once connected, so none of its output is missed.
#include "runtime/linux/linux_runtime.h"

#include "runtime/vm/vm_runtime.h"

namespace zl {

Status LinuxRuntime::prepare_to_start(const std::string& id) {
  ZL_TRY_ASSIGN(auto lock, containers_.lock(id));
  ZL_TRY_ASSIGN(auto c, info(id));
  if (c.status != ContainerStatus::exited) return {};
  ZL_TRY_ASSIGN(auto st, containers_.load_state(id));
  ZL_TRY(recreate_locked(c, st));
  return containers_.save_state(id, st);
}

Status LinuxRuntime::attach_container(const std::string& ref, AttachIo io, bool start) {
  ZL_TRY_ASSIGN(ConmonRuntime * d, driver());
  ZL_TRY_ASSIGN(auto id, containers_.resolve(ref));
  if (start) ZL_TRY(prepare_to_start(id));
  ZL_TRY_ASSIGN(auto c, info(id));
  if (c.status == ContainerStatus::exited)
    return conflict("cannot attach to container {}: it has exited: start it first", c.name);
  if (vm::is_vm(c.spec)) {
    std::function<Status()> boot;
    if (start) boot = [this, &id] { return start_container(id); };
    return vm::VmRuntime(root_ / "vms").attach(id, io, boot, [this, &id] {
      auto now = info(id);
      return !now || now->status == ContainerStatus::exited;
    });
  }
  io.tty = c.spec.tty;
  if (!c.spec.open_stdin) io.in_fd = -1;
  std::function<Status()> then;
  if (start) then = [this, &id] { return start_container(id); };
  return d->attach(containers_.paths(id), io, then).map_error([&](Error e) {
    return std::move(e).wrap("attach to container " + c.name);
  });
}

}  // namespace zl
