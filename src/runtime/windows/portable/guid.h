// GUIDs as HCS and HCN write them: "3f2504e0-4f89-11d3-9a0c-0305e82c3301", with or without
// braces, any case. Portable (no Windows headers) so the Linux unit tests check it too.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace zl::win {

struct Guid {
  std::array<uint8_t, 16> bytes{};  // in text order: "00112233-4455-6677-8899-aabbccddeeff"

  bool is_nil() const;
  // Lower case, no braces; with_braces -> "{...}" (what HCN's Namespace field and
  // HcsGrantVmAccess's vmId take).
  std::string str(bool with_braces = false) const;
  friend bool operator==(const Guid&, const Guid&) = default;
};

// Accepts "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" with optional surrounding braces (both or
// neither); anything else -> invalid_argument naming the text.
Result<Guid> parse_guid(std::string_view text);

// A fresh random (version 4, RFC 4122 variant) GUID: a utility VM's runtime id, a network's id.
Guid random_guid();

// A layer's id derived from its content digest ("sha256:<64 hex>"): the first 32 hex digits as
// a GUID, so the same layer has the same id (and directory name) on every node.
Result<Guid> guid_from_digest(std::string_view digest);

}  // namespace zl::win
