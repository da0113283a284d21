// The SMPP 3.4 ESME session as a state machine without I/O.
//
// Bytes and the time go in; bytes to write, events for the owner and the next deadline come
// out. The Asio layer (session.hpp) only moves bytes and arms one timer, so every rule of
// the protocol (bind, window, sequence numbers, enquire_link, throttling, timeouts, unbind)
// is tested here without a socket or a clock.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <boost/system/error_code.hpp>

#include "common/secret.hpp"
#include "smpp/net/flow_control.hpp"
#include "smpp/proto/framer.hpp"
#include "smpp/proto/pdu.hpp"

namespace otpd::smpp {

using boost::system::error_code;

enum class bind_type : std::uint8_t { transmitter, receiver, transceiver };
const char* to_string(bind_type t) noexcept;
inline bool can_submit(bind_type t) noexcept { return t != bind_type::receiver; }
inline bool can_receive(bind_type t) noexcept { return t != bind_type::transmitter; }

struct session_config {
  bind_type type = bind_type::transceiver;
  std::string system_id;
  secret password;  // shared with the configuration; copied only into the bind PDU, then wiped
  std::string system_type;
  std::uint8_t interface_version = 0x34;
  address address_range;

  std::size_t window = 10;  // outstanding submit_sm without a response
  duration bind_timeout = std::chrono::seconds(10);
  duration response_timeout = std::chrono::seconds(10);
  // enquire_link after this long without traffic from the peer, only once bound (0 = never).
  duration enquire_link_interval = std::chrono::seconds(30);
  // On unbind: how long in-flight submits may take to be answered, then unbind_resp.
  duration drain_timeout = std::chrono::seconds(5);
  duration unbind_timeout = std::chrono::seconds(2);
  std::size_t max_pdu_length = 64 * 1024;
  // A submit that timed out keeps its sequence number this long (and at most late_kept of
  // them, the oldest dropped first), so that a submit_sm_resp arriving after the response
  // timeout still tells the owner what the SMSC did (event::late_response).
  duration late_response_window = std::chrono::minutes(5);
  std::size_t late_kept = 1024;
  flow_control_config flow;
  friend bool operator==(const session_config&, const session_config&) = default;
};

enum class session_state : std::uint8_t {
  idle,       // no connection
  binding,    // connected, bind sent
  bound,      // bind accepted
  draining,   // unbind requested: waiting for in-flight responses
  unbinding,  // unbind sent
  closed,     // the connection must be closed (see the closed event)
};
const char* to_string(session_state s) noexcept;

// A message to send: its parts (one submit_sm each) go out in order, and at most one part of
// a message is in flight at a time, so that a throttled part is resent before the next one.
struct outbound_message {
  std::uint64_t id = 0;  // the owner's handle
  std::vector<submit_sm> parts;
  time_point deadline = time_point::max();  // never written after this
};

// Overwrites the text of a submit_sm (short_message and TLV values, where message_payload
// carries it): an OTP text holds its code, which must not linger in freed memory.
void wipe_text(submit_sm& sm) noexcept;
inline void wipe_text(outbound_message& m) noexcept {
  for (submit_sm& sm : m.parts) wipe_text(sm);
}

struct part_outcome {
  std::uint32_t command_status = 0;
  std::string message_id;
};

// The outcome of one message.
struct submit_result {
  std::uint64_t id = 0;
  // ok: every part accepted; command_status category: the SMSC refused a part; errc: local
  // (deadline_passed, response_timeout, unknown_outcome, ...).
  error_code ec;
  std::vector<part_outcome> parts;  // one per part answered, in order
  // True when some part was written but its fate is unknown (no response): never resubmit.
  bool outcome_unknown = false;
};

// How the owner answers a deliver_sm / data_sm that waits for it (defer_deliver_answers):
// answer(command_status) once. Move-only; one dropped unanswered answers ESME_ROK, so that
// no path leaves the SMSC waiting. Empty (a no-op) when the message was answered already.
class deliver_answer {
 public:
  deliver_answer() = default;
  explicit deliver_answer(std::function<void(std::uint32_t)> send) : send_(std::move(send)) {}
  deliver_answer(deliver_answer&& o) noexcept : send_(std::exchange(o.send_, nullptr)) {}
  deliver_answer& operator=(deliver_answer&& o) noexcept {
    if (this != &o) {
      answer(0);
      send_ = std::exchange(o.send_, nullptr);
    }
    return *this;
  }
  ~deliver_answer() { answer(0); }

  void answer(std::uint32_t command_status) {
    if (auto send = std::exchange(send_, nullptr)) send(command_status);
  }
  // Whether an answer is still owed.
  bool pending() const noexcept { return static_cast<bool>(send_); }

