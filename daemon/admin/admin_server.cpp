#include "daemon/admin/admin_server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "daemon/log/logger.hpp"
#include "daemon/service/json_view.hpp"
#include "daemon/service/task_group.hpp"
#include "daemon/service/verification_service.hpp"
#include "daemon/sms/sms_gateway.hpp"

namespace otpd::service {

namespace asio = boost::asio;
namespace json = boost::json;
using local = asio::local::stream_protocol;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t max_request = 4096;
constexpr auto request_timeout = 5s;

json::object failure(std::string message) {
  return json::object{{"ok", false}, {"error", std::move(message)}};
}

std::string text_of(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// The process at the other end of the socket (Linux unix(7), SO_PEERCRED: the credentials it had
// at connect()). Whoever can open the socket is the operator; the audit lines say which one.
operator_id peer_of(local::socket& socket) {
  ucred cred{};
  socklen_t len = sizeof cred;
  operator_id who;
  if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
    who.uid = cred.uid;
    who.pid = cred.pid;
  }
  return who;
}

}  // namespace

struct admin_server::impl : std::enable_shared_from_this<impl> {
  impl(asio::any_io_executor ex, std::filesystem::path p, verification_service& s, sms_gateway& g,
       reload_fn r, log::logger& l)
      : acceptor(ex),
        path(std::move(p)),
        svc(s),
        gateway(g),
        reload(std::move(r)),
        log(l),
        tasks(ex, [&l](std::exception_ptr e) {
          l.error("task_failed", {{"error", describe(e)}});
        }) {}

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (acceptor.is_open()) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) continue;
      tasks.spawn(serve(std::move(socket)));
    }
  }

  asio::awaitable<void> serve(local::socket socket) {
    auto self = shared_from_this();
    // A client that sends nothing is closed after request_timeout.
    asio::steady_timer deadline(socket.get_executor());
    deadline.expires_after(request_timeout);
    deadline.async_wait([&socket](boost::system::error_code ec) {
      if (!ec) socket.close();
    });
    asio::streambuf buf(max_request);
    auto [ec, n] =
        co_await asio::async_read_until(socket, buf, '\n', asio::as_tuple(asio::use_awaitable));
    json::object answer;
    if (ec) {
      answer = failure(ec == asio::error::not_found ? "request longer than 4096 bytes"
                                                    : "no request: " + ec.message());
    } else {
      std::string line(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + n);
      answer = co_await handle(line, peer_of(socket));
    }
    deadline.cancel();
    std::string out = json::serialize(answer) + "\n";
    co_await asio::async_write(socket, asio::buffer(out), asio::as_tuple(asio::use_awaitable));
    boost::system::error_code ignored;
    socket.shutdown(local::socket::shutdown_both, ignored);
  }

  asio::awaitable<json::object> handle(const std::string& line, operator_id by) {
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (ec || !v.is_object()) co_return failure("expected one JSON object per line");
    const json::object& req = v.as_object();
    const std::string cmd = text_of(req, "cmd");
    // Every command is logged with who ran it: the operator's audit trail.
    log.info("admin_command", {{"command", cmd}, {"uid", by.uid}, {"pid", by.pid}});
    if (cmd == "status") co_return status();
    if (cmd == "reload") {
      json::object o = reload();
      o["ok"] = text_of(o, "outcome") == "reloaded";
      co_return o;
    }
    if (cmd == "verification") {
      const std::string id = text_of(req, "id");
      if (id.empty()) co_return failure("verification: give its id");
      auto [err, row] = co_await svc.get(id);
      if (err) co_return failure("verification " + id + ": " + err.message());
      co_return json::object{
          {"ok", true}, {"verification", to_json(row, svc.config()->policy, svc.clock().now())}};
    }
    if (cmd == "send-test") {
      const std::string to = text_of(req, "to");
      const std::string carrier = text_of(req, "carrier");
      if (to.empty() || carrier.empty())
        co_return failure("send-test: give a number and a carrier");
      test_send r = co_await svc.send_test(to, carrier, by);
      if (!r.error.empty()) co_return failure("send-test: " + r.error);
      json::array ids;
      for (const auto& id : r.message_ids) ids.push_back(json::string(id));
      co_return json::object{
          {"ok", true}, {"carrier", r.carrier}, {"bind", r.bind}, {"message_ids", ids}};
    }
    if (cmd == "drain" || cmd == "enable") {
      const std::string bind = text_of(req, "bind");
      if (bind.empty()) co_return failure(cmd + ": give a bind's name");
      const std::string carrier = cmd == "drain" ? gateway.drain(bind) : gateway.enable(bind);
      if (carrier.empty()) co_return failure(cmd + ": no bind named '" + bind + "'");
      log.notice(cmd == "drain" ? "smpp_bind_drained" : "smpp_bind_enabled",
                 {{"carrier", carrier}, {"bind", bind}, {"uid", by.uid}, {"pid", by.pid}});
      co_return json::object{{"ok", true}, {"carrier", carrier}, {"bind", bind}};
    }
    co_return failure("unknown command '" + cmd +
                      "'; expected status, reload, verification, send-test, drain or enable");
  }

  json::object status() {
    json::array carriers;
    for (const smpp::pool_status& p : gateway.status()) {
      json::array binds;
      for (std::size_t i = 0; i < p.sessions.size(); ++i) {
        const smpp::session_status& s = p.sessions[i];
        const bool degraded = i < p.health.size() && p.health[i].degraded;
        const smpp::bind_lease lease =
            i < p.health.size() ? p.health[i].lease : smpp::bind_lease::held;
        binds.push_back(json::object{{"name", s.name},
                                     {"type", smpp::to_string(s.type)},
                                     {"state", smpp::to_string(s.state)},
                                     {"drained", s.paused},
                                     {"lease", smpp::to_string(lease)},
                                     {"connected", s.connected},
                                     {"in_flight", s.in_flight},
                                     {"queued", s.queued},
                                     {"window", s.window},
                                     {"tps_limit", s.tps_limit},
                                     {"throttled", s.throttled},
                                     {"connects", s.connects},
                                     {"binds", s.binds},
                                     {"last_error", s.last_error ? s.last_error.message() : ""},
                                     {"degraded", degraded}});
      }
      carriers.push_back(json::object{{"name", p.name},
                                      {"queued", p.queued},
                                      {"in_flight", p.in_flight_messages},
                                      {"bound_transmitters", p.bound_transmitters},
                                      {"bound_receivers", p.bound_receivers},
                                      {"binds", std::move(binds)}});
    }
    json::array trunks;
    if (const call_dialer* d = svc.dialer()) {
      for (const auto& t : d->trunks()) {
        trunks.push_back(
            json::object{{"name", t.name}, {"active", t.active}, {"max_calls", t.max_calls}});
      }
    }
    return json::object{{"ok", true},
                        {"ready", svc.ready()},
                        {"carriers", std::move(carriers)},
                        {"trunks", std::move(trunks)}};
  }

  local::acceptor acceptor;
  std::filesystem::path path;
  verification_service& svc;
  sms_gateway& gateway;
  reload_fn reload;
  log::logger& log;
  task_group tasks;  // the accept loop and each connection
};

