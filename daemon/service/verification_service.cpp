#include "daemon/service/verification_service.hpp"

#include <algorithm>
#include <tuple>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "daemon/engine/message.hpp"
#include "daemon/log/logger.hpp"
#include "daemon/routing/number.hpp"
#include "daemon/service/json_view.hpp"
#include "smpp/proto/status.hpp"

namespace otpd::service {
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
constexpr auto purge_interval = 60s;
// After a purge that reached store::purge_limit: again once nine times as long as the call took
// has passed (at least 5 ms), so that a backlog takes a tenth of the store's time at most, and
// each call holds the store for about a millisecond (store.hpp, purge).
constexpr int purge_backlog_duty = 10;
constexpr auto purge_backlog_pause = 5ms;
constexpr auto sequential_after_store_failure = 60s;

// What a task threw: a bug (its work is left unfinished). Logged; the service goes on.
void log_task_failure(log::logger& log, std::exception_ptr e) {
  log.error("task_failed", {{"error", describe(e)}});
}

create_status replay_status(const verification& existing, const std::string& request_hash) {
  return engine::match_idempotent(existing, request_hash) == engine::idempotency_match::same_request
             ? create_status::replayed
             : create_status::idempotency_mismatch;
}

// Why a submit failed, for the attempt (never the text).
std::string submit_failure_reason(const sms_result& r, bool has_status) {
  if (!r.text_reason.empty()) return "text_unsendable: " + r.text_reason;
  if (r.ec == smpp::errc::no_bind_available) return "no_bind_available";
  if (r.ec == smpp::errc::deadline_passed) return "deadline_passed";
  return has_status ? "refused" : "send_failed";
}

}  // namespace

verification_service::verification_service(asio::any_io_executor ex, const config::config& cfg,
                                           std::shared_ptr<const config::config> live,
                                           store_executor& store, routing::route_table routes,
                                           sms_sender& sms, notifier& events, service_clock& clock,
                                           log::logger& log, metrics::registry& metrics)
    : ex_(ex),
      cfg_(cfg),
      live_(std::move(live)),
      store_(store),
      routes_(std::move(routes)),
      log_(log),
      tasks_(ex, [&log](std::exception_ptr e) { log_task_failure(log, e); }),
      protector_(cfg.keys),
      clock_(clock),
      gateway_(sms),
      recovery_(
          ex, store, log, metrics, [this] { return clock_.now(); },
          [this](const engine::delivery_effect& e, std::string& body) { return event_of(e, body); },
          [this](const verification& v, const engine::delivery_effect& e, std::string event) {
            apply_effect(v, e, std::move(event));
          }),
      webhooks_(events),
      purge_timer_(ex),
      node_(resolve_node(cfg.nodes)),
      handoff_timer_(ex),
      sweep_timer_(ex),
      drain_timer_(ex) {
  gateway_.set_receipt_handler(
      [this](sms_receipt r) { tasks_.spawn(handle_receipt(std::move(r))); });
  gateway_.set_bind_handler(
      [this](const std::string& carrier, const std::string& bind, bool up, smpp::error_code ec) {
        if (up) {
          log_.notice("smpp_bind_up", {{"carrier", carrier}, {"bind", bind}});
        } else {
          log_.warning("smpp_bind_down",
                       {{"carrier", carrier}, {"bind", bind}, {"error", ec.message()}});
        }
      });
  gateway_.set_late_handler(
      [this](sms_late l) { tasks_.spawn(recovery_.on_late(std::move(l), live_)); });
  register_metrics(metrics);
}

