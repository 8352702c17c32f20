// Builds layer tars in memory for the store tests with libarchive's writer (pax format), and
// compresses them (gzip, zstd) so a test knows both the blob and its diff-id.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <locale.h>
#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace zl::test {

struct TarEntry {
  std::string path;
  unsigned type = AE_IFREG;
  unsigned perm = 0644;
  int64_t uid = 0;
  int64_t gid = 0;
  std::string data;
  std::string symlink;
  std::string hardlink;
  unsigned rdev_major = 0;
  unsigned rdev_minor = 0;
  int64_t mtime = 1700000000;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

inline TarEntry file(std::string path, std::string data, unsigned perm = 0644) {
  return {.path = std::move(path), .perm = perm, .data = std::move(data)};
}
inline TarEntry dir(std::string path, unsigned perm = 0755) {
  return {.path = std::move(path), .type = AE_IFDIR, .perm = perm};
}
inline TarEntry symlink(std::string path, std::string target) {
  return {.path = std::move(path), .type = AE_IFLNK, .perm = 0777, .symlink = std::move(target)};
}
inline TarEntry hardlink(std::string path, std::string target) {
  return {.path = std::move(path), .hardlink = std::move(target)};
}
inline TarEntry device(std::string path, unsigned type, unsigned major, unsigned minor) {
  return {.path = std::move(path), .type = type, .perm = 0666, .rdev_major = major, .rdev_minor = minor};
}
inline TarEntry fifo(std::string path) {
  return {.path = std::move(path), .type = AE_IFIFO, .perm = 0600};
}

enum class Compression { none, gzip, zstd };

namespace detail {
inline la_ssize_t append(archive*, void* out, const void* buf, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}
inline void check(archive* a, int r) {
  if (r < ARCHIVE_WARN)
    throw std::runtime_error(archive_error_string(a) ? archive_error_string(a) : "libarchive");
}
using WriterPtr = std::unique_ptr<archive, int (*)(archive*)>;
// Writes names as UTF-8 pax records, as Docker/Go do, whatever the process locale is.
class Utf8Locale {
 public:
  Utf8Locale() : loc_(newlocale(LC_CTYPE_MASK, "C.UTF-8", nullptr)), old_(loc_ ? uselocale(loc_) : nullptr) {}
  ~Utf8Locale() {
    if (!loc_) return;
    uselocale(old_);
    freelocale(loc_);
  }
  Utf8Locale(const Utf8Locale&) = delete;
  Utf8Locale& operator=(const Utf8Locale&) = delete;

 private:
  locale_t loc_;
  locale_t old_;
};
using EntryPtr = std::unique_ptr<archive_entry, void (*)(archive_entry*)>;
}  // namespace detail

// The uncompressed tar (its sha256 is the diff-id), padded to libarchive's default 10 KiB block.
inline std::string make_tar(const std::vector<TarEntry>& entries) {
  std::string out;
  detail::Utf8Locale utf8;
  detail::WriterPtr a(archive_write_new(), archive_write_free);
  detail::check(a.get(), archive_write_set_format_pax_restricted(a.get()));
  detail::check(a.get(), archive_write_open(a.get(), &out, nullptr, detail::append, nullptr));
  for (const auto& t : entries) {
    detail::EntryPtr e(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(e.get(), t.path.c_str());
    archive_entry_set_filetype(e.get(), t.type);
    archive_entry_set_perm(e.get(), t.perm);
    archive_entry_set_uid(e.get(), t.uid);
    archive_entry_set_gid(e.get(), t.gid);
    archive_entry_set_mtime(e.get(), t.mtime, 0);
    archive_entry_set_size(e.get(), t.type == AE_IFREG && t.hardlink.empty() ? t.data.size() : 0);
    if (!t.symlink.empty()) archive_entry_set_symlink(e.get(), t.symlink.c_str());
    if (!t.hardlink.empty()) archive_entry_set_hardlink(e.get(), t.hardlink.c_str());
    if (t.type == AE_IFCHR || t.type == AE_IFBLK) {
      archive_entry_set_rdevmajor(e.get(), t.rdev_major);
      archive_entry_set_rdevminor(e.get(), t.rdev_minor);
    }
    for (const auto& [name, value] : t.xattrs)
      archive_entry_xattr_add_entry(e.get(), name.c_str(), value.data(), value.size());
    detail::check(a.get(), archive_write_header(a.get(), e.get()));
    if (archive_entry_size(e.get()) > 0)
      detail::check(a.get(), static_cast<int>(archive_write_data(a.get(), t.data.data(), t.data.size()) < 0
                                                  ? ARCHIVE_FATAL
                                                  : ARCHIVE_OK));
  }
  detail::check(a.get(), archive_write_close(a.get()));
  return out;
}

inline std::string compress(const std::string& data, Compression c) {
  if (c == Compression::none) return data;
  std::string out;
  detail::WriterPtr a(archive_write_new(), archive_write_free);
  detail::check(a.get(), c == Compression::gzip ? archive_write_add_filter_gzip(a.get())
                                                : archive_write_add_filter_zstd(a.get()));
  detail::check(a.get(), archive_write_set_format_raw(a.get()));
  // No time stamp in the gzip header: the same input always makes the same blob.
  if (c == Compression::gzip) detail::check(a.get(), archive_write_set_filter_option(a.get(), "gzip", "timestamp", nullptr));
  archive_write_set_bytes_in_last_block(a.get(), 1);
  detail::check(a.get(), archive_write_open(a.get(), &out, nullptr, detail::append, nullptr));
  detail::EntryPtr e(archive_entry_new(), archive_entry_free);
  archive_entry_set_pathname(e.get(), "layer.tar");
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_size(e.get(), static_cast<la_int64_t>(data.size()));
  detail::check(a.get(), archive_write_header(a.get(), e.get()));
  if (archive_write_data(a.get(), data.data(), data.size()) < 0) detail::check(a.get(), ARCHIVE_FATAL);
  detail::check(a.get(), archive_write_close(a.get()));
  return out;
}

}  // namespace zl::test
