#include "daemon/http/tls_context.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace otpd::http {

namespace asio = boost::asio;
using error_code = boost::system::error_code;

namespace {

// ALPN (RFC 7301): we speak http/1.1 only; a client that offers nothing else gets no ALPN.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  static constexpr unsigned char h11[] = {'h', 't', 't', 'p', '/', '1', '.', '1'};
  for (unsigned int i = 0; i < inlen;) {
    const unsigned int len = in[i];
    if (i + 1 + len > inlen) break;
    if (len == sizeof(h11) && std::equal(h11, h11 + sizeof(h11), in + i + 1)) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(len);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace

std::unique_ptr<asio::ssl::context> make_tls_context(const config::tls_server& tls) {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  // OpenSSL decrypts a record in place and leaves the plaintext (Authorization, a /check body)
  // in its read buffer once copied out; this wipes it there.
  SSL_CTX_set_options(ctx->native_handle(), SSL_OP_CLEANSE_PLAINTEXT);
  SSL_CTX_set_alpn_select_cb(ctx->native_handle(), select_alpn, nullptr);
  error_code ec;
  ctx->use_certificate_chain_file(tls.certificate_file.string(), ec);
  if (ec) {
    throw std::runtime_error("TLS certificate chain " + tls.certificate_file.string() + ": " +
                             ec.message());
  }
  ctx->use_private_key_file(tls.private_key_file.string(), asio::ssl::context::pem, ec);
  if (ec) {
    throw std::runtime_error("TLS private key " + tls.private_key_file.string() + ": " +
                             ec.message());
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    throw std::runtime_error("TLS private key " + tls.private_key_file.string() +
                             " does not match the certificate " + tls.certificate_file.string());
  }
  return ctx;
}

}  // namespace otpd::http
