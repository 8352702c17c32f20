// ContentStore and BlobWriter: verified, atomic blob writes through <root>/ingest.
#include "store/content_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>
#include <vector>

#include "common/failpoint.h"
#include "store/scratch_dir.h"

namespace zl {
namespace {

constexpr size_t kHashBuffer = 1 << 20;

ScratchDir ingest_dir(const fs::path& root) {
  return ScratchDir(root / "ingest");
}

Result<Digest> hash_file(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return errno_error(errno, "open " + path.string());
  std::vector<char> buf(kHashBuffer);
  Sha256 hash;
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_error(errno, "read " + path.string());
    if (n == 0) break;
    hash.update(buf.data(), static_cast<size_t>(n));
  }
  return hash.finish();
}

}  // namespace

ContentStore::ContentStore(fs::path root) : root_(std::move(root)) {}

Status ContentStore::init() {
  ZL_TRY(make_dirs(root_ / "blobs" / "sha256"));
  return ingest_dir(root_).init();
}

fs::path ContentStore::blob_path(const Digest& d) const {
  return root_ / "blobs" / "sha256" / std::string(d.hex());
}

bool ContentStore::has(const Digest& d) const {
  struct stat st {};
  return ::stat(blob_path(d).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<uint64_t> ContentStore::size(const Digest& d) const {
  struct stat st {};
  if (::stat(blob_path(d).c_str(), &st) != 0) {
    if (errno == ENOENT) return not_found("blob {} not found in the content store", d.str());
    return errno_error(errno, "stat blob " + d.str());
  }
  return static_cast<uint64_t>(st.st_size);
}

Result<std::string> ContentStore::read(const Digest& d) const {
  auto data = read_file(blob_path(d));
  if (!data && data.error().kind == ErrorKind::not_found)
    return not_found("blob {} not found in the content store", d.str());
  return data;
}

Result<Digest> ContentStore::put(std::string_view data) {
  Digest d = sha256_of(data);
  if (has(d)) return d;
  ZL_TRY_ASSIGN(auto w, writer(d, data.size()));
  ZL_TRY(w.write(data));
  ZL_TRY(w.commit());
  return d;
}

Status ContentStore::put_verified(std::string_view data, const Digest& expected) {
  Digest actual = sha256_of(data);
  if (actual != expected)
    return corrupt("blob digest mismatch: expected {}, got {} ({} bytes)", expected.str(), actual.str(),
                   data.size());
  return put(data).map([](const Digest&) {});
}

Result<BlobWriter> ContentStore::writer(const Digest& expected, std::optional<uint64_t> expected_size) {
  ZL_TRY(make_dirs(root_ / "blobs" / "sha256"));
  ZL_TRY_ASSIGN(auto tmp, ingest_dir(root_).create_file(std::string(expected.hex().substr(0, 16)) + "-"));
  return BlobWriter(std::move(tmp.first), blob_path(expected), expected, expected_size,
                    std::move(tmp.second));
}

Status ContentStore::remove(const Digest& d) {
  if (::unlink(blob_path(d).c_str()) != 0) {
    if (errno == ENOENT) return not_found("blob {} not found in the content store", d.str());
    return errno_error(errno, "remove blob " + d.str());
  }
  return {};
}

Result<std::vector<Digest>> ContentStore::list() const {
  std::vector<Digest> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root_ / "blobs" / "sha256", ec)) {
    auto d = Digest::parse("sha256:" + e.path().filename().string());
    if (d) out.push_back(std::move(*d));
  }
  if (ec && ec != std::errc::no_such_file_or_directory)
    return io("list blobs in {}: {}", root_.string(), ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

Status ContentStore::verify(const Digest& d) const {
  auto actual = hash_file(blob_path(d));
  if (!actual && actual.error().kind == ErrorKind::not_found)
    return not_found("blob {} not found in the content store", d.str());
  if (!actual) return tl::unexpected(actual.error());
  if (*actual != d) return corrupt("blob {} is corrupt: its content hashes to {}", d.str(), actual->str());
  return {};
}

// --- BlobWriter ---

BlobWriter::BlobWriter(fs::path tmp, fs::path dest, Digest expected, std::optional<uint64_t> size,
                       UniqueFd fd)
    : tmp_(std::move(tmp)),
      dest_(std::move(dest)),
      expected_(std::move(expected)),
      expected_size_(size),
      fd_(std::move(fd)) {}

BlobWriter::BlobWriter(BlobWriter&& o) noexcept
    : tmp_(std::exchange(o.tmp_, {})),
      dest_(std::move(o.dest_)),
      expected_(o.expected_),
      expected_size_(o.expected_size_),
      fd_(std::move(o.fd_)),
      hash_(std::move(o.hash_)),
      written_(o.written_) {}

BlobWriter& BlobWriter::operator=(BlobWriter&& o) noexcept {
  if (this == &o) return *this;
  if (!tmp_.empty()) ::unlink(tmp_.c_str());
  tmp_ = std::exchange(o.tmp_, {});
  dest_ = std::move(o.dest_);
  expected_ = o.expected_;
  expected_size_ = o.expected_size_;
  fd_ = std::move(o.fd_);
  hash_ = std::move(o.hash_);
  written_ = o.written_;
  return *this;
}

BlobWriter::~BlobWriter() {
  if (!tmp_.empty()) ::unlink(tmp_.c_str());
}

Status BlobWriter::write(std::string_view data) {
  if (!fd_) return internal("write blob {}: writer already committed", expected_.str());
  if (expected_size_ && written_ + data.size() > *expected_size_)
    return corrupt("blob {} is larger than the expected {} bytes", expected_.str(), *expected_size_);
  ZL_TRY(write_all(fd_.get(), data, "blob " + expected_.str()));
  hash_.update(data);
  written_ += data.size();
  return {};
}

Status BlobWriter::reset() {
  if (!fd_) return internal("reset blob {}: writer already committed", expected_.str());
  if (::ftruncate(fd_.get(), 0) != 0 || ::lseek(fd_.get(), 0, SEEK_SET) != 0)
    return errno_error(errno, "truncate " + tmp_.string());
  hash_ = Sha256();
  written_ = 0;
  return {};
}

Status BlobWriter::commit() {
  if (!fd_) return internal("commit blob {}: writer already committed", expected_.str());
  auto discard = [this] {
    ::unlink(tmp_.c_str());
    tmp_.clear();
    fd_.reset();
  };
  if (expected_size_ && written_ != *expected_size_) {
    discard();
    return corrupt("blob {} is truncated: got {} of {} bytes", expected_.str(), written_, *expected_size_);
  }
  Digest actual = hash_.finish();
  if (actual != expected_) {
    discard();
    return corrupt("blob digest mismatch: expected {}, got {} ({} bytes)", expected_.str(), actual.str(),
                   written_);
  }
  if (::fchmod(fd_.get(), 0444) != 0 || ::fsync(fd_.get()) != 0) {
    int err = errno;
    discard();
    return errno_error(err, "sync blob " + expected_.str());
  }
ZL_FAILPOINT("blob.commit.before-rename");
  if (::rename(tmp_.c_str(), dest_.c_str()) != 0) {
    int err = errno;
    discard();
    return errno_error(err, fmt::format("move blob {} into place", expected_.str()));
  }
  tmp_.clear();
  fd_.reset();  // releases the ingest lock only after the rename
  return fsync_dir(dest_.parent_path());
}

}  // namespace zl
