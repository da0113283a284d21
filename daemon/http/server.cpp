#include "daemon/http/server.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <ctime>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "common/exception_text.hpp"
#include "daemon/http/connection_control.hpp"
#include "daemon/http/problem.hpp"
#include "daemon/http/request_policy.hpp"
#include "daemon/http/request_reader.hpp"
#include "daemon/http/route_request.hpp"
#include "daemon/http/tls_context.hpp"
#include "daemon/http/watchdog.hpp"
#include "daemon/http/wiping_memory.hpp"
#include "daemon/log/logger.hpp"
#include "daemon/metrics/registry.hpp"

namespace otpd::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using strand_type = asio::strand<asio::any_io_executor>;
using clock_type = std::chrono::steady_clock;
using detail::connection_control;
using detail::socket_in_use;
using detail::watchdog;

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// IMF-fixdate (RFC 9110 §5.6.7), without the locale that strftime would consult.
std::string http_date() {
  static constexpr std::array<const char*, 7> days{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 40> buf{};
  const int n = std::snprintf(buf.data(), buf.size(), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                              days[static_cast<std::size_t>(tm.tm_wday % 7)], tm.tm_mday,
                              months[static_cast<std::size_t>(tm.tm_mon % 12)], tm.tm_year + 1900,
                              tm.tm_hour, tm.tm_min, tm.tm_sec);
  return std::string(buf.data(), n > 0 ? static_cast<std::size_t>(n) : 0);
}

// RFC 9110 §5.1 field-name = token; §5.5 field values must not carry CR, LF or NUL (response
// splitting).
bool valid_field(std::string_view name, std::string_view value) noexcept {
  if (name.empty()) return false;
  for (char c : name) {
    const bool tchar = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!tchar) return false;
  }
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// Fields the server writes itself.
bool server_managed(std::string_view name) noexcept {
  return iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") ||
         iequals(name, "Connection") || iequals(name, "Date") || iequals(name, "Content-Type") ||
         iequals(name, "Keep-Alive") || iequals(name, "Upgrade");
}

std::string peer_address(const tcp::endpoint& ep) {
  auto a = ep.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  }
  return a.to_string();
}

bool is_client_gone(const error_code& ec) noexcept {
  return ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
         ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::connection_aborted ||
         ec == asio::error::operation_aborted || ec == asio::ssl::error::stream_truncated;
}

std::string millis(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

struct peer_info {
  std::string address;
  std::uint16_t port = 0;
  bool tls = false;
};

// The outcome of reading one request.
struct exchange {
  request req;
  std::optional<response> early;  // a response decided without the handler
  const route* matched = nullptr;
  std::string route_label{unmatched_route};
  bool close = false;              // the connection cannot carry another request
  bool body_pending = false;       // the body was not read (close after the response)
  bool client_keep_alive = false;  // RFC 9112 §9.3: 1.1 unless "close", 1.0 if "keep-alive"
};

// A connection's read buffer: every request's bytes pass through it, the Authorization value
// and a /check body among them. Freed (growth, connection end) wiped, and wiped in place after
// each request by wipe_read().
using read_buffer = beast::basic_flat_buffer<wiping_allocator<char>>;

// Wipes what the requests read so far left in the buffer, which holds none unread. Consumed
// bytes stay where they were, and a read may have moved them to the front, so the whole
// capacity is wiped: clear() puts the start back and prepare() spans the storage without
// allocating. One OPENSSL_cleanse of the capacity per request: 4 KiB unless a request needed
// more than one read.
void wipe_read(read_buffer& buffer) {
  buffer.clear();
  const auto room = buffer.prepare(buffer.capacity());
  OPENSSL_cleanse(room.data(), room.size());
}

struct wipe_secrets_at_exit {
  request& req;
  ~wipe_secrets_at_exit() { req.wipe_secrets(); }
};

struct wipe_body_at_exit {
  request_parser& parser;
  ~wipe_body_at_exit() {
    std::string& body = parser.get().body();
    OPENSSL_cleanse(body.data(), body.capacity());
  }
};

}  // namespace

