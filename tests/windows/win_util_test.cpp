// Windows only (run under Wine): the helpers the HCS backend's Win32 calls stand on.
#include "runtime/windows/win_util.h"

#include <gtest/gtest.h>
#include <objbase.h>

namespace zl::win {
namespace {

TEST(WinUtil, Utf8Utf16RoundTrip) {
  std::string s = "C:\\zl\\\xc3\xa9t\xc3\xa9\\\xe6\x97\xa5";  // é, 日
  std::wstring w = widen(s);
  EXPECT_EQ(w, L"C:\\zl\\\u00e9t\u00e9\\\u65e5");
  EXPECT_EQ(narrow(w), s);
  EXPECT_EQ(widen(""), L"");
}

TEST(WinUtil, GuidMatchesWindowsParsing) {
  const wchar_t* text = L"{3F2504E0-4F89-11D3-9A0C-0305E82C3301}";
  GUID expected{};
  ASSERT_EQ(CLSIDFromString(text, &expected), S_OK);
  Guid g = *parse_guid("3f2504e0-4f89-11d3-9a0c-0305e82c3301");
  GUID w = to_win_guid(g);
  EXPECT_TRUE(IsEqualGUID(w, expected));
  EXPECT_EQ(from_win_guid(expected), g);
}

TEST(WinUtil, ErrorsCarryKindAndCode) {
  Error denied = hresult_error(E_ACCESSDENIED, "open x");
  EXPECT_EQ(denied.kind, ErrorKind::permission_denied);
  EXPECT_NE(denied.message.find("open x: "), std::string::npos);
  EXPECT_NE(denied.message.find("0x80070005"), std::string::npos) << denied.message;
  EXPECT_EQ(hresult_error(HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND), "x").kind, ErrorKind::not_found);
  EXPECT_EQ(win32_error(ERROR_ALREADY_EXISTS, "x").kind, ErrorKind::already_exists);
}

TEST(WinUtil, AtomicWriteReplaces) {
  auto dir = std::filesystem::temp_directory_path() / ("zl-winutil-" + random_guid().str());
  std::filesystem::create_directories(dir);
  auto f = dir / "state.json";
  ASSERT_TRUE(write_file_atomic(f, "one"));
  ASSERT_TRUE(write_file_atomic(f, "two"));
  EXPECT_EQ(*read_file(f), "two");
  EXPECT_FALSE(std::filesystem::exists(dir / "state.json.tmp"));
  EXPECT_EQ(read_file(dir / "missing").error().kind, ErrorKind::not_found);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace zl::win
