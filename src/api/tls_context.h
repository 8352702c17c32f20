// The TLS side of the daemon's TCP listener: a server context that speaks TLS 1.2 or newer and
// accepts only clients whose certificate the given CA signed.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <filesystem>
#include <memory>

#include "common/error.h"

namespace zl::api {

// Loads the server's certificate chain and private key and the clients' CA (all PEM). A key
// file that group or others may access is refused (as ssh refuses one), so is a key that does
// not belong to the certificate; each error names the file.
Result<std::unique_ptr<boost::asio::ssl::context>> make_tls_server_context(const std::filesystem::path& cert,
                                                                           const std::filesystem::path& key,
                                                                           const std::filesystem::path& ca);

// Refuses a private key file that is not a regular file or that group or others may access.
Status check_private_key_mode(const std::filesystem::path& key);

}  // namespace zl::api
