// The Asio layer of one outgoing call: it carries out what sip::uac_call_fsm asks (send, arm a
// timer, report), plays the prompt over an rtp_stream once answered, and bounds everything by
// max_call. One coroutine per call drives the state machine and owns its timers; three helpers
// (SIP reader, SIP writer, player) run beside it and are joined before call() returns.
//
// run() reads as the call's phases, as smpp::session is split: the trunk checked and the call's
// parameters built (detail/call_setup.hpp, pure), the transport opened (open_transport), the
// event loop (drive, event_loop: the state machine fed bytes and time, its steps carried out),
// the end (wind_down) and the result mapped (map_result). An exception from the loop or a
// helper is a bug: the call is ended and the exception rethrown to the awaiting coroutine.
#include "voice/call/caller.hpp"

#include <algorithm>
#include <array>
#include <deque>
#include <list>
#include <map>
#include <optional>

#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "voice/call/detail/call_setup.hpp"
#include "voice/call/rtp_stream.hpp"
#include "voice/media/media_policy.hpp"
#include "voice/media/sdp.hpp"
#include "voice/sip/message.hpp"
#include "voice/sip/status.hpp"
#include "voice/sip/stream_framer.hpp"
#include "voice/sip/uac_call_fsm.hpp"

namespace otpd::voice {
namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using boost::system::error_code;
using clock_type = std::chrono::steady_clock;
using detail::default_sip_port;
using detail::trunk_target;
using detail::unbracket;

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
// How long the last messages (ACK, 200 to BYE) may take to leave before the sockets close.
constexpr auto flush_timeout = std::chrono::seconds(2);

// The trunk's media allow-list: its media_networks, or else every address its next hop resolved
// to; loopback only when the next hop is loopback (a test or sandbox trunk).
template <class Results>
media::media_allow_list media_allow_list_for(const trunk_config& cfg, const Results& hop,
                                             const asio::ip::address& first_hop) {
  media::media_allow_list allow;
  allow.loopback_allowed = first_hop.is_loopback();
  for (const std::string& cidr : cfg.media_networks) {
    std::string why;
    if (auto n = media::parse_network(cidr, why)) allow.networks.push_back(*n);
  }
  if (!cfg.media_networks.empty()) return allow;
  for (const auto& entry : hop) {
    std::string why;
    if (auto n = media::parse_network(entry.endpoint().address().to_string(), why)) {
      allow.networks.push_back(*n);
    }
  }
  return allow;
}

// Why RTP may not go where the answer says, for the call's reason; empty when it may. An IP
// address is shown (the peer's, not a secret); text that is not one is not: it is the peer's
// bytes, and they go into logs.
std::string media_refusal_reason(const media::negotiated_media& nm,
                                 const media::media_allow_list& allow) {
  const media::media_refusal r =
      media::check_media_target(nm.remote.address, nm.remote_port, allow);
  if (r == media::media_refusal::none) return {};
  if (r == media::media_refusal::not_an_ip) return "media address refused: not an IP address";
  return "media address refused: " + nm.remote.address + " port " + std::to_string(nm.remote_port) +
         " (" + media::to_string(r) + ")";
}

}  // namespace

// One call in progress: everything the coroutines share. Lives in call()'s frame.
struct call_ctx {
  explicit call_ctx(asio::any_io_executor ex)
      : wake(ex), writer_signal(ex), udp_sock(ex), tcp_sock(ex), resolver(ex) {}

  std::optional<sip::uac_call_fsm> fsm;
  bool tcp = false;
  asio::steady_timer wake;           // the call's coroutine sleeps on it; cancel() pokes it
  asio::steady_timer writer_signal;  // the writer sleeps on it
  udp::socket udp_sock;
  tcp::socket tcp_sock;
  udp::resolver resolver;
  udp::endpoint first_hop;
  udp::endpoint last_source;  // of the last request received over UDP (replies go there)
  std::map<std::string, udp::endpoint> resolved;  // "host:port" -> endpoint

