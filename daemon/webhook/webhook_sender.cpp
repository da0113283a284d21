#include "daemon/webhook/webhook_sender.hpp"

#include <openssl/hmac.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "config/link_local.hpp"
#include "daemon/log/logger.hpp"

namespace otpd::service {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace std::chrono_literals;

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

struct url_parts {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target = "/";
};

// http[s]://host[:port][/path]: enough for a webhook URL (no user-info).
std::optional<url_parts> parse_url(std::string_view url) {
  url_parts u;
  if (url.starts_with("https://")) {
    u.tls = true;
    url.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else {
    return std::nullopt;
  }
  const auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  if (slash != std::string_view::npos) u.target = std::string(url.substr(slash));
  const auto colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    u.host = std::string(authority.substr(0, colon));
    u.port = std::string(authority.substr(colon + 1));
  } else {
    u.host = std::string(authority);
    u.port = u.tls ? "443" : "80";
  }
  if (u.host.empty()) return std::nullopt;
  return u;
}

}  // namespace

bool is_forbidden_destination(const asio::ip::address& a) noexcept {
  return a.is_v4() ? config::is_link_local(a.to_v4().to_bytes())
                   : config::is_link_local(a.to_v6().to_bytes());
}

std::string webhook_signature(std::string_view secret, std::int64_t unix_seconds,
                              std::string_view body) {
  std::string signed_text = std::to_string(unix_seconds);
  signed_text += '.';
  signed_text += body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signed_text.data()), signed_text.size(), mac, &len);
  static constexpr char digits[] = "0123456789abcdef";
  std::string out = "t=" + std::to_string(unix_seconds) + ",v1=";
  for (unsigned i = 0; i < len; ++i) {
    out += digits[mac[i] >> 4];
    out += digits[mac[i] & 15];
  }
  return out;
}

webhook_sender::webhook_sender(asio::any_io_executor ex, const config::webhook& cfg,
                               store_executor& store, std::string holder,
                               metrics::registry& metrics, log::logger* log,
                               std::size_t max_in_flight)
    : ex_(std::move(ex)),
      cfg_(cfg),
      store_(store),
      holder_(std::move(holder)),
      log_(log),
      max_in_flight_(std::max<std::size_t>(max_in_flight, 1)),
      wake_(ex_),
      tasks_(ex_,
             [log](std::exception_ptr e) {
               if (log) log->error("task_failed", {{"error", describe(e)}});
             }),
      backlog_timer_(ex_) {
  auto& deliveries = metrics.add_counter("otpd_webhook_deliveries_total",
                                         "Webhook delivery attempts, by outcome", {"outcome"});
  m_.delivered = deliveries.with({"delivered"});
  m_.failed = deliveries.with({"failed"});
  m_.given_up = deliveries.with({"given_up"});
  m_.backlog = metrics.add_gauge("otpd_webhook_backlog", "Webhook events in the outbox").with();
  m_.oldest_seconds =
      metrics
          .add_gauge("otpd_webhook_oldest_seconds", "Age of the oldest webhook event in the outbox")
          .with();
}

webhook_stats webhook_sender::stats() const noexcept {
  return {m_.delivered.value(), m_.failed.value() + m_.given_up.value(), m_.given_up.value(),
          in_flight_};
}

webhook_sender::~webhook_sender() = default;

void webhook_sender::start() {
  if (cfg_.url.empty() || running_) return;
  running_ = true;
  tasks_.spawn(run());
  tasks_.spawn(count_backlog());
}

void webhook_sender::stop() {
  stopping_ = true;
  wake();
  backlog_timer_.cancel();
}

asio::awaitable<void> webhook_sender::join() { co_await tasks_.join(); }

void webhook_sender::post(std::string) { wake(); }

void webhook_sender::wake() {
  woken_ = true;
  wake_.cancel();
}

std::chrono::milliseconds webhook_sender::claim_ttl() const noexcept {
  // A delivery takes at most a timeout to connect and another to write and read (after name
  // resolution): a claim outlasts three, with room for a busy store.
  return std::chrono::duration_cast<std::chrono::milliseconds>(3 * cfg_.timeout + 30s);
}

