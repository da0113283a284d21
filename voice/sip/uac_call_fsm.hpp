// The dialog layer of ONE outgoing call (RFC 3261 §12, §13.2, §15, §22), sans I/O: it builds
// the INVITE, drives the INVITE / CANCEL / BYE client transactions (transaction_fsm.hpp),
// answers digest challenges, creates the dialog from the 2xx and ACKs it, answers the
// callee's in-dialog requests, and says how the call ended. It never reads a clock or touches
// a socket: each event returns a uac_step that the call layer carries out in this order:
// cancel the listed timers, send the messages, arm the timers, report the events.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/error_code.hpp>

#include "voice/sip/digest.hpp"
#include "voice/sip/ids.hpp"
#include "voice/sip/message.hpp"
#include "voice/sip/transaction_fsm.hpp"

namespace otpd::sip {

struct uac_call_params {
  std::string request_uri;   // "sip:84912345678@carrier.example"
  std::string from_uri;      // "sip:otpd@10.0.0.1"
  std::string from_display;  // may be empty
  std::string to_uri;        // usually the Request-URI
  std::string contact_uri;   // where the callee reaches us: "sip:otpd@10.0.0.1:40112"
  // Where out-of-dialog requests (INVITE, CANCEL) go: a proxy / SBC URI. Empty: the
  // Request-URI's host:port (RFC 3261 §8.1.2). In-dialog requests follow the route set.
  std::string outbound_proxy;
  std::string via_host;        // sent-by (RFC 3261 §18.1.1); rport is always asked for (RFC 3581)
  std::uint16_t via_port = 0;  // 0: omitted
  std::string transport = "UDP";   // UDP or TCP (upper case in the Via)
  digest_credentials credentials;  // empty username: a challenge ends the call
  std::string sdp_offer;           // the INVITE body (application/sdp)
  int max_forwards = 70;           // RFC 3261 §8.1.1.6
  std::string user_agent = "otpd";
  random_source random;  // tags, Call-ID, branches, cnonces
  timer_config timers;
  std::chrono::milliseconds ring_timeout{30000};  // from the INVITE to a final response
  int max_auth_attempts = 3;                      // challenges answered before giving up
};

// Every timer of one call: the client transactions' (RFC 3261 §17.1) plus ours. The absorbing
// Timers D and K are not used: while the call lives, the dialog layer re-ACKs retransmitted
// final responses itself (old_acks_), and once it has ended nothing is left to absorb.
enum class call_timer {
  invite_a,
  invite_b,
  cancel_e,
  cancel_f,
  bye_e,
  bye_f,
  ring,         // ring timeout: CANCEL
  cancel_wait,  // 64*T1 after the CANCEL without a final response to the INVITE: give up
};
inline constexpr std::size_t call_timer_count = 8;
const char* to_string(call_timer t) noexcept;

struct call_timer_arm {
  call_timer id;
  std::chrono::milliseconds after;
  friend bool operator==(const call_timer_arm&, const call_timer_arm&) = default;
};

// Where a message goes. For requests: the next hop (the first Route URI, else the Request-URI
// or the outbound proxy), for the call layer to resolve (port 0: the transport's default).
// For responses to the peer's requests: `reply`, i.e. back where the request came from
// (RFC 3261 §18.2.2 with rport: the source address and port; over TCP the same connection).
struct destination {
  bool reply = false;
  std::string host;
  std::uint16_t port = 0;
  std::string transport;  // the URI's transport parameter, lower case; empty when absent
  friend bool operator==(const destination&, const destination&) = default;
};

struct outgoing {
  destination to;
  std::string bytes;
};

// How a call ended, from the dialog's point of view.
enum class call_end {
  completed,      // answered, then we hung up (BYE answered, or no answer to it)
  remote_hangup,  // answered, then the callee sent BYE
  busy,           // 486, 600
  no_answer,      // 408, 480, 487, or the ring timeout (CANCEL)
  rejected,       // 603
  failed,         // other final responses, auth failure, Timer B/F, transport error
  cancelled,      // cancel() (CANCEL before the answer, BYE after)
};
const char* to_string(call_end e) noexcept;

struct uac_event {
  enum class kind { ringing, answered, ended };
  kind what = kind::ringing;
  // The SIP status behind it. ringing: 180/183. ended: the final response to the INVITE (RFC
  // 3261 §13.2.2): once the call was answered that is the 2xx, however the call ended after it
  // (a BYE, ours or the callee's, and its answer are not the call's outcome); before that, the
  // failure response, 408 for Timer B, 0 when none came (transport error, cancelled early).
  int code = 0;
  std::string reason;  // its reason phrase, or why the call ended ("remote hangup", "hung up")
  std::string sdp;     // answered: the SDP answer (the 2xx body)
  call_end end = call_end::failed;  // ended only
  boost::system::error_code ec;     // ended: status_error(code) or a sip::errc
};

struct uac_step {
  std::vector<call_timer> cancel;
  std::vector<outgoing> send;
  std::vector<call_timer_arm> arm;
  std::vector<uac_event> events;
  bool empty() const noexcept {
    return cancel.empty() && send.empty() && arm.empty() && events.empty();
  }
};

class uac_call_fsm {
 public:
  enum class state { idle, calling, cancelling, confirmed, terminating, ended };