  struct queued {
    sip::destination to;
    std::optional<udp::endpoint> ep;
    std::string bytes;
  };
  std::deque<queued> out;
  bool closing = false;  // the writer ends once the queue is empty

  std::array<std::optional<clock_type::time_point>, sip::call_timer_count> deadlines;
  std::vector<sip::uac_event> events;  // to handle in the call's coroutine
  int running = 0;                     // helper coroutines not yet finished
  bool writer_done = false;

  std::unique_ptr<rtp_stream> stream;
  bool playing = false;
  bool play_done = false;
  bool replay_requested = false;
  std::uint64_t malformed = 0;  // messages from the trunk that did not parse
  std::uint64_t foreign = 0;    // UDP datagrams from a source other than the trunk, dropped
  play_result played;
  std::optional<std::uint64_t> first_play_packets;  // of the first play, once it has ended
  std::string first_hop_name;                       // "host:port", for error messages
  media::media_allow_list media_allowed;            // where the SDP answer may send our RTP
  std::uint64_t packet_limit = 0;                   // RTP packets the whole call may send

  // The first exception a helper coroutine (reader, writer, player) ended with: a bug or
  // bad_alloc, never a network condition. The call's loop ends the call when it sees one, and
  // call() rethrows it once everything is joined.
  std::exception_ptr failure;

  void poke() { wake.cancel(); }

  void helper_finished(std::exception_ptr e) {
    if (e && !failure) failure = e;
    --running;
    poke();
  }

  // Hands the timers that are due to the state machine.
  void fire_due_timers(clock_type::time_point now) {
    for (std::size_t i = 0; i < deadlines.size(); ++i) {
      if (deadlines[i] && *deadlines[i] <= now && !fsm->ended()) {
        deadlines[i].reset();
        apply(fsm->on_timer(static_cast<sip::call_timer>(i)));
      }
    }
  }

  void apply(const sip::uac_step& s) {
    for (const sip::call_timer t : s.cancel) deadlines[static_cast<std::size_t>(t)].reset();
    const auto now = clock_type::now();
    for (const sip::outgoing& o : s.send) {
      queued q{o.to, std::nullopt, o.bytes};
      if (o.to.reply) {
        q.ep = last_source;
      } else {
        auto it = resolved.find(key(o.to));
        if (it != resolved.end()) q.ep = it->second;
      }
      out.push_back(std::move(q));
    }
    if (!s.send.empty()) writer_signal.cancel();
    for (const sip::call_timer_arm& a : s.arm) {
      deadlines[static_cast<std::size_t>(a.id)] = now + a.after;
    }
    for (const sip::uac_event& e : s.events) events.push_back(e);
    poke();
  }

  static std::string key(const sip::destination& d) {
    return d.host + ":" + std::to_string(d.port == 0 ? default_sip_port : d.port);
  }

  void on_message(const sip::message& m) {
    if (!fsm || fsm->ended()) return;
    apply(fsm->on_message(m));
  }
  void on_transport_error(std::string_view reason = "transport error") {
    if (!fsm || fsm->ended()) return;
    apply(fsm->on_transport_error(reason));
  }
  // An error on the UDP socket. With IP_RECVERR the kernel reports the ICMP errors of what we
  // sent (port or host unreachable) on the next receive or send. While the INVITE waits for its
  // final response it can only have gone to the first hop: that hop cannot carry the call, and
  // the call ends at once rather than retransmitting until Timer B (RFC 3261 §17.1.1.2,
  // §8.1.3.1: a transport failure). Later ones (an ACK to an unreachable Contact) do not end a
  // call that is playing. The error queue is drained either way. True when it was such an error.
  bool on_udp_error(error_code ec) {
    if (ec != asio::error::connection_refused && ec != asio::error::host_unreachable &&
        ec != asio::error::network_unreachable) {
      return false;
    }
    drain_error_queue();
    if (fsm && !fsm->answered()) {
      on_transport_error("cannot reach " + first_hop_name + ": " + ec.message());
    }
    return true;
  }
  void drain_error_queue() {
    std::array<char, 512> data{};
    std::array<char, 512> control{};
    for (int i = 0; i < 64 && udp_sock.is_open(); ++i) {  // bounded: the queue is small anyway
      iovec iov{data.data(), data.size()};
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control.data();
      msg.msg_controllen = control.size();
      if (::recvmsg(udp_sock.native_handle(), &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) break;
    }
  }
  void close_sockets() {
    error_code ignored;
    udp_sock.close(ignored);
    tcp_sock.close(ignored);
    resolver.cancel();
  }
};

// What the call's loop learned, for the call's result (map_result).
struct call_progress {
  call_progress(clock_type::time_point now, const trunk_config& cfg)
      : started(now),
        max_call_at(now + cfg.max_call),
        // Past max_call the FSM has at most 64*T1 to finish (CANCEL / BYE); then we drop it.
        hard_stop_at(max_call_at + 64 * cfg.t1 + flush_timeout) {}

