#include "image/local_name.h"

#include "image/reference.h"

namespace zl {

std::string local_image_name(ImageStore& store, const std::string& typed) {
  auto ref = Reference::parse(typed);
  if (!ref) return typed;
  auto found = store.index().find(ref->str());
  if (found && *found) return ref->str();
  return typed;
}

}  // namespace zl
