// Single-pass layer unpack: an outer libarchive reader (gzip/zstd filters, "raw" format) yields
// the uncompressed tar bytes, which are hashed (diff-id) and fed to an inner tar reader whose
// entries LayerTree writes beneath the destination.
#include "store/layer_unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <tuple>
#include <vector>

#include "store/archive_stream.h"
#include "store/layer_tree.h"

namespace zl {
namespace {

constexpr size_t kReadBuffer = size_t{1} << 20;
constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kMetaPrefix = ".wh..wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";

using ArchivePtr = std::unique_ptr<archive, int (*)(archive*)>;

std::string archive_message(archive* a) {
  const char* s = archive_error_string(a);
  return s ? s : "unknown error";
}

// The blob's bytes -> uncompressed tar bytes, hashed as they pass to the tar reader.
class TarStream {
 public:
  explicit TarStream(ReadFn read) : reader_(std::move(read), kReadBuffer), outer_(archive_read_new(), archive_read_free) {}

  Status open() {
    archive* a = outer_.get();
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_zstd(a);
    archive_read_support_format_raw(a);
    archive_entry* e = nullptr;
    if (archive_read_open(a, &reader_, nullptr, &ArchiveReader::read, nullptr) != ARCHIVE_OK ||
        archive_read_next_header(a, &e) < ARCHIVE_WARN)
      return corrupt("cannot decompress layer: {}", archive_message(a));
    return {};
  }

  // libarchive read callback of the inner (tar) reader.
  static la_ssize_t tar_read(archive*, void* self, const void** buf) {
    return static_cast<TarStream*>(self)->next(buf);
  }

  // Hashes what the tar reader left unread (end-of-archive padding) and returns the diff-id.
  Result<Digest> finish() {
    const void* buf = nullptr;
    while (next(&buf) > 0) {
    }
    if (error_) return tl::unexpected(*error_);
    return hash_.finish();
  }

  const std::optional<Error>& error() const { return error_; }

 private:
  la_ssize_t next(const void** buf) {
    while (!eof_) {
      size_t size = 0;
      la_int64_t offset = 0;
      int r = archive_read_data_block(outer_.get(), buf, &size, &offset);
      if (r == ARCHIVE_EOF) break;
      if (r < ARCHIVE_WARN) {
        error_ = Error{ErrorKind::corrupt, "cannot decompress layer: " + archive_message(outer_.get())};
        return ARCHIVE_FATAL;
      }
      if (size == 0) continue;
      hash_.update(*buf, size);
      return static_cast<la_ssize_t>(size);
    }
    eof_ = true;
    return 0;
  }

  ArchiveReader reader_;
  ArchivePtr outer_;
  Sha256 hash_;
  std::optional<Error> error_;
  bool eof_ = false;
};

std::string text_or(const char* mbs, const char* utf8) {
  if (mbs) return mbs;      // raw bytes as stored (ustar/gnu)
  return utf8 ? utf8 : "";  // pax UTF-8 the C locale could not convert
}

Result<EntryMeta> entry_meta(archive_entry* e) {
  la_int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);
  constexpr la_int64_t kMaxId = std::numeric_limits<uint32_t>::max() - 1;
  if (uid < 0 || gid < 0 || uid > kMaxId || gid > kMaxId)
    return invalid_argument("owner {}:{} is out of range", uid, gid);
  EntryMeta m;
  m.uid = static_cast<uid_t>(uid);
  m.gid = static_cast<gid_t>(gid);
  m.perm = archive_entry_perm(e) & 07777;
  if (archive_entry_mtime_is_set(e)) m.mtime = {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
  m.atime =
      archive_entry_atime_is_set(e) ? timespec{archive_entry_atime(e), archive_entry_atime_nsec(e)} : m.mtime;
  archive_entry_xattr_reset(e);
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    m.xattrs.emplace_back(name, std::string(static_cast<const char*>(value), size));
  }
  return m;
}

Status pwrite_all(int fd, const void* data, size_t n, off_t offset) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, n, offset);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return errno_error(errno, "write");
    p += w;
    n -= static_cast<size_t>(w);
    offset += w;
  }
  return {};
}