  clock_type::time_point started;
  clock_type::time_point max_call_at;
  clock_type::time_point hard_stop_at;
  bool ringing_reported = false;
  bool cancel_requested = false;
  bool hangup_sent = false;
  std::optional<call_event> local_failure;  // we ended an answered call for a local reason
  bool media_refused = false;               // the answer named a target media may not go to
  std::string cancel_reason;
  clock_type::time_point answered_at{};
  int answer_code = 0;  // the 2xx: the call's SIP outcome once answered
  std::optional<sip::uac_event> ended;
};

struct caller::impl {
  asio::any_io_executor ex;
  trunk_config cfg;
  bool stopped = false;
  std::list<call_ctx*> calls;

  asio::awaitable<void> reader(call_ctx& c);
  asio::awaitable<void> writer(call_ctx& c);
  asio::awaitable<void> player(call_ctx& c, play_params p, const call_request& req);
  asio::awaitable<call_result> run(call_request req);

  // Transport set-up: the next hop resolved, the SIP socket bound (and connected over TCP),
  // the RTP socket open. The reason it failed, empty when it did not.
  asio::awaitable<std::string> open_transport(call_ctx& c, const trunk_target& t,
                                              std::uint16_t& sip_port);
  asio::awaitable<std::string> resolve_first_hop(call_ctx& c, const trunk_target& t);
  asio::awaitable<std::string> connect_tcp(call_ctx& c, const asio::ip::address& local,
                                           std::uint16_t& sip_port);

