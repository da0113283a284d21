// The binds of one carrier: several sessions (TX+RX pairs or TRX) behind one submit queue.
//
// A message goes to a bound session with window room, preferring one that is not throttled
// and has the least queued. A message a session hands back unwritten (throttled, bind lost)
// goes to another bind at once. A message written without a response is reported as an
// unknown outcome and never resubmitted. Every message carries a deadline (its code's
// expiry) and is never written after it. When no bind of the carrier can send, submits fail
// at once with errc::no_bind_available so that the caller can fail over to another carrier
// (or wait for a bind: service::sms_gateway). Not thread-safe: use it on one executor, like its
// sessions.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "smpp/net/bind_config.hpp"
#include "smpp/net/session.hpp"
#include "smpp/text/encoder.hpp"
#include "smpp/text/segmenter.hpp"

namespace otpd::smpp {

// What reconfigure() did, by bind name.
struct reconfigure_result {
  std::vector<std::string> kept;      // the same configuration: the session goes on untouched
  std::vector<std::string> added;     // connects now
  std::vector<std::string> replaced;  // changed: the old session unbinds, a new one connects
  std::vector<std::string> removed;   // unbinds gracefully
};

struct pool_config {
  std::string name;  // the carrier
  std::vector<bind_config> binds;
  std::size_t max_queue = 10000;  // messages waiting for window room
  // A bind is reported degraded after this many submits in a row got no response (while
  // bound: the SMSC takes the PDUs and answers nothing); any response clears it.
  unsigned degraded_after = 3;
};

// What to send: the pool encodes and splits the text per the chosen bind's profile.
struct message_request {
  address source;
  address dest;
  std::string text;                      // UTF-8
  std::uint8_t registered_delivery = 1;  // SMSC delivery receipt on final outcome
  std::string service_type;
  time_point deadline = time_point::max();  // also sets validity_period
  // Runs each time the message is handed to a session, before any of it can be written (a
  // journal of what may be on the wire: an attempt is never reported unsent after a crash if
  // it could have been sent).
  std::function<void()> before_submit;
};

struct pool_result {
  error_code ec;     // as submit_result::ec, or errc::no_bind_available / deadline_passed / text
  std::string bind;  // the session that took it (empty when none did)
  std::vector<part_outcome> parts;
  std::size_t part_count = 0;   // parts the text was split into
  text::error_info text_error;  // where the text failed to encode, when ec says so
  std::string text_reason;      // why the text cannot go out (text::why_unsendable), ditto
  bool outcome_unknown = false;
  unsigned returns = 0;  // times a bind handed it back (throttled or lost) before the end
  std::uint64_t id = 0;  // the message's id, unique in the process (late_answer::id)
};

class bind_pool;

// A submit_sm_resp for a message completed with outcome_unknown after its response timeout.
struct late_answer {
  std::uint64_t id = 0;  // pool_result::id
  std::string bind;
  std::size_t part = 0;
  std::uint32_t command_status = 0;
  std::string message_id;
};

class pool_listener {
 public:
  virtual ~pool_listener() = default;
  // A deliver_sm / data_sm (receipt or MO) from one of the carrier's binds.
  virtual void on_deliver(bind_pool&, session&, event::deliver&) {}
  virtual void on_bind_state(bind_pool&, session&, bool /*bound*/, error_code) {}
  virtual void on_late_answer(bind_pool&, late_answer) {}
};

// Where a bind's lease is when several nodes share the carrier's account (docs/scale-out.md):
// held by this node, by another live one, or by none.
enum class bind_lease : std::uint8_t { held, elsewhere, free };
std::string_view to_string(bind_lease l) noexcept;

// What the pool has seen of one bind's submits, for readiness.
struct bind_health {
  unsigned unanswered = 0;  // submits in a row that got no response within the timeout
  bool degraded = false;    // unanswered reached pool_config::degraded_after
  bind_lease lease = bind_lease::held;
};

struct pool_status {
  std::string name;
  std::size_t queued = 0;
  std::size_t in_flight_messages = 0;
  std::size_t bound_transmitters = 0;  // bound sessions that can submit
  std::size_t bound_receivers = 0;     // bound sessions that can receive
  std::vector<session_status> sessions;
  std::vector<bind_health> health;  // one per session, in the order of `sessions`
};

class bind_pool : private session_listener {
 public:
  using completion = std::function<void(pool_result)>;

