// The operator's control socket (otpctl): a Unix stream socket, mode 0660, one JSON request per
// line and one JSON answer per line, then the connection closes. Commands:
//   {"cmd":"status"}                       carriers, binds and trunks as they are now
//   {"cmd":"reload"}                       the same as SIGHUP; the answer says what happened
//   {"cmd":"verification","id":"..."}      one verification as the API shows it
//   {"cmd":"send-test","to":"...","carrier":"..."}   a test SMS (no code) through one carrier
//                                          of the number's route, within the rate limits
//   {"cmd":"drain","bind":"..."}           no new SMS on the bind; unbind once in-flight ones end
//   {"cmd":"enable","bind":"..."}          bind it again after a drain
// Answers carry "ok": true, or "ok": false with "error". Whoever can open the socket file is
// trusted as the operator: its permissions are the access control. Each command is logged
// (admin_command) with the caller's uid and pid from SO_PEERCRED.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/system/error_code.hpp>

namespace otpd::log {
class logger;
}

namespace otpd::service {

class sms_gateway;
class verification_service;

class admin_server {
 public:
  // Runs a reload and describes it ({"outcome":"reloaded"|"rejected", ...}).
  using reload_fn = std::function<boost::json::object()>;

  admin_server(boost::asio::any_io_executor ex, std::filesystem::path path,
               verification_service& svc, sms_gateway& gateway, reload_fn reload, log::logger& log);
  ~admin_server();
  admin_server(const admin_server&) = delete;
  admin_server& operator=(const admin_server&) = delete;

  // Binds (replacing a stale socket file) and starts accepting; an error says why not.
  boost::system::error_code start(std::string& why);
  // Stops accepting, cancels the connections and removes the socket file.
  void stop();
  // After stop(): resumes once every connection has ended (they use the service).
  boost::asio::awaitable<void> join();

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace otpd::service