  // The event loop: starts the helpers, feeds the state machine the time and what they
  // received, carries out its steps, until the call has ended. The exception that ended it
  // early, if one did.
  asio::awaitable<std::exception_ptr> drive(call_ctx& c, call_progress& g, const call_request& req,
                                            const media::offer_params& offer);
  asio::awaitable<void> event_loop(call_ctx& c, call_progress& g, const call_request& req,
                                   const media::offer_params& offer);
  void on_call_event(call_ctx& c, call_progress& g, const call_request& req,
                     const media::offer_params& offer, sip::uac_event e);
  void on_answered(call_ctx& c, call_progress& g, const call_request& req,
                   const media::offer_params& offer, const sip::uac_event& e);
  void start_player(call_ctx& c, const call_request& req, const media::negotiated_media& nm,
                    const udp::endpoint& remote);
  bool cancel_if_asked(call_ctx& c, call_progress& g, bool cancelled,
                       clock_type::time_point now) const;
  // The end: the last messages flushed (bounded), the sockets closed, the helpers joined.
  asio::awaitable<void> wind_down(call_ctx& c);
};

namespace {

call_result failed_result(std::string reason) {
  call_result r;
  r.final = {call_state::failed, 0, std::move(reason)};
  return r;
}

void report(const call_request& req, call_state s, int code, std::string reason) {
  if (!req.on_event) return;
  call_event e;
  e.state = s;
  e.sip_code = code;
  e.sip_reason = std::move(reason);
  req.on_event(e);
}

// Binds the UDP SIP socket; the reason it failed, or empty.
std::string bind_udp(call_ctx& c, const asio::ip::address& local, std::uint16_t& sip_port) {
  error_code ec;
  c.udp_sock.open(local.is_v6() ? udp::v6() : udp::v4(), ec);
  if (!ec) c.udp_sock.bind(udp::endpoint(local, 0), ec);
  if (ec) return "cannot bind SIP socket: " + ec.message();
  // ICMP errors reported on the unconnected socket too (ip(7) IP_RECVERR, ipv6(7)).
  const int on = 1;
  if (local.is_v6()) {
    ::setsockopt(c.udp_sock.native_handle(), IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof on);
  } else {
    ::setsockopt(c.udp_sock.native_handle(), IPPROTO_IP, IP_RECVERR, &on, sizeof on);
  }
  sip_port = c.udp_sock.local_endpoint(ec).port();
  return {};
}

// Once the prompt has ended (or failed): BYE. True when it was sent now.
bool hang_up_after_play(call_ctx& c, call_progress& g) {
  if (!c.play_done || g.hangup_sent || c.fsm->ended()) return false;
  g.hangup_sent = true;
  if (c.played.ec && c.played.ec != asio::error::operation_aborted) {
    g.local_failure =
        call_event{call_state::failed, g.answer_code, "RTP: " + c.played.ec.message()};
  }
  c.apply(c.fsm->hangup());
  return true;
}

// When the loop must look again: the next SIP timer, or max_call (the hard stop once cancelled).
clock_type::time_point next_wake(const call_ctx& c, const call_progress& g) {
  auto next = g.cancel_requested ? g.hard_stop_at : g.max_call_at;
  for (const auto& d : c.deadlines) {
    if (d) next = std::min(next, *d);
  }
  return next;
}

// After a bug: CANCEL or BYE queued for the writer to flush if it still can, so that the
// callee is not left ringing or in a silent call. Best effort: the bug is what call() reports.
void abandon(call_ctx& c) noexcept {
  try {
    if (c.playing) c.stream->stop();
    if (c.fsm && !c.fsm->ended()) c.apply(c.fsm->cancel());
  } catch (...) {  // NOLINT(bugprone-empty-catch): the first exception is the one rethrown
  }
}

call_event final_event(const call_progress& g, bool answered, bool read_in_full, bool stopped) {
  if (!g.ended) return {call_state::failed, 0, "call abandoned after max_call"};
  if (g.local_failure && !read_in_full) return *g.local_failure;
  call_event e;
  e.state = final_state(g.ended->end, answered, read_in_full);
  e.sip_code = g.ended->code;
  e.sip_reason = g.ended->reason;
  if (g.ended->end == sip::call_end::cancelled && !g.cancel_reason.empty()) {
    e.sip_reason = stopped ? "shutting down" : g.cancel_reason;
  }
  return e;
}

// The call's result from what its loop learned and what the player sent.
call_result map_result(const call_ctx& c, const call_progress& g, const call_request& req,
                       bool stopped) {
  call_result result;
  result.call_id = c.fsm->call_id();
  if (g.media_refused) result.error = "media_address_refused";
  const bool answered = g.answered_at != clock_type::time_point{};
  if (answered) {
    // Rounded up: an answer within the same millisecond still took time (and is counted in
    // the setup histogram, which skips calls never answered, setup 0).
    result.setup = std::chrono::ceil<std::chrono::milliseconds>(g.answered_at - g.started);
    result.talk =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - g.answered_at);
  }
  result.packets_sent = c.played.packets_sent;
  result.packets_late = c.played.packets_late;
  result.malformed = c.malformed;
  result.foreign = c.foreign;
  result.played = c.played.packets_sent * prompt_packet_time;
  result.read_in_full =
      answered && code_read_in_full(c.first_play_packets.value_or(0), req.code_end,
                                    req.audio ? req.audio->size() : 0);
  result.final = final_event(g, answered, result.read_in_full, stopped);
  return result;
}

}  // namespace

