// RFC 3261 §17.1 client transactions as sans-I/O state machines. They never read a clock or
// touch a socket: each event (start, a response, a timer firing, a transport error) returns an
// action that the transport layer carries out, in this order: cancel the listed timers, write
// `send`, arm the listed timers, hand the response to the TU (`deliver`), report `error`, and
// destroy the transaction when `terminated`. Timers that fire in a state where they mean
// nothing are ignored, so a late cancel is harmless.
//
// Transactions are per hop and per transport: `reliable` is true over TCP/TLS, where the
// transport retransmits (no Timers A/E) and the absorbing Timers D/K are zero (§17.1.1.2).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/error_code.hpp>

#include "voice/sip/message.hpp"

namespace otpd::sip {

// RFC 3261 §17.1.1.1 Table 4 defaults; all configurable.
struct timer_config {
  std::chrono::milliseconds t1{500};   // RTT estimate
  std::chrono::milliseconds t2{4000};  // maximum non-INVITE retransmit interval
  std::chrono::milliseconds t4{5000};  // maximum time a message stays in the network
  std::chrono::milliseconds d{32000};  // Timer D over an unreliable transport (>= 32 s)
};

enum class timer_id { a, b, d, e, f, k };
const char* to_string(timer_id t) noexcept;  // "A", "B", ...

struct timer_arm {
  timer_id id;
  std::chrono::milliseconds after;  // from the moment the action is carried out
  friend bool operator==(const timer_arm&, const timer_arm&) = default;
};

struct action {
  std::vector<timer_id> cancel;     // stop these timers first
  std::string send;                 // then write these bytes (empty: nothing to write)
  std::vector<timer_arm> arm;       // then (re)start these timers
  bool deliver = false;             // pass the response given to on_response() to the TU
  boost::system::error_code error;  // errc::transaction_timeout / transport_error for the TU
  bool terminated = false;          // the transaction is over
};

// RFC 3261 §17.1.3: a response belongs to the client transaction whose request carried the
// same branch in its top Via and the same method as the response's CSeq.
bool matches(const message& response, std::string_view branch, std::string_view method);

// RFC 3261 §17.1.1.3: the ACK for a non-2xx final response to `invite`: same Request-URI,
// Call-ID, From, CSeq number and top Via (branch included) as the INVITE, the To of the
// response (with its tag), the INVITE's Route set, and no body.
message make_non2xx_ack(const message& invite, const message& response);

// RFC 3261 §17.1.1 (Figure 5).
class invite_client_fsm {
 public:
  enum class state { idle, calling, proceeding, completed, terminated };

  // `invite` must carry a top Via with a branch and a CSeq (else start() terminates with
  // errc::missing_header).
  invite_client_fsm(message invite, bool reliable, timer_config cfg = {});

  // Sends the INVITE; arms Timer B (64*T1) and, over UDP, Timer A (T1).
  action start();
  // Responses that do not match (§17.1.3) are ignored.
  action on_response(const message& response);
  action on_timer(timer_id id);
  // §17.1.4: the transport could not send; the TU learns errc::transport_error.
  action on_transport_error();

  state current() const noexcept { return state_; }
  const message& request() const noexcept { return request_; }
  const std::string& branch() const noexcept { return branch_; }
  // The ACK sent for the non-2xx final response, or nullptr.
  const message* ack() const noexcept { return ack_bytes_.empty() ? nullptr : &ack_; }

 private:
  message request_;
  std::string bytes_;
  std::string branch_;
  bool reliable_;
  timer_config cfg_;
  state state_ = state::idle;
  std::chrono::milliseconds a_interval_{0};
  message ack_;
  std::string ack_bytes_;
};

// RFC 3261 §17.1.2 (Figure 6), for BYE, CANCEL, OPTIONS, REGISTER, ...
class non_invite_client_fsm {
 public:
  enum class state { idle, trying, proceeding, completed, terminated };

  non_invite_client_fsm(message request, bool reliable, timer_config cfg = {});

  // Sends the request; arms Timer F (64*T1) and, over UDP, Timer E (T1).
  action start();
  action on_response(const message& response);
  action on_timer(timer_id id);
  action on_transport_error();

  state current() const noexcept { return state_; }
  const message& request() const noexcept { return request_; }
  const std::string& branch() const noexcept { return branch_; }

 private:
  message request_;
  std::string bytes_;
  std::string branch_;
  bool reliable_;
  timer_config cfg_;
  state state_ = state::idle;
  std::chrono::milliseconds e_interval_{0};
};

}  // namespace otpd::sip
