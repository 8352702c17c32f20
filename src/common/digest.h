// Content digests ("sha256:<64 lowercase hex>") and a streaming SHA-256 hasher (OpenSSL).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"

namespace zl {

// A validated digest. Only sha256 is accepted: it is what OCI and Docker registries use.
class Digest {
 public:
  static Result<Digest> parse(std::string_view s);
  static Digest from_hex(std::string hex);  // hex must already be 64 lowercase hex chars

  const std::string& str() const { return str_; }  // "sha256:<hex>"
  std::string_view hex() const { return std::string_view(str_).substr(7); }
  std::string_view algorithm() const { return "sha256"; }
  friend bool operator==(const Digest&, const Digest&) = default;
  friend auto operator<=>(const Digest&, const Digest&) = default;

 private:
  explicit Digest(std::string s) : str_(std::move(s)) {}
  std::string str_;
};

// Incremental SHA-256.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  void update(const void* data, size_t n);
  void update(std::string_view s) { update(s.data(), s.size()); }
  Digest finish();  // the hasher is reset afterwards

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

Digest sha256_of(std::string_view data);

}  // namespace zl