// Whether a UDP datagram comes from the trunk: its first hop or another next hop this call
// resolved (address and port both).
static bool from_trunk(const call_ctx& c, const udp::endpoint& from) {
  if (from == c.first_hop) return true;
  return std::any_of(c.resolved.begin(), c.resolved.end(),
                     [&](const auto& kv) { return kv.second == from; });
}

asio::awaitable<void> caller::impl::reader(call_ctx& c) {
  if (c.tcp) {
    sip::stream_framer framer;
    std::array<char, 8192> buf;
    for (;;) {
      auto [ec, n] = co_await c.tcp_sock.async_read_some(asio::buffer(buf), use_nothrow);
      if (ec) {
        c.on_transport_error();  // RFC 3261 §18.4: the connection is gone
        co_return;
      }
      framer.put(std::string_view(buf.data(), n));
      sip::message m;
      error_code fec;
      while (framer.next(m, fec)) c.on_message(m);
      if (fec) {
        ++c.malformed;
        c.on_transport_error("malformed SIP from the trunk");  // a stream cannot resynchronise
        co_return;
      }
    }
  }
  std::vector<char> buf(65536);
  for (;;) {
    udp::endpoint from;
    auto [ec, n] = co_await c.udp_sock.async_receive_from(asio::buffer(buf), from, use_nothrow);
    if (ec == asio::error::operation_aborted || !c.udp_sock.is_open()) co_return;
    if (ec) {
      c.on_udp_error(ec);  // anything else: the datagram is lost, Timer A/E retransmit
      continue;
    }
    if (!from_trunk(c, from)) {
      ++c.foreign;  // not from the trunk's next hop: a spoofed or stray datagram, dropped
      continue;
    }
    sip::message m;
    const std::string_view datagram(buf.data(), n);
    if (datagram.find_first_not_of("\r\n") == std::string_view::npos) continue;  // keep-alive
    if (sip::parse(datagram, m)) {
      ++c.malformed;  // not SIP: discarded, counted (the call's result reports it)
      continue;
    }
    if (m.is_request()) c.last_source = from;
    c.on_message(m);
  }
}

asio::awaitable<void> caller::impl::writer(call_ctx& c) {
  for (;;) {
    while (!c.out.empty()) {
      call_ctx::queued q = std::move(c.out.front());
      c.out.pop_front();
      error_code ec;
      if (c.tcp) {
        auto [wec, n] = co_await asio::async_write(c.tcp_sock, asio::buffer(q.bytes), use_nothrow);
        (void)n;
        ec = wec;
      } else {
        if (!q.ep) {
          const std::string k = call_ctx::key(q.to);
          if (auto it = c.resolved.find(k); it != c.resolved.end()) {
            q.ep = it->second;
          } else {
            const std::uint16_t port = q.to.port == 0 ? default_sip_port : q.to.port;
            auto [rec, results] = co_await c.resolver.async_resolve(
                udp::v4(), unbracket(q.to.host), std::to_string(port), use_nothrow);
            if (rec || results.empty()) {
              auto [rec6, results6] = co_await c.resolver.async_resolve(
                  unbracket(q.to.host), std::to_string(port), use_nothrow);
              rec = rec6;
              results = results6;
            }
            if (!rec && !results.empty()) {
              q.ep = results.begin()->endpoint();
              c.resolved[k] = *q.ep;
            } else {
              ec = rec ? rec : asio::error::host_not_found;
            }
          }
        }
        if (q.ep) {
          auto [sec, n] =
              co_await c.udp_sock.async_send_to(asio::buffer(q.bytes), *q.ep, use_nothrow);
          (void)n;
          ec = sec;
        }
      }
      if (ec) {
        if (!c.udp_sock.is_open() && !c.tcp_sock.is_open()) co_return;
        if (c.tcp || !c.on_udp_error(ec)) c.on_transport_error("transport error: " + ec.message());
      }
    }
    if (c.closing) co_return;
    c.writer_signal.expires_at(clock_type::time_point::max());
    co_await c.writer_signal.async_wait(use_nothrow);
  }
}

