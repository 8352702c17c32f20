// Errors as values: every fallible call returns Result<T> (tl::expected<T, Error>).
// An Error reads as one sentence for a user: what failed, on what, why.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <utility>

namespace zl {

enum class ErrorKind {
  invalid_argument,  // bad input from the user or a peer: reference, spec, request, layer
  not_found,
  already_exists,
  conflict,  // the operation clashes with current state (image in use, container running)
  unauthorized,
  permission_denied,
  unavailable,  // a service could not be reached or gave up (registry down, retries exhausted)
  corrupt,      // data failed verification (digest mismatch, truncated body)
  io,
  unsupported,
  internal,
};

std::string_view to_string(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::internal;
  std::string message;

  // Prefixes context: "pull busybox: " + message. Kind is kept.
  Error wrap(std::string_view context) const&;
  Error wrap(std::string_view context) &&;
};

template <class T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

inline tl::unexpected<Error> make_error(ErrorKind kind, std::string message) {
  return tl::unexpected<Error>(Error{kind, std::move(message)});
}

template <class... Args>
tl::unexpected<Error> make_error(ErrorKind kind, fmt::format_string<Args...> f, Args&&... args) {
  return make_error(kind, fmt::format(f, std::forward<Args>(args)...));
}

#define ZL_ERROR_HELPER(name)                                                   \
  template <class... Args>                                                      \
  tl::unexpected<Error> name(fmt::format_string<Args...> f, Args&&... args) {   \
    return make_error(ErrorKind::name, fmt::format(f, std::forward<Args>(args)...)); \
  }
ZL_ERROR_HELPER(invalid_argument)
ZL_ERROR_HELPER(not_found)
ZL_ERROR_HELPER(already_exists)
ZL_ERROR_HELPER(conflict)
ZL_ERROR_HELPER(unauthorized)
ZL_ERROR_HELPER(permission_denied)
ZL_ERROR_HELPER(unavailable)
ZL_ERROR_HELPER(corrupt)
ZL_ERROR_HELPER(io)
ZL_ERROR_HELPER(unsupported)
ZL_ERROR_HELPER(internal)
#undef ZL_ERROR_HELPER

// An io error from errno: "<what>: <strerror(err)>".
tl::unexpected<Error> errno_error(int err, std::string_view what);

}  // namespace zl

#define ZL_CONCAT_INNER(a, b) a##b
#define ZL_CONCAT(a, b) ZL_CONCAT_INNER(a, b)

// ZL_TRY(expr): evaluate a Result/Status; on error return it from the enclosing function.
#define ZL_TRY(expr)                                                                 \
  do {                                                                               \
    auto&& zl_try_result_ = (expr);                                                  \
    if (!zl_try_result_) return ::tl::unexpected(std::move(zl_try_result_).error()); \
  } while (0)

// ZL_TRY_ASSIGN(lhs, expr): like ZL_TRY, then move the value into lhs (may declare: `auto x`).
#define ZL_TRY_ASSIGN(lhs, expr) ZL_TRY_ASSIGN_IMPL(ZL_CONCAT(zl_try_tmp_, __LINE__), lhs, expr)
#define ZL_TRY_ASSIGN_IMPL(tmp, lhs, expr)                               \
  auto tmp = (expr);                                                     \
  if (!tmp) return ::tl::unexpected(std::move(tmp).error());             \
  lhs = std::move(*tmp)