struct server::impl {
  struct listener {
    explicit listener(const strand_type& ex) : acceptor(ex) {}
    tcp::acceptor acceptor;
    std::unique_ptr<asio::ssl::context> tls;
    tcp::endpoint local;
  };

  impl(asio::any_io_executor executor, server_options o, router r, api_key_auth keys,
       log::logger& l, metrics::registry* m)
      : io(std::move(executor)),
        control(asio::make_strand(io)),
        opts(std::move(o)),
        routes(std::move(r)),
        auth(std::make_shared<const api_key_auth>(std::move(keys))),
        log(l),
        registry(m),
        drained(control),
        joined(control) {}

  std::shared_ptr<const api_key_auth> keys() const {
    std::lock_guard lock(auth_mutex);
    return auth;
  }

  asio::any_io_executor io;
  strand_type control;  // acceptors, the stop sequence
  server_options opts;
  router routes;
  mutable std::mutex auth_mutex;
  std::shared_ptr<const api_key_auth> auth;
  log::logger& log;
  metrics::registry* registry;

  metrics::counter_family* requests_total = nullptr;
  metrics::histogram_family* request_duration = nullptr;
  metrics::gauge open_gauge;
  metrics::counter accepted;
  metrics::counter rejected;

  std::vector<std::unique_ptr<listener>> listeners;
  bool is_started = false;

  std::mutex conns_mutex;
  std::map<std::uint64_t, std::shared_ptr<connection_control>> conns;
  std::uint64_t next_id = 1;
  std::atomic<std::size_t> open{0};
  std::atomic<bool> stopping{false};
  asio::steady_timer drained;  // on control: cancelled when the last connection goes
  asio::steady_timer joined;   // the same, for join(), which may wait while stop() does
  clock_type::time_point last_reject_log{};

  void register_metrics(const std::shared_ptr<impl>& self);
  asio::awaitable<void> accept_loop(std::shared_ptr<impl> self, listener& l);
  asio::awaitable<void> run_connection(std::shared_ptr<impl> self,
                                       std::shared_ptr<connection_control> ctrl, std::uint64_t id,
                                       tcp::socket sock, asio::ssl::context* tls);
  template <class Stream>
  asio::awaitable<void> serve(connection_control& ctrl, Stream& stream, tcp::socket& sock,
                              watchdog& dog, const peer_info& peer);
  template <class Stream>
  asio::awaitable<exchange> read_request(Stream& stream, read_buffer& buffer, watchdog& dog,
                                         const peer_info& peer);
  template <class Stream>
  asio::awaitable<bool> answer_expectation(Stream& stream, exchange& ex);
  template <class Stream>
  asio::awaitable<bool> write_response(Stream& stream, watchdog& dog, const request& req,
                                       response& res, bool keep_alive);
  template <class Stream>
  asio::awaitable<void> close_connection(Stream& stream, tcp::socket& sock, watchdog& dog,
                                         bool linger);
  asio::awaitable<void> stop_sequence(std::shared_ptr<impl> self);
  asio::awaitable<void> join_sequence(std::shared_ptr<impl> self);
  asio::awaitable<void> wait_drained(clock_type::time_point deadline);
  std::vector<std::shared_ptr<connection_control>> connections();
  void unregister(const std::shared_ptr<impl>& self, std::uint64_t id);
  void connection_failed(const connection_control& ctrl, std::exception_ptr e);
  void record(const request& req, std::string_view route_label, unsigned status,
              clock_type::time_point started);
};

