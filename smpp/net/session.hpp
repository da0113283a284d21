// One SMPP bind to an SMSC over TCP or TLS: a C++20 coroutine that connects, binds, carries
// out what session_fsm asks for, and reconnects with exponential backoff and jitter until it
// is stopped. Not thread-safe: construct it, call it and let its listener run on one
// executor (a strand or a single-threaded io_context).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <span>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "smpp/net/session_fsm.hpp"
#include "smpp/net/session_options.hpp"

namespace otpd::smpp {

class session;

// What a session reports to its owner; called on the session's executor. The callbacks may
// call back into the session (submit, stop).
class session_listener {
 public:
  virtual ~session_listener() = default;
  virtual void on_bound(session&) {}
  // The bind is lost or could not be made; the session reconnects by itself unless stopped.
  virtual void on_down(session&, error_code) {}
  virtual void on_submit_done(session&, submit_result) {}
  // The SMSC's answer to a part whose message was reported with outcome_unknown after its
  // response timeout (event::late_response): on the same connection, within the late window.
  virtual void on_late_response(session&, event::late_response) {}
  // A message handed back unwritten: send it elsewhere at once.
  virtual void on_returned(session&, outbound_message, error_code) {}
  // A deliver_sm / data_sm. The answer goes when the callback returns, with ESME_ROK, unless
  // the listener moves event::deliver::answer out to answer later (on this executor).
  virtual void on_deliver(session&, event::deliver&) {}
  virtual void on_protocol_error(session&, const event::protocol_error&) {}
  // The session has stopped for good (after stop()).
  virtual void on_stopped(session&) {}
};

// A snapshot for metrics and the operator CLI.
struct session_status {
  std::string name;
  bind_type type = bind_type::transceiver;
  session_state state = session_state::idle;
  bool paused = false;  // drained by the operator: stays down until enabled
  bool connected = false;
  std::size_t in_flight = 0;
  std::size_t queued = 0;
  std::size_t window = 0;
  double tps_limit = 0;  // 0 = unlimited
  bool throttled = false;
  std::uint64_t connects = 0;
  std::uint64_t binds = 0;
  error_code last_error;
  session_counters counters;
};

class session {
 public:
  enum class direction : std::uint8_t { sent, received };
  // Sees the bytes of every whole PDU exchanged (for an integrator's trace); off by default.
  using trace_fn = std::function<void(direction, std::span<const std::uint8_t>)>;

  session(boost::asio::any_io_executor ex, session_options opts, session_listener& listener);
  ~session();
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  // Starts connecting (once).
  void start();
  // Graceful stop: unbind after in-flight responses (bounded by drain/unbind timeouts), then
  // close; no reconnect. on_stopped() follows.
  void stop();
  // An operator's drain: unbind gracefully as stop() does, then stay down, without
  // reconnecting, until resume(). Messages queued in the session go back to the caller
  // (on_returned); those in flight get their responses first.
  void pause();
  // Ends a pause: connect and bind again at once.
  void resume();
  bool paused() const noexcept { return paused_; }

  // Takes the message when the bind can (see session_fsm::submit); false leaves it with the
  // caller.
  bool submit(outbound_message& msg);
  bool has_room() const noexcept { return fsm_ && fsm_->has_room(); }
  bool bound() const noexcept { return fsm_ && fsm_->state() == session_state::bound; }
  bool throttled() const noexcept { return fsm_ && fsm_->flow().throttled(); }
  std::size_t queued() const noexcept { return fsm_ ? fsm_->queued() : 0; }

  const session_options& options() const noexcept { return opts_; }
  const std::string& name() const noexcept { return opts_.name; }
  session_status status() const;
  void set_trace(trace_fn fn) { trace_ = std::move(fn); }

 private:
  struct connection;
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<error_code> connect_and_serve();
  template <class Stream>
  boost::asio::awaitable<error_code> serve(Stream& stream);
  template <class Stream>
  boost::asio::awaitable<void> write_loop(Stream& stream);
  template <class Stream>
  boost::asio::awaitable<void> read_loop(Stream& stream);
  void after_input();  // dispatch events, wake the writer, re-arm the timer
  void trace_bytes(direction d, std::span<const std::uint8_t> bytes);
  duration next_backoff();
  bool leaving() const noexcept { return stopping_ || paused_; }  // not to reconnect now
  void leave();  // unbind when bound or binding, else give up the connection attempt

  boost::asio::any_io_executor ex_;
  session_options opts_;
  session_listener& listener_;
  std::unique_ptr<session_fsm> fsm_;  // one per connection
  // Lives as long as fsm_: a deferred deliver_sm answer checks it before touching fsm_.
  std::shared_ptr<bool> connection_alive_;
  boost::asio::steady_timer timer_;  // the fsm's next deadline
  boost::asio::steady_timer write_signal_;
  boost::asio::steady_timer backoff_timer_;
  boost::asio::steady_timer resume_signal_;  // cancelled by resume() and stop()
  time_point armed_ = time_point::max();
  std::function<void()> close_transport_;
  bool started_ = false;
  bool stopping_ = false;
  bool paused_ = false;
  bool connected_ = false;
  bool writing_ = false;
  unsigned failures_ = 0;
  std::uint64_t connects_ = 0;
  std::uint64_t binds_ = 0;
  error_code last_error_;
  session_counters totals_;  // counters of earlier connections
  std::minstd_rand rng_;
  trace_fn trace_;
  std::unique_ptr<class framer> trace_in_;
  std::unique_ptr<class framer> trace_out_;
};

}  // namespace otpd::smpp
