// Layer tars: any blob (plain, gzip or zstd tar) unpacks into its scratch directory or is
// refused, and nothing is ever written beside it. The directory holding the scratch dir is the
// canary: after every input it must hold the scratch dir alone.
#include <sys/mman.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "common/fs.h"
#include "fuzz/fuzz_check.h"
#include "store/layer_unpack.h"

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fs::path base = [] {
    char tmpl[] = "/tmp/zl-layer-fuzz-XXXXXX";
    return fs::path(::mkdtemp(tmpl));
  }();
  fs::path cage = base / "cage", dest = cage / "dest";
  std::error_code ec;
  fs::remove_all(cage, ec);
  fs::create_directories(dest);

  zl::UniqueFd blob(::memfd_create("layer", MFD_CLOEXEC));
  ZL_FUZZ_CHECK(blob && ::write(blob.get(), data, size) == static_cast<ssize_t>(size), "memfd");
  ::lseek(blob.get(), 0, SEEK_SET);
  (void)zl::unpack_layer(blob.get(), dest);

  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(cage)) {
    ZL_FUZZ_CHECK(e.path() == dest, "nothing is written beside the layer's directory");
    ++entries;
  }
  ZL_FUZZ_CHECK(entries == 1, "the layer's directory is still there");
  ZL_FUZZ_CHECK(fs::is_directory(fs::symlink_status(dest)), "the layer's directory is still a directory");
  fs::remove_all(cage, ec);
  return 0;
}
