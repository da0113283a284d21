// The verification service: the rules of daemon/engine carried out against the store, the
// SMS gateway and the webhook sender. Everything runs on one I/O executor; store calls go to
// the store's own thread. It returns typed outcomes; daemon/api maps them to HTTP.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "config/config.hpp"
#include "daemon/engine/codes.hpp"
#include "daemon/engine/limits.hpp"
#include "daemon/engine/rules.hpp"
#include "daemon/metrics/registry.hpp"
#include "daemon/model.hpp"
#include "daemon/routing/route_table.hpp"
#include "daemon/service/service_clock.hpp"
#include "daemon/service/sms_recovery.hpp"
#include "daemon/service/task_group.hpp"
#include "daemon/sms/sms_sender.hpp"
#include "daemon/store/store_executor.hpp"
#include "daemon/voice/call_report.hpp"
#include "daemon/voice/voice_dialer.hpp"
#include "daemon/webhook/notifier.hpp"

namespace otpd::log {
class logger;
}

namespace otpd::service {

struct create_request {
  std::string to;  // as typed
  std::string locale;
  std::optional<std::chrono::seconds> ttl;
  std::string client_ip;
  std::string api_key;
  std::string idempotency_key;
  std::string request_hash;  // of the canonical body
};

enum class create_status : std::uint8_t {
  created,               // 201
  replayed,              // 200: same Idempotency-Key and body
  idempotency_mismatch,  // 422
  invalid_number,        // 422
  invalid_ttl,           // 400
  no_route,              // 403 destination_not_allowed
  no_carrier_available,  // 503: routed, but no carrier of the route can send now
  rate_limited,          // 429
  store_error,           // 503
};

struct create_outcome {
  create_status status = create_status::store_error;
  verification v;
  std::string detail;  // for invalid_number: the reason
  engine::limit_kind limit = engine::limit_kind::number;
  std::chrono::seconds retry_after{0};
};

struct check_outcome {
  error_code ec;  // store errors (not_found -> 404)
  engine::check_result result;
  verification v;
};

struct resend_outcome {
  error_code ec;
  engine::resend_result result;
  verification v;
  bool channel_unavailable = false;  // voice without a trunk configured: 501
};

struct cancel_outcome {
  error_code ec;
  engine::cancel_outcome result = engine::cancel_outcome::already_final;
  verification v;
};

// Who ran an otpctl command: the peer of the control socket (SO_PEERCRED), for audit lines.
struct operator_id {
  std::uint32_t uid = 0;
  std::int32_t pid = 0;
};

// What otpctl send-test reports.
struct test_send {
  std::string carrier;
  std::string bind;
  std::vector<std::string> message_ids;
  std::string error;  // empty on success
};

class verification_service {
 public:
  // `live` is the configuration `cfg` as the gateway holds it (one copy of its secrets);
  // `sms` (the gateway, built over `live`) gets its receipt, late-answer and bind handlers from
  // here. `clock` is read on the store's thread too.
  verification_service(boost::asio::any_io_executor ex, const config::config& cfg,
                       std::shared_ptr<const config::config> live, store_executor& store,
                       routing::route_table routes, sms_sender& sms, notifier& events,
                       service_clock& clock, log::logger& log, metrics::registry& metrics);
  ~verification_service();

  // Settles the attempts left queued by a previous run (an SMS the send journal names may have
  // been sent: outcome unknown; the others failed), then starts the SMS gateway (binds connect
  // in the background), webhooks and the purge timer.
  boost::asio::awaitable<void> start();
  // The voice channel (when the configuration has trunks): calls go through `d`.
  void attach_dialer(std::unique_ptr<call_dialer> d);
  // The purge runs only while `holds_purge()`: this node holds the "purge" lease, one node at a
  // time (docs/scale-out.md). Unset: always. Set before start().
  void set_purge_gate(std::function<bool()> holds_purge) { holds_purge_ = std::move(holds_purge); }
  const call_dialer* dialer() const noexcept { return dialer_.get(); }
  // A test SMS without a code ("otpd test message") to `to` through `carrier` only, for the
  // operator checking a carrier (send_test.cpp); not a verification, not stored. `carrier` must
  // be one of the number's route (its carrier or a failover). It counts against the number's
  // and prefix's limits like any send, and at most send_test_max go out every
  // send_test_window. Logged (test_sms) with `by`, whatever the outcome.
  boost::asio::awaitable<test_send> send_test(std::string to, std::string carrier, operator_id by);
  static constexpr int send_test_max = 5;
  static constexpr std::chrono::seconds send_test_window{60};
  // Stops taking work; lets every SMS and call under way reach its outcome (at most
  // process.shutdown_drain), then lets the binds unbind and stops webhooks; then cancels the tasks
  // still pending and waits for them to end. `done` runs at the end: from then on no coroutine of
  // the service is left, and the service may go.
  void stop(std::function<void()> done);

