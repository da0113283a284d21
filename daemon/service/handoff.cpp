// An SMS whose route has no carrier this node serves: queued in the store with its code sealed,
// and claimed and sent by a node that holds a bind of one of its carriers (docs/scale-out.md).
// The queue rather than a call to the other node: the store is already shared and durable, a
// claim is one transaction (two nodes never take the same SMS), and an SMS queued while its
// sender fails over waits for the next one instead of being lost. Part of verification_service,
// in a file of its own.
#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "daemon/log/logger.hpp"
#include "daemon/service/verification_service.hpp"

namespace otpd::service {
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// How often an idle node looks for SMS queued for it, and how many it claims at once: a
// handed-off SMS waits at most this long, and one claim keeps no more than this many in flight.
constexpr auto claim_interval = 100ms;
constexpr std::size_t claim_limit = 16;

// Whether a lease of `leases` held by a live node is a bind of one of `carriers` ("bind:c/b").
bool bound_elsewhere(const std::vector<lease>& leases, const std::vector<std::string>& carriers,
                     sys_time now) {
  return std::any_of(leases.begin(), leases.end(), [&](const lease& l) {
    if (l.holder.empty() || l.expires_at <= now) return false;
    return std::any_of(carriers.begin(), carriers.end(), [&](const std::string& c) {
      return l.name.size() > c.size() + 6 && l.name.compare(5, c.size(), c) == 0 &&
             l.name[5 + c.size()] == '/';
    });
  });
}

}  // namespace

bool verification_service::serves_any(const std::vector<std::string>& carriers) const {
  return std::any_of(carriers.begin(), carriers.end(),
                     [this](const std::string& c) { return gateway_.serves(c); });
}

asio::awaitable<bool> verification_service::hands_off(const std::vector<std::string>& carriers,
                                                      error_code& failed) {
  failed = {};
  if (serves_any(carriers)) co_return false;
  if (!protector_.can_seal()) {
    // The code cannot go to the queue in the clear: this node answers as it would alone.
    log_.warning("sms_handoff_impossible", {{"reason", "no code_seal_key"}});
    co_return false;
  }
  // No node holds a bind of the route: as a single node would, wait for one here (the
  // reconnect queue) and answer no_carrier_available after the wait.
  auto [ec, leases] =
      co_await store_.run([](store& s) -> std::pair<error_code, std::vector<lease>> {
        std::vector<lease> out;
        error_code e = s.list_leases("bind:", out);
        return {e, std::move(out)};
      });
  if (store_failure("list_leases", {}, ec)) {
    failed = ec;
    co_return false;
  }
  co_return bound_elsewhere(leases, carriers, lease_time());
}

asio::awaitable<bool> verification_service::resend_hands_off(const std::string& id) {
  const std::vector<std::string>& routed = routes_.carriers();
  if (std::all_of(routed.begin(), routed.end(),
                  [this](const std::string& c) { return gateway_.serves(c); })) {
    co_return false;
  }
  auto [ec, v] = co_await store_.get(id);
  if (ec) co_return false;  // the resend itself answers not_found or the store's failure
  error_code failed;        // the resend's own write meets the store's failure
  co_return co_await hands_off(routes_.route(v.to), failed);
}

asio::awaitable<void> verification_service::queue_handoff(std::string id, int attempt_number,
                                                          std::string locale, std::string code,
                                                          sys_time expires_at) {
  sms_handoff h;
  h.verification_id = id;
  h.attempt = attempt_number;
  h.locale = std::move(locale);
  h.queued_at = clock_.now();
  h.deadline = expires_at;
  {
    const wipe_at_exit wipe_code(code);
    h.sealed_code = protector_.seal(id, code);
  }
  auto [ec, v] = co_await store_.get(id);
  if (!ec) {
    h.carriers = routes_.route(v.to);
    ec = co_await store_.run([&h](store& s) { return s.queue_sms(h); });
  }
  if (ec) {
    log_.error("sms_handoff_failed", {{"verification", id},
                                      {"attempt", attempt_number},
                                      {"error", ec.message()},
                                      {"detail", store_.last_error()}});
    co_await fail_unsent(id, attempt_number, "handoff_failed");
    co_return;
  }
  log_.info("sms_handed_off", {{"verification", id},
                               {"attempt", attempt_number},
                               {"carrier", h.carriers.empty() ? "" : h.carriers.front()}});
  handoff_timer_.cancel();  // this node may serve it after all (a bind taken over meanwhile)
}