void server::impl::register_metrics(const std::shared_ptr<impl>& self) {
  if (!registry) return;
  requests_total = &registry->add_counter(
      "otpd_http_requests_total", "HTTP requests answered, by method, route template and status.",
      {"method", "route", "status"});
  request_duration = &registry->add_histogram(
      "otpd_http_request_duration_seconds",
      "Time from the first byte of a request to the end of its response.", {"method", "route"});
  open_gauge = registry->add_gauge("otpd_http_open_connections", "HTTP connections open.").with();
  accepted =
      registry->add_counter("otpd_http_connections_accepted_total", "HTTP connections accepted.")
          .with();
  rejected = registry
                 ->add_counter("otpd_http_connections_rejected_total",
                               "HTTP connections closed at once because max_connections were open.")
                 .with();
  registry->on_collect([weak = std::weak_ptr<impl>(self)] {
    if (auto s = weak.lock()) s->open_gauge.set(static_cast<double>(s->open.load()));
  });
}

void server::impl::record(const request& req, std::string_view route_label, unsigned status,
                          clock_type::time_point started) {
  const auto elapsed = clock_type::now() - started;
  const std::string_view method_label =
      req.method == method::unknown ? std::string_view("OTHER") : to_string(req.method);
  if (requests_total != nullptr) {
    const std::string status_text = std::to_string(status);
    requests_total->with({method_label, route_label, status_text}).inc();
    request_duration->with({method_label, route_label})
        .observe(std::chrono::duration<double>(elapsed).count());
  }
  if (opts.access_log) {
    // Never the body, never the Authorization field, never the raw path (it may carry an id
    // that is fine, but also whatever a client typed): the route template.
    log.info("http_request", {{"method", method_label},
                              {"route", route_label},
                              {"status", status},
                              {"duration_ms", log::duration_ms{elapsed}},
                              {"api_key", req.api_key.empty() ? std::string_view("-")
                                                              : std::string_view(req.api_key)},
                              {"client", req.client_address}});
  }
}

void server::impl::unregister(const std::shared_ptr<impl>& self, std::uint64_t id) {
  {
    std::lock_guard lock(conns_mutex);
    conns.erase(id);
  }
  const std::size_t left = open.fetch_sub(1) - 1;
  if (left == 0 && stopping.load()) {
    asio::post(control, [self] {
      self->drained.cancel();
      self->joined.cancel();
    });
  }
}

asio::awaitable<void> server::impl::accept_loop(std::shared_ptr<impl> self, listener& l) {
  asio::steady_timer backoff(control);
  for (;;) {
    auto strand = asio::make_strand(io);
    auto [ec, sock] = co_await l.acceptor.async_accept(strand, use_nothrow);
    if (stopping.load() || !l.acceptor.is_open()) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      // EMFILE, ENFILE, ENOBUFS: nothing to accept with until something closes; try again
      // shortly instead of spinning.
      log.error("http_accept_failed", {{"error", ec.message()}});
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(use_nothrow);
      continue;
    }
    if (open.load() >= opts.limits.max_connections) {
      rejected.inc();
      error_code ignored;
      sock.close(ignored);
      const auto now = clock_type::now();
      if (now - last_reject_log >= std::chrono::seconds(1)) {
        last_reject_log = now;
        log.warning("http_connection_rejected", {{"reason", "max_connections"},
                                                 {"max_connections", opts.limits.max_connections}});
      }
      continue;
    }
    accepted.inc();
    auto ctrl = std::make_shared<connection_control>(strand);
    std::uint64_t id = 0;
    {
      std::lock_guard lock(conns_mutex);
      id = next_id++;
      conns.emplace(id, ctrl);
    }
    open.fetch_add(1);
    asio::co_spawn(
        strand, run_connection(self, ctrl, id, std::move(sock), l.tls.get()),
        asio::bind_cancellation_slot(ctrl->cancel.slot(), [self, ctrl](std::exception_ptr e) {
          if (e) self->connection_failed(*ctrl, e);
        }));
  }
}

