#include "daemon/service/sms_recovery.hpp"

#include <algorithm>

#include <boost/asio/use_awaitable.hpp>

#include "daemon/log/logger.hpp"
#include "smpp/proto/status.hpp"

namespace otpd::service {

namespace {

attempt* find_attempt(verification& v, int number) {
  for (attempt& a : v.attempts) {
    if (a.number == number) return &a;
  }
  return nullptr;
}

}  // namespace

sms_recovery::sms_recovery(boost::asio::any_io_executor ex, store_executor& store, log::logger& log,
                           metrics::registry& metrics, clock_fn now, event_of_fn event_of,
                           apply_fn apply)
    : ex_(std::move(ex)),
      store_(store),
      log_(log),
      now_(std::move(now)),
      event_of_(std::move(event_of)),
      apply_(std::move(apply)) {
  late_ = &metrics.add_counter(
      "otpd_sms_late_responses_total",
      "submit_sm_resp received after the response timeout (the attempt's outcome was unknown)",
      {"carrier"});
  journal_failures_ = &metrics.add_counter(
      "otpd_sms_journal_failures_total",
      "SMS sent without their send-journal record (the state folder could not be written)", {});
}

std::function<void()> sms_recovery::journal_hook(const std::shared_ptr<intent>& i) {
  return [this, i] {
    if (i->generation != 0) return;  // handed to a bind again: written already
    i->generation = journal_.record(i->verification_id, i->attempt);
    if (i->generation == 0) {
      journal_failures_->with({}).inc();
      log_.error("sms_journal_write_failed", {{"verification", i->verification_id},
                                              {"attempt", i->attempt},
                                              {"error", journal_.last_error()}});
    }
  };
}

void sms_recovery::track_unknown(const sms_result& r, const std::string& verification_id,
                                 int attempt_number) {
  if (!r.outcome_unknown || r.id == 0) return;
  const auto now = std::chrono::steady_clock::now();
  // Bounded: the oldest first (ids increase), and those past the late window.
  while (!tracked_.empty() &&
         (tracked_.size() >= max_tracked || now - tracked_.begin()->second.since > late_window)) {
    tracked_.erase(tracked_.begin());
  }
  tracked t;
  t.verification_id = verification_id;
  t.attempt = attempt_number;
  for (const auto& p : r.parts) t.message_ids.push_back(p.message_id);
  t.keys = r.keys;
  t.keys.resize(t.message_ids.size());
  t.part_count = r.part_count;
  t.since = now;
  tracked_.insert_or_assign(r.id, std::move(t));
}

boost::asio::awaitable<void> sms_recovery::on_late(sms_late l,
                                                   std::shared_ptr<const config::config> live) {
  late_->with({l.carrier}).inc();
  auto it = tracked_.find(l.id);
  if (it == tracked_.end()) {
    log_.warning("sms_late_response_unmatched", {{"carrier", l.carrier},
                                                 {"bind", l.bind},
                                                 {"message_id", l.message_id},
                                                 {"error", l.ec ? l.ec.message() : ""}});
    co_return;
  }
  tracked t = std::move(it->second);
  tracked_.erase(it);

  std::vector<correlation> cs;
  for (std::size_t i = 0; i < t.keys.size(); ++i) {
    if (!t.keys[i].empty()) {
      cs.push_back(
          correlation{l.carrier, t.keys[i], t.verification_id, t.attempt, static_cast<int>(i)});
    }
  }
  if (!l.ec && !l.key.empty()) {
    cs.push_back(
        correlation{l.carrier, l.key, t.verification_id, t.attempt, static_cast<int>(l.part)});
  }
  const bool complete = !l.ec && l.part + 1 >= t.part_count;
  engine::delivery_effect effect;
  std::string event;
  auto [ec, v] = co_await store_.modify(
      t.verification_id, std::move(cs),
      [&](verification& row) -> error_code {
        attempt* a = find_attempt(row, t.attempt);
        if (a == nullptr || !a->outcome_unknown) return make_error_code(store_errc::conflict);
        const sys_time now = now_();
        if (!l.ec) {
          a->message_ids = t.message_ids;
          if (l.part == a->message_ids.size()) a->message_ids.push_back(l.message_id);
          a->smpp_status = 0;
        }
        if (!l.bind.empty()) a->bind = l.bind;
        a->outcome_unknown = false;
        if (complete) {
          effect.updated = true;
          return {};
        }
        std::optional<std::uint32_t> status;
        if (l.ec) status = static_cast<std::uint32_t>(l.ec.value());
        // Refused late, or accepted with the parts after it never written.
        effect = engine::on_submit_failed(row, live->policy, t.attempt, now, status,
                                          l.ec ? "refused" : "parts_not_sent");
        return {};
      },
      event_of_(effect, event));
  if (ec) {
    if (ec != store_errc::conflict) {
      log_.error("store_update_failed", {{"verification", t.verification_id},
                                         {"error", ec.message()},
                                         {"detail", store_.last_error()}});
    }
    co_return;
  }
  log_.notice("sms_late_response", {{"verification", t.verification_id},
                                    {"attempt", t.attempt},
                                    {"carrier", l.carrier},
                                    {"bind", l.bind},
                                    {"part", l.part},
                                    {"message_id", l.message_id},
                                    {"error", l.ec ? l.ec.message() : ""}});
  apply_(v, effect, std::move(event));
}

boost::asio::awaitable<bool> sms_recovery::match_unknown(const sms_receipt& r, correlation& found) {
  if (r.from.size() < 2 || r.keys.empty()) co_return false;
  const sys_time now = now_();
  unknown_sms_query q;
  q.carrier = r.carrier;
  q.to = r.from;
  q.created_from = now - std::chrono::hours(24);
  q.created_to = now;
  if (const auto& d = r.receipt.submit_date.time) {
    q.created_from = std::max(q.created_from, sys_time(*d) - submit_date_slack);
    q.created_to = std::min(q.created_to, sys_time(*d) + submit_date_slack);
  }
  q.expires_after = now - receipt_grace;
  q.limit = 2;
  auto [ec, candidates] =
      // By reference: g++ 12 destroys the captures of a lambda temporary in a co_await
      // expression twice, so it must own nothing (`q` lives in this frame).
      co_await store_.run([&q](store& s) -> std::pair<error_code, std::vector<correlation>> {
        std::vector<correlation> out;
        error_code e = s.find_unknown_sms(q, out);
        return {e, std::move(out)};
      });
  if (ec || candidates.empty()) co_return false;
  if (candidates.size() > 1) {
    log_.warning("receipt_ambiguous", {{"carrier", r.carrier},
                                       {"bind", r.bind},
                                       {"message_id", r.receipt.id},
                                       {"to", log::masked_number{r.from}},
                                       {"reason", "several SMS of unknown outcome fit"}});
    co_return false;
  }
  correlation c = candidates.front();
  c.key = r.keys.front();
  c.part = 0;
  const std::string receipt_id = r.receipt.id;
  // Built outside the co_await: g++ 12 cannot keep an initializer list in a coroutine frame.
  std::vector<correlation> add;
  add.push_back(c);
  auto [mec, v] = co_await store_.modify(
      c.verification_id, std::move(add), [&](verification& row) -> error_code {
        attempt* a = find_attempt(row, c.attempt);
        if (a == nullptr || !a->outcome_unknown || !a->message_ids.empty()) {
          return make_error_code(store_errc::conflict);  // resolved meanwhile
        }
        a->message_ids = {receipt_id};
        a->outcome_unknown = false;
        return {};
      });
  if (mec) co_return false;
  log_.notice("receipt_matched_unknown_sms", {{"verification", c.verification_id},
                                              {"attempt", c.attempt},
                                              {"carrier", r.carrier},
                                              {"message_id", receipt_id},
                                              {"to", log::masked_number{r.from}}});
  found = std::move(c);
  co_return true;
}

}  // namespace otpd::service