asio::awaitable<void> caller::impl::player(call_ctx& c, play_params p, const call_request& req) {
  int replays = 0;
  for (;;) {
    c.replay_requested = false;
    // Every play together stays under the call's ceiling, replays included.
    p.max_packets = c.packet_limit - std::min(c.packet_limit, c.played.packets_sent);
    play_result r = co_await c.stream->play(p);
    if (!c.first_play_packets) c.first_play_packets = r.packets_sent;
    c.played.packets_sent += r.packets_sent;
    c.played.packets_late += r.packets_late;
    c.played.packets_received += r.packets_received;
    c.played.ec = r.ec;
    if (r.ec || !c.replay_requested || replays >= req.max_replays) break;
    if (!c.fsm || c.fsm->current() != sip::uac_call_fsm::state::confirmed) break;
    ++replays;
  }
  co_return;
}

caller::caller(asio::any_io_executor ex, trunk_config cfg) : impl_(std::make_unique<impl>()) {
  impl_->ex = std::move(ex);
  impl_->cfg = std::move(cfg);
}

caller::~caller() = default;

void caller::stop() {
  impl_->stopped = true;
  for (call_ctx* c : impl_->calls) c->poke();
}

std::size_t caller::active_calls() const noexcept { return impl_->calls.size(); }

const trunk_config& caller::config() const noexcept { return impl_->cfg; }

asio::awaitable<call_result> caller::call(call_request req) { return impl_->run(std::move(req)); }

asio::awaitable<call_result> caller::impl::run(call_request req) {
  // Cancellation of the awaiting coroutine ends the call properly rather than abandoning it:
  // accept every kind, and keep awaiting after it.
  co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
  co_await asio::this_coro::throw_if_cancelled(false);
  if (stopped) co_return failed_result("shutting down");
  trunk_target t;
  if (std::string why = detail::parse_trunk(cfg, t); !why.empty()) co_return failed_result(why);

  call_ctx c(ex);
  c.tcp = t.tcp;
  calls.push_back(&c);
  struct unregister {
    std::list<call_ctx*>& l;
    call_ctx* p;
    ~unregister() { l.remove(p); }
  } unreg{calls, &c};
  call_progress g(clock_type::now(), cfg);

  std::uint16_t sip_port = 0;
  if (std::string why = co_await open_transport(c, t, sip_port); !why.empty()) {
    co_return failed_result(why);
  }
  c.packet_limit = media::rtp_packet_limit(cfg.max_call, prompt_packet_time);
  const media::offer_params offer = detail::media_offer(t.local, c.stream->local_port());
  c.fsm.emplace(detail::call_params(cfg, t, sip_port, req.to, media::build_offer(offer)));

  std::exception_ptr error = co_await drive(c, g, req, offer);
  co_await wind_down(c);
  // As smpp::session does: an exception is a bug, and it reaches the awaiting coroutine (the
  // dialer reports the attempt failed) rather than leaving a call that ended without a cause.
  if (!error) error = c.failure;
  if (error) std::rethrow_exception(error);
  co_return map_result(c, g, req, stopped);
}

asio::awaitable<std::string> caller::impl::open_transport(call_ctx& c, const trunk_target& t,
                                                          std::uint16_t& sip_port) {
  std::string why = co_await resolve_first_hop(c, t);
  if (!why.empty()) co_return why;
  if (c.tcp) {
    why = co_await connect_tcp(c, t.local, sip_port);
  } else {
    why = bind_udp(c, t.local, sip_port);
  }
  if (!why.empty()) co_return why;
  if (auto oec = rtp_stream::open(ex, udp::endpoint(t.local, 0), c.stream)) {
    co_return "cannot open RTP socket: " + oec.message();
  }
  co_return std::string();
}