asio::awaitable<void> server::impl::run_connection(std::shared_ptr<impl> self,
                                                   std::shared_ptr<connection_control> ctrl,
                                                   std::uint64_t id, tcp::socket sock,
                                                   asio::ssl::context* tls) {
  struct unregister_guard {
    std::shared_ptr<impl> s;
    std::uint64_t id;
    ~unregister_guard() { s->unregister(s, id); }
  } guard{self, id};

  peer_info peer;
  {
    error_code ec;
    const auto remote = sock.remote_endpoint(ec);
    if (ec) co_return;  // already reset by the peer
    peer.address = peer_address(remote);
    peer.port = remote.port();
    sock.set_option(tcp::no_delay(true), ec);
  }
  ctrl->client = peer.address;
  // What this coroutine throws (a cancellation by stop() among it) goes to connection_failed().
  if (tls == nullptr) {
    const socket_in_use in_use(*ctrl, sock);
    watchdog dog(ctrl->strand, sock);
    co_await serve(*ctrl, sock, sock, dog, peer);
    co_return;
  }
  peer.tls = true;
  asio::ssl::stream<tcp::socket> stream(std::move(sock), *tls);
  const socket_in_use in_use(*ctrl, stream.next_layer());
  watchdog dog(ctrl->strand, stream.next_layer());
  dog.arm(opts.limits.read_timeout);
  auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_nothrow);
  if (ec) {
    log.debug("http_tls_handshake_failed",
              {{"client", peer.address}, {"error", dog.expired() ? "timeout" : ec.message()}});
    co_return;
  }
  co_await serve(*ctrl, stream, stream.next_layer(), dog, peer);
}

// A connection's coroutine ended with an exception. A handler's exceptions are 500s, so this is
// a bug (or a handler's own operation_aborted), unless it is the operation_aborted that
// abandon() ends the connection with. No request data: the request may be gone, and may hold
// secrets.
void server::impl::connection_failed(const connection_control& ctrl, std::exception_ptr e) {
  if (ctrl.cancelled && is_operation_aborted(e)) return;
  log.error("http_connection_failed", {{"client", ctrl.client}, {"error", describe(e)}});
}

template <class Stream>
asio::awaitable<void> server::impl::serve(connection_control& ctrl, Stream& stream,
                                          tcp::socket& sock, watchdog& dog, const peer_info& peer) {
  const auto& limits = opts.limits;
  // Room for a whole header section plus what a client sends after it in the same reads; the
  // header limit (431) triggers before this buffer is full.
  read_buffer buffer(limits.max_header_bytes + 16 * 1024);
  bool first = true;
  bool linger = false;

  for (;;) {
    clock_type::time_point started = clock_type::now();
    bool deadline_armed = false;
    if (buffer.size() == 0) {
      wipe_read(buffer);
      // Between requests: idle (RFC 9112 §9.5); the first request's deadline counts from the
      // accept, so that a connection that never sends anything is closed at read_timeout.
      ctrl.idle = true;
      if (ctrl.draining) break;
      dog.arm(first ? limits.read_timeout : limits.idle_timeout);
      deadline_armed = first;
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), use_nothrow);
      ctrl.idle = false;
      if (ec) co_return;  // idle timeout, client closed, or stop(): no response is due
      buffer.commit(n);
      if (!first) started = clock_type::now();
    }
    first = false;
    if (!deadline_armed) dog.arm(limits.read_timeout);

    exchange ex = co_await read_request(stream, buffer, dog, peer);
    // However this iteration ends: the body and the API key go before the memory does.
    const wipe_secrets_at_exit wipe_req{ex.req};
    dog.disarm();
    if (!ex.early && !ex.close) {
      // The handler: on this strand; an exception is a 500 (and logged), a cancellation by
      // stop() ends the connection.
      ex.req.route = ex.route_label;
      std::optional<response> res;
      try {
        res = co_await ex.matched->handler(ex.req);
      } catch (const std::exception& e) {
        const auto* se = dynamic_cast<const boost::system::system_error*>(&e);
        if (se != nullptr && se->code() == asio::error::operation_aborted) throw;
        log.error("http_handler_failed", {{"route", ex.route_label}, {"error", e.what()}});
        res = problem(500, "internal_error", {}, "the request could not be processed");
      }
      if (res->status < 200 || res->status > 599) {
        log.error(
            "http_handler_failed",
            {{"route", ex.route_label}, {"error", "invalid status"}, {"status", res->status}});
        res = problem(500, "internal_error", {}, "the request could not be processed");
      }
      ex.early = std::move(res);
    }
    if (!ex.early) co_return;  // the client went away or stop() cut the request

    const bool keep_alive = ex.client_keep_alive && !ex.close && !ex.body_pending && !ctrl.draining;
    const bool written = co_await write_response(stream, dog, ex.req, *ex.early, keep_alive);
    record(ex.req, ex.route_label, ex.early->status, started);
    if (!written) co_return;
    if (!keep_alive) {
      linger = ex.close || ex.body_pending;
      break;
    }
  }
  co_await close_connection(stream, sock, dog, linger);
}

