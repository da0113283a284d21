#include "smpp/net/session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "smpp/proto/framer.hpp"
#include "smpp/proto/status.hpp"

namespace otpd::smpp {
namespace asio = boost::asio;
using asio::ip::tcp;
namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

time_point now() { return clock_type::now(); }

error_code map_transport_error(error_code ec) {
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
      ec == asio::error::connection_reset) {
    return errc::connection_closed;
  }
  return ec;
}

// Closes `sock` when `timer` fires first: bounds connect and handshake.
template <class Socket>
void arm_watchdog(asio::steady_timer& timer, Socket& sock, duration timeout) {
  timer.expires_after(timeout);
  timer.async_wait([&sock](error_code ec) {
    if (!ec) {
      error_code ignored;
      sock.close(ignored);
    }
  });
}

}  // namespace

session::session(asio::any_io_executor ex, session_options opts, session_listener& listener)
    : ex_(std::move(ex)),
      opts_(std::move(opts)),
      listener_(listener),
      timer_(ex_),
      write_signal_(ex_),
      backoff_timer_(ex_),
      resume_signal_(ex_),
      rng_(std::random_device{}()) {}

session::~session() = default;

void session::start() {
  if (started_) return;
  started_ = true;
  asio::co_spawn(ex_, run(), asio::detached);
}

void session::stop() {
  if (stopping_) return;
  const bool was_down = paused_;
  stopping_ = true;
  backoff_timer_.cancel();
  resume_signal_.cancel();
  if (!was_down) leave();  // else already unbinding or unbound
}

void session::pause() {
  if (stopping_ || paused_) return;
  paused_ = true;
  backoff_timer_.cancel();
  leave();
}

void session::leave() {
  if (fsm_ && fsm_->state() != session_state::closed) {
    fsm_->unbind(now());
    after_input();
  } else if (close_transport_) {
    close_transport_();  // still connecting
  }
}

void session::resume() {
  if (!paused_) return;
  paused_ = false;
  failures_ = 0;
  resume_signal_.cancel();
}

bool session::submit(outbound_message& msg) {
  if (!fsm_ || !fsm_->submit(msg, now())) return false;
  after_input();
  return true;
}

session_status session::status() const {
  session_status s;
  s.name = opts_.name;
  s.type = opts_.smpp.type;
  s.connected = connected_;
  s.paused = paused_;
  s.window = opts_.smpp.window;
  s.connects = connects_;
  s.binds = binds_;
  s.last_error = last_error_;
  s.counters = totals_;
  if (fsm_) {
    s.state = fsm_->state();
    s.in_flight = fsm_->in_flight();
    s.queued = fsm_->queued();
    s.tps_limit = fsm_->flow().current_tps();
    s.throttled = fsm_->flow().throttled();
    s.counters += fsm_->counters();
  }
  return s;
}

duration session::next_backoff() {
  // Exponential backoff with "equal jitter": half fixed, half random, so that many binds
  // that dropped together do not reconnect together.
  duration base = opts_.reconnect.initial_delay;
  for (unsigned i = 0; i < failures_ && base < opts_.reconnect.max_delay; ++i) base *= 2;
  base = std::min(base, opts_.reconnect.max_delay);
  ++failures_;
  const auto half = base / 2;
  std::uniform_int_distribution<duration::rep> dist(0, half.count());
  return half + duration(dist(rng_));
}

asio::awaitable<void> session::run() {
  while (!stopping_) {
    if (paused_) {
      resume_signal_.expires_at(time_point::max());
      co_await resume_signal_.async_wait(use_nothrow);
      continue;
    }
    error_code ec = co_await connect_and_serve();
    last_error_ = ec;
    if (stopping_) break;
    if (paused_) {
      last_error_ = {};
      continue;
    }
    backoff_timer_.expires_after(next_backoff());
    co_await backoff_timer_.async_wait(use_nothrow);
  }
  listener_.on_stopped(*this);
}

