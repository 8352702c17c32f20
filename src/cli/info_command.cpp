// `zlayer info`: what this host runs containers with — the OCI runtime, and for isolation: vm
// the micro-VM kernel and the accelerator (kvm or tcg) with the reason it was chosen.
#include <iostream>

#include "cli/commands.h"
#include "runtime/linux/linux_runtime.h"
#include "runtime/vm/vm_runtime.h"

namespace zl::cli {

void add_info_command(CLI::App& app, Context& ctx) {
  auto* c = app.add_subcommand("info", "Show how this host runs containers (OCI runtime, VM accelerator)");
  c->callback(run([&ctx]() -> Result<int> {
    ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
    auto oci = rt->oci_runtime();
    std::cout << "OCI runtime: " << (oci ? oci->name + " (" + oci->reason + ")" : oci.error().message)
              << "\n";
    auto assets = vm::load_vm_assets();
    if (!assets) {
      std::cout << "VM isolation: unavailable: " << assets.error().message << "\n";
      return 0;
    }
    auto accel = vm::select_accelerator(*assets);
    std::cout << "VM kernel: " << assets->release << " (" << assets->kernel.string() << ")\n";
    std::cout << "VM accelerator: " << accel.name << " (" << accel.reason << ")\n";
    return 0;
  }));
}

}  // namespace zl::cli