  explicit uac_call_fsm(uac_call_params params);
  ~uac_call_fsm();
  uac_call_fsm(const uac_call_fsm&) = delete;
  uac_call_fsm& operator=(const uac_call_fsm&) = delete;

  // Sends the INVITE and arms the ring timer.
  uac_step start();
  // Any message received on the call's transport: responses to our requests, requests from
  // the callee. Anything that does not belong to the call is ignored (requests of another
  // Call-ID get 481).
  uac_step on_message(const message& m);
  uac_step on_timer(call_timer id);
  // The transport failed (TCP connection lost, ICMP unreachable, bytes that are not SIP on a
  // stream): the call ends failed with `reason`.
  uac_step on_transport_error(std::string_view reason = "transport error");
  // After the prompt: BYE, and the call ends `completed` on its final response (or Timer F).
  // Before the answer it is cancel().
  uac_step hangup();
  // CANCEL if not answered yet, BYE if answered; the call ends `cancelled`.
  uac_step cancel();

  state current() const noexcept { return state_; }
  bool ended() const noexcept { return state_ == state::ended; }
  bool answered() const noexcept { return answered_; }
  const std::string& call_id() const noexcept { return call_id_; }
  const std::string& local_tag() const noexcept { return local_tag_; }
  const std::string& remote_tag() const noexcept { return remote_tag_; }
  // The dialog's remote target and route set (RFC 3261 §12.1.2), once answered.
  const std::string& remote_target() const noexcept { return remote_target_; }
  const std::vector<std::string>& route_set() const noexcept { return route_set_; }
  // The INVITE as last sent (with credentials after a challenge).
  const message& invite() const noexcept;

 private:
  struct credential {  // one realm's answered challenge (RFC 7616 §3.4)
    std::string realm;
    std::string header;  // "Authorization" or "Proxy-Authorization"
    std::string nonce;
    std::uint32_t nc = 0;
    std::string value;
  };

  message dialog_request(std::string_view method, std::uint32_t cseq_no) const;
  void start_invite(uac_step& out);
  void apply_invite(const action& a, uac_step& out, const message* response);
  void apply_cancel(const action& a, uac_step& out);
  void apply_bye(const action& a, uac_step& out, const message* response);
  void on_invite_response(const message& r, uac_step& out);
  void on_final_failure(const message& r, uac_step& out);
  bool answer_challenge(const message& r);
  void on_2xx(const message& r, uac_step& out);
  void send_cancel(uac_step& out);
  void send_bye(uac_step& out, call_end cause, std::string reason);
  void begin_cancel(uac_step& out, call_end cause, std::string reason);
  void on_request(const message& m, uac_step& out);
  void end(uac_step& out, call_end e, int code, std::string reason, boost::system::error_code ec);

  uac_call_params p_;
  bool reliable_ = false;
  state state_ = state::idle;
  std::string call_id_;
  std::string local_tag_;
  std::string from_value_;  // From header with our tag
  std::uint32_t cseq_ = 1;  // of the current INVITE
  std::unique_ptr<invite_client_fsm> invite_;
  std::unique_ptr<non_invite_client_fsm> cancel_;
  std::unique_ptr<non_invite_client_fsm> bye_;
  // The ACKs of earlier INVITEs' final responses (by branch), to re-send when the response is
  // retransmitted after the transaction was replaced (auth retry).
  std::vector<std::pair<std::string, std::string>> old_acks_;
  std::vector<credential> credentials_;
  int auth_attempts_ = 0;
  destination first_hop_;  // of out-of-dialog requests
  bool provisional_seen_ = false;
  bool cancel_pending_ = false;  // CANCEL waits for a provisional response (RFC 3261 §9.1)
  call_end cancel_cause_ = call_end::no_answer;
  std::string cancel_reason_;
  bool answered_ = false;
  int answer_code_ = 0;  // the 2xx that confirmed the dialog: the call's SIP outcome from then on
  std::string remote_tag_;
  std::string to_value_;  // To header with the remote tag
  std::string remote_target_;
  std::vector<std::string> route_set_;  // name-addr values, in the order we send them
  std::string ack_bytes_;               // the 2xx ACK, re-sent on a retransmitted 2xx
  call_end bye_cause_ = call_end::completed;
  std::string bye_reason_;
};

}  // namespace otpd::sip
