#include "daemon/api/api.hpp"

#include <algorithm>
#include <set>

#include <boost/json.hpp>

#include "common/secret.hpp"
#include "daemon/engine/rules.hpp"
#include "daemon/http/json_body.hpp"
#include "daemon/http/problem.hpp"
#include "daemon/http/wiping_memory.hpp"
#include "daemon/service/json_view.hpp"

namespace otpd::api {
namespace asio = boost::asio;
namespace json = boost::json;
using http::method;
using http::problem;
using http::request;
using http::response;
using service::verification_service;

namespace {

constexpr std::size_t max_idempotency_key = 255;
constexpr std::size_t max_field = 64;

struct field_errors {
  json::array list;
  void add(std::string_view field, std::string_view message) {
    list.push_back(json::object{{"field", field}, {"message", message}});
  }
  bool empty() const { return list.empty(); }
  response answer() const {
    return problem(400, "invalid_request", "Invalid request",
                   "The request body has invalid fields.", json::object{{"errors", list}});
  }
};

// Refuses fields this endpoint does not know: a typo must not pass silently.
void reject_unknown(const json::object& body, std::initializer_list<std::string_view> known,
                    field_errors& errs) {
  for (const auto& kv : body) {
    if (std::find(known.begin(), known.end(), kv.key()) == known.end()) {
      errs.add(kv.key(), "unknown field");
    }
  }
}

std::optional<std::string> string_field(const json::object& body, std::string_view name,
                                        field_errors& errs, bool required,
                                        std::size_t max_len = max_field) {
  auto it = body.find(name);
  if (it == body.end()) {
    if (required) errs.add(name, "required");
    return std::nullopt;
  }
  if (!it->value().is_string()) {
    errs.add(name, "must be a string");
    return std::nullopt;
  }
  const auto& s = it->value().get_string();
  if (s.size() > max_len) {
    errs.add(name, "too long");
    return std::nullopt;
  }
  return std::string(s);
}

// The body with its keys sorted: two requests that differ only in key order are the same
// request for Idempotency-Key.
std::string canonical(const json::object& body) {
  std::vector<std::string_view> keys;
  for (const auto& kv : body) keys.push_back(kv.key());
  std::sort(keys.begin(), keys.end());
  std::string out = "{";
  for (std::string_view k : keys) {
    if (out.size() > 1) out += ',';
    out += json::serialize(json::string(k));
    out += ':';
    out += json::serialize(body.at(k));
  }
  return out + "}";
}

response verification_json(unsigned status, const service::verification& v,
                           verification_service& svc) {
  return response::json(
      status, json::serialize(service::to_json(v, svc.config()->policy, svc.clock().now())));
}

response rate_limited(std::string_view slug, std::chrono::seconds retry_after,
                      std::string_view detail) {
  const auto secs = std::max<long long>(1, retry_after.count());
  response r = problem(429, slug, "Too many requests", detail, json::object{{"retry_after", secs}});
  r.set_header("Retry-After", std::to_string(secs));
  return r;
}

// 503 while no carrier of the route has a bound transmitter (it waited the carriers'
// reconnect_queue.max_wait, or their queues were full): worth trying again a little later.
response unavailable_carrier(std::chrono::seconds retry_after) {
  const auto secs = std::max<long long>(1, retry_after.count());
  response r = problem(503, "no_carrier_available", "No carrier available",
                       "No carrier that serves this number can send right now.",
                       json::object{{"retry_after", secs}});
  r.set_header("Retry-After", std::to_string(secs));
  return r;
}

// Each carrier's readiness, for /readyz: which is down or degraded, and why.
json::array carrier_readiness(const service::sms_sender& sms) {
  json::array out;
  for (const service::carrier_health& h : sms.health()) {
    json::array binds;
    for (const auto& b : h.binds) {
      json::object o{{"name", b.name}, {"state", b.state}};
      if (!b.error.empty()) o["error"] = b.error;
      binds.push_back(std::move(o));
    }
    out.push_back(json::object{
        {"name", h.name}, {"status", h.status}, {"routed", h.routed}, {"binds", std::move(binds)}});
  }
  return out;
}

// The store for /readyz: down from a call that failed with io_error until one succeeds.
json::object store_readiness(const service::store_executor& store) {
  if (store.healthy()) return json::object{{"status", "up"}};
  json::object o{{"status", "down"}};
  if (std::string e = store.last_error(); !e.empty()) o["error"] = std::move(e);
  return o;
}

// GET /readyz while the store is down: 503 whatever the carriers, since no request that needs
// state can be served.
response store_not_ready(json::object store, json::array carriers) {
  std::string detail = "The state store is down";
  if (const json::value* e = store.if_contains("error")) {
    detail += ": " + std::string(e->as_string());
  }
  return problem(503, "not_ready", "Not ready", detail + ".",
                 json::object{{"store", std::move(store)}, {"carriers", std::move(carriers)}});
}

// GET /readyz: 200 when the store answers and every carrier with routes has a bound
// transmitter, with status "degraded" when one of them gets no response to its submits (it
// stays in service: only the traffic it carries can show the SMSC answering again); else 503
// naming the store's error or the carriers that are down and their binds' last errors.
response readiness(verification_service& svc, const service::sms_sender& sms) {
  json::array carriers = carrier_readiness(sms);
  json::object store = store_readiness(svc.state_store());
  if (store.at("status").as_string() == "down") {
    return store_not_ready(std::move(store), std::move(carriers));
  }
  if (svc.ready()) {
    const bool degraded = std::any_of(carriers.begin(), carriers.end(), [](const json::value& c) {
      return c.as_object().at("routed").as_bool() &&
             c.as_object().at("status").as_string() == "degraded";
    });
    return response::json(200,
                          json::serialize(json::object{{"status", degraded ? "degraded" : "ready"},
                                                       {"store", std::move(store)},
                                                       {"carriers", std::move(carriers)}}));
  }
  std::string detail;
  for (const json::value& c : carriers) {
    const json::object& o = c.as_object();
    if (!o.at("routed").as_bool() || o.at("status").as_string() != "down") continue;
    detail += std::string(detail.empty() ? "" : "; ") + std::string(o.at("name").as_string()) +
              " " + std::string(o.at("status").as_string());
    for (const json::value& b : o.at("binds").as_array()) {
      if (const json::value* e = b.as_object().if_contains("error")) {
        detail += " (" + std::string(b.as_object().at("name").as_string()) + ": " +
                  std::string(e->as_string()) + ")";
      }
    }
  }
  return problem(503, "not_ready", "Not ready",
                 detail.empty() ? "otpd is stopping." : "Carriers not ready: " + detail + ".",
                 json::object{{"store", std::move(store)}, {"carriers", std::move(carriers)}});
}

response not_found() { return problem(404, "not_found", {}, "No verification has this id."); }

// The store down (io_error), its queue full (busy) or shut down (closed): nothing was written.
// The probe (daemon/app/store_probe.hpp) tries the store every second while it is down, so a
// retry sooner than this would only meet the same failure.
constexpr std::chrono::seconds store_retry_after{2};

response store_unavailable() {
  response r = problem(503, "store_unavailable", "Service unavailable",
                       "The state store cannot be used right now; retry later.",
                       json::object{{"retry_after", store_retry_after.count()}});
  r.set_header("Retry-After", std::to_string(store_retry_after.count()));
  return r;
}

// Store errors common to the endpoints that address one verification.
std::optional<response> store_failure(const service::error_code& ec) {
  if (!ec) return std::nullopt;
  if (ec == service::store_errc::not_found) return not_found();
  return store_unavailable();
}

asio::awaitable<response> create(verification_service& svc, request& req) {
  // A header, not a body field: its own problem type, before the body is looked at.
  if (auto key = req.header("Idempotency-Key");
      key && (key->empty() || key->size() > max_idempotency_key)) {
    co_return problem(400, "invalid_idempotency_key", "Invalid Idempotency-Key header",
                      "The Idempotency-Key header must be 1 to " +
                          std::to_string(max_idempotency_key) + " characters.",
                      json::object{{"header", "Idempotency-Key"}});
  }
  json::object body;
  if (auto bad = http::parse_json_object(req, body)) co_return *bad;
  field_errors errs;
  reject_unknown(body, {"to", "locale", "ttl_seconds", "client_ip", "channel"}, errs);
  service::create_request cr;
  if (auto to = string_field(body, "to", errs, true)) cr.to = *to;
  if (auto locale = string_field(body, "locale", errs, false)) {
    if (svc.config()->text.sms.count(*locale) == 0) {
      errs.add("locale", "no SMS template for this locale");
    } else {
      cr.locale = *locale;
    }
  }
  if (auto ip = string_field(body, "client_ip", errs, false)) cr.client_ip = *ip;
  if (auto ch = string_field(body, "channel", errs, false); ch && *ch != "sms") {
    errs.add("channel", "a verification starts with \"sms\"; voice is a resend channel");
  }
  if (auto it = body.find("ttl_seconds"); it != body.end()) {
    const auto max = svc.config()->policy.max_ttl.count();
    if (!it->value().is_int64() || it->value().get_int64() < 1 || it->value().get_int64() > max) {
      errs.add("ttl_seconds", "must be a whole number of seconds from 1 to " + std::to_string(max));
    } else {
      cr.ttl = std::chrono::seconds(it->value().get_int64());
    }
  }
  if (auto key = req.header("Idempotency-Key")) cr.idempotency_key = std::string(*key);
  if (!errs.empty()) co_return errs.answer();
  cr.api_key = req.api_key;
  cr.request_hash = engine::request_hash(canonical(body));

  service::create_outcome out = co_await svc.create(std::move(cr));
  using service::create_status;
  switch (out.status) {
    case create_status::created:
      co_return verification_json(201, out.v, svc);
    case create_status::replayed:
      co_return verification_json(200, out.v, svc);
    case create_status::idempotency_mismatch:
      co_return problem(422, "idempotency_key_reused", "Idempotency-Key reused",
                        "This Idempotency-Key was used with another request body.");
    case create_status::invalid_number:
      co_return problem(422, "invalid_number", "Invalid phone number", out.detail);
    case create_status::invalid_ttl:
      co_return problem(400, "invalid_request", "Invalid request", "Invalid ttl_seconds.");
    case create_status::no_route:
      co_return problem(403, "destination_not_allowed", "Destination not allowed",
                        "No carrier is configured for this number.");
    case create_status::no_carrier_available:
      co_return unavailable_carrier(out.retry_after);
    case create_status::rate_limited:
      co_return rate_limited(engine::problem_slug(out.limit), out.retry_after,
                             "A sending limit was reached.");
    case create_status::store_error:
      break;
  }
  co_return store_unavailable();
}

asio::awaitable<response> get(verification_service& svc, request& req) {
  auto [ec, v] = co_await svc.get(std::string(*req.param("id")));
  if (auto bad = store_failure(ec)) co_return *bad;
  co_return verification_json(200, v, svc);
}

asio::awaitable<response> check(verification_service& svc, request& req) {
  // The code typed is as secret as the one sent until it has been compared: the JSON holding
  // it is parsed into storage wiped when freed, and our copy is wiped when this returns (the
  // server wipes the request body itself).
  json::object body(http::wiping_json_storage());
  if (auto bad = http::parse_json_object(req, body)) co_return *bad;
  field_errors errs;
  reject_unknown(body, {"code"}, errs);
  auto code = string_field(body, "code", errs, true);
  std::string no_code;
  const wipe_at_exit wipe_code(code ? *code : no_code);
  if (code &&
      (code->size() < 4 || code->size() > 10 ||
       !std::all_of(code->begin(), code->end(), [](char c) { return c >= '0' && c <= '9'; }))) {
    errs.add("code", "must be 4 to 10 digits");
  }
  if (!errs.empty()) co_return errs.answer();

  service::check_outcome out = co_await svc.check(std::string(*req.param("id")), *code);
  if (auto bad = store_failure(out.ec)) co_return *bad;
  using engine::check_outcome;
  switch (out.result.outcome) {
    case check_outcome::approved:
      co_return verification_json(200, out.v, svc);
    case check_outcome::incorrect:
      co_return problem(422, "incorrect_code", "Incorrect code", "The code does not match.",
                        json::object{{"checks_remaining", out.result.checks_remaining}});
    case check_outcome::max_attempts_reached:
      co_return problem(410, "max_attempts_reached", "No checks left",
                        "Too many incorrect codes: start a new verification.");
    case check_outcome::expired:
      co_return problem(410, "expired", "Expired", "The code has expired.");
    case check_outcome::already_approved:
      co_return problem(409, "already_approved", "Already approved", "A code can be used once.");
    case check_outcome::canceled:
      co_return problem(409, "canceled", "Canceled", "The verification was canceled.");
    case check_outcome::not_checkable:
      break;
  }
  co_return problem(409, "not_checkable", "Cannot be checked",
                    "The verification has ended without a code to check.");
}

asio::awaitable<response> resend(verification_service& svc, request& req) {
  std::optional<service::channel> via;
  if (!req.body.empty()) {
    json::object body;
    if (auto bad = http::parse_json_object(req, body)) co_return *bad;
    field_errors errs;
    reject_unknown(body, {"channel"}, errs);
    if (auto ch = string_field(body, "channel", errs, false)) {
      via = service::channel_from(*ch);
      if (!via) errs.add("channel", "must be \"sms\" or \"voice\"");
    }
    if (!errs.empty()) co_return errs.answer();
  }
  service::resend_outcome out = co_await svc.resend(std::string(*req.param("id")), via);
  if (auto bad = store_failure(out.ec)) co_return *bad;
  if (out.channel_unavailable) {
    co_return problem(501, "channel_unavailable", "Channel not available",
                      "Voice calls are not available in this build; ask for \"sms\".");
  }
  using engine::resend_outcome;
  switch (out.result.outcome) {
    case resend_outcome::accepted:
      co_return verification_json(202, out.v, svc);
    case resend_outcome::cooldown:
      co_return rate_limited("resend_cooldown", out.result.retry_after,
                             "Wait before asking for the code again.");
    case resend_outcome::max_sends_reached:
      co_return problem(429, "max_sends_reached", "No sends left",
                        "The code cannot be sent again: start a new verification.");
    case resend_outcome::expired:
      co_return problem(410, "expired", "Expired", "The verification has expired.");
    case resend_outcome::final_state:
      co_return problem(409, "already_final", "Already ended",
                        "The verification has ended; it cannot be sent again.");
    case resend_outcome::code_unavailable:
      break;
  }
  co_return problem(500, "code_unavailable", "Code unavailable",
                    "The code to send again cannot be read back.");
}

asio::awaitable<response> cancel(verification_service& svc, request& req) {
  service::cancel_outcome out = co_await svc.cancel(std::string(*req.param("id")));
  if (auto bad = store_failure(out.ec)) co_return *bad;
  if (out.result == engine::cancel_outcome::canceled) co_return verification_json(200, out.v, svc);
  co_return problem(409, "already_final", "Already ended", "The verification has ended.");
}

// Liveness: that the process answers, and nothing about what it serves.
asio::awaitable<response> health(request&) { co_return response::json(200, R"({"status":"ok"})"); }

// /readyz and /metrics: no key, and they name API keys, carriers and volumes.
void add_ops_routes(http::router& r, verification_service& svc, const service::sms_sender& sms,
                    metrics::registry& metrics) {
  const http::route_options open{http::access::public_route};
  r.add(
      method::get, "/readyz",
      [&svc, &sms](request&) -> asio::awaitable<response> { co_return readiness(svc, sms); }, open);
  r.add(
      method::get, "/metrics",
      [&metrics](request&) -> asio::awaitable<response> {
        co_return response::text(200, metrics.expose(),
                                 std::string(metrics::registry::content_type));
      },
      open);
}

}  // namespace

http::router make_ops_router(verification_service& svc, const service::sms_sender& sms,
                             metrics::registry& metrics) {
  http::router r;
  r.add(method::get, "/healthz", health, {http::access::public_route});
  add_ops_routes(r, svc, sms, metrics);
  return r;
}

http::router make_router(verification_service& svc, const service::sms_sender& sms,
                         metrics::registry& metrics) {
  http::router r;
  auto bind = [&svc](auto fn) {
    return [&svc, fn](request& req) -> asio::awaitable<response> { return fn(svc, req); };
  };
  r.add(method::post, "/v1/verifications", bind(create));
  r.add(method::get, "/v1/verifications/{id}", bind(get));
  r.add(method::post, "/v1/verifications/{id}/check", bind(check));
  r.add(method::post, "/v1/verifications/{id}/resend", bind(resend));
  r.add(method::post, "/v1/verifications/{id}/cancel", bind(cancel));

  const http::route_options open{http::access::public_route};
  r.add(method::get, "/healthz", health, open);
  if (svc.config()->ops.on_api_listeners) add_ops_routes(r, svc, sms, metrics);

  if (svc.config()->test.controllable_clock) {
    // For integration tests only (testing.controllable_clock): moves the service's clock.
    r.add(method::post, "/v1/testing/clock", [&svc](request& req) -> asio::awaitable<response> {
      json::object body;
      if (auto bad = http::parse_json_object(req, body)) co_return *bad;
      auto it = body.find("advance_seconds");
      if (it == body.end() || !it->value().is_int64() || it->value().get_int64() < 0) {
        co_return problem(400, "invalid_request", "Invalid request",
                          "advance_seconds: a whole number of seconds, 0 or more.");
      }
      svc.clock().advance(std::chrono::seconds(it->value().get_int64()));
      co_return response::json(
          200, json::serialize(json::object{{"now", service::rfc3339(svc.clock().now())}}));
    });
  }
  return r;
}

}  // namespace otpd::api