asio::awaitable<std::string> caller::impl::resolve_first_hop(call_ctx& c, const trunk_target& t) {
  const std::string hop_host = unbracket(t.hop.host);
  auto [rec, results] = co_await c.resolver.async_resolve(
      t.local.is_v6() ? udp::v6() : udp::v4(), hop_host, std::to_string(t.hop_port), use_nothrow);
  if (rec || results.empty()) co_return "cannot resolve " + hop_host;
  c.first_hop = results.begin()->endpoint();
  c.media_allowed = media_allow_list_for(cfg, results, c.first_hop.address());
  c.resolved[t.hop_name] = c.first_hop;
  c.first_hop_name = t.hop_name;
  co_return std::string();
}

asio::awaitable<std::string> caller::impl::connect_tcp(call_ctx& c, const asio::ip::address& local,
                                                       std::uint16_t& sip_port) {
  error_code ec;
  c.tcp_sock.open(local.is_v6() ? tcp::v6() : tcp::v4(), ec);
  if (!ec) c.tcp_sock.bind(tcp::endpoint(local, 0), ec);
  if (ec) co_return "cannot bind SIP socket: " + ec.message();
  // The connect is bounded like an INVITE without response (Timer B).
  c.wake.expires_after(std::min<clock_type::duration>(64 * cfg.t1, cfg.max_call));
  c.wake.async_wait([&c](error_code wec) {
    if (!wec) {
      error_code ignored;
      c.tcp_sock.close(ignored);
    }
  });
  auto [cec] = co_await c.tcp_sock.async_connect(
      tcp::endpoint(c.first_hop.address(), c.first_hop.port()), use_nothrow);
  c.wake.cancel();
  if (cec || !c.tcp_sock.is_open()) {
    co_return "cannot connect to " + c.first_hop_name + ": " +
        (cec ? cec.message() : std::string("timeout"));
  }
  c.tcp_sock.set_option(tcp::no_delay(true), ec);
  sip_port = c.tcp_sock.local_endpoint(ec).port();
  co_return std::string();
}

asio::awaitable<std::exception_ptr> caller::impl::drive(call_ctx& c, call_progress& g,
                                                        const call_request& req,
                                                        const media::offer_params& offer) {
  std::exception_ptr error;
  try {
    // Counted once spawned: wind_down() waits for exactly those.
    asio::co_spawn(ex, reader(c), [&c](std::exception_ptr e) { c.helper_finished(e); });
    ++c.running;
    asio::co_spawn(ex, writer(c), [&c](std::exception_ptr e) { c.helper_finished(e); });
    ++c.running;
    c.apply(c.fsm->start());
    report(req, call_state::trying, 0, {});
    co_await event_loop(c, g, req, offer);
  } catch (...) {
    error = std::current_exception();
  }
  if (error || c.failure) abandon(c);
  co_return error;
}

asio::awaitable<void> caller::impl::event_loop(call_ctx& c, call_progress& g,
                                               const call_request& req,
                                               const media::offer_params& offer) {
  for (;;) {
    const auto now = clock_type::now();
    c.fire_due_timers(now);
    while (!c.events.empty()) {
      sip::uac_event e = std::move(c.events.front());
      c.events.erase(c.events.begin());
      on_call_event(c, g, req, offer, std::move(e));
    }
    if (g.ended && !c.playing) break;
    if (c.failure) break;  // a helper ended on a bug: drive() abandons the call

    const asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
    if (cancel_if_asked(c, g, cs.cancelled() != asio::cancellation_type::none, now)) continue;
    if (hang_up_after_play(c, g)) continue;
    if (now >= g.hard_stop_at) {
      if (c.playing) c.stream->stop();
      if (!c.playing) break;
    }
    if (!c.events.empty()) continue;
    c.wake.expires_at(next_wake(c, g));
    co_await c.wake.async_wait(use_nothrow);
  }
}

