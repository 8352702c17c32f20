// What a user typed for an image, as the image store names it: the normalized reference when
// it parses and is present ("busybox" -> "docker.io/library/busybox:latest"), otherwise the
// text as typed (an image id or digest, which the store resolves itself).
#pragma once

#include <string>

#include "store/image_store.h"

namespace zl {

std::string local_image_name(ImageStore& store, const std::string& typed);

}  // namespace zl
