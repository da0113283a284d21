#include "tests/daemon/http/test_client.hpp"

#include <array>
#include <system_error>

#include <boost/asio/connect.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>

namespace otpd::test {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

http_client::http_client(const endpoint& ep) : sock_(io_) {
  error_code ec;
  sock_.connect(ep, ec);
  if (ec) throw std::system_error(ec, "connect");
}

http_client::http_client(const endpoint& ep, asio::ssl::context& ctx, const std::string& host)
    : http_client(ep) {
  tls_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(sock_, ctx);
  tls_->set_verify_mode(asio::ssl::verify_peer);
  tls_->set_verify_callback(asio::ssl::host_name_verification(host));
  bool done = run(
      [&](auto handler) { tls_->async_handshake(asio::ssl::stream_base::client, handler); }, 5s);
  handshake_error_ = done ? last_error_ : asio::error::timed_out;
}

http_client::~http_client() = default;

template <class Start>
bool http_client::run(Start start, std::chrono::milliseconds timeout) {
  bool done = false;
  last_error_ = {};
  start([&](error_code ec, auto&&...) {
    done = true;
    last_error_ = ec;
  });
  io_.restart();
  io_.run_for(timeout);
  if (!done) {
    error_code ignored;
    sock_.cancel(ignored);
    io_.restart();
    io_.run();
    last_error_ = asio::error::timed_out;
    return false;
  }
  return !last_error_;
}

bool http_client::send(std::string_view bytes, std::chrono::milliseconds timeout) {
  const auto buf = asio::buffer(bytes.data(), bytes.size());
  return run(
      [&](auto handler) {
        if (tls_) {
          asio::async_write(*tls_, buf, handler);
        } else {
          asio::async_write(sock_, buf, handler);
        }
      },
      timeout);
}

std::optional<http_response> http_client::read(std::chrono::milliseconds timeout, bool head) {
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(16 * 1024 * 1024);
  parser.skip(head);
  const bool ok = run(
      [&](auto handler) {
        if (tls_) {
          bhttp::async_read(*tls_, buffer_, parser, handler);
        } else {
          bhttp::async_read(sock_, buffer_, parser, handler);
        }
      },
      timeout);
  if (!ok) return std::nullopt;
  return parser.release();
}

std::string http_client::format_request(
    std::string_view method, std::string_view target, std::string_view body,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string out;
  out += method;
  out += ' ';
  out += target;
  out += " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  bool has_length = false;
  for (const auto& [k, v] : headers) {
    out += k + ": " + v + "\r\n";
    if (k == "Content-Length" || k == "Transfer-Encoding") has_length = true;
  }
  if (!body.empty() && !has_length)
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += "\r\n";
  out += body;
  return out;
}

std::optional<http_response> http_client::request(
    std::string_view method, std::string_view target, std::string_view body,
    const std::vector<std::pair<std::string, std::string>>& headers,
    std::chrono::milliseconds timeout) {
  if (!send(format_request(method, target, body, headers), timeout)) return std::nullopt;
  return read(timeout, method == "HEAD");
}

bool http_client::closed_within(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::array<char, 4096> scratch{};
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) return false;
    const bool ok = run(
        [&](auto handler) {
          if (tls_) {
            tls_->async_read_some(asio::buffer(scratch), handler);
          } else {
            sock_.async_read_some(asio::buffer(scratch), handler);
          }
        },
        left);
    if (ok) continue;  // data: keep reading
    return last_error_ != asio::error::timed_out;
  }
}

}  // namespace otpd::test