  bind_pool(boost::asio::any_io_executor ex, pool_config cfg, pool_listener* listener = nullptr);
  ~bind_pool() override;

  void start();
  // Graceful: queued messages fail with errc::shutting_down; sessions unbind after their
  // in-flight responses. `on_stopped` runs when every session has stopped.
  void stop(std::function<void()> on_stopped = {});

  // `done` runs exactly once, on the pool's executor (possibly before submit returns).
  void submit(message_request req, completion done);

  // An operator's drain of one bind: no new message goes to it, those in flight get their
  // responses, then it unbinds and stays down (session::pause) until enable(). false: the pool
  // has no bind of that name.
  bool drain(std::string_view bind);
  bool enable(std::string_view bind);

  // Several nodes (docs/scale-out.md): from now on a bind runs only while this node holds its
  // lease (set_lease). Call before start(): no bind connects before its lease is held. A bind
  // runs when it is leased and not drained; each reason stops it on its own, as drain() does.
  void require_leases();
  // The bind's lease changed: held, it connects (unless drained); else it unbinds gracefully
  // and stays down. false: the pool has no bind of that name.
  bool set_lease(std::string_view bind, bind_lease lease);

  // A new set of binds (the pool's name stays). A bind whose configuration is unchanged keeps
  // its session: its connection, window and messages in flight are not touched. A removed or
  // changed one leaves the pool at once (nothing new goes to it) and unbinds gracefully: its
  // queued messages move to the other binds, those in flight get their responses. An added or
  // changed one connects (when the pool has started).
  reconfigure_result reconfigure(pool_config next);

  // Whether any bind can take a submit now.
  bool can_submit() const noexcept;
  pool_status status() const;
  const pool_config& config() const noexcept { return cfg_; }
  std::vector<std::unique_ptr<session>>& sessions() noexcept { return sessions_; }

 private:
  struct entry {
    std::uint64_t id;
    message_request req;
    completion done;
    unsigned returns = 0;
    std::size_t part_count = 0;
    std::string bind;
  };

  // session_listener
  void on_bound(session&) override;
  void on_down(session&, error_code) override;
  void on_submit_done(session&, submit_result) override;
  void on_late_response(session&, event::late_response) override;
  void on_returned(session&, outbound_message, error_code) override;
  void on_deliver(session&, event::deliver&) override;
  void on_stopped(session&) override;

  void dispatch();
  session* pick() noexcept;
  session* find(std::string_view bind) noexcept;  // in service, by name
  void gate(session& s);                          // pause or resume: drained, leased
  bool send_on(session& s, entry& e);
  void complete(entry& e, pool_result r);
  void fail_queue(error_code ec);
  void arm_sweep();
  const text_profile& profile_of(const session& s) const;

  boost::asio::any_io_executor ex_;
  pool_config cfg_;
  pool_listener* listener_;
  std::vector<std::unique_ptr<session>> sessions_;
  std::deque<entry> queue_;                        // waiting for a bind
  std::unordered_map<std::uint64_t, entry> sent_;  // in a session
  std::uint16_t next_ref_ = 1;                     // concatenation reference numbers
  boost::asio::steady_timer sweep_;
  bool sweeping_ = false;
  bool started_ = false;
  bool stopping_ = false;
  std::size_t stopped_ = 0;
  std::size_t to_stop_ = 0;  // sessions stop() waits for, retiring ones included
  // Sessions removed by reconfigure(), unbinding; each is destroyed once it has stopped.
  std::vector<std::unique_ptr<session>> retiring_;
  std::function<void()> on_stopped_;
  // Submits in a row without a response, by session (see bind_health).
  std::unordered_map<const session*, unsigned> unanswered_;
  // Why a bind is down on purpose, by name: an operator's drain, a lease held elsewhere. Kept by
  // name, so that a reload's new session of the bind stays down too.
  std::set<std::string, std::less<>> drained_;
  bool leases_required_ = false;
  std::map<std::string, bind_lease, std::less<>> leases_;  // absent: free
};

}  // namespace otpd::smpp
