// What a micro-VM boots: the kernel scripts/prepare-vm.sh extracted (an uncompressed PVH
// vmlinux of Debian's linux-image-amd64, with the modules the guest needs) and an initramfs
// made here at first use from those modules and zlayer's guest agent (guest/agent.cpp), cached
// beside the kernel under a name that is the digest of its content.
#pragma once

#include <string>

#include "common/error.h"
#include "common/fs.h"

namespace zl::vm {

struct VmAssets {
  fs::path kernel;      // vmlinux
  fs::path initramfs;   // newc cpio: /init (the agent), /modules/*.ko, /modules.load
  std::string release;  // the kernel's `uname -r`
};

// $ZLAYER_VM_CACHE or /var/cache/zlayer/vm.
fs::path vm_cache_dir();

// The prepared kernel (cache/current) and its initramfs, made now if missing. The agent is
// $ZLAYER_VM_AGENT, else zlayer-vm-agent beside our own executable. not_found (saying to run
// scripts/prepare-vm.sh) when the kernel was never prepared.
Result<VmAssets> load_vm_assets();

// A newc cpio archive (what the kernel unpacks as its initramfs).
class CpioWriter {
 public:
  void dir(const std::string& name, unsigned mode = 0755);
  void file(const std::string& name, std::string_view data, unsigned mode = 0644);
  // The trailer; the archive is complete.
  std::string finish();

 private:
  void entry(const std::string& name, unsigned mode, std::string_view data);
  std::string out_;
  unsigned ino_ = 1;
};

}  // namespace zl::vm