std::chrono::seconds webhook_sender::backoff(int attempts) const noexcept {
  std::chrono::seconds wait = cfg_.initial_backoff;
  for (int i = 1; i < attempts && wait < cfg_.max_backoff; ++i) wait *= 2;
  return std::min(wait, cfg_.max_backoff);
}

asio::awaitable<void> webhook_sender::wait(std::chrono::steady_clock::time_point until) {
  if (woken_ || stopping_) co_return;
  wake_.expires_at(until);
  co_await wake_.async_wait(use_nothrow);
}

asio::awaitable<void> webhook_sender::run() {
  // The store calls capture `this` (holder_ never changes) and the frame's locals by reference
  // (the frame waits for them): g++ 12 mishandles a lambda temporary with a string captured by
  // value in a co_await expression.
  const error_code rec =
      co_await store_.run([this](store& s) { return s.release_webhooks(holder_); });
  if (rec && log_) log_->error("webhook_outbox_failed", {{"error", rec.message()}});
  while (!stopping_) {
    if (in_flight_ >= max_in_flight_) {
      co_await wait(std::chrono::steady_clock::time_point::max());
      continue;
    }
    co_await claim_some();
    // The next post, delivery end or poll; at once when one came during the claim, or when the
    // claim filled the room (there may be more).
    co_await wait(std::chrono::steady_clock::now() + poll_interval);
  }
  running_ = false;
}

asio::awaitable<void> webhook_sender::count_backlog() {
  while (!stopping_) {
    std::size_t count = 0;
    sys_time oldest{};
    const error_code ec = co_await store_.run(
        [&count, &oldest](store& s) { return s.webhook_backlog(count, oldest); });
    if (!ec) {
      m_.backlog.set(static_cast<double>(count));
      const auto age = count == 0 ? std::chrono::system_clock::duration{}
                                  : std::chrono::system_clock::now() - oldest;
      m_.oldest_seconds.set(std::max(0.0, std::chrono::duration<double>(age).count()));
    }
    if (stopping_) break;
    backlog_timer_.expires_after(backlog_interval);
    co_await backlog_timer_.async_wait(use_nothrow);
  }
}

asio::awaitable<void> webhook_sender::claim_some() {
  woken_ = false;
  const std::size_t room = max_in_flight_ - in_flight_;
  const auto ttl = claim_ttl();
  auto [ec, claimed] = co_await store_.run(
      [this, room, ttl](store& s) -> std::pair<error_code, std::vector<webhook_event>> {
        std::vector<webhook_event> out;
        const error_code e =
            s.claim_webhooks(holder_, std::chrono::system_clock::now(), ttl, room, out);
        return {e, std::move(out)};
      });
  if (ec) {
    if (!store_failing_ && log_) {
      log_->error("webhook_outbox_failed",
                  {{"error", ec.message()}, {"detail", store_.last_error()}});
    }
    store_failing_ = true;
    co_return;
  }
  store_failing_ = false;
  for (auto& e : claimed) {
    if (stopping_) break;  // left claimed: taken back at the next start
    ++in_flight_;
    tasks_.spawn(deliver_one(std::move(e)));
  }
  // A full batch: there may be more, read again at once.
  if (claimed.size() == room) woken_ = true;
}

asio::awaitable<void> webhook_sender::deliver_one(webhook_event e) {
  struct ended {
    webhook_sender& s;
    ~ended() {
      --s.in_flight_;
      s.wake();  // room for one more, and the verification's next event may be due
    }
  } on_end{*this};
  const bool ok = co_await deliver(e.body);
  const int attempts = e.attempts + 1;
  bool retry = false;
  if (ok) {
    m_.delivered.inc();
  } else if (attempts >= cfg_.max_attempts) {
    m_.given_up.inc();
    if (log_) {
      log_->warning("webhook_given_up",
                    {{"verification", e.verification_id}, {"attempts", attempts}});
    }
  } else {
    retry = true;
    m_.failed.inc();
  }
  const sys_time next = std::chrono::system_clock::now() + backoff(attempts);
  const error_code ec = co_await store_.run([this, &e, retry, next](store& s) {
    return retry ? s.retry_webhook(holder_, e.seq, next) : s.finish_webhook(holder_, e.seq);
  });
  // not_found: the claim ran out and another node has the event (it goes out again from there).
  if (ec && ec != store_errc::not_found && log_) {
    log_->error("webhook_outbox_failed", {{"verification", e.verification_id},
                                          {"error", ec.message()},
                                          {"detail", store_.last_error()}});
  }
}