void caller::impl::on_call_event(call_ctx& c, call_progress& g, const call_request& req,
                                 const media::offer_params& offer, sip::uac_event e) {
  switch (e.what) {
    case sip::uac_event::kind::ringing:
      if (!g.ringing_reported) report(req, call_state::ringing, e.code, e.reason);
      g.ringing_reported = true;
      break;
    case sip::uac_event::kind::answered:
      on_answered(c, g, req, offer, e);
      break;
    case sip::uac_event::kind::ended:
      g.ended = std::move(e);
      if (c.playing) c.stream->stop();  // the callee hung up mid-prompt, or we cancelled
      break;
  }
}

void caller::impl::on_answered(call_ctx& c, call_progress& g, const call_request& req,
                               const media::offer_params& offer, const sip::uac_event& e) {
  g.answered_at = clock_type::now();
  g.answer_code = e.code;
  report(req, call_state::answered, e.code, e.reason);
  media::negotiated_media nm;
  error_code nec = media::negotiate(offer, e.sdp, nm);
  udp::endpoint remote;
  std::string refused;
  if (!nec) {
    refused = media_refusal_reason(nm, c.media_allowed);
    if (refused.empty()) {
      remote = udp::endpoint(asio::ip::make_address(nm.remote.address, nec), nm.remote_port);
    }
  }
  if (nec || !refused.empty() || !req.audio || req.audio->empty()) {
    // No RTP at all: the dialog exists, so it is ended with BYE (RFC 3261 §15).
    g.media_refused = !nec && !refused.empty();
    g.local_failure = call_event{call_state::failed, e.code,
                                 nec               ? "SDP answer: " + nec.message()
                                 : g.media_refused ? refused
                                                   : "no audio"};
    g.hangup_sent = true;
    c.apply(c.fsm->hangup());
    return;
  }
  start_player(c, req, nm, remote);
}

void caller::impl::start_player(call_ctx& c, const call_request& req,
                                const media::negotiated_media& nm, const udp::endpoint& remote) {
  play_params pp;
  pp.remote = remote;
  pp.codec = nm.send_codec;
  pp.telephone_event = nm.telephone_event;
  pp.audio = req.audio;
  if (req.replay_key != '\0') {
    pp.on_key = [&c, key = req.replay_key](char k) {
      if (k == key) c.replay_requested = true;
    };
  }
  asio::co_spawn(ex, player(c, std::move(pp), req), [&c](std::exception_ptr e) {
    c.playing = false;
    c.play_done = true;
    c.helper_finished(e);
  });
  c.playing = true;
  ++c.running;
}

// Cancelled by the awaiting coroutine, by stop() or by max_call: CANCEL or BYE. True when the
// call was cancelled now.
bool caller::impl::cancel_if_asked(call_ctx& c, call_progress& g, bool cancelled,
                                   clock_type::time_point now) const {
  if (g.cancel_requested || c.fsm->ended()) return false;
  if (!cancelled && !stopped && now < g.max_call_at) return false;
  g.cancel_requested = true;
  g.cancel_reason = now >= g.max_call_at ? "max call duration" : "cancelled";
  if (c.playing) c.stream->stop();
  c.apply(c.fsm->cancel());
  return true;
}

asio::awaitable<void> caller::impl::wind_down(call_ctx& c) {
  c.closing = true;
  c.writer_signal.cancel();
  const auto flush_until = clock_type::now() + flush_timeout;
  while (!c.out.empty() && clock_type::now() < flush_until) {
    c.wake.expires_at(std::min(flush_until, clock_type::now() + std::chrono::milliseconds(10)));
    co_await c.wake.async_wait(use_nothrow);
  }
  c.close_sockets();
  c.writer_signal.cancel();
  if (c.playing) c.stream->stop();
  while (c.running > 0) {
    c.wake.expires_at(clock_type::time_point::max());
    co_await c.wake.async_wait(use_nothrow);
  }
  c.stream->stop();
}

}  // namespace otpd::voice
