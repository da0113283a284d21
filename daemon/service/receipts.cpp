// Delivery receipts: the attempt each one is for, and its outcome recorded. Part of
// verification_service, in a file of its own.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "daemon/log/logger.hpp"
#include "daemon/service/verification_service.hpp"
#include "smpp/proto/status.hpp"

namespace otpd::service {
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// A receipt can overtake the write of its correlation (the SMSC answers within
// milliseconds): look again a few times before giving up on it.
constexpr int receipt_lookups = 5;
constexpr auto receipt_retry = 200ms;

}  // namespace

asio::awaitable<void> verification_service::handle_receipt(sms_receipt r) {
  // The reloadable settings as they are now; a SIGHUP during this operation does not mix them.
  const std::shared_ptr<const config::config> live = live_;
  // The SMSC gets its deliver_sm_resp once the receipt is recorded (r.answer). When the store
  // cannot record it, ESME_RX_T_APPN asks the SMSC to send it again later: nothing is lost.
  error_code lookup_failed;
  const std::optional<correlation> found = co_await receipt_owner(r, lookup_failed);
  if (lookup_failed) {
    receipt_deferred(r);
    co_return;
  }
  if (!found) {
    receipt_unmatched(r);
    co_return;
  }
  engine::delivery_effect effect;
  std::string submit_id;
  std::string event;
  auto record = [&](verification& row) {
    for (const attempt& a : row.attempts) {
      if (a.number == found->attempt && found->part < static_cast<int>(a.message_ids.size())) {
        submit_id = a.message_ids[static_cast<std::size_t>(found->part)];
      }
    }
    if (r.receipt.state) {
      effect = engine::on_receipt(row, live->policy, found->attempt, clock_.now(), *r.receipt.state,
                                  r.receipt.err);
    }
    return error_code{};
  };
  auto [ec, v] =
      co_await store_.modify(found->verification_id, {}, record, event_of(effect, event));
  if (ec == store_errc::not_found) {
    // Purged since the lookup: nothing left to record the receipt on.
    receipt_unmatched(r);
    co_return;
  }
  if (ec) {
    log_.error("store_update_failed", {{"verification", found->verification_id},
                                       {"receipt_stat", r.receipt.stat},
                                       {"error", ec.message()},
                                       {"detail", store_.last_error()}});
    receipt_deferred(r);
    co_return;
  }
  count_receipt(r);
  if (!submit_id.empty()) gateway_.learn(r.carrier, submit_id, r.receipt.id);
  log_.info("receipt", {{"verification", v.id},
                        {"attempt", found->attempt},
                        {"carrier", r.carrier},
                        {"stat", r.receipt.stat},
                        {"err", r.receipt.err}});
  apply_effect(v, effect, std::move(event));
}

asio::awaitable<std::optional<correlation>> verification_service::receipt_owner(
    const sms_receipt& r, error_code& failed) {
  asio::steady_timer wait(ex_);
  for (int round = 0; round < receipt_lookups; ++round) {
    if (round > 0) {
      wait.expires_after(receipt_retry);
      co_await wait.async_wait(use_nothrow);
    }
    for (const std::string& key : r.keys) {
      auto [ec, c] = co_await store_.find_correlation(r.carrier, key);
      if (!ec) co_return std::optional<correlation>(std::move(c));
      if (ec != store_errc::not_found) {
        failed = store_failure("find_correlation", {}, ec);
        co_return std::nullopt;
      }
    }
  }
  // The SMSC's id was never learnt (a crash, or no response): the one SMS of unknown outcome
  // to this handset, if exactly one fits.
  correlation found;
  if (co_await recovery_.match_unknown(r, found)) co_return found;
  co_return std::nullopt;
}

void verification_service::count_receipt(const sms_receipt& r) {
  m_.receipts->with({r.carrier, std::string(smpp::dlr::receipt_stat_label(r.receipt.stat))}).inc();
}

void verification_service::receipt_unmatched(const sms_receipt& r) {
  count_receipt(r);
  log_.warning("receipt_unmatched", {{"carrier", r.carrier},
                                     {"bind", r.bind},
                                     {"message_id", r.receipt.id},
                                     {"stat", r.receipt.stat}});
}

void verification_service::receipt_deferred(sms_receipt& r) {
  r.answer.answer(static_cast<std::uint32_t>(smpp::command_status::rx_temp_app_error));
  m_.receipts_refused->with({r.carrier}).inc();
  log_.warning("receipt_deferred", {{"carrier", r.carrier},
                                    {"bind", r.bind},
                                    {"message_id", r.receipt.id},
                                    {"stat", r.receipt.stat},
                                    {"answer", "ESME_RX_T_APPN"}});
}

}  // namespace otpd::service
