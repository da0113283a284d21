// Truthful SMS outcomes when the answer is not where it is expected: a submit_sm_resp after
// the response timeout, a crash between writing a submit_sm and recording its answer, and a
// receipt for an attempt whose SMSC message id otpd never learnt.
//
// - The send journal (send_journal.hpp) records each attempt before it can be on the wire; at
//   start-up an attempt left queued that the journal names may have been sent (outcome
//   unknown), one it does not name was not.
// - A late submit_sm_resp (smpp session_fsm event::late_response) resolves the attempt: its
//   message id and correlation are recorded, its outcome becomes known.
// - A receipt that matches no correlation is matched to the one SMS of unknown outcome to that
//   handset on that carrier in the receipt's time window, when there is exactly one.
// Runs on the service's executor; store calls go to the store's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "config/config.hpp"
#include "daemon/engine/rules.hpp"
#include "daemon/metrics/registry.hpp"
#include "daemon/model.hpp"
#include "daemon/sms/sms_sender.hpp"
#include "daemon/store/send_journal.hpp"
#include "daemon/store/store_executor.hpp"

namespace otpd::log {
class logger;
}

namespace otpd::service {

class sms_recovery {
 public:
  using clock_fn = std::function<sys_time()>;
  // The webhook event of a change whose effect is the first argument, written with it, its
  // body kept in the second: verification_service::event_of.
  using event_of_fn =
      std::function<store::event_fn(const engine::delivery_effect&, std::string& body)>;
  // Applies what a store change did (the event written, the fallback):
  // verification_service::apply_effect.
  using apply_fn =
      std::function<void(const verification&, const engine::delivery_effect&, std::string event)>;

  // How long a submit that timed out waits for its late answer here (the session keeps its
  // sequence number for smpp::session_config::late_response_window, 5 minutes by default).
  static constexpr std::chrono::minutes late_window{10};
  static constexpr std::size_t max_tracked = 10'000;
  // A receipt's submit date is in the SMSC's local time, whose offset from UTC is not known.
  static constexpr std::chrono::hours submit_date_slack{15};
  // Receipts may come after the code expired (the SMSC's last try is at the validity end).
  static constexpr std::chrono::hours receipt_grace{1};

  sms_recovery(boost::asio::any_io_executor ex, store_executor& store, log::logger& log,
               metrics::registry& metrics, clock_fn now, event_of_fn event_of, apply_fn apply);

  send_journal& journal() noexcept { return journal_; }

  // The attempt's journal entry, written by the hook the gateway runs before the message is
  // handed to a bind (once, however often it is handed).
  struct intent {
    std::string verification_id;
    int attempt = 0;
    std::uint64_t generation = 0;  // 0: not written
  };
  std::function<void()> journal_hook(const std::shared_ptr<intent>& i);
  // The attempt's outcome is in the store: its journal entry is no longer needed.
  void settled(const intent& i) { journal_.settle(i.generation); }

  // A send that ended with outcome_unknown: its late answer, if any, resolves the attempt.
  void track_unknown(const sms_result& r, const std::string& verification_id, int attempt);
  boost::asio::awaitable<void> on_late(sms_late l, std::shared_ptr<const config::config> live);

  // A receipt no correlation matched: true when exactly one SMS of unknown outcome fits (its
  // message id and correlation are then recorded and `found` names it).
  boost::asio::awaitable<bool> match_unknown(const sms_receipt& r, correlation& found);

 private:
  struct tracked {
    std::string verification_id;
    int attempt = 0;
    std::vector<std::string> message_ids;  // of the parts accepted before the timeout
    std::vector<std::string> keys;
    std::size_t part_count = 0;
    std::chrono::steady_clock::time_point since;
  };

  boost::asio::any_io_executor ex_;
  store_executor& store_;
  log::logger& log_;
  clock_fn now_;
  event_of_fn event_of_;
  apply_fn apply_;
  send_journal journal_;
  std::map<std::uint64_t, tracked> tracked_;  // by sms_result::id (increasing)
  metrics::counter_family* late_;
  metrics::counter_family* journal_failures_;
};

}  // namespace otpd::service
