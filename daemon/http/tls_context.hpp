// The TLS of an API listener: TLS 1.2 or later, ALPN http/1.1 only, and the plaintext OpenSSL
// decrypted wiped from its buffers once read.
#pragma once

#include <memory>

#include <boost/asio/ssl/context.hpp>

#include "config/config.hpp"

namespace otpd::http {

// The context for a listener's certificate chain and key; throws std::runtime_error naming the
// file when either cannot be used or they do not match.
std::unique_ptr<boost::asio::ssl::context> make_tls_context(const config::tls_server& tls);

}  // namespace otpd::http