asio::awaitable<std::vector<asio::ip::tcp::endpoint>> webhook_sender::destinations(
    const std::string& host, const std::string& port) {
  std::vector<asio::ip::tcp::endpoint> out;
  boost::system::error_code ec;
  if (resolve_) {
    out = resolve_(host, port, ec);
  } else {
    asio::ip::tcp::resolver resolver(ex_);
    auto [rec, results] = co_await resolver.async_resolve(host, port, use_nothrow);
    ec = rec;
    for (const auto& r : results) out.push_back(r.endpoint());
  }
  if (ec) co_return std::vector<asio::ip::tcp::endpoint>{};
  // One forbidden address refuses them all: a name that answers 169.254.169.254 among others
  // is aimed at the metadata service, whichever address the connection would have taken.
  for (const auto& ep : out) {
    if (is_forbidden_destination(ep.address())) {
      if (log_) {
        log_->warning(
            "webhook_destination_refused",
            {{"host", host},
             {"address", ep.address().to_string()},
             {"reason", "link-local address (169.254.0.0/16, fe80::/10: cloud metadata)"}});
      }
      co_return std::vector<asio::ip::tcp::endpoint>{};
    }
  }
  co_return out;
}

asio::awaitable<bool> webhook_sender::deliver(const std::string& body) {
  auto url = parse_url(cfg_.url);
  if (!url) co_return false;
  const auto results = co_await destinations(url->host, url->port);
  if (results.empty()) co_return false;

  http::request<http::string_body> req{http::verb::post, url->target, 11};
  req.set(http::field::host, url->host);
  req.set(http::field::user_agent, "otpd");
  req.set(http::field::content_type, "application/json");
  const auto unix_now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  req.set("Otpd-Signature", webhook_signature(cfg_.secret.view(), unix_now, body));
  req.body() = body;
  req.prepare_payload();
  http::response<http::string_body> res;
  beast::flat_buffer buf;

  if (!url->tls) {
    beast::tcp_stream stream(ex_);
    stream.expires_after(cfg_.timeout);
    auto [cec, ep] = co_await stream.async_connect(results, use_nothrow);
    if (cec) co_return false;
    stream.expires_after(cfg_.timeout);
    auto [wec, wn] = co_await http::async_write(stream, req, use_nothrow);
    if (wec) co_return false;
    auto [rdec, rn] = co_await http::async_read(stream, buf, res, use_nothrow);
    if (rdec) co_return false;
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  } else {
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_default_verify_paths();
    beast::ssl_stream<beast::tcp_stream> stream(ex_, ctx);
    SSL_set_tlsext_host_name(stream.native_handle(), url->host.c_str());
    stream.set_verify_mode(asio::ssl::verify_peer);
    stream.set_verify_callback(asio::ssl::host_name_verification(url->host));
    beast::get_lowest_layer(stream).expires_after(cfg_.timeout);
    auto [cec, ep] = co_await beast::get_lowest_layer(stream).async_connect(results, use_nothrow);
    if (cec) co_return false;
    auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::client, use_nothrow);
    if (hec) co_return false;
    auto [wec, wn] = co_await http::async_write(stream, req, use_nothrow);
    if (wec) co_return false;
    auto [rdec, rn] = co_await http::async_read(stream, buf, res, use_nothrow);
    if (rdec) co_return false;
  }
  co_return res.result_int() >= 200 && res.result_int() < 300;
}

}  // namespace otpd::service
