// How one SMPP bind connects, binds and reconnects: plain values, without Asio, so that the
// configuration (config/config.hpp) and the pure engine can name them without compiling the
// session's I/O layer (smpp/net/session.hpp). CMake checks that it stays so
// (cmake/asio_free.cmake).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "smpp/net/session_fsm.hpp"

namespace otpd::smpp {

struct endpoint_config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 2775;
  bool tls = false;
  bool verify_peer = true;      // TLS: check the SMSC's certificate and host name
  std::string ca_file;          // TLS: trust anchors; empty = the system's
  std::string tls_server_name;  // TLS: name to verify and send as SNI; empty = host
  duration connect_timeout = std::chrono::seconds(10);
  friend bool operator==(const endpoint_config&, const endpoint_config&) = default;
};

struct reconnect_config {
  duration initial_delay = std::chrono::seconds(1);
  duration max_delay = std::chrono::seconds(60);
  friend bool operator==(const reconnect_config&, const reconnect_config&) = default;
};

struct session_options {
  std::string name;  // for logs and metrics, e.g. "viettel-tx-1"
  endpoint_config endpoint;
  session_config smpp;
  reconnect_config reconnect;
  friend bool operator==(const session_options&, const session_options&) = default;
};

}  // namespace otpd::smpp
