// LayerStore: layers/sha256/<hex>/{fs/,layer.json}. A layer is unpacked into a locked scratch
// dir under layers/tmp, its diff-id checked, synced, then renamed into place in one step.
#include "store/layer_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include <nlohmann/json.hpp>

#include "common/failpoint.h"
#include "store/layer_unpack.h"
#include "store/scratch_dir.h"

namespace zl {
namespace {

constexpr const char* kMetaFile = "layer.json";

fs::path layers_by_digest(const fs::path& root) {
  return root / "layers" / "sha256";
}
fs::path layer_home(const fs::path& root, const Digest& d) {
  return layers_by_digest(root) / std::string(d.hex());
}
ScratchDir scratch(const fs::path& root) {
  return ScratchDir(root / "layers" / "tmp");
}

// Opens the blob and locks it, so two processes (or threads) never unpack it at the same time.
Result<UniqueFd> open_locked(const fs::path& blob) {
  UniqueFd fd(::open(blob.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd && errno == ENOENT) return not_found("layer blob {} not found", blob.string());
  if (!fd) return errno_error(errno, "open layer blob " + blob.string());
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return errno_error(errno, "lock layer blob " + blob.string());
  }
  return fd;
}

Status write_meta(const fs::path& dir, const UnpackStats& stats) {
  nlohmann::json meta = {{"diff_id", stats.diff_id.str()},
                         {"size", stats.size},
                         {"entries", stats.entries},
                         {"unpacked_unix", static_cast<int64_t>(std::time(nullptr))}};
  return write_file_atomic(dir / kMetaFile, meta.dump() + "\n");
}

uint64_t read_size(const fs::path& home) {
  if (auto text = read_file(home / kMetaFile)) {
    auto meta = nlohmann::json::parse(*text, nullptr, false);
    if (meta.is_object() && meta.contains("size") && meta["size"].is_number_unsigned())
      return meta["size"].get<uint64_t>();
  }
  return tree_size(home / "fs");
}

// Unpacks into work/fs and checks the diff-id; nothing is committed here.
Status unpack_verified(int blob_fd, const fs::path& blob, const fs::path& work, const Digest& expected) {
  if (::mkdir((work / "fs").c_str(), 0755) != 0)
    return errno_error(errno, "create " + (work / "fs").string());
  ZL_TRY_ASSIGN(UnpackStats stats, unpack_layer(blob_fd, work / "fs"));
  if (stats.diff_id != expected)
    return corrupt("layer blob {} is corrupt: its uncompressed content hashes to {}, expected diff-id {}",
                   blob.filename().string(), stats.diff_id.str(), expected.str());
  return write_meta(work, stats);
}

}  // namespace

LayerStore::LayerStore(fs::path root) : root_(std::move(root)) {}

Status LayerStore::init() {
  ZL_TRY(make_dirs(layers_by_digest(root_)));
  return scratch(root_).init();
}

fs::path LayerStore::layer_dir(const Digest& diff_id) const {
  return layer_home(root_, diff_id) / "fs";
}

bool LayerStore::has(const Digest& diff_id) const {
  struct stat st {};
  return ::stat((layer_home(root_, diff_id) / kMetaFile).c_str(), &st) == 0;
}

Status LayerStore::ensure_unpacked(const fs::path& blob, const Digest& expected_diff_id) {
  if (has(expected_diff_id)) return {};
  auto context = [&](Error e) {
    return tl::unexpected(std::move(e).wrap("unpack layer " + expected_diff_id.str()));
  };
  auto fd = open_locked(blob);
  if (!fd) return context(fd.error());
  if (has(expected_diff_id)) return {};  // unpacked by whoever held the lock before us
  auto work = scratch(root_).create_dir(std::string(expected_diff_id.hex().substr(0, 12)) + "-");
  if (!work) return context(work.error());
  if (auto st = unpack_verified(fd->get(), blob, work->dir.path(), expected_diff_id); !st)
    return context(st.error());
  if (::syncfs(work->lock.get()) != 0) return context(errno_error(errno, "sync unpacked layer").value());
  ZL_FAILPOINT("layer.unpack.before-commit");
  auto st = work->dir.commit_as(layer_home(root_, expected_diff_id));
  if (!st && st.error().kind == ErrorKind::already_exists) return {};  // same diff-id from another blob
  return st;
}

Status LayerStore::remove(const Digest& diff_id) {
  fs::path home = layer_home(root_, diff_id);
  ZL_TRY_ASSIGN(auto work, scratch(root_).create_dir("rm-"));
  if (::rename(home.c_str(), (work.dir.path() / "layer").c_str()) != 0) {
    if (errno == ENOENT) return not_found("layer {} not found", diff_id.str());
    return errno_error(errno, "remove layer " + diff_id.str());
  }
  ZL_TRY(fsync_dir(layers_by_digest(root_)));
  return remove_tree(work.dir.path() / "layer");
}

Result<std::vector<LayerInfo>> LayerStore::list() const {
  std::vector<LayerInfo> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(layers_by_digest(root_), ec)) {
    auto d = Digest::parse("sha256:" + e.path().filename().string());
    if (d && has(*d)) out.push_back(LayerInfo{*d, read_size(e.path())});
  }
  if (ec && ec != std::errc::no_such_file_or_directory)
    return io("list layers in {}: {}", layers_by_digest(root_).string(), ec.message());
  std::sort(out.begin(), out.end(),
            [](const LayerInfo& a, const LayerInfo& b) { return a.diff_id < b.diff_id; });
  return out;
}

}  // namespace zl