template <class Stream>
asio::awaitable<exchange> server::impl::read_request(Stream& stream, read_buffer& buffer,
                                                     watchdog& dog, const peer_info& peer) {
  const auto& limits = opts.limits;
  exchange ex;
  request& req = ex.req;
  req.client_address = peer.address;
  req.client_port = peer.port;
  req.tls = peer.tls;
  req.received_at = clock_type::now();

  request_parser parser;
  apply_limits(parser, limits);
  // A body read in part (an error, a timeout) stays in the parser; a whole one is moved out.
  const wipe_body_at_exit wipe_body{parser};

  // What a read error means for the client (nullopt: it left, no response is due).
  const auto read_problem = [&](const error_code& ec, bool in_header) -> std::optional<response> {
    if (dog.expired()) {
      return problem(408, "request_timeout", {},
                     "the request was not received within " + millis(limits.read_timeout));
    }
    if (is_client_gone(ec)) return std::nullopt;
    const auto held = buffer.data();
    return parse_error_response(
        ec, parser, limits, std::string_view(static_cast<const char*>(held.data()), held.size()),
        in_header);
  };

  {
    auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, use_nothrow);
    if (ec) {
      ex.close = true;
      if (ec == bhttp::error::body_limit) take_head(parser, req);  // the header itself was fine
      ex.early = read_problem(ec, true);
      co_return ex;
    }
  }
  take_head(parser, req);
  ex.client_keep_alive = parser.get().keep_alive();
  if (head_verdict v = check_head(req); v.early) {
    ex.close = v.close;
    ex.body_pending = !v.close && !parser.is_done();
    ex.early = std::move(v.early);
    co_return ex;
  }

  // Route and authenticate before reading the body: a request that is refused anyway does
  // not get to make us read it (its connection is closed after the answer instead).
  route_verdict route = route_request(routes, *keys(), req);
  ex.route_label = std::move(route.label);
  ex.matched = route.matched;
  if (route.early) {
    ex.body_pending = !parser.is_done();
    ex.early = std::move(route.early);
    co_return ex;
  }

  if (!parser.is_done()) {
    if (!co_await answer_expectation(stream, ex)) {
      if (ex.early) ex.body_pending = true;
      co_return ex;
    }
    auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, use_nothrow);
    if (ec) {
      ex.close = true;
      ex.early = read_problem(ec, false);
      co_return ex;
    }
  }
  req.body = std::move(parser.get().body());
  // A short body (a 4-digit code's is 15 bytes) would sit in the string itself, and moving the
  // exchange out of this frame would copy it and leave it behind: on the heap, the pointer moves.
  if (!req.body.empty() && req.body.capacity() < 16) req.body.reserve(16);
  co_return ex;
}

// check_expectation()'s verdict carried out. False when the body is not to be read: ex says why
// (an answer, or a connection to close).
template <class Stream>
asio::awaitable<bool> server::impl::answer_expectation(Stream& stream, exchange& ex) {
  expect_verdict v = check_expectation(ex.req);
  if (v.early) {
    ex.early = std::move(v.early);
    co_return false;
  }
  if (!v.send_continue) co_return true;
  static constexpr std::string_view cont = "HTTP/1.1 100 Continue\r\n\r\n";
  auto [ec, n] =
      co_await asio::async_write(stream, asio::buffer(cont.data(), cont.size()), use_nothrow);
  if (ec) ex.close = true;
  co_return !ec;
}