  boost::asio::awaitable<create_outcome> create(create_request req);
  // `code` by reference, not copied into the coroutine: the caller awaits the call and wipes
  // its one copy afterwards.
  boost::asio::awaitable<check_outcome> check(std::string id, const std::string& code);
  boost::asio::awaitable<resend_outcome> resend(std::string id, std::optional<channel> via);
  boost::asio::awaitable<cancel_outcome> cancel(std::string id);
  boost::asio::awaitable<std::pair<error_code, verification>> get(std::string id);

  bool ready() const;
  // For /readyz: whether the store answers (store_executor::healthy).
  const store_executor& state_store() const { return store_; }
  service_clock& clock() noexcept { return clock_; }
  // The settings in force: policy, rate limits, number plan and templates change with
  // reload(); the rest is as at start-up. Hold the pointer for as long as it is read.
  std::shared_ptr<const config::config> config() const noexcept { return live_; }
  // SIGHUP: policy, rate limits, number plan and templates from `next` apply to operations
  // that start from now on (those under way finish with the settings they started with).
  // Carriers and binds are applied as a diff (sms_gateway::reconfigure) and `routes`, built
  // from next->routes, to new verifications; with apply_trunks, the SIP trunks too
  // (voice_dialer::reconfigure). Returns one line per carrier, bind or trunk change.
  std::vector<std::string> reload(std::shared_ptr<const config::config> next,
                                  routing::route_table routes, bool apply_trunks);
  bool has_dialer() const noexcept { return dialer_ != nullptr; }
  // This node's name (cluster.node, else the host name): on the attempts it sends, and in the
  // leases that say it is alive.
  const std::string& node() const noexcept { return node_; }
  static std::string resolve_node(const config::cluster& c);  // node()'s value

