// otpctl send-test: a test SMS (no code) through one carrier, within the routes and the limits.
#include <algorithm>
#include <string>

#include "daemon/engine/limits.hpp"
#include "daemon/log/logger.hpp"
#include "daemon/routing/number.hpp"
#include "daemon/service/verification_service.hpp"

namespace otpd::service {
namespace asio = boost::asio;

namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string limit_text(engine::limit_kind k) {
  switch (k) {
    case engine::limit_kind::number:
      return "the per-number limit (rate_limits.per_number)";
    case engine::limit_kind::prefix:
      return "the per-prefix limit (rate_limits.per_prefix)";
    default:
      return "a rate limit";
  }
}

}  // namespace

// The route must be one the route table would take for the number: its carrier or one of the
// failovers. A test through a carrier that would never carry the number proves nothing about
// the route and sends where no verification could.
std::string verification_service::test_route_error(const std::string& e164,
                                                   const std::string& carrier) const {
  const auto& all = live_->routes.carriers;
  if (std::none_of(all.begin(), all.end(),
                   [&](const config::carrier& c) { return c.name == carrier; })) {
    return "no carrier named '" + carrier + "'";
  }
  const std::vector<std::string> route = routes_.route(e164);
  // The number masked, as in every answer: the operator typed it and has it.
  if (route.empty()) return "no route for " + mask_number(e164) + ": no carrier serves its prefix";
  if (std::find(route.begin(), route.end(), carrier) == route.end()) {
    return "carrier '" + carrier + "' does not carry " + mask_number(e164) + "; its route is " +
           joined(route);
  }
  return {};
}

// Counts against the number's and the prefix's limits like any send, and against the
// send-test limit of its own; empty when allowed, else which limit refused.
asio::awaitable<std::string> verification_service::test_limit_error(const std::string& e164) {
  engine::limit_plan plan = engine::plan_limits(live_->limits, engine::limit_subject{e164, {}, {}});
  plan.checks.push_back(limit_check{"test:otpctl@" + std::to_string(send_test_window.count()),
                                    send_test_max, send_test_window});
  auto [ec, lr] = co_await store_.check_and_count(plan.checks, clock_.now());
  if (ec) co_return "the store cannot count the send: " + ec.message();
  if (lr.allowed) co_return std::string();
  const std::string again = "; try again in " + std::to_string(lr.retry_after.count()) + " s";
  if (lr.failed_index + 1 == plan.checks.size()) {
    co_return "refused by the send-test limit (at most " + std::to_string(send_test_max) +
        " test SMS every " + std::to_string(send_test_window.count()) + " s)" + again;
  }
  co_return "refused by " + limit_text(engine::refused_by(plan, lr)) + again;
}

asio::awaitable<test_send> verification_service::send_test(std::string to, std::string carrier,
                                                           operator_id by) {
  test_send out;
  const std::shared_ptr<const config::config> live = live_;
  routing::normalised_number num = routing::normalise_number(to, live->numbers);
  std::string outcome = "refused";
  if (!num) {
    out.error = std::string("invalid number: ") + routing::describe(*num.error);
  } else {
    out.error = test_route_error(num.e164, carrier);
    if (out.error.empty()) out.error = co_await test_limit_error(num.e164);
  }
  if (out.error.empty()) {
    sms_request req;
    req.to = num.e164;
    req.text = "otpd test message";
    req.carriers = {carrier};
    req.request_receipt = false;
    req.deadline = smpp::clock_type::now() + std::chrono::seconds(30);
    sms_result r = co_await gateway_.send(std::move(req));
    out.carrier = r.carrier;
    out.bind = r.bind;
    for (const auto& p : r.parts) out.message_ids.push_back(p.message_id);
    if (r.ec) out.error = r.ec.message() + (r.outcome_unknown ? " (outcome unknown)" : "");
    outcome = r.ec ? "failed" : "sent";
  }
  // The audit line: who (SO_PEERCRED of the control socket), to where, through what, and how
  // it ended, refusals included.
  log_.notice("test_sms",
              {{"uid", by.uid},
               {"pid", by.pid},
               {"carrier", carrier},
               {"bind", out.bind},
               {"to", log::masked_number{num ? std::string_view(num.e164) : std::string_view(to)}},
               {"outcome", outcome},
               {"error", out.error}});
  co_return out;
}

}  // namespace otpd::service