template <class Stream>
asio::awaitable<bool> server::impl::write_response(Stream& stream, watchdog& dog,
                                                   const request& req, response& res,
                                                   bool keep_alive) {
  bhttp::response<bhttp::string_body> out;
  out.version(req.version == 10 ? 10 : 11);
  out.result(res.status);
  for (const auto& [name, value] : res.headers) {
    if (server_managed(name)) continue;
    if (!valid_field(name, value)) {
      log.error("http_invalid_response_field", {{"route", req.route}, {"field", name}});
      continue;
    }
    out.insert(name, value);
  }
  out.set(bhttp::field::date, http_date());
  // Verification states and codes must not sit in shared caches (RFC 9111 §5.2.2.5).
  if (!res.headers.contains("Cache-Control")) out.set(bhttp::field::cache_control, "no-store");
  const bool no_content = res.status == 204 || res.status == 304;
  if (!res.content_type.empty() && !no_content) {
    out.set(bhttp::field::content_type, res.content_type);
  }
  if (!no_content) {
    // RFC 9110 §9.3.2: HEAD gets the GET header section, Content-Length included, no body.
    out.content_length(res.body.size());
    if (req.method != method::head) out.body() = std::move(res.body);
  }
  out.keep_alive(keep_alive);

  dog.arm(opts.limits.read_timeout);
  bhttp::serializer<false, bhttp::string_body> sr(out);
  if (req.method == method::head) sr.split(true);
  error_code ec;
  if (req.method == method::head) {
    auto [hec, hn] = co_await bhttp::async_write_header(stream, sr, use_nothrow);
    ec = hec;
  } else {
    auto [wec, wn] = co_await bhttp::async_write(stream, sr, use_nothrow);
    ec = wec;
  }
  dog.disarm();
  co_return !ec;
}

template <class Stream>
asio::awaitable<void> server::impl::close_connection(Stream& stream, tcp::socket& sock,
                                                     watchdog& dog, bool linger) {
  const auto bound =
      std::min<clock_type::duration>(opts.limits.read_timeout, std::chrono::seconds(2));
  if constexpr (!std::is_same_v<Stream, tcp::socket>) {
    // TLS close_notify (RFC 8446 §6.1), so that the client can tell the end from a cut.
    dog.arm(bound);
    co_await stream.async_shutdown(use_nothrow);
  }
  error_code ec;
  sock.shutdown(tcp::socket::shutdown_send, ec);
  if (linger && !ec) {
    // Lingering close: closing with unread input would send a TCP reset that can destroy the
    // response we just wrote before the client reads it (RFC 9112 §9.6). Read and discard what
    // the client still sends, for a bounded time and size.
    dog.arm(bound);
    std::array<char, 4096> scratch{};
    std::size_t drained_bytes = 0;
    while (drained_bytes < 1024 * 1024) {
      auto [rec, n] = co_await sock.async_read_some(asio::buffer(scratch), use_nothrow);
      if (rec) break;
      drained_bytes += n;
    }
  }
  dog.disarm();
  sock.close(ec);
}

asio::awaitable<void> server::impl::wait_drained(clock_type::time_point deadline) {
  while (open.load() > 0 && clock_type::now() < deadline) {
    drained.expires_at(deadline);
    co_await drained.async_wait(use_nothrow);
  }
}

std::vector<std::shared_ptr<connection_control>> server::impl::connections() {
  std::lock_guard lock(conns_mutex);
  std::vector<std::shared_ptr<connection_control>> v;
  v.reserve(conns.size());
  for (const auto& [id, c] : conns) v.push_back(c);
  return v;
}