void verification_service::register_metrics(metrics::registry& metrics) {
  m_.created = &metrics.add_counter("otpd_verifications_created_total", "Verifications created",
                                    {"api_key"});
  m_.outcomes = &metrics.add_counter("otpd_verification_outcomes_total",
                                     "Verifications that reached a final status", {"status"});
  m_.submits = &metrics.add_counter("otpd_sms_submits_total",
                                    "SMS submitted, by carrier and result", {"carrier", "result"});
  m_.receipts = &metrics.add_counter("otpd_sms_receipts_total",
                                     "Delivery receipts, by carrier and stat", {"carrier", "stat"});
  m_.receipts_refused = &metrics.add_counter(
      "otpd_sms_receipts_refused_total",
      "Delivery receipts answered ESME_RX_T_APPN because the store could not record them (the "
      "SMSC sends them again)",
      {"carrier"});
  m_.unrecorded = &metrics.add_counter(
      "otpd_sms_sent_unrecorded_total",
      "SMS sent for a request whose verification could not be stored (answered 503)", {});
  m_.submit_latency = &metrics.add_histogram(
      "otpd_sms_submit_seconds", "From handing an SMS to the carrier to its submit_sm_resp",
      {"carrier"});
  m_.calls = &metrics.add_counter("otpd_voice_calls_total",
                                  "Voice calls ended, by trunk and outcome", {"trunk", "outcome"});
  m_.call_setup = &metrics.add_histogram(
      "otpd_voice_call_setup_seconds", "From INVITE to the callee answering", {"trunk"},
      // A phone rings for seconds, up to the ring timeout (at most 120 s).
      {0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60, 90, 120});
  m_.sip_malformed = &metrics.add_counter(
      "otpd_voice_sip_malformed_total",
      "Messages from a SIP trunk that were not well-formed SIP (discarded, or the end of a TCP "
      "connection)",
      {"trunk"});
  m_.sip_foreign = &metrics.add_counter(
      "otpd_voice_sip_foreign_total",
      "UDP datagrams during a call from a source other than the trunk's next hop (dropped)",
      {"trunk"});
  m_.media_refused = &metrics.add_counter(
      "otpd_voice_media_refused_total",
      "Calls whose SDP answer named a media address the trunk may not use (no RTP sent, hung up)",
      {"trunk"});
  auto& active_calls = metrics.add_gauge("otpd_voice_calls_active", "Voice calls in progress", {});
  metrics.on_collect([this, &active_calls] {
    active_calls.with({}).set(dialer_ ? static_cast<double>(dialer_->active_calls()) : 0.0);
  });
}

verification_service::~verification_service() = default;

asio::awaitable<void> verification_service::start() {
  // The reloadable settings as they are now; a SIGHUP during this operation does not mix them.
  const std::shared_ptr<const config::config> live = live_;
  std::string why;
  if (!recovery_.journal().open(cfg_.state.state_folder(), cfg_.nodes.node, why)) {
    log_.error("sms_journal_open_failed", {{"error", why}});
  }
  webhooks_.start();
  // Every attempt the previous run's journal names now has its outcome in the store.
  if (co_await settle_after_restart(live)) recovery_.journal().drop_previous();
  // The binds connect once the attempts above are settled, so that a receipt held by the SMSC
  // for one of them finds it submitted.
  gateway_.start();
  tasks_.spawn(purge_loop());
  tasks_.spawn(handoff_loop());
  tasks_.spawn(node_sweep_loop());
}

std::vector<std::string> verification_service::reload(std::shared_ptr<const config::config> next,
                                                      routing::route_table routes,
                                                      bool apply_trunks) {
  std::vector<std::string> changes;
  gateway_.reconfigure(next, changes);
  if (apply_trunks && dialer_) dialer_->reconfigure(next->calls.trunks, changes);
  routes_ = std::move(routes);
  live_ = std::move(next);
  return changes;
}

void verification_service::attach_dialer(std::unique_ptr<call_dialer> d) { dialer_ = std::move(d); }

void verification_service::stop(std::function<void()> done) {
  stopping_ = true;
  purge_timer_.cancel();
  // Not one of tasks_, which it joins. `done` runs once its frame has ended: nothing of the
  // service is touched after it.
  asio::co_spawn(ex_, drain_then_stop(), [this, done = std::move(done)](std::exception_ptr e) {
    if (e) log_task_failure(log_, e);
    done();
  });
}

