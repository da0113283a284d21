// One HTTP connection as the server's stop sequence sees it.
#pragma once

#include <string>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>

namespace otpd::http::detail {

// Shared by the connection's coroutine and the stop sequence. Everything but strand is touched
// on the connection's strand only.
struct connection_control {
  using strand_type = boost::asio::strand<boost::asio::any_io_executor>;
  using tcp = boost::asio::ip::tcp;

  explicit connection_control(strand_type s) : strand(std::move(s)) {}

  // Abandons whatever the connection awaits; each co_await of its coroutine throws
  // operation_aborted from then on.
  void abandon() {
    cancelled = true;
    cancel.emit(boost::asio::cancellation_type::terminal);
  }
  // Also ends an operation on the socket that the cancellation would not reach.
  void close_socket() {
    boost::system::error_code ignored;
    if (socket != nullptr) socket->close(ignored);
  }

  strand_type strand;
  boost::asio::cancellation_signal cancel;
  bool idle = false;              // waiting for the first byte of a request
  bool draining = false;          // the server stops: finish the request, then close
  bool cancelled = false;         // abandon() was called: an operation_aborted is expected
  tcp::socket* socket = nullptr;  // while the coroutine holds one
  std::string client;             // the peer's address, for the log
};

// Shows the connection's socket to close_socket() while it exists.
struct socket_in_use {
  socket_in_use(connection_control& c, boost::asio::ip::tcp::socket& s) : ctrl(c) {
    ctrl.socket = &s;
  }
  ~socket_in_use() { ctrl.socket = nullptr; }
  socket_in_use(const socket_in_use&) = delete;
  socket_in_use& operator=(const socket_in_use&) = delete;
  connection_control& ctrl;
};

}  // namespace otpd::http::detail