asio::awaitable<void> server::impl::stop_sequence(std::shared_ptr<impl> self) {
  if (!stopping.exchange(true)) {
    for (auto& l : listeners) {
      error_code ec;
      l->acceptor.close(ec);
    }
    log.info("http_stopping", {{"open_connections", open.load()}});
  }
  // Idle connections go now; busy ones finish their request and close after it.
  for (auto& c : connections()) {
    asio::post(c->strand, [c] {
      c->draining = true;
      if (c->idle) c->abandon();
    });
  }
  co_await wait_drained(clock_type::now() + opts.shutdown_grace);
  if (open.load() == 0) co_return;

  log.warning("http_stop_cancelling", {{"open_connections", open.load()}});
  for (auto& c : connections()) {
    asio::post(c->strand, [c] { c->abandon(); });
  }
  // Handlers that ignore cancellation get a last bound; then stop() returns, and join() waits
  // for them once the caller has stopped what they wait for.
  co_await wait_drained(clock_type::now() + std::chrono::seconds(2));
  if (open.load() > 0) {
    log.error("http_stop_incomplete", {{"open_connections", open.load()}});
  }
  (void)self;
}

asio::awaitable<void> server::impl::join_sequence(std::shared_ptr<impl> self) {
  if (!stopping.load()) co_await stop_sequence(self);
  // Past every bound: a connection writing to a peer that does not read ends with its socket.
  for (auto& c : connections()) {
    asio::post(c->strand, [c] {
      c->abandon();
      c->close_socket();
    });
  }
  while (open.load() > 0) {
    joined.expires_at(clock_type::time_point::max());
    co_await joined.async_wait(use_nothrow);
  }
}

server::server(asio::any_io_executor ex, server_options opts, router routes, api_key_auth keys,
               log::logger& logger, metrics::registry* metrics)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(opts), std::move(routes),
                                   std::move(keys), logger, metrics)) {
  impl_->register_metrics(impl_);
}

server::~server() {
  // Without stop(), the accept loops still hold the state: close the acceptors on their strand
  // so that they end; connections finish on their own (see the header on lifetimes).
  if (impl_->is_started && !impl_->stopping.exchange(true)) {
    asio::post(impl_->control, [s = impl_] {
      for (auto& l : s->listeners) {
        error_code ec;
        l->acceptor.close(ec);
      }
    });
  }
}

void server::start() {
  auto& s = *impl_;
  if (s.is_started) throw std::logic_error("http::server::start called twice");
  s.is_started = true;
  for (const auto& cfg : s.opts.listeners) {
    auto l = std::make_unique<impl::listener>(s.control);
    if (cfg.tls) l->tls = make_tls_context(*cfg.tls);
    const tcp::endpoint ep(asio::ip::make_address(cfg.address), cfg.port);
    l->acceptor.open(ep.protocol());
    l->acceptor.set_option(tcp::acceptor::reuse_address(true));
    l->acceptor.bind(ep);
    l->acceptor.listen(asio::socket_base::max_listen_connections);
    l->local = l->acceptor.local_endpoint();
    s.log.info("http_listening", {{"address", l->local.address().to_string()},
                                  {"port", l->local.port()},
                                  {"tls", cfg.tls.has_value()}});
    s.listeners.push_back(std::move(l));
  }
  for (auto& l : s.listeners) {
    asio::co_spawn(s.control, s.accept_loop(impl_, *l), [self = impl_](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        self->log.error("http_accept_loop_failed", {{"error", ex.what()}});
      }
    });
  }
}

std::vector<server::endpoint> server::local_endpoints() const {
  std::vector<endpoint> out;
  for (const auto& l : impl_->listeners) out.push_back(l->local);
  return out;
}

void server::set_api_keys(api_key_auth keys) {
  auto next = std::make_shared<const api_key_auth>(std::move(keys));
  std::lock_guard lock(impl_->auth_mutex);
  impl_->auth = std::move(next);
}

asio::awaitable<void> server::stop() {
  auto self = impl_;
  co_await asio::co_spawn(self->control, self->stop_sequence(self), asio::use_awaitable);
}

asio::awaitable<void> server::join() {
  auto self = impl_;
  co_await asio::co_spawn(self->control, self->join_sequence(self), asio::use_awaitable);
}

std::size_t server::open_connections() const noexcept { return impl_->open.load(); }

}  // namespace otpd::http
