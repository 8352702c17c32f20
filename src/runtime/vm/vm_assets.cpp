#include "runtime/vm/vm_assets.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "common/digest.h"

namespace zl::vm {

fs::path vm_cache_dir() {
  const char* env = std::getenv("ZLAYER_VM_CACHE");
  return env && *env ? fs::path(env) : fs::path("/var/cache/zlayer/vm");
}

void CpioWriter::entry(const std::string& name, unsigned mode, std::string_view data) {
  out_ += fmt::format("070701{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}",
                      ino_++, mode, 0, 0, 1, 0, data.size(), 0, 0, 0, 0, name.size() + 1, 0);
  out_ += name;
  out_.push_back('\0');
  out_.append((4 - out_.size() % 4) % 4, '\0');
  out_ += data;
  out_.append((4 - out_.size() % 4) % 4, '\0');
}

void CpioWriter::dir(const std::string& name, unsigned mode) {
  entry(name, 0040000 | mode, {});
}
void CpioWriter::file(const std::string& name, std::string_view data, unsigned mode) {
  entry(name, 0100000 | mode, data);
}
std::string CpioWriter::finish() {
  entry("TRAILER!!!", 0, {});
  return std::move(out_);
}

namespace {

fs::path agent_path() {
  if (const char* env = std::getenv("ZLAYER_VM_AGENT"); env && *env) return env;
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return self.parent_path() / "zlayer-vm-agent";
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Result<VmAssets> load_vm_assets() {
  fs::path dir = vm_cache_dir() / "current";
  std::error_code ec;
  if (!fs::exists(dir / "vmlinux", ec))
    return not_found("no micro-VM kernel in {}: run scripts/prepare-vm.sh (it extracts Debian's kernel once)",
                     dir.string());
  VmAssets a{.kernel = dir / "vmlinux"};
  ZL_TRY_ASSIGN(auto release, read_file(dir / "release"));
  a.release = trimmed(release);
  fs::path agent = agent_path();
  auto agent_bin = read_file(agent);
  if (!agent_bin)
    return not_found(
        "the guest agent {} is missing (build the zlayer-vm-agent target, or set ZLAYER_VM_AGENT)",
        agent.string());
  ZL_TRY_ASSIGN(auto order, read_file(dir / "modules.load"));

  CpioWriter cpio;
  for (const char* d : {"dev", "proc", "sys", "run", "run/root", "run/zl", "run/debug", "modules"})
    cpio.dir(d);
  cpio.file("init", *agent_bin, 0755);
  cpio.file("modules.load", order);
  std::istringstream names(order);
  std::string name;
  while (std::getline(names, name)) {
    if (name.empty()) continue;
    ZL_TRY_ASSIGN(auto ko, read_file(dir / "modules" / (name + ".ko")));
    cpio.file("modules/" + name + ".ko", ko);
  }
  std::string archive = cpio.finish();
  Digest digest = sha256_of(archive);
  std::string hex(digest.hex().substr(0, 16));
  a.initramfs = dir / ("initramfs-" + hex + ".cpio");
  if (!fs::exists(a.initramfs, ec)) ZL_TRY(write_file_atomic(a.initramfs, archive, 0644));
  return a;
}

}  // namespace zl::vm