 private:
  std::function<void(std::uint32_t)> send_;
};

namespace event {
struct bound {
  std::string smsc_system_id;
  std::optional<std::uint8_t> sc_interface_version;
};
struct bind_failed {
  error_code ec;  // command_status from the SMSC, or bind_timeout
};
struct submit_done {
  submit_result result;
};
// A message handed back unwritten (throttled before any part was accepted, or the session
// went down before it was written): the owner may send it over another bind at once.
struct returned {
  outbound_message message;
  error_code reason;
};
struct deliver {  // deliver_sm or data_sm from the SMSC (receipt or MO)
  std::variant<deliver_sm, data_sm> message;
  std::uint32_t sequence_number = 0;
  // Answered already, unless defer_deliver_answers(): then the session (session.hpp) fills
  // this in, and session_fsm::answer_deliver(sequence_number, status) answers.
  deliver_answer answer;
};
// A submit_sm_resp (or generic_nack) for a part whose response timeout had passed: its
// message was reported with outcome_unknown, and this is what the SMSC did with that part.
struct late_response {
  std::uint64_t id = 0;  // the message (outbound_message::id)
  std::size_t part = 0;  // 0-based part of that message
  std::uint32_t sequence_number = 0;
  std::uint32_t command_status = 0;
  std::string message_id;  // the SMSC's, when accepted
};
struct alert {
  alert_notification notification;
};
struct protocol_error {  // something the peer sent that we refused (logged by the owner)
  error_code ec;
  std::uint32_t raw_command_id = 0;
  std::uint32_t sequence_number = 0;
};
struct closed {  // the connection must be closed now
  error_code reason;
};
}  // namespace event

using session_event = std::variant<event::bound, event::bind_failed, event::submit_done,
                                   event::returned, event::deliver, event::alert,
                                   event::protocol_error, event::closed, event::late_response>;

struct session_counters {
  std::uint64_t submitted_parts = 0;
  std::uint64_t accepted_parts = 0;
  std::uint64_t rejected_parts = 0;
  std::uint64_t throttled_parts = 0;
  std::uint64_t timed_out_parts = 0;
  std::uint64_t late_responses = 0;  // submit_sm_resp after the response timeout
  std::uint64_t delivers_received = 0;
  std::uint64_t enquire_links_sent = 0;
  std::uint64_t enquire_links_received = 0;
  std::uint64_t generic_nacks_sent = 0;
  std::uint64_t generic_nacks_received = 0;

  session_counters& operator+=(const session_counters& o) noexcept {
    submitted_parts += o.submitted_parts;
    accepted_parts += o.accepted_parts;
    rejected_parts += o.rejected_parts;
    throttled_parts += o.throttled_parts;
    timed_out_parts += o.timed_out_parts;
    late_responses += o.late_responses;
    delivers_received += o.delivers_received;
    enquire_links_sent += o.enquire_links_sent;
    enquire_links_received += o.enquire_links_received;
    generic_nacks_sent += o.generic_nacks_sent;
    generic_nacks_received += o.generic_nacks_received;
    return *this;
  }
};

class session_fsm {
 public:
  explicit session_fsm(session_config cfg);

  // --- inputs ------------------------------------------------------------------------------
  // The transport is connected: sends the bind.
  void on_connected(time_point now);
  // Bytes read from the transport.
  void on_bytes(std::span<const std::uint8_t> bytes, time_point now);
  // Where the transport should read into (avoids a copy): then call on_read(n, now).
  std::span<std::uint8_t> read_buffer() { return framer_.prepare(); }
  void on_read(std::size_t n, time_point now);
  // The transport failed or the peer closed.
  void on_transport_closed(error_code ec, time_point now);
  // Timers: call when next_deadline() is reached (calling early is harmless).
  void on_timer(time_point now);

  // Queues a message. Returns false (and keeps nothing) when the session cannot take it:
  // not bound, a receiver, unbinding, or the queue is at the window size already.
  bool submit(outbound_message& msg, time_point now);
  // Graceful unbind: stop taking messages, wait for in-flight ones (drain_timeout), unbind.
  void unbind(time_point now);
  // From now on deliver_sm / data_sm wait for answer_deliver() instead of getting ESME_ROK at
  // once: the owner answers once it has taken the message (recorded a receipt), or with a
  // temporary error (ESME_RX_T_APPN) so that the SMSC sends it again later.
  void defer_deliver_answers() noexcept { defer_delivers_ = true; }
  // Answers the deliver_sm / data_sm of that sequence number (defer_deliver_answers) with
  // command_status; nothing when it was answered already or the connection is closed (the
  // SMSC then delivers it again).
  void answer_deliver(std::uint32_t sequence_number, std::uint32_t command_status);
  // deliver_sm / data_sm received and not answered yet.
  std::size_t unanswered_delivers() const noexcept { return unanswered_.size(); }

