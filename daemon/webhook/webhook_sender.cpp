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
                               std::size_t max_queue, log::logger* log)
    : ex_(std::move(ex)),
      cfg_(cfg),
      max_queue_(max_queue),
      log_(log),
      wake_(ex_),
      tasks_(ex_, [log](std::exception_ptr e) {
        if (log) log->error("task_failed", {{"error", describe(e)}});
      }) {}

webhook_sender::~webhook_sender() = default;

void webhook_sender::start() {
  if (cfg_.url.empty() || running_) return;
  running_ = true;
  tasks_.spawn(run());
}

void webhook_sender::stop() {
  stopping_ = true;
  wake_.cancel();
}

asio::awaitable<void> webhook_sender::join() { co_await tasks_.join(); }

void webhook_sender::post(std::string json) {
  if (cfg_.url.empty() || stopping_) return;
  if (queue_.size() >= max_queue_) {
    ++stats_.dropped;
    return;
  }
  queue_.push_back(item{std::move(json)});
  stats_.queued = queue_.size();
  wake_.cancel();
}

asio::awaitable<void> webhook_sender::run() {
  while (!stopping_) {
    if (queue_.empty()) {
      wake_.expires_at(std::chrono::steady_clock::time_point::max());
      co_await wake_.async_wait(use_nothrow);
      continue;
    }
    item& head = queue_.front();
    const auto now = std::chrono::steady_clock::now();
    if (head.not_before > now) {
      wake_.expires_at(head.not_before);
      co_await wake_.async_wait(use_nothrow);
      continue;
    }
    const bool ok = co_await deliver(head.body);
    if (stopping_) break;
    item it = std::move(queue_.front());
    queue_.pop_front();
    if (ok) {
      ++stats_.delivered;
    } else {
      ++stats_.failed_attempts;
      if (++it.attempts >= cfg_.max_attempts) {
        ++stats_.dropped;
      } else {
        // Exponential backoff, capped; the event goes to the back so that one dead endpoint
        // does not hold the others' events.
        auto backoff =
            std::chrono::duration_cast<std::chrono::steady_clock::duration>(cfg_.initial_backoff);
        for (int i = 1; i < it.attempts && backoff < cfg_.max_backoff; ++i) backoff *= 2;
        it.not_before = std::chrono::steady_clock::now() +
                        std::min<std::chrono::steady_clock::duration>(backoff, cfg_.max_backoff);
        queue_.push_back(std::move(it));
      }
    }
    stats_.queued = queue_.size();
  }
  stats_.dropped += queue_.size();
  queue_.clear();
  running_ = false;
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
