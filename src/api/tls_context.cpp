#include "api/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

namespace zl::api {

namespace ssl = boost::asio::ssl;

namespace {

// OpenSSL's reason for the last failure ("no such file", "key values mismatch"), or `fallback`.
std::string openssl_reason(const boost::system::error_code& ec) {
  std::string out = ec ? ec.message() : "";
  if (unsigned long e = ERR_get_error(); out.empty() && e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out = buf;
  }
  ERR_clear_error();
  return out.empty() ? "unknown OpenSSL error" : out;
}

}  // namespace

Status check_private_key_mode(const std::filesystem::path& key) {
  struct stat st {};
  if (::stat(key.c_str(), &st) != 0) return errno_error(errno, "TLS key " + key.string());
  if (!S_ISREG(st.st_mode)) return invalid_argument("TLS key {} is not a regular file", key.string());
  if (st.st_mode & 077)
    return permission_denied(
        "TLS key {} is accessible by group or others (mode {:04o}): a private key must be readable by "
        "its owner only (chmod 600 {})",
        key.string(), st.st_mode & 07777, key.string());
  return {};
}

Result<std::unique_ptr<ssl::context>> make_tls_server_context(const std::filesystem::path& cert,
                                                              const std::filesystem::path& key,
                                                              const std::filesystem::path& ca) {
  ZL_TRY(check_private_key_mode(key));
  for (const auto& f : {cert, ca})
    if (::access(f.c_str(), R_OK) != 0) return errno_error(errno, "TLS file " + f.string());
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                   ec);
  if (ec || SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1)
    return internal("TLS: cannot restrict the protocol to TLS 1.2 or newer: {}", openssl_reason(ec));
  if (ctx->use_certificate_chain_file(cert.string(), ec); ec)
    return invalid_argument("TLS certificate {}: {}", cert.string(), openssl_reason(ec));
  // OpenSSL also checks here that the key is the certificate's.
  if (ctx->use_private_key_file(key.string(), ssl::context::pem, ec); ec) {
    auto e = static_cast<unsigned long>(ec.value());
    if (ERR_GET_LIB(e) == ERR_LIB_X509 && ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH)
      return invalid_argument("TLS key {} does not belong to the certificate {}", key.string(),
                              cert.string());
    return invalid_argument("TLS key {}: {}", key.string(), openssl_reason(ec));
  }
  if (ctx->load_verify_file(ca.string(), ec); ec)
    return invalid_argument("TLS CA {}: {}", ca.string(), openssl_reason(ec));
  // Tell clients which CA we accept, so one with several certificates can pick.
  if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca.c_str()))
    SSL_CTX_set_client_CA_list(ctx->native_handle(), names);
  ERR_clear_error();
  ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, ec);
  if (ec) return internal("TLS: cannot require client certificates: {}", openssl_reason(ec));
  return ctx;
}

}  // namespace zl::api