asio::awaitable<void> verification_service::handoff_loop() {
  bool failing = false;
  while (!stopping_) {
    // A full claim may have left more behind: claim again at once.
    if (co_await claim_handoffs(failing) >= claim_limit) continue;
    handoff_timer_.expires_after(claim_interval);
    co_await handoff_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<std::size_t> verification_service::claim_handoffs(bool& failing) {
  std::vector<std::string> carriers;
  for (const std::string& c : routes_.carriers()) {
    if (gateway_.serves(c)) carriers.push_back(c);
  }
  if (carriers.empty()) co_return 0;
  const sys_time now = clock_.now();
  auto [ec, claimed] =
      co_await store_.run([&](store& s) -> std::pair<error_code, std::vector<sms_handoff>> {
        std::vector<sms_handoff> out;
        error_code e = s.claim_sms(node_, carriers, now, claim_limit, out);
        return {e, std::move(out)};
      });
  if (ec) {
    // Once per outage, not ten times a second.
    if (!failing) store_failure("claim_sms", {}, ec);
    failing = true;
    co_return 0;
  }
  failing = false;
  for (sms_handoff& h : claimed) {
    if (stopping_) break;  // claimed and never sent: settled at this node's restart
    tasks_.spawn(send_handed(std::move(h)));
  }
  co_return claimed.size();
}

asio::awaitable<void> verification_service::send_handed(sms_handoff h) {
  in_flight_guard counted(*this);
  std::optional<std::string> code = protector_.unseal(h.verification_id, h.sealed_code);
  auto [ec, v] = co_await store_.get(h.verification_id);
  if (!code || ec) {
    // Another seal key on the node that queued it, or the row gone: never sent.
    log_.error("sms_handoff_unsendable",
               {{"verification", h.verification_id},
                {"attempt", h.attempt},
                {"error", !code ? std::string("code_unsealable") : ec.message()}});
    if (!ec) co_await fail_unsent(h.verification_id, h.attempt, "code_unsealable");
  } else {
    log_.info("sms_handoff_claimed", {{"verification", h.verification_id}, {"attempt", h.attempt}});
    co_await send_sms(h.verification_id, h.attempt, v.to, h.locale, std::move(*code), h.deadline);
  }
  if (code) wipe(*code);
  const std::string id = h.verification_id;
  const int n = h.attempt;
  const error_code fec = co_await store_.run([&id, n](store& s) { return s.finish_sms(id, n); });
  if (fec && fec != store_errc::not_found) store_failure("finish_sms", id, fec);
}

asio::awaitable<void> verification_service::fail_unsent(const std::string& id, int attempt_number,
                                                        std::string error) {
  const std::shared_ptr<const config::config> live = live_;
  engine::delivery_effect effect;
  std::string event;
  auto fail_row = [&](verification& row) -> error_code {
    for (const attempt& a : row.attempts) {
      if (a.number == attempt_number && a.status == attempt_status::queued) {
        effect = engine::on_submit_failed(row, live->policy, attempt_number, clock_.now(),
                                          std::nullopt, error);
        return {};
      }
    }
    return make_error_code(store_errc::conflict);  // settled meanwhile
  };
  auto [ec, v] = co_await store_.modify(id, {}, fail_row, event_of(effect, event));
  if (ec) {
    store_failure("fail_unsent", id, ec);
    co_return;
  }
  apply_effect(v, effect, std::move(event));
}

}  // namespace otpd::service
