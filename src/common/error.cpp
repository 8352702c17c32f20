#include "common/error.h"

#include <cstring>

namespace zl {

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::invalid_argument: return "invalid_argument";
    case ErrorKind::not_found: return "not_found";
    case ErrorKind::already_exists: return "already_exists";
    case ErrorKind::conflict: return "conflict";
    case ErrorKind::unauthorized: return "unauthorized";
    case ErrorKind::permission_denied: return "permission_denied";
    case ErrorKind::unavailable: return "unavailable";
    case ErrorKind::corrupt: return "corrupt";
    case ErrorKind::io: return "io";
    case ErrorKind::unsupported: return "unsupported";
    case ErrorKind::internal: return "internal";
  }
  return "unknown";
}

Error Error::wrap(std::string_view context) const& {
  return Error{kind, std::string(context) + ": " + message};
}

Error Error::wrap(std::string_view context) && {
  message.insert(0, std::string(context) + ": ");
  return std::move(*this);
}

tl::unexpected<Error> errno_error(int err, std::string_view what) {
  ErrorKind kind = ErrorKind::io;
  if (err == ENOENT) kind = ErrorKind::not_found;
  if (err == EACCES || err == EPERM) kind = ErrorKind::permission_denied;
  if (err == EEXIST) kind = ErrorKind::already_exists;
  return make_error(kind, fmt::format("{}: {}", what, std::strerror(err)));
}

}  // namespace zl
