#include "common/digest.h"

#include <openssl/evp.h>

namespace zl {

Result<Digest> Digest::parse(std::string_view s) {
  constexpr std::string_view prefix = "sha256:";
  if (!s.starts_with(prefix)) {
    auto colon = s.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return invalid_argument("invalid digest \"{}\": expected sha256:<64 hex digits>", s);
    return unsupported("unsupported digest algorithm \"{}\" in \"{}\": only sha256 is supported",
                       s.substr(0, colon), s);
  }
  std::string_view hex = s.substr(prefix.size());
  if (hex.size() != 64)
    return invalid_argument("invalid digest \"{}\": sha256 needs 64 hex digits, got {}", s, hex.size());
  for (char c : hex) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    if (!ok) return invalid_argument("invalid digest \"{}\": '{}' is not a lowercase hex digit", s, c);
  }
  return Digest(std::string(s));
}

Digest Digest::from_hex(std::string hex) { return Digest("sha256:" + hex); }

struct Sha256::Impl {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  Impl() { EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr); }
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(const void* data, size_t n) { EVP_DigestUpdate(impl_->ctx, data, n); }

Digest Sha256::finish() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx, md, &len);
  EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr);
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(digits[md[i] >> 4]);
    hex.push_back(digits[md[i] & 0xf]);
  }
  return Digest::from_hex(std::move(hex));
}

Digest sha256_of(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.finish();
}

}  // namespace zl