// Writes the entries of the inner tar reader through a LayerTree.
class EntryWriter {
 public:
  // `whiteouts`: OCI whiteouts become overlayfs ones (image layers).
  EntryWriter(archive* tar, const TarStream& stream, LayerTree& tree, UnpackStats& stats, bool whiteouts,
              const TarExtractOptions& opts)
      : tar_(tar), stream_(stream), tree_(tree), stats_(stats), whiteouts_(whiteouts), opts_(opts) {}

  Status apply(archive_entry* e) {
    std::string name = text_or(archive_entry_pathname(e), archive_entry_pathname_utf8(e));
    auto st = apply_named(e, name);
    if (st) return {};
    std::string_view verb = st.error().kind == ErrorKind::invalid_argument ? "refused" : "unpack";
    std::string_view noun = whiteouts_ ? "layer entry" : "archive entry";
    return tl::unexpected(std::move(st).error().wrap(fmt::format("{} {} \"{}\"", verb, noun, name)));
  }

  // The error for a failed read of the tar stream: a decompression failure, else a bad header
  // (not a tar: invalid_argument) or bad data (truncated: corrupt).
  Error read_error(ErrorKind kind) const {
    if (stream_.error()) return *stream_.error();
    std::string_view what = kind == ErrorKind::corrupt ? "is truncated" : "is not a valid tar archive";
    return Error{kind, fmt::format("layer {}: {}", what, archive_message(tar_))};
  }

 private:
  Status apply_named(archive_entry* e, const std::string& name) {
    ZL_TRY_ASSIGN(EntryPath path, parse_entry_path(name));
    ZL_TRY_ASSIGN(EntryMeta meta, entry_meta(e));
    if (opts_.owner) std::tie(meta.uid, meta.gid) = *opts_.owner;
    mode_t type = archive_entry_filetype(e);
    const char* hardlink = archive_entry_hardlink(e);
    if (!hardlink) hardlink = archive_entry_hardlink_utf8(e);
    if (path.is_root() && (type != AE_IFDIR || hardlink))
      return invalid_argument("the layer root must be a directory");
    if (whiteouts_ && in_aufs_meta_dir(path)) return {};
    if (whiteouts_ && !path.is_root() && path.leaf().starts_with(kWhiteoutPrefix)) return apply_whiteout(path, meta);
    if (hardlink) {
      auto target = parse_entry_path(hardlink);
      if (!target) return invalid_argument("hardlink target \"{}\": {}", hardlink, target.error().message);
      return tree_.make_hardlink(path, *target);
    }
    switch (type) {
      case AE_IFREG:
        return write_file(e, path, meta);
      case AE_IFDIR:
        return tree_.make_dir(path, meta);
      case AE_IFLNK:
        return tree_.make_symlink(path, text_or(archive_entry_symlink(e), archive_entry_symlink_utf8(e)),
                                  meta);
      case AE_IFCHR:
      case AE_IFBLK: {
        dev_t dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
        return tree_.make_node(path, type == AE_IFCHR ? S_IFCHR : S_IFBLK, dev, meta);
      }
      case AE_IFIFO:
        return tree_.make_node(path, S_IFIFO, 0, meta);
      default:
        return invalid_argument("unsupported entry type {:o}", type);
    }
  }

  // Entries inside AUFS metadata dirs (".wh..wh.plnk/...") carry nothing for overlayfs.
  static bool in_aufs_meta_dir(const EntryPath& p) {
    return std::any_of(p.parts.begin(), p.parts.end() - (p.parts.empty() ? 0 : 1),
                       [](const std::string& part) { return part.starts_with(kMetaPrefix); });
  }

