// What a restart finds unfinished: attempts the previous run left queued, and calls it left
// ringing or answered. Part of verification_service, in a file of its own.
#include <boost/asio/use_awaitable.hpp>

#include "daemon/engine/rules.hpp"
#include "daemon/log/logger.hpp"
#include "daemon/service/verification_service.hpp"

namespace otpd::service {
namespace asio = boost::asio;

asio::awaitable<bool> verification_service::settle_after_restart(
    std::shared_ptr<const config::config> live) {
  // Attempts a previous run left queued. An SMS the send journal names may have reached the
  // SMSC: submitted, outcome unknown (a receipt may still come). The others were never
  // written: their code is gone (only its MAC is kept), so they are marked failed; the user
  // may ask again after the cooldown.
  std::size_t unknown = 0;
  std::size_t failed = 0;
  bool all_recorded = true;
  auto [ec, queued] = co_await store_.list_queued();
  if (ec) {
    log_.error("store_list_queued_failed",
               {{"error", ec.message()}, {"detail", store_.last_error()}});
  } else {
    for (const verification& q : queued) {
      for (const attempt& a : q.attempts) {
        // Another node's attempts are that node's to settle, or the sweep's once it is gone.
        if (!unfinished(a) || !settled_at_restart(a)) continue;
        const bool call = a.via == channel::voice;
        const int n = a.number;
        // The lambda captures nothing that owns: g++ 12 destroyed the captures of this
        // temporary twice (it is part of the co_await expression), which released the live
        // configuration while it was still in use. `live` in this frame keeps it alive.
        const config::otp_policy& policy = live->policy;
        const bool maybe_sent = !call && recovery_.journal().written_before(q.id, n);
        ++(maybe_sent ? unknown : failed);
        auto [mec, mv] = co_await store_.modify(
            q.id, [this, n, call, maybe_sent, &policy](verification& v) -> error_code {
              if (!call) {
                settle_sms(v, policy, n, maybe_sent, clock_.now(), "interrupted_by_restart");
                return {};
              }
              for (attempt& x : v.attempts) {
                if (x.number == n) x.error = "interrupted_by_restart";
              }
              engine::on_call_outcome(v, policy, n, clock_.now(), attempt_status::failed,
                                      std::nullopt, "interrupted_by_restart");
              return {};
            });
        all_recorded = all_recorded && !mec;
      }
    }
    if (failed > 0) log_.notice("queued_attempts_failed_after_restart", {{"count", failed}});
    if (unknown > 0) log_.notice("sms_outcome_unknown_after_restart", {{"count", unknown}});
  }
  co_return !ec && all_recorded;
}

void verification_service::settle_sms(verification& v, const config::otp_policy& policy,
                                      int attempt_number, bool maybe_sent, sys_time now,
                                      std::string_view error) {
  if (!maybe_sent) {
    engine::on_submit_failed(v, policy, attempt_number, now, std::nullopt, error);
    return;
  }
  for (attempt& x : v.attempts) {
    if (x.number != attempt_number) continue;
    x.error = std::string(error);
    engine::on_submit_unknown(v, attempt_number, now, std::string(x.carrier), "");
    return;
  }
}

}  // namespace otpd::service
