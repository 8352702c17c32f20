// libarchive's stream callbacks over zlayer's ReadFn / WriteFn, for archives that are read from
// or written to something other than a file (an HTTP body, a response, a decompressed layer).
#pragma once

#include <archive.h>

#include <optional>
#include <vector>

#include "common/fs.h"

namespace zl {

// Client data for archive_read_open(a, &reader, nullptr, &ArchiveReader::read, nullptr).
class ArchiveReader {
 public:
  explicit ArchiveReader(ReadFn in, size_t buffer = size_t{1} << 20) : in_(std::move(in)), buf_(buffer) {}
  static la_ssize_t read(archive* a, void* self, const void** out);

 private:
  ReadFn in_;
  std::vector<char> buf_;
};

// Client data for archive_write_open(a, &writer, nullptr, &ArchiveWriter::write, nullptr).
// error() holds what `out` failed with, which says more than libarchive's message.
class ArchiveWriter {
 public:
  explicit ArchiveWriter(const WriteFn& out) : out_(out) {}
  static la_ssize_t write(archive* a, void* self, const void* buf, size_t n);
  const std::optional<Error>& error() const { return error_; }

 private:
  const WriteFn& out_;
  std::optional<Error> error_;
};

}  // namespace zl
