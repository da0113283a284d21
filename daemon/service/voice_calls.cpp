// The voice channel: a call placed for an attempt, what it reports while it rings, and its
// outcome recorded. Part of verification_service, in a file of its own.
#include "daemon/log/logger.hpp"
#include "daemon/service/verification_service.hpp"

namespace otpd::service {
namespace asio = boost::asio;

asio::awaitable<void> verification_service::fallback_to_voice(std::string id) {
  // Its webhook event is written and posted with the resend (apply_resend). Refused (expired,
  // no sends left, ...) or the store failed: nothing was called.
  co_await apply_resend(std::move(id), channel::voice, engine::resend_trigger::fallback);
}

asio::awaitable<void> verification_service::call_voice(std::string id, int attempt_number,
                                                       std::string to, std::string locale,
                                                       std::string code) {
  const wipe_at_exit wipe_code(code);  // moved into the order below: its remains
  in_flight_guard counted(*this);
  call_order order;
  order.to = std::move(to);
  order.locale = std::move(locale);
  order.code = std::move(code);
  // When the INVITE of the trunk that has the call left: the attempt's submitted_at.
  auto invite_at = std::make_shared<std::optional<sys_time>>();
  order.on_event = call_progress(id, attempt_number, invite_at);
  log_.info("call_started", {{"verification", id}, {"attempt", attempt_number}});
  dialed d = co_await dialer_->call(std::move(order));
  report_call(d, id, attempt_number);
  call_record rec = record_of(d);
  rec.invite_at = *invite_at;
  co_await record_call(std::move(id), attempt_number, std::move(rec));
}

std::function<void(const voice::call_event&, const std::string&)>
verification_service::call_progress(const std::string& id, int attempt_number,
                                    std::shared_ptr<std::optional<sys_time>> invite_at) {
  return
      [this, id, attempt_number, invite_at](const voice::call_event& e, const std::string& trunk) {
        if (e.state == voice::call_state::trying) {
          *invite_at = clock_.now();
          return;
        }
        if (e.state != voice::call_state::ringing && e.state != voice::call_state::answered) return;
        call_record rec;
        rec.status = e.state == voice::call_state::ringing ? attempt_status::ringing
                                                           : attempt_status::answered;
        rec.trunk = trunk;
        rec.sip_code = e.sip_code;
        rec.reason = e.sip_reason;
        rec.invite_at = *invite_at;
        tasks_.spawn(record_call(id, attempt_number, std::move(rec)));
      };
}

void verification_service::report_call(const dialed& d, const std::string& id, int attempt_number) {
  const voice::call_result& r = d.result;
  for (const auto& [t, outcome] : calls_counted(d.failed_over, d.trunk, r.final.state)) {
    m_.calls->with({t, outcome}).inc();
  }
  // What trunks sent that was not taken: counted per trunk and logged.
  const auto report_discarded = [&](const auto& per_trunk, metrics::counter_family& counter,
                                    std::string_view event, std::string_view what) {
    for (const auto& [t, n] : per_trunk) {
      counter.with({t}).inc(n);
      log_.warning(event, {{"verification", id},
                           {"attempt", attempt_number},
                           {"trunk", t},
                           {what, static_cast<std::int64_t>(n)}});
    }
  };
  report_discarded(d.malformed, *m_.sip_malformed, "sip_malformed", "messages");
  report_discarded(d.foreign, *m_.sip_foreign, "sip_foreign", "datagrams");
  if (d.error == "media_address_refused") {
    // A trunk trying to send the code elsewhere, or one whose media networks are not
    // configured: either way an operator should know. The reason names the address (a peer's
    // address, not a secret).
    m_.media_refused->with({d.trunk}).inc();
    log_.warning("media_refused", {{"verification", id},
                                   {"attempt", attempt_number},
                                   {"trunk", d.trunk},
                                   {"reason", r.final.sip_reason}});
  }
  if (r.setup.count() > 0) {
    m_.call_setup->with({d.trunk}).observe(std::chrono::duration<double>(r.setup).count());
  }
  // The same SIP code and reason as the API shows (the INVITE's final answer).
  log_.info("call_ended", {{"verification", id},
                           {"attempt", attempt_number},
                           {"trunk", d.trunk},
                           {"outcome", voice::to_string(r.final.state)},
                           {"sip_code", r.final.sip_code},
                           {"sip_reason", r.final.sip_reason},
                           {"talk_ms", static_cast<std::int64_t>(r.talk.count())},
                           {"played_ms", static_cast<std::int64_t>(r.played.count())},
                           {"failed_over", d.failed_over.size()},
                           {"error", d.error}});
}

asio::awaitable<void> verification_service::record_call(std::string id, int attempt_number,
                                                        call_record rec) {
  // The reloadable settings as they are now; a SIGHUP during this operation does not mix them.
  const std::shared_ptr<const config::config> live = live_;
  engine::delivery_effect effect;
  std::string event;
  auto record = [&](verification& row) -> error_code {
    // Nothing reached the network: the attempt fails and its send is given back.
    if (!rec.placed) {
      effect =
          engine::on_call_not_placed(row, live->policy, attempt_number, clock_.now(), rec.error);
    }
    for (attempt& a : row.attempts) {
      if (a.number != attempt_number || (!rec.placed && !effect.updated)) continue;
      if (!rec.trunk.empty()) a.carrier = rec.trunk;
      if (!rec.error.empty()) a.error = rec.error;
      if (!rec.placed) a.sip_reason = rec.reason;
      if (rec.invite_at) a.submitted_at = rec.invite_at;
      if (rec.played_ms) a.played_ms = rec.played_ms;
    }
    if (!rec.placed) return {};
    effect = engine::on_call_outcome(
        row, live->policy, attempt_number, clock_.now(), rec.status,
        rec.sip_code != 0 ? std::optional<int>(rec.sip_code) : std::nullopt, rec.reason);
    return {};
  };
  auto [ec, v] = co_await record_outcome(id, {}, record, event_of(effect, event));
  if (ec) {
    log_.error("store_update_failed",
               {{"verification", id}, {"error", ec.message()}, {"detail", store_.last_error()}});
    co_return;
  }
  apply_effect(v, effect, std::move(event));
}

}  // namespace otpd::service