  // --- outputs -----------------------------------------------------------------------------
  // Bytes to write, in order. The owner writes them and calls consume_output().
  const std::string& output() const noexcept { return out_; }
  void consume_output() noexcept { out_.clear(); }
  // Hands the pending output over in one swap (the buffer given back is reused).
  void swap_output(std::string& s) noexcept { out_.swap(s); }
  // Events since the last call.
  std::vector<session_event> take_events() { return std::exchange(events_, {}); }
  // When on_timer() must run next (time_point::max(): nothing pending).
  time_point next_deadline() const noexcept;

  // The next sequence number will follow `last` (wrapping after 0x7FFFFFFF); for tests and
  // for peers that want numbering to continue across connections.
  void set_last_sequence(std::uint32_t last) noexcept { sequence_ = last; }

  // --- state -------------------------------------------------------------------------------
  session_state state() const noexcept { return state_; }
  const session_config& config() const noexcept { return cfg_; }
  // Parts written and not yet answered.
  std::size_t in_flight() const noexcept { return submits_in_flight_; }
  // Timed-out submits whose late response would still be reported.
  std::size_t late_awaited() const noexcept { return late_.size(); }
  // Messages queued in this session (written or not).
  std::size_t queued() const noexcept { return messages_.size(); }
  // Whether submit() would take one more message.
  bool has_room() const noexcept;
  const flow_control& flow() const noexcept { return flow_; }
  const session_counters& counters() const noexcept { return counters_; }

 private:
  struct message_slot {
    outbound_message msg;
    bool written = false;       // some part went on the wire
    std::size_t next_part = 0;  // the next part to write
    bool part_in_flight = false;
    std::vector<part_outcome> outcomes;
  };
  enum class request_kind : std::uint8_t { bind, submit, enquire_link, unbind };
  struct pending_request {
    request_kind kind;
    time_point deadline;
    std::uint64_t message_id = 0;  // for submits
    std::size_t part = 0;          // for submits
  };
  struct late_submit {
    std::uint64_t message_id = 0;
    std::size_t part = 0;
    time_point until;
  };

  std::uint32_t next_sequence() noexcept;
  void send(const pdu& p);
  void send_response(std::uint32_t sequence, command_id id, std::uint32_t status);
  // Bound, or unbinding from a bind: the SMSC may deliver, and we answer what it delivered.
  bool answering() const noexcept {
    return state_ == session_state::bound || state_ == session_state::draining ||
           state_ == session_state::unbinding;
  }
  // A deliver_sm / data_sm: refused (ESME_RINVBNDSTS) unless answering() and the bind type
  // allows it, else answered now or kept for answer_deliver.
  void take_deliver(std::uint32_t seq, command_id resp, bool bind_type_allows,
                    std::variant<deliver_sm, data_sm> message);
  void handle_pdu(pdu& p, time_point now);
  void handle_bind_resp(const pdu& p, const bind_resp_fields& body);
  void handle_submit_resp(std::uint32_t sequence, std::uint32_t status, std::string message_id,
                          time_point now);
  // A submit_sm_resp / generic_nack for a timed-out submit: true when it was one.
  bool take_late_response(std::uint32_t sequence, std::uint32_t status, std::string& message_id);
  void remember_late(std::uint32_t sequence, const pending_request& req, time_point now);
  void handle_decode_error(error_code ec, std::uint32_t raw_id, const pdu& p, bool header_valid);
  void pump(time_point now);  // write what the window and the rate allow
  void expire(time_point now);
  using slot_iterator = std::vector<message_slot>::iterator;
  slot_iterator find_slot(std::uint64_t id) noexcept;
  void finish(slot_iterator it, error_code ec, bool outcome_unknown = false);
  void close(error_code reason);
  void maybe_send_unbind(time_point now);

  session_config cfg_;
  session_state state_ = session_state::idle;
  framer framer_;
  flow_control flow_;
  std::string out_;
  std::vector<session_event> events_;
  std::uint32_t sequence_ = 0;
  std::map<std::uint32_t, pending_request> pending_;  // by sequence number
  std::map<std::uint32_t, command_id> unanswered_;    // deferred deliver_sm / data_sm
  std::map<std::uint32_t, late_submit> late_;         // timed-out submits, by sequence number
  std::deque<std::uint32_t> late_order_;              // late_'s keys, oldest first
  bool defer_delivers_ = false;
  std::vector<message_slot> messages_;  // in arrival order, at most `window`
  std::size_t submits_in_flight_ = 0;
  time_point now_{};  // the latest time an input carried
  time_point last_received_{};
  time_point drain_deadline_ = time_point::max();
  session_counters counters_;
  pdu scratch_;  // reused by the decoder
};

}  // namespace otpd::smpp
