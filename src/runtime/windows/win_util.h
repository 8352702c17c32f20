// Small Windows helpers the HCS backend shares: UTF-8 <-> UTF-16, HRESULT and Win32 errors as
// zl::Error, owned HANDLEs, the result strings HCS and HCN allocate, atomic file writes.
// Windows only.
#pragma once

#include <windows.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "common/error.h"
#include "runtime/windows/portable/guid.h"

namespace zl::win {

std::wstring widen(std::string_view utf8);
std::string narrow(std::wstring_view utf16);

// Guid (text order) <-> the Windows GUID struct (Data1..3 as numbers, Data4 as bytes).
GUID to_win_guid(const Guid& g);
Guid from_win_guid(const GUID& g);

// "<what>: <system message> (0x80070005)"; kind from the code (not found, access denied...).
Error hresult_error(HRESULT hr, std::string_view what);
Error win32_error(DWORD code, std::string_view what);

// A HANDLE closed on destruction.
class UniqueHandle {
 public:
  UniqueHandle() = default;
  explicit UniqueHandle(HANDLE h) : h_(h) {}
  UniqueHandle(UniqueHandle&& o) noexcept : h_(o.release()) {}
  UniqueHandle& operator=(UniqueHandle&& o) noexcept {
    reset(o.release());
    return *this;
  }
  ~UniqueHandle() { reset(); }
  HANDLE get() const { return h_; }
  explicit operator bool() const { return h_ != nullptr && h_ != INVALID_HANDLE_VALUE; }
  HANDLE release() {
    HANDLE h = h_;
    h_ = nullptr;
    return h;
  }
  void reset(HANDLE h = nullptr);

 private:
  HANDLE h_ = nullptr;
};

// A result document HCS allocated (LocalFree) or HCN allocated (CoTaskMemFree), read as UTF-8.
std::string take_hcs_string(PWSTR s);
std::string take_hcn_string(PWSTR s);

// Temp file beside `path`, flush, MoveFileEx(REPLACE_EXISTING | WRITE_THROUGH).
Status write_file_atomic(const std::filesystem::path& path, std::string_view data);
Result<std::string> read_file(const std::filesystem::path& path);

}  // namespace zl::win