asio::awaitable<void> verification_service::drain_then_stop() {
  // Every SMS and call already started ends first (the binds keep sending what is queued), for
  // at most process.shutdown_drain; then the binds unbind.
  const auto started = std::chrono::steady_clock::now();
  if (in_flight_ > 0) {
    log_.notice("draining", {{"in_flight", in_flight_}});
    drain_timer_.expires_after(cfg_.proc.shutdown_drain);
    co_await drain_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  if (in_flight_ > 0) {
    // Their attempts stay queued in the store and are marked failed at the next start.
    log_.warning("drain_timed_out", {{"in_flight", in_flight_}});
  } else {
    log_.info(
        "drained",
        {{"seconds",
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()}});
  }
  if (dialer_) dialer_->stop();
  webhooks_.stop();
  co_await stop_gateway();
  // What is still pending (a send past the drain, a receipt being looked up) is cancelled and
  // ended here, while the store, the gateway and the service are still there for it.
  co_await tasks_.join();
  co_await webhooks_.join();
}

asio::awaitable<void> verification_service::stop_gateway() {
  bool stopped = false;
  asio::steady_timer wake(ex_);
  gateway_.stop([&stopped, &wake] {
    stopped = true;
    wake.cancel();
  });
  while (!stopped) {
    wake.expires_at(asio::steady_timer::time_point::max());
    co_await wake.async_wait(use_nothrow);
  }
}

bool verification_service::ready() const { return !stopping_ && gateway_.ready(); }

asio::awaitable<create_outcome> verification_service::create(create_request req) {
  // The reloadable settings as they are now; a SIGHUP during this operation does not mix them.
  const std::shared_ptr<const config::config> live = live_;
  create_outcome out;
  const sys_time now = clock_.now();

  routing::normalised_number num = routing::normalise_number(req.to, live->numbers);
  if (!num) {
    out.status = create_status::invalid_number;
    out.detail = routing::describe(*num.error);
    co_return out;
  }
  std::vector<std::string> carriers = routes_.route(num.e164);
  if (carriers.empty()) {
    out.status = create_status::no_route;
    co_return out;
  }
  if (!req.idempotency_key.empty() && co_await answered_as_replay(req, out)) co_return out;
  error_code unknown;
  const bool handoff = co_await hands_off(carriers, unknown);
  if (unknown) {
    out.status = create_status::store_error;
    co_return out;
  }
  // Before counting: a request no carrier could take would only burn the limits. During a
  // reconnect it waits (bounded) for a bind of the route to come up.
  if (!handoff &&
      co_await gateway_.wait_for_carrier(carriers, smpp::time_point::max()) != bind_wait::ready) {
    out.status = create_status::no_carrier_available;
    out.retry_after =
        std::max(std::chrono::seconds(1),
                 std::chrono::ceil<std::chrono::seconds>(gateway_.max_wait(carriers)));
    co_return out;
  }
  if (!co_await within_limits(*live, num.e164, req, now, out)) co_return out;

  verification v;
  v.id = engine::new_verification_id();
  v.to = num.e164;
  v.locale = req.locale.empty() ? live->policy.default_locale : req.locale;
  v.api_key = req.api_key;
  v.client_ip = req.client_ip;
  v.idempotency_key = req.idempotency_key;
  v.request_hash = req.request_hash;
  std::string code = engine::generate_code(live->policy.code_length);
  const wipe_at_exit wipe_code(code);
  engine::start_params params;
  params.ttl = req.ttl;
  if (engine::start(v, live->policy, now, params, protector_, code) !=
      engine::start_outcome::started) {
    out.status = create_status::invalid_ttl;
    co_return out;
  }
  if (!v.attempts.empty()) {
    v.attempts.back().carrier = carriers.front();
    v.attempts.back().node = handoff ? std::string() : node_;  // "": waiting in the queue
  }
  co_return co_await insert_and_send(req, std::move(v), code, handoff);
}

asio::awaitable<bool> verification_service::answered_as_replay(const create_request& req,
                                                               create_outcome& out) {
  auto [ec, existing] = co_await store_.find_idempotent(req.api_key, req.idempotency_key);
  store_failure("find_idempotent", {}, ec);
  if (ec == store_errc::not_found) co_return false;
  out.v = std::move(existing);
  out.status = ec ? create_status::store_error : replay_status(out.v, req.request_hash);
  co_return true;
}

asio::awaitable<bool> verification_service::within_limits(const config::config& live,
                                                          const std::string& e164,
                                                          const create_request& req, sys_time now,
                                                          create_outcome& out) {
  engine::limit_plan plan =
      engine::plan_limits(live.limits, engine::limit_subject{e164, req.api_key, req.client_ip});
  if (plan.checks.empty()) co_return true;
  auto [ec, lr] = co_await store_.check_and_count(plan.checks, now);
  if (store_failure("check_and_count", {}, ec)) {
    out.status = create_status::store_error;
    co_return false;
  }
  if (!lr.allowed) {
    out.status = create_status::rate_limited;
    out.limit = engine::refused_by(plan, lr);
    out.retry_after = lr.retry_after;
    co_return false;
  }
  co_return true;
}

asio::awaitable<create_outcome> verification_service::insert_and_send(const create_request& req,
                                                                      verification v,
                                                                      std::string& code,
                                                                      bool handoff) {
  create_outcome out;
  // The SMS goes out while the row is written, so the commit is not on the path to the carrier.
  // The row is still committed before the 201: a request that gets its 201 is never lost. The
  // store runs its calls in order, so the attempt's update after submit_sm_resp finds the row.
  // Sent sequentially instead when the request could turn out to be a replay (an idempotency
  // key), and for a minute after an insert failed, so that an answer of 503 does not come with
  // an SMS.
  const bool overlap = !handoff && req.idempotency_key.empty() &&
                       std::chrono::steady_clock::now() >= store_failing_until_;
  if (overlap) {
    tasks_.spawn(after_this_step(
        send_sms(v.id, v.attempts.back().number, v.to, v.locale, code, v.expires_at)));
  }
  error_code ec = co_await store_.insert(v);
  if (ec && ec != store_errc::duplicate_idempotency) {
    store_failing_until_ = std::chrono::steady_clock::now() + sequential_after_store_failure;
  }
  if (ec && overlap) {
    m_.unrecorded->with({}).inc();
    log_.error("sms_sent_unrecorded",
               {{"verification", v.id}, {"to", log::masked_number{v.to}}, {"error", ec.message()}});
  }
  if (ec == store_errc::duplicate_idempotency) {
    // The same key raced in from another request: answer as a replay of it.
    co_await answered_as_replay(req, out);  // not found again: store_error
    co_return out;
  }
  if (ec) {
    log_.error("store_insert_failed",
               {{"verification", v.id}, {"error", ec.message()}, {"detail", store_.last_error()}});
    out.status = create_status::store_error;
    co_return out;
  }
  m_.created->with({req.api_key}).inc();
  log_.info("verification_created",
            {{"verification", v.id}, {"to", log::masked_number{v.to}}, {"api_key", v.api_key}});
  if (handoff) {
    tasks_.spawn(
        queue_handoff(v.id, v.attempts.back().number, v.locale, std::move(code), v.expires_at));
  } else if (!overlap) {
    tasks_.spawn(
        send_sms(v.id, v.attempts.back().number, v.to, v.locale, std::move(code), v.expires_at));
  }
  wipe(code);
  out.status = create_status::created;
  out.v = std::move(v);
  co_return out;
}

asio::awaitable<void> verification_service::after_this_step(asio::awaitable<void> task) {
  co_await asio::post(ex_, asio::use_awaitable);
  co_await std::move(task);
}

asio::awaitable<void> verification_service::send_sms(std::string id, int attempt_number,
                                                     std::string to, std::string locale,
                                                     std::string code, sys_time expires_at) {
  const wipe_at_exit wipe_code(code);
  in_flight_guard counted(*this);
  std::exception_ptr failure;
  try {
    co_await submit_sms(id, attempt_number, std::move(to), std::move(locale), code, expires_at);
  } catch (...) {
    failure = std::current_exception();
  }
  if (!failure) co_return;
  co_await settle_after_failure(id, attempt_number);
  std::rethrow_exception(failure);
}

asio::awaitable<void> verification_service::settle_after_failure(const std::string& id,
                                                                 int attempt_number) {
  const std::shared_ptr<const config::config> live = live_;
  const config::otp_policy& policy = live->policy;
  const bool maybe_sent = recovery_.journal().written_before(id, attempt_number);
  auto [ec, settled] = co_await store_.modify(
      id, [this, attempt_number, maybe_sent, &policy](verification& v) -> error_code {
        for (attempt& a : v.attempts) {
          if (a.number != attempt_number) continue;
          if (a.status != attempt_status::queued) return make_error_code(store_errc::conflict);
          settle_sms(v, policy, attempt_number, maybe_sent, clock_.now(), "internal_error");
          return {};
        }
        return make_error_code(store_errc::conflict);
      });
  if (ec && ec != store_errc::conflict) {
    log_.error("store_update_failed",
               {{"verification", id}, {"error", ec.message()}, {"detail", store_.last_error()}});
  }
}

asio::awaitable<std::pair<error_code, verification>> verification_service::record_outcome(
    const std::string& id, std::vector<correlation> cs, store::modify_fn fn,
    store::event_fn event) {
  for (std::chrono::milliseconds wait{250};;
       wait = std::min(2 * wait, std::chrono::milliseconds(5000))) {
    auto [ec, v] = co_await store_.modify(id, cs, fn, event);
    if (ec != store_errc::io_error && ec != store_errc::busy) co_return std::pair{ec, std::move(v)};
    log_.error("store_update_failed", {{"verification", id},
                                       {"error", ec.message()},
                                       {"detail", store_.last_error()},
                                       {"retry_ms", wait.count()}});
    if (stopping_) co_return std::pair{ec, std::move(v)};
    asio::steady_timer pause(ex_);
    pause.expires_after(wait);
    if (auto [cancelled] = co_await pause.async_wait(use_nothrow); cancelled) {
      co_return std::pair{ec, std::move(v)};
    }
  }
}

asio::awaitable<void> verification_service::submit_sms(std::string id, int attempt_number,
                                                       std::string to, std::string locale,
                                                       std::string& code, sys_time expires_at) {
  // The reloadable settings as they are now; a SIGHUP during this operation does not mix them.
  const std::shared_ptr<const config::config> live = live_;
  const sys_time now = clock_.now();
  const auto remaining = std::chrono::duration_cast<std::chrono::seconds>(expires_at - now);
  std::optional<engine::rendered_sms> text =
      engine::render_sms(live->text, locale, live->policy.default_locale, code, remaining);
  wipe(code);  // the rendered text is the only copy from here on

  sms_request req;
  req.to = to;
  req.deadline = clock_.steady(expires_at);
  req.carriers = routes_.route(to);
  const auto intent =
      std::make_shared<sms_recovery::intent>(sms_recovery::intent{id, attempt_number, 0});
  req.before_submit = recovery_.journal_hook(intent);  // before it can be on the wire
  sms_result r;
  const auto started = std::chrono::steady_clock::now();
  if (!text) {
    r.ec = smpp::errc::encoding_error;
  } else {
    req.text = std::move(text->text);
    r = co_await gateway_.send(std::move(req));
    recovery_.track_unknown(r, id, attempt_number);  // before a late answer can come
  }
  const std::string result = r.ec ? (r.outcome_unknown ? "unknown" : "failed") : "accepted";
  m_.submits->with({r.carrier, result}).inc();
  if (!r.ec) {
    m_.submit_latency->with({r.carrier})
        .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  co_await record_submit(id, attempt_number, r, *live, *intent);
}

asio::awaitable<void> verification_service::record_submit(const std::string& id, int attempt_number,
                                                          const sms_result& r,
                                                          const config::config& live,
                                                          const sms_recovery::intent& intent) {
  // The receipt keys go with the attempt's update, in one transaction.
  std::vector<correlation> cs;
  if (!r.ec) {
    for (std::size_t i = 0; i < r.keys.size(); ++i) {
      cs.push_back(correlation{r.carrier, r.keys[i], id, attempt_number, static_cast<int>(i)});
    }
  }
  std::vector<std::string> ids;
  for (const auto& p : r.parts) ids.push_back(p.message_id);
  engine::delivery_effect effect;
  auto record = [&](verification& row) -> error_code {
    const sys_time t = clock_.now();
    if (!r.ec) {
      effect = engine::on_submitted(row, attempt_number, t, r.carrier, r.bind, ids);
    } else if (r.outcome_unknown) {
      effect = engine::on_submit_unknown(row, attempt_number, t, r.carrier, r.bind);
    } else {
      std::optional<std::uint32_t> status;
      if (&r.ec.category() == &smpp::command_status_category()) {
        status = static_cast<std::uint32_t>(r.ec.value());
      }
      effect = engine::on_submit_failed(row, live.policy, attempt_number, t, status,
                                        submit_failure_reason(r, status.has_value()));
    }
    return {};
  };
  std::string event;
  auto [ec, v] = co_await record_outcome(id, std::move(cs), record, event_of(effect, event));
  if (ec) {
    log_.error("store_update_failed",
               {{"verification", id}, {"error", ec.message()}, {"detail", store_.last_error()}});
    co_return;
  }
  recovery_.settled(intent);
  log_.info(r.ec ? "sms_failed" : "sms_submitted",
            {{"verification", id},
             {"attempt", attempt_number},
             {"carrier", r.carrier},
             {"bind", r.bind},
             {"parts", r.parts.size()},
             {"outcome_unknown", r.outcome_unknown},
             {"error", r.ec ? r.ec.message() : std::string()}});
  apply_effect(v, effect, std::move(event));
}

void verification_service::apply_effect(const verification& v, const engine::delivery_effect& e,
                                        std::string event) {
  if (!e.updated) return;
  post_event(std::move(event));
  if (e.became_undeliverable) count_outcome(v);
  // The SMS failed and the policy asks for the voice channel at once (without a trunk the
  // verification stays pending and the user may ask for another SMS).
  if (e.start_fallback && dialer_ && !stopping_) tasks_.spawn(fallback_to_voice(v.id));
}

store::event_fn verification_service::event_if(const bool& wanted, std::string& body) const {
  if (!webhooks_.enabled()) return {};
  // The reloadable settings as they are now, taken on this thread: the store thread never reads
  // live_, which a reload replaces.
  return [this, live = live_, &wanted, &body](const verification& v) -> std::string {
    if (!wanted) return {};
    boost::json::object o;
    o["event"] = "verification.updated";
    o["verification"] = to_json(v, live->policy, clock_.now());
    body = boost::json::serialize(o);
    return body;
  };
}

void verification_service::post_event(std::string event) {
  if (!event.empty()) webhooks_.post(std::move(event));
}

void verification_service::count_outcome(const verification& v) {
  m_.outcomes->with({to_string(v.status)}).inc();
}

error_code verification_service::store_failure(std::string_view op, std::string_view id,
                                               error_code ec) {
  if (ec && ec != store_errc::not_found && ec != store_errc::conflict &&
      ec != store_errc::duplicate_idempotency) {
    log_.error("store_failed", {{"op", op},
                                {"verification", id.empty() ? std::string_view("-") : id},
                                {"error", ec.message()},
                                {"detail", store_.last_error()}});
  }
  return ec;
}

asio::awaitable<check_outcome> verification_service::check(std::string id,
                                                           const std::string& code) {
  // `code` is the caller's (api.cpp wipes it): a copy in this frame would be one more to wipe.
  check_outcome out;
  bool finished = false;
  std::string event;
  auto check_row = [&](verification& row) -> error_code {
    const verification_status before = row.status;
    out.result = engine::check(row, clock_.now(), code, protector_);
    if (row.status == before && out.result.outcome != engine::check_outcome::incorrect) {
      // Nothing changed (a refusal before any compare): do not rewrite the row.
      return make_error_code(store_errc::conflict);
    }
    finished = is_final(row.status);
    return {};
  };
  auto [ec, v] = co_await store_.modify(id, {}, check_row, event_if(finished, event));
  if (ec == store_errc::conflict) {  // the rule refused without writing
    co_await read_as_is(id, out.ec, out.v);
    co_return out;
  }
  out.ec = store_failure("check", id, ec);
  out.v = std::move(v);
  if (ec) co_return out;
  if (is_final(out.v.status)) {
    count_outcome(out.v);
    post_event(std::move(event));
  }
  log_.info(
      "verification_checked",
      {{"verification", id},
       {"result", out.result.outcome == engine::check_outcome::approved ? "approved" : "refused"},
       {"checks_remaining", out.result.checks_remaining}});
  co_return out;
}

asio::awaitable<resend_outcome> verification_service::resend(std::string id,
                                                             std::optional<channel> via) {
  // The reloadable settings as they are now; a SIGHUP during this operation does not mix them.
  const std::shared_ptr<const config::config> live = live_;
  resend_outcome out;
  const channel ch = via.value_or(live->policy.default_resend_channel);
  if (ch == channel::voice && !dialer_) {
    // No trunk is configured: say so rather than pretend.
    co_await read_as_is(id, out.ec, out.v);
    out.channel_unavailable = true;
    co_return out;
  }
  co_return co_await apply_resend(std::move(id), ch, engine::resend_trigger::user);
}

asio::awaitable<resend_outcome> verification_service::apply_resend(std::string id, channel ch,
                                                                   engine::resend_trigger trigger) {
  const std::shared_ptr<const config::config> live = live_;
  resend_outcome out;
  const bool handoff = ch == channel::sms && co_await resend_hands_off(id);
  std::string fresh = engine::generate_code(live->policy.code_length);
  const wipe_at_exit wipe_fresh(fresh);
  // A fallback the service started on its own is news to the business; a resend it asked for
  // is not (webhook).
  bool fallback = false;
  std::string event;
  auto resend_row = [&](verification& row) -> error_code {
    out.result = engine::resend(row, live->policy, clock_.now(), ch, protector_, fresh, trigger);
    if (out.result.outcome == engine::resend_outcome::accepted) {
      fallback = trigger == engine::resend_trigger::fallback;
      for (attempt& a : row.attempts) {
        if (a.number == out.result.attempt_number) a.node = handoff ? std::string() : node_;
      }
      return {};
    }
    if (out.result.outcome == engine::resend_outcome::expired) return {};
    return make_error_code(store_errc::conflict);  // a refusal: nothing to write
  };
  auto [ec, v] = co_await store_.modify(id, {}, resend_row, event_if(fallback, event));
  wipe(fresh);
  if (ec == store_errc::conflict) {  // the rule refused without writing
    co_await read_as_is(id, out.ec, out.v);
    co_return out;
  }
  out.ec = store_failure("resend", id, ec);
  out.v = v;
  if (!ec && out.result.outcome == engine::resend_outcome::accepted) {
    post_event(std::move(event));
    log_.info("verification_resend",
              {{"verification", id},
               {"attempt", out.result.attempt_number},
               {"channel", to_string(ch)},
               {"trigger", trigger == engine::resend_trigger::user ? "user" : "fallback"}});
    if (ch == channel::voice) {
      tasks_.spawn(
          call_voice(v.id, out.result.attempt_number, v.to, v.locale, std::move(out.result.code)));
    } else if (handoff) {
      tasks_.spawn(queue_handoff(v.id, out.result.attempt_number, v.locale,
                                 std::move(out.result.code), v.expires_at));
    } else {
      tasks_.spawn(send_sms(v.id, out.result.attempt_number, v.to, v.locale,
                            std::move(out.result.code), v.expires_at));
    }
  }
  wipe(out.result.code);
  out.result.code.clear();
  co_return out;
}

asio::awaitable<cancel_outcome> verification_service::cancel(std::string id) {
  cancel_outcome out;
  static constexpr bool always = true;  // a cancel that writes ends the verification
  std::string event;
  auto cancel_row = [&](verification& row) -> error_code {
    out.result = engine::cancel(row, clock_.now());
    return out.result == engine::cancel_outcome::already_final
               ? make_error_code(store_errc::conflict)
               : error_code{};
  };
  auto [ec, v] = co_await store_.modify(id, {}, cancel_row, event_if(always, event));
  if (ec == store_errc::conflict) {  // the rule refused without writing
    co_await read_as_is(id, out.ec, out.v);
    co_return out;
  }
  out.ec = store_failure("cancel", id, ec);
  out.v = std::move(v);
  if (!ec) {
    count_outcome(out.v);
    post_event(std::move(event));
  }
  co_return out;
}

asio::awaitable<void> verification_service::read_as_is(const std::string& id, error_code& ec,
                                                       verification& v) {
  std::tie(ec, v) = co_await store_.get(id);
  store_failure("get", id, ec);
}

asio::awaitable<std::pair<error_code, verification>> verification_service::get(std::string id) {
  auto [ec, v] = co_await store_.get(id);
  store_failure("get", id, ec);
  if (!ec) engine::expire_if_due(v, clock_.now());  // the view shows the truth at once
  co_return std::pair{ec, std::move(v)};
}

asio::awaitable<void> verification_service::purge_loop() {
  while (!stopping_) {
    std::chrono::steady_clock::duration next = purge_interval;
    if (!holds_purge_ || holds_purge_()) {
      const auto began = std::chrono::steady_clock::now();
      auto [ec, changed] = co_await store_.purge(clock_.now(), cfg_.state.retention);
      if (!ec && changed >= store::purge_limit) {
        const auto took = std::chrono::steady_clock::now() - began;
        next = std::max<std::chrono::steady_clock::duration>((purge_backlog_duty - 1) * took,
                                                             purge_backlog_pause);
      }
      if (ec) {
        log_.error("store_purge_failed",
                   {{"error", ec.message()}, {"detail", store_.last_error()}});
      } else if (changed > 0) {
        log_.info("store_purged", {{"rows", changed}});
      }
    }
    // A backlog (a purge that reached its limit): the next call soon, not a minute later.
    purge_timer_.expires_after(next);
    co_await purge_timer_.async_wait(use_nothrow);
  }
}

}  // namespace otpd::service