asio::awaitable<error_code> session::connect_and_serve() {
  tcp::resolver resolver(ex_);
  auto [rec, results] = co_await resolver.async_resolve(
      opts_.endpoint.host, std::to_string(opts_.endpoint.port), use_nothrow);
  if (rec) {
    listener_.on_down(*this, rec);
    co_return rec;
  }
  tcp::socket sock(ex_);
  close_transport_ = [&sock] {
    error_code ignored;
    sock.close(ignored);
  };
  asio::steady_timer watchdog(ex_);
  arm_watchdog(watchdog, sock, opts_.endpoint.connect_timeout);
  auto [cec, ep] = co_await asio::async_connect(sock, results, use_nothrow);
  watchdog.cancel();
  if (!cec && !sock.is_open()) cec = asio::error::timed_out;
  if (cec || leaving()) {
    close_transport_ = nullptr;
    if (!cec) cec = errc::shutting_down;
    listener_.on_down(*this, cec);
    co_return cec;
  }
  ++connects_;
  error_code ignored;
  sock.set_option(tcp::no_delay(true), ignored);  // small PDUs must not wait for Nagle
  sock.set_option(asio::socket_base::keep_alive(true), ignored);

  error_code ec;
  if (!opts_.endpoint.tls) {
    ec = co_await serve(sock);
  } else {
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                    asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                    asio::ssl::context::no_tlsv1_1);
    if (opts_.endpoint.ca_file.empty()) {
      ctx.set_default_verify_paths(ec);
    } else {
      ctx.load_verify_file(opts_.endpoint.ca_file, ec);
    }
    if (ec) {
      close_transport_ = nullptr;
      listener_.on_down(*this, ec);
      co_return ec;
    }
    asio::ssl::stream<tcp::socket> stream(std::move(sock), ctx);
    const std::string& name = opts_.endpoint.tls_server_name.empty()
                                  ? opts_.endpoint.host
                                  : opts_.endpoint.tls_server_name;
    SSL_set_tlsext_host_name(stream.native_handle(), name.c_str());  // SNI
    if (opts_.endpoint.verify_peer) {
      stream.set_verify_mode(asio::ssl::verify_peer);
      stream.set_verify_callback(asio::ssl::host_name_verification(name));
    } else {
      stream.set_verify_mode(asio::ssl::verify_none);
    }
    close_transport_ = [&stream] {
      error_code e;
      stream.lowest_layer().close(e);
    };
    arm_watchdog(watchdog, stream.lowest_layer(), opts_.endpoint.connect_timeout);
    auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::client, use_nothrow);
    watchdog.cancel();
    if (hec || leaving()) {
      close_transport_ = nullptr;
      if (!hec) hec = errc::shutting_down;
      listener_.on_down(*this, hec);
      co_return hec;
    }
    ec = co_await serve(stream);
  }
  close_transport_ = nullptr;
  co_return ec;
}

template <class Stream>
asio::awaitable<error_code> session::serve(Stream& stream) {
  fsm_ = std::make_unique<session_fsm>(opts_.smpp);
  // The listener answers each deliver_sm once it has taken it (event::deliver::answer).
  fsm_->defer_deliver_answers();
  connection_alive_ = std::make_shared<bool>(true);
  connected_ = true;
  if (trace_) {
    trace_in_ = std::make_unique<framer>(opts_.smpp.max_pdu_length);
    trace_out_ = std::make_unique<framer>(opts_.smpp.max_pdu_length);
  }
  fsm_->on_connected(now());
  after_input();

  int running = 3;
  asio::steady_timer done(ex_);
  done.expires_at(time_point::max());
  auto finished = [&](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);  // a bug, not a network condition
    if (--running == 0) done.cancel();
  };
  asio::co_spawn(ex_, read_loop(stream), finished);
  asio::co_spawn(ex_, write_loop(stream), finished);
  asio::co_spawn(
      ex_,
      [this]() -> asio::awaitable<void> {
        while (fsm_->state() != session_state::closed) {
          armed_ = fsm_->next_deadline();
          timer_.expires_at(armed_);
          co_await timer_.async_wait(use_nothrow);
          if (fsm_->state() == session_state::closed) break;
          fsm_->on_timer(now());
          after_input();
        }
      },
      finished);
  while (running > 0) co_await done.async_wait(use_nothrow);

  // Keep the totals across connections for status().
  totals_ += fsm_->counters();
  connected_ = false;
  connection_alive_.reset();  // answers still owed to this connection go nowhere
  fsm_.reset();
  co_return last_error_;
}

