// Image references (`busybox`, `host:5000/a/b:tag@sha256:…`): any input parses or is refused
// with a message, and a parsed one prints back to a string that parses to the same reference.
#include "fuzz/fuzz_check.h"
#include "image/reference.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto ref = zl::Reference::parse(fuzz_text(data, size));
  if (!ref) {
    ZL_FUZZ_CHECK(!ref.error().message.empty(), "a refused reference has a message");
    return 0;
  }
  auto again = zl::Reference::parse(ref->str());
  ZL_FUZZ_CHECK(again.has_value(), "a reference's str() parses");
  ZL_FUZZ_CHECK(*again == *ref, "a reference's str() parses to the same reference");
  (void)zl::familiar_image(std::string(fuzz_text(data, size)));
  return 0;
}