 private:
  // create's steps: a replay of an earlier request with the same Idempotency-Key (true: `out`
  // is the answer); the rate limits (false: `out` says why not); the row stored with its SMS
  // sent.
  boost::asio::awaitable<bool> answered_as_replay(const create_request& req, create_outcome& out);
  boost::asio::awaitable<bool> within_limits(const config::config& live, const std::string& e164,
                                             const create_request& req, sys_time now,
                                             create_outcome& out);
  // `handoff`: the SMS is queued for another node (queue_handoff) once the row is stored,
  // instead of sent from here.
  boost::asio::awaitable<create_outcome> insert_and_send(const create_request& req, verification v,
                                                         std::string& code, bool handoff);
  // `task` once the step that spawned it has suspended: a spawned task runs inline up to its
  // first suspension, and the SMS sent alongside the insert must queue its store calls after it.
  boost::asio::awaitable<void> after_this_step(boost::asio::awaitable<void> task);
  // The SMS of an attempt (submit_sms), settled even when it ends with an exception (a bug):
  // outcome unknown when the send journal says it may be on the wire, failed otherwise
  // (error internal_error), so that no attempt is left queued; the exception goes on to the
  // task group, which logs it.
  boost::asio::awaitable<void> send_sms(std::string id, int attempt, std::string to,
                                        std::string locale, std::string code, sys_time expires_at);
  // `code` by reference: send_sms's copy, wiped by send_sms whatever happens.
  boost::asio::awaitable<void> submit_sms(std::string id, int attempt, std::string to,
                                          std::string locale, std::string& code,
                                          sys_time expires_at);
  boost::asio::awaitable<void> settle_after_failure(const std::string& id, int attempt);
  // An SMS's or call's outcome written with `cs`: while the store is away (io_error, busy) it
  // is written again, backing off from 250 ms to 5 s, until it is in, so that the outcome is
  // recorded once the database is back; stopping ends the tries (the send journal then keeps
  // the SMS for the next start, which settles it as outcome unknown).
  boost::asio::awaitable<std::pair<error_code, verification>> record_outcome(
      const std::string& id, std::vector<correlation> cs, store::modify_fn fn,
      store::event_fn event);
  // An SMS attempt still queued whose sending was cut short (`error`): submitted with its outcome
  // unknown when it may be on the wire, failed otherwise. Used at a restart and on a bug.
  static void settle_sms(verification& v, const config::otp_policy& policy, int attempt,
                         bool maybe_sent, sys_time now, std::string_view error);
  // The outcome of a submit on its attempt, with the receipt keys.
  boost::asio::awaitable<void> record_submit(const std::string& id, int attempt,
                                             const sms_result& r, const config::config& live,
                                             const sms_recovery::intent& intent);
  // voice_calls.cpp: a call for an attempt, what it reports while it rings (call_progress),
  // what it ended with (report_call: metrics and log) and the outcome recorded.
  boost::asio::awaitable<void> call_voice(std::string id, int attempt, std::string to,
                                          std::string locale, std::string code);
  std::function<void(const voice::call_event&, const std::string&)> call_progress(
      const std::string& id, int attempt, std::shared_ptr<std::optional<sys_time>> invite_at);
  void report_call(const dialed& d, const std::string& id, int attempt);
  boost::asio::awaitable<void> record_call(std::string id, int attempt, call_record rec);
  boost::asio::awaitable<void> fallback_to_voice(std::string id);
  // The resend rule against the stored row and, when it accepts, the send on `ch` started.
  boost::asio::awaitable<resend_outcome> apply_resend(std::string id, channel ch,
                                                      engine::resend_trigger trigger);
  // receipts.cpp: a receipt recorded on its attempt; answered ESME_RX_T_APPN (deferred) when
  // the store cannot record it.
  boost::asio::awaitable<void> handle_receipt(sms_receipt r);
  // The attempt a receipt is for, looked up again a few times (a receipt can overtake the write
  // of its correlation), else the SMS of unknown outcome it fits. `failed`: the store failed.
  boost::asio::awaitable<std::optional<correlation>> receipt_owner(const sms_receipt& r,
                                                                   error_code& failed);
  void count_receipt(const sms_receipt& r);
  void receipt_unmatched(const sms_receipt& r);
  void receipt_deferred(sms_receipt& r);
  // The row as it is into `ec` and `v` (a store failure logged): the answer when a rule refused
  // without writing (modify's conflict), or the channel asked for is not there.
  boost::asio::awaitable<void> read_as_is(const std::string& id, error_code& ec, verification& v);
  void register_metrics(metrics::registry& metrics);
  // handoff.cpp: an SMS whose route has no carrier this node serves goes to the store's queue
  // for a node that serves one (docs/scale-out.md). True when it should: no carrier of `carriers`
  // is served here, a live node holds a bind of one, and codes can be sealed. `failed`: the
  // store could not say (the request answers 503 store_unavailable rather than wait for a bind).
  boost::asio::awaitable<bool> hands_off(const std::vector<std::string>& carriers,
                                         error_code& failed);
  bool serves_any(const std::vector<std::string>& carriers) const;
  // The same for a resend by SMS of `id`: false at once (no read) when this node serves every
  // carrier, as a single node does.
  boost::asio::awaitable<bool> resend_hands_off(const std::string& id);
  // The attempt's code sealed into the queue; when the store refuses it, the attempt fails
  // (handoff_failed). Wakes this node's claim loop.
  boost::asio::awaitable<void> queue_handoff(std::string id, int attempt, std::string locale,
                                             std::string code, sys_time expires_at);
  // Claims the queued SMS of the carriers this node serves, a few at a time, and sends each.
  boost::asio::awaitable<void> handoff_loop();
  boost::asio::awaitable<std::size_t> claim_handoffs(bool& failing);
  // A claimed SMS: its code unsealed, sent as any SMS of this node (send_sms), taken off the
  // queue.
  boost::asio::awaitable<void> send_handed(sms_handoff h);
  // The attempt failed with `error` (it never left this node), its effect applied.
  boost::asio::awaitable<void> fail_unsent(const std::string& id, int attempt, std::string error);
  // node_sweep.cpp: every lease period, the attempts left unfinished by a node whose "node:"
  // lease has expired are settled (node_lost).
  boost::asio::awaitable<void> node_sweep_loop();
  boost::asio::awaitable<void> sweep_lost_nodes();
  boost::asio::awaitable<void> settle_lost(std::string id, int attempt, std::string node);
  // Queued, or a call ringing or answered: its outcome is not in the store yet.
  static bool unfinished(const attempt& a);
  // An attempt a restart of this node settles: its own, and on SQLite (one node) those written
  // before nodes were named. An empty node on a shared store is an SMS waiting in the queue.
  bool settled_at_restart(const attempt& a) const;
  // Now, for comparing with the expiry of leases that other nodes wrote.
  static sys_time lease_time();
  boost::asio::awaitable<void> purge_loop();
  // send_test's checks: an error message, empty when the send may go.
  std::string test_route_error(const std::string& e164, const std::string& carrier) const;
  boost::asio::awaitable<std::string> test_limit_error(const std::string& e164);
  boost::asio::awaitable<void> drain_then_stop();
  // The binds unbind (sms_gateway::stop); resumes once they have.
  boost::asio::awaitable<void> stop_gateway();
  // The webhook event of a store change, for the store to write in the change's transaction
  // (the outbox, store.hpp): when `wanted` (set by the change's modify callback) and webhooks
  // are on, the event for the row as written, also kept in `body` to be posted once the change
  // committed (post_event). Runs on the store thread; `wanted` and `body` outlive the modify.
  store::event_fn event_if(const bool& wanted, std::string& body) const;
  store::event_fn event_of(const engine::delivery_effect& e, std::string& body) const {
    return event_if(e.updated, body);
  }
  // After the change committed: the event it wrote (`event`, may be empty) is posted, the
  // fallback to voice started, the outcome counted.
  void apply_effect(const verification& v, const engine::delivery_effect& e, std::string event);
  void post_event(std::string event);
  void count_outcome(const verification& v);
  // At start(): settles the attempts a previous run left unfinished (settle_after_restart.cpp).
  // An SMS the send journal names may have reached the SMSC: submitted, outcome unknown. The
  // others were never written, and calls under way were cut: failed, interrupted_by_restart.
  // True when every one of them has its outcome in the store.
  boost::asio::awaitable<bool> settle_after_restart(std::shared_ptr<const config::config> live);
  // Logs `store_failed` when `ec` is a failure of the store (io_error, busy, closed: the API
  // answers 503), not an answer (not_found, conflict); returns `ec`.
  error_code store_failure(std::string_view op, std::string_view id, error_code ec);