admin_server::admin_server(asio::any_io_executor ex, std::filesystem::path path,
                           verification_service& svc, sms_gateway& gateway, reload_fn reload,
                           log::logger& log)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(path), svc, gateway, std::move(reload),
                                   log)) {}

admin_server::~admin_server() { stop(); }

boost::system::error_code admin_server::start(std::string& why) {
  boost::system::error_code ec;
  std::error_code fs_ec;
  // A socket file left by a process that died is in the way of bind(); anything else is not
  // ours to remove.
  struct stat st {};
  if (::lstat(impl_->path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
    std::filesystem::remove(impl_->path, fs_ec);
  }
  const local::endpoint ep(impl_->path.string());
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) {
    // Created with no access for others from the first moment, then opened to the group.
    const mode_t old = ::umask(0117);
    impl_->acceptor.bind(ep, ec);
    ::umask(old);
  }
  if (!ec) impl_->acceptor.listen(16, ec);
  if (ec) {
    why = impl_->path.string() + ": " + ec.message();
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
    return ec;
  }
  ::chmod(impl_->path.c_str(), 0660);
  impl_->tasks.spawn(impl_->accept_loop());
  return {};
}

void admin_server::stop() {
  if (!impl_ || !impl_->acceptor.is_open()) return;
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
  std::error_code fs_ec;
  std::filesystem::remove(impl_->path, fs_ec);
  impl_->tasks.cancel();
}

asio::awaitable<void> admin_server::join() {
  const std::shared_ptr<impl> self = impl_;
  co_await self->tasks.join();
}

}  // namespace otpd::service
