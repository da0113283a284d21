// What the verification service asks of the SMS side: send an SMS over a route's carriers,
// wait for one able to send, hand back receipts, late answers and bind changes. sms_gateway
// implements it over SMPP binds; the service's unit tests give it a fake.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "config/config.hpp"
#include "smpp/dlr/receipt.hpp"
#include "smpp/net/session_fsm.hpp"

namespace otpd::service {

struct sms_request {
  std::string to;    // E.164 with '+'
  std::string text;  // UTF-8, already rendered (holds the code: never logged)
  smpp::time_point deadline = smpp::time_point::max();
  std::vector<std::string> carriers;  // to try, in order (routing's answer)
  bool request_receipt = true;
  // Runs before the message is handed to a bind (each time), so before it can be on the wire.
  std::function<void()> before_submit;
};

struct sms_result {
  std::uint64_t id = 0;  // the message, as a late answer names it (sms_late::id)
  smpp::error_code ec;   // of the last carrier tried
  std::string carrier;   // the carrier that took it (or the last tried)
  std::string bind;
  std::vector<smpp::part_outcome> parts;
  std::vector<std::string> keys;  // correlation keys, one per accepted part
  std::size_t part_count = 0;     // parts the text was split into
  bool outcome_unknown = false;
  std::vector<std::string> tried;  // carriers tried, in order
  // Why the text could not go out with the bind's coding or max_parts (never the text itself);
  // empty for any other outcome.
  std::string text_reason;
};

struct sms_receipt {
  std::string carrier;
  std::string bind;
  smpp::dlr::receipt receipt;
  std::vector<std::string> keys;  // candidate correlation keys, in preference order
  std::string from;  // the receipt's source_addr (the handset), E.164 with '+' when international
  // The deliver_sm_resp owed to the SMSC: ESME_ROK once recorded (or when dropped unanswered),
  // or a temporary error for the SMSC to send the receipt again.
  smpp::deliver_answer answer;
};

// How a wait for a carrier able to send ended (carriers' reconnect_queue).
enum class bind_wait : std::uint8_t {
  ready,       // one can send (at once, or a bind came up in time)
  timed_out,   // none came up within the wait (or the carriers allow none)
  queue_full,  // every carrier that allows waiting has reconnect_queue.size waiting already
};
std::string_view to_string(bind_wait w) noexcept;

// A carrier's readiness for /readyz: whether it can send, and if not, why.
struct carrier_health {
  std::string name;
  bool routed = false;  // has prefixes (a failover-only carrier does not decide readiness)
  // "ready": a bound transmitter that answers; "degraded": bound, but its submits get no
  // response (bind_health::degraded); "elsewhere": no bound transmitter here, but another
  // node holds the lease of one of its binds (docs/scale-out.md), which counts as ready; "down":
  // no bound transmitter.
  std::string status;
  struct bind {
    std::string name;
    std::string state;  // smpp::session_state, "degraded", "drained", or not leased here:
                        // "elsewhere" (another node holds it), "unleased" (nobody does)
    std::string error;  // the last error when not bound ("ESME_RINVPASWD: ...")
  };
  std::vector<bind> binds;
};

// The SMSC's answer to a submit after its response timeout (the send had returned
// outcome_unknown): what it did with that part of the message.
struct sms_late {
  std::uint64_t id = 0;  // sms_result::id
  std::string carrier;
  std::string bind;
  std::size_t part = 0;
  smpp::error_code ec;     // empty: accepted; else the SMSC's command_status
  std::string message_id;  // when accepted
  std::string key;         // its correlation key, when accepted
};

class sms_sender {
 public:
  using late_handler = std::function<void(sms_late)>;
  using receipt_handler = std::function<void(sms_receipt)>;
  // A bind came up (ec empty) or went down / failed to come up (ec says why).
  using bind_handler = std::function<void(const std::string& carrier, const std::string& bind,
                                          bool up, smpp::error_code ec)>;

  virtual ~sms_sender() = default;

  // The binds connect in the background; stop() lets them unbind, then runs `on_stopped`.
  virtual void start() = 0;
  virtual void stop(std::function<void()> on_stopped) = 0;
  // Where late submit answers, receipts and bind changes go: set before start().
  virtual void set_late_handler(late_handler h) = 0;
  virtual void set_receipt_handler(receipt_handler h) = 0;
  virtual void set_bind_handler(bind_handler h) = 0;

  // Sends over the first of req.carriers that can (sms_gateway::send).
  virtual boost::asio::awaitable<sms_result> send(sms_request req) = 0;
  // Returns once one of `carriers` can send, or says why none could (sms_gateway).
  virtual boost::asio::awaitable<bind_wait> wait_for_carrier(std::vector<std::string> carriers,
                                                             smpp::time_point until) = 0;
  // What a request refused for want of a carrier may wait before trying again.
  virtual std::chrono::milliseconds max_wait(const std::vector<std::string>& carriers) const = 0;
  // A receipt matched a submit: the carrier's id spelling learnt.
  virtual void learn(const std::string& carrier, std::string_view submit_id,
                     std::string_view receipt_id) = 0;

  // Whether this node holds a bind of `carrier` (its lease, when several nodes share the
  // store; always true for one node): when no carrier of a route is served here, the SMS is
  // handed to a node that serves one (sms_handoff).
  virtual bool serves(std::string_view carrier) const {
    (void)carrier;
    return true;
  }
  // Every routed carrier can send (/readyz), and each carrier's readiness.
  virtual bool ready() const = 0;
  virtual std::vector<carrier_health> health() const = 0;
  // A reload's carriers, one line per change in `changes`.
  virtual void reconfigure(std::shared_ptr<const config::config> next,
                           std::vector<std::string>& changes) = 0;
};

}  // namespace otpd::service