  boost::asio::any_io_executor ex_;
  const config::config& cfg_;                   // as at start-up
  std::shared_ptr<const config::config> live_;  // the reloadable settings in force
  store_executor& store_;
  routing::route_table routes_;
  log::logger& log_;
  // Every coroutine the service starts (sends, calls, receipts, the purge loop), so that stop()
  // can wait for them: they hold `this`. Before the members they use, so that it goes last.
  task_group tasks_;
  engine::code_protector protector_;
  service_clock& clock_;
  sms_sender& gateway_;
  sms_recovery recovery_;                // late answers, the send journal, receipts of unknown SMS
  notifier& webhooks_;                   // started and stopped with the service
  std::unique_ptr<call_dialer> dialer_;  // null: no trunks
  boost::asio::steady_timer purge_timer_;
  std::string node_;
  boost::asio::steady_timer handoff_timer_;  // cancelled to claim at once
  boost::asio::steady_timer sweep_timer_;
  std::function<bool()> holds_purge_;
  boost::asio::steady_timer drain_timer_;  // stop(): cancelled when in_flight_ reaches 0
  std::size_t in_flight_ = 0;              // SMS and calls started and not yet recorded
  // Counts an SMS or a call under way, from its start to its outcome in the store.
  class in_flight_guard {
   public:
    explicit in_flight_guard(verification_service& s) : s_(s) { ++s_.in_flight_; }
    ~in_flight_guard() {
      if (--s_.in_flight_ == 0 && s_.stopping_) s_.drain_timer_.cancel();
    }
    in_flight_guard(const in_flight_guard&) = delete;
    in_flight_guard& operator=(const in_flight_guard&) = delete;

   private:
    verification_service& s_;
  };
  bool stopping_ = false;
  // Until then an SMS leaves only after its row is stored: set for a while after an insert fails,
  // because a store at its size cap fails some inserts and takes others (a B-tree page that has
  // room takes the row, one that must split cannot) and each 503 sent meanwhile must not come
  // with an SMS.
  std::chrono::steady_clock::time_point store_failing_until_{};

  struct meters {
    metrics::counter_family* created;
    metrics::counter_family* outcomes;
    metrics::counter_family* submits;
    metrics::counter_family* unrecorded;
    metrics::counter_family* receipts;
    metrics::counter_family* receipts_refused;
    metrics::histogram_family* submit_latency;
    metrics::counter_family* calls;
    metrics::histogram_family* call_setup;
    metrics::counter_family* sip_malformed;
    metrics::counter_family* sip_foreign;
    metrics::counter_family* media_refused;
  } m_;
};

}  // namespace otpd::service
