#include "store/archive_stream.h"

#include <cerrno>

namespace zl {

la_ssize_t ArchiveReader::read(archive* a, void* self, const void** out) {
  auto* r = static_cast<ArchiveReader*>(self);
  auto n = r->in_(r->buf_.data(), r->buf_.size());
  if (!n) {
    archive_set_error(a, EIO, "%s", n.error().message.c_str());
    return -1;
  }
  *out = r->buf_.data();
  return static_cast<la_ssize_t>(*n);
}

la_ssize_t ArchiveWriter::write(archive*, void* self, const void* buf, size_t n) {
  auto* w = static_cast<ArchiveWriter*>(self);
  if (auto st = w->out_(std::string_view(static_cast<const char*>(buf), n)); !st) {
    w->error_ = st.error();
    return -1;
  }
  return static_cast<la_ssize_t>(n);
}

}  // namespace zl