template <class Stream>
asio::awaitable<void> session::read_loop(Stream& stream) {
  for (;;) {
    std::span<std::uint8_t> buf = fsm_->read_buffer();
    auto [ec, n] =
        co_await stream.async_read_some(asio::buffer(buf.data(), buf.size()), use_nothrow);
    if (fsm_->state() == session_state::closed) break;
    if (ec) {
      fsm_->on_transport_closed(map_transport_error(ec), now());
      after_input();
      break;
    }
    if (trace_) trace_bytes(direction::received, buf.first(n));
    fsm_->on_read(n, now());
    after_input();
    if (fsm_->state() == session_state::closed) break;
  }
}

template <class Stream>
asio::awaitable<void> session::write_loop(Stream& stream) {
  std::string buf;
  for (;;) {
    if (fsm_->output().empty()) {
      if (fsm_->state() == session_state::closed) break;
      write_signal_.expires_at(time_point::max());
      co_await write_signal_.async_wait(use_nothrow);
      continue;
    }
    buf.clear();
    fsm_->swap_output(buf);
    if (trace_)
      trace_bytes(direction::sent, {reinterpret_cast<const std::uint8_t*>(buf.data()), buf.size()});
    auto [ec, n] = co_await asio::async_write(stream, asio::buffer(buf), use_nothrow);
    // The bytes held a bind password or a message with its code: gone once on the wire.
    wipe(buf);
    if (ec) {
      if (fsm_->state() != session_state::closed) {
        fsm_->on_transport_closed(map_transport_error(ec), now());
        after_input();
      }
      break;
    }
  }
  // Everything the fsm wanted written is out (or the transport failed): close, which also
  // ends the read loop.
  if (close_transport_) close_transport_();
}

void session::trace_bytes(direction d, std::span<const std::uint8_t> bytes) {
  framer* f = d == direction::sent ? trace_out_.get() : trace_in_.get();
  if (!f) return;
  f->put(bytes);
  for (;;) {
    error_code ec;
    auto frame = f->next(ec);
    if (ec || frame.empty()) break;
    trace_(d, frame);
  }
}

void session::after_input() {
  if (!fsm_) return;
  // Dispatch until quiet: a listener may submit from its callback, which adds events.
  for (std::vector<session_event> events = fsm_->take_events(); !events.empty();
       events = fsm_->take_events()) {
    for (session_event& e : events) {
      std::visit(
          [&](auto& ev) {
            using T = std::decay_t<decltype(ev)>;
            if constexpr (std::is_same_v<T, event::bound>) {
              failures_ = 0;
              ++binds_;
              last_error_ = {};
              listener_.on_bound(*this);
            } else if constexpr (std::is_same_v<T, event::bind_failed>) {
              last_error_ = ev.ec;
            } else if constexpr (std::is_same_v<T, event::submit_done>) {
              listener_.on_submit_done(*this, std::move(ev.result));
            } else if constexpr (std::is_same_v<T, event::returned>) {
              listener_.on_returned(*this, std::move(ev.message), ev.reason);
            } else if constexpr (std::is_same_v<T, event::deliver>) {
              ev.answer = deliver_answer([this, alive = std::weak_ptr<bool>(connection_alive_),
                                          seq = ev.sequence_number](std::uint32_t status) {
                if (alive.expired()) return;  // that connection is gone: the SMSC retries
                fsm_->answer_deliver(seq, status);
                if (!fsm_->output().empty()) write_signal_.cancel();
              });
              listener_.on_deliver(*this, ev);
            } else if constexpr (std::is_same_v<T, event::late_response>) {
              listener_.on_late_response(*this, std::move(ev));
            } else if constexpr (std::is_same_v<T, event::alert>) {
              // No action: availability alerts are informational for an OTP sender.
            } else if constexpr (std::is_same_v<T, event::protocol_error>) {
              listener_.on_protocol_error(*this, ev);
            } else if constexpr (std::is_same_v<T, event::closed>) {
              if (!(ev.reason == errc::unbound && leaving())) last_error_ = ev.reason;
              listener_.on_down(*this, ev.reason);
            }
          },
          e);
    }
    if (!fsm_) return;
  }
  if (!fsm_->output().empty() || fsm_->state() == session_state::closed) write_signal_.cancel();
  const time_point next = fsm_->next_deadline();
  if (fsm_->state() == session_state::closed || next < armed_) timer_.cancel();
}

}  // namespace otpd::smpp
