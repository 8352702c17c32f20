#include "runtime/windows/win_util.h"

#include <objbase.h>

#include <fstream>
#include <sstream>

namespace zl::win {

std::wstring widen(std::string_view utf8) {
  if (utf8.empty()) return {};
  int n = MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
  std::wstring out(static_cast<size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), out.data(), n);
  return out;
}

std::string narrow(std::wstring_view utf16) {
  if (utf16.empty()) return {};
  int n = WideCharToMultiByte(CP_UTF8, 0, utf16.data(), static_cast<int>(utf16.size()), nullptr, 0, nullptr,
                              nullptr);
  std::string out(static_cast<size_t>(n), '\0');
  WideCharToMultiByte(CP_UTF8, 0, utf16.data(), static_cast<int>(utf16.size()), out.data(), n, nullptr,
                      nullptr);
  return out;
}

GUID to_win_guid(const Guid& g) {
  const auto& b = g.bytes;
  GUID w{};
  w.Data1 = static_cast<unsigned long>(b[0]) << 24 | static_cast<unsigned long>(b[1]) << 16 |
            static_cast<unsigned long>(b[2]) << 8 | b[3];
  w.Data2 = static_cast<unsigned short>(b[4] << 8 | b[5]);
  w.Data3 = static_cast<unsigned short>(b[6] << 8 | b[7]);
  for (int i = 0; i < 8; ++i) w.Data4[i] = b[8 + i];
  return w;
}

Guid from_win_guid(const GUID& w) {
  Guid g;
  for (int i = 0; i < 4; ++i) g.bytes[i] = static_cast<uint8_t>(w.Data1 >> (24 - 8 * i));
  g.bytes[4] = static_cast<uint8_t>(w.Data2 >> 8);
  g.bytes[5] = static_cast<uint8_t>(w.Data2);
  g.bytes[6] = static_cast<uint8_t>(w.Data3 >> 8);
  g.bytes[7] = static_cast<uint8_t>(w.Data3);
  for (int i = 0; i < 8; ++i) g.bytes[8 + i] = w.Data4[i];
  return g;
}

namespace {

std::string system_message(DWORD code) {
  wchar_t* buf = nullptr;
  DWORD n = FormatMessageW(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr,
      code, 0, reinterpret_cast<wchar_t*>(&buf), 0, nullptr);
  std::string msg = n && buf ? narrow(std::wstring_view(buf, n)) : std::string("unknown error");
  if (buf) LocalFree(buf);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\r' || msg.back() == ' ' || msg.back() == '.'))
    msg.pop_back();
  return msg;
}

ErrorKind kind_of(DWORD win32) {
  switch (win32) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_MOD_NOT_FOUND:
    case ERROR_NOT_FOUND:
      return ErrorKind::not_found;
    case ERROR_ACCESS_DENIED:
      return ErrorKind::permission_denied;
    case ERROR_ALREADY_EXISTS:
    case ERROR_FILE_EXISTS:
      return ErrorKind::already_exists;
    case ERROR_NOT_SUPPORTED:
      return ErrorKind::unsupported;
    default:
      return ErrorKind::internal;
  }
}

}  // namespace

Error hresult_error(HRESULT hr, std::string_view what) {
  DWORD code = static_cast<DWORD>(hr);
  DWORD win32 = HRESULT_FACILITY(hr) == FACILITY_WIN32 ? static_cast<DWORD>(HRESULT_CODE(hr)) : code;
  return Error{kind_of(win32), fmt::format("{}: {} (0x{:08x})", what, system_message(code), code)};
}

Error win32_error(DWORD code, std::string_view what) {
  return Error{kind_of(code), fmt::format("{}: {} (error {})", what, system_message(code), code)};
}

void UniqueHandle::reset(HANDLE h) {
  if (h_ && h_ != INVALID_HANDLE_VALUE) CloseHandle(h_);
  h_ = h;
}

std::string take_hcs_string(PWSTR s) {
  if (!s) return {};
  std::string out = narrow(s);
  LocalFree(s);
  return out;
}

std::string take_hcn_string(PWSTR s) {
  if (!s) return {};
  std::string out = narrow(s);
  CoTaskMemFree(s);
  return out;
}

Status write_file_atomic(const std::filesystem::path& path, std::string_view data) {
  std::filesystem::path tmp = path;
  tmp += L".tmp";
  UniqueHandle f(
      CreateFileW(tmp.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr));
  if (!f) return tl::unexpected(win32_error(GetLastError(), "create " + tmp.string()));
  DWORD written = 0;
  if (!WriteFile(f.get(), data.data(), static_cast<DWORD>(data.size()), &written, nullptr) ||
      written != data.size())
    return tl::unexpected(win32_error(GetLastError(), "write " + tmp.string()));
  if (!FlushFileBuffers(f.get())) return tl::unexpected(win32_error(GetLastError(), "flush " + tmp.string()));
  f.reset();
  if (!MoveFileExW(tmp.c_str(), path.c_str(), MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
    DWORD err = GetLastError();
    DeleteFileW(tmp.c_str());
    return tl::unexpected(win32_error(err, "replace " + path.string()));
  }
  return {};
}

Result<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("{} does not exist or cannot be read", path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace zl::win
