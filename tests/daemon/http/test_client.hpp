// A blocking HTTP/1.1 client for the server tests, over TCP or TLS, with a deadline on every
// operation (its own io_context, run for at most the timeout). Raw bytes can be sent, so that
// malformed and slow requests can be written.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace otpd::test {

using http_response = boost::beast::http::response<boost::beast::http::string_body>;
using namespace std::chrono_literals;

class http_client {
 public:
  using endpoint = boost::asio::ip::tcp::endpoint;
  using error_code = boost::system::error_code;

  // Plain TCP. Throws std::system_error when the connection is refused.
  explicit http_client(const endpoint& ep);
  // TLS: handshake verifying the server's certificate against `ctx` for `host` (a name or an
  // IP address). handshake_error() tells whether it worked.
  http_client(const endpoint& ep, boost::asio::ssl::context& ctx, const std::string& host);
  ~http_client();

  error_code handshake_error() const noexcept { return handshake_error_; }
  error_code last_error() const noexcept { return last_error_; }

  bool send(std::string_view bytes, std::chrono::milliseconds timeout = 5s);
  // One response (a 1xx interim response counts as one). head: the request was HEAD (no body).
  std::optional<http_response> read(std::chrono::milliseconds timeout = 5s, bool head = false);
  // send + read of a well-formed request; Host is added.
  std::optional<http_response> request(
      std::string_view method, std::string_view target, std::string_view body = {},
      const std::vector<std::pair<std::string, std::string>>& headers = {},
      std::chrono::milliseconds timeout = 5s);
  // True when the server closes the connection (EOF or reset) within the timeout; data that
  // arrives before is discarded.
  bool closed_within(std::chrono::milliseconds timeout);

  static std::string format_request(
      std::string_view method, std::string_view target, std::string_view body,
      const std::vector<std::pair<std::string, std::string>>& headers);

 private:
  template <class Start>
  bool run(Start start, std::chrono::milliseconds timeout);

  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket sock_;
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
  boost::beast::flat_buffer buffer_;
  error_code handshake_error_;
  error_code last_error_;
};

}  // namespace otpd::test