  Status apply_whiteout(const EntryPath& path, const EntryMeta& meta) {
    std::string_view leaf = path.leaf();
    EntryPath target = path;
    target.parts.pop_back();
    if (leaf == kOpaqueMarker) return tree_.make_opaque(target);
    if (leaf.starts_with(kMetaPrefix)) return {};  // other AUFS metadata (.wh..wh.plnk, .wh..wh.aufs)
    std::string_view name = leaf.substr(kWhiteoutPrefix.size());
    if (name.empty() || name == "." || name == "..") return invalid_argument("whiteout names \"{}\"", name);
    target.parts.emplace_back(name);
    return tree_.make_whiteout(target, meta);
  }

  Status write_file(archive_entry* e, const EntryPath& path, const EntryMeta& meta) {
    ZL_TRY_ASSIGN(UniqueFd fd, tree_.create_file(path));
    int64_t size = archive_entry_size(e);
    int64_t end = 0;
    for (;;) {
      const void* buf = nullptr;
      size_t n = 0;
      la_int64_t offset = 0;
      int r = archive_read_data_block(tar_, &buf, &n, &offset);
      if (r == ARCHIVE_EOF) break;
      if (r < ARCHIVE_WARN) return tl::unexpected(read_error(ErrorKind::corrupt));
      ZL_TRY(pwrite_all(fd.get(), buf, n, offset));
      end = std::max<int64_t>(end, offset + static_cast<int64_t>(n));
    }
    if (end < size && ::ftruncate(fd.get(), size) != 0) return errno_error(errno, "truncate");  // sparse tail
    ZL_TRY(tree_.finish_file(fd.get(), path, meta));
    stats_.size += static_cast<uint64_t>(std::max<int64_t>(size, 0));
    return {};
  }

  archive* tar_;
  const TarStream& stream_;
  LayerTree& tree_;
  UnpackStats& stats_;
  bool whiteouts_;
  const TarExtractOptions& opts_;
};

// The engine: one pass over the (compressed) tar from `read`, its entries through `tree`.
Result<UnpackStats> unpack_stream(ReadFn read, LayerTree& tree, bool whiteouts, const TarExtractOptions& opts) {
  TarStream stream(std::move(read));
  ZL_TRY(stream.open());
  ArchivePtr tar(archive_read_new(), archive_read_free);
  archive_read_support_format_tar(tar.get());
  UnpackStats stats{.diff_id = Digest::from_hex(std::string(64, '0'))};
  EntryWriter writer(tar.get(), stream, tree, stats, whiteouts, opts);
  if (archive_read_open(tar.get(), &stream, nullptr, &TarStream::tar_read, nullptr) != ARCHIVE_OK)
    return tl::unexpected(writer.read_error(ErrorKind::invalid_argument));
  for (;;) {
    archive_entry* e = nullptr;
    int r = archive_read_next_header(tar.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return tl::unexpected(writer.read_error(ErrorKind::invalid_argument));
    ZL_TRY(writer.apply(e));
    ++stats.entries;
  }
  ZL_TRY(tree.finish());
  ZL_TRY_ASSIGN(stats.diff_id, stream.finish());
  return stats;
}

}  // namespace

Result<UnpackStats> unpack_layer(int blob_fd, const fs::path& dest) {
  ::posix_fadvise(blob_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  ZL_TRY_ASSIGN(LayerTree tree, LayerTree::open(dest));
  auto read = [blob_fd](char* buf, size_t n) -> Result<size_t> {
    for (;;) {
      ssize_t got = ::read(blob_fd, buf, n);
      if (got >= 0) return static_cast<size_t>(got);
      if (errno != EINTR) return errno_error(errno, "read layer blob");
    }
  };
  return unpack_stream(read, tree, true, TarExtractOptions{});
}

Result<UnpackStats> unpack_layer(const fs::path& blob, const fs::path& dest) {
  UniqueFd fd(::open(blob.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return errno_error(errno, "open layer blob " + blob.string());
  return unpack_layer(fd.get(), dest);
}

Result<UnpackStats> extract_tar(const ReadFn& read, LayerTree& tree, const TarExtractOptions& opts) {
  return unpack_stream(read, tree, false, opts);
}

}  // namespace zl
