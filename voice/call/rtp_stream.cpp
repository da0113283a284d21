#include "voice/call/rtp_stream.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <system_error>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "voice/media/dtmf.hpp"
#include "voice/media/error.hpp"
#include "voice/media/g711.hpp"
#include "voice/media/pacer.hpp"
#include "voice/media/rtp.hpp"
#include "voice/media/rtp_sender.hpp"

namespace otpd::voice {
namespace asio = boost::asio;
using asio::ip::udp;
using boost::system::error_code;

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
using steady = std::chrono::steady_clock;

constexpr std::chrono::milliseconds ptime{20};
constexpr std::size_t samples_per_packet = 160;  // RFC 3551 §4.5.14: 8000 Hz * 20 ms
constexpr std::uint8_t pt_pcmu = 0;              // RFC 3551 §6 Table 4
constexpr std::uint8_t pt_pcma = 8;
// Larger than any RTP packet a phone sends us; a longer datagram is truncated and ignored.
constexpr std::size_t max_datagram = 1500;

// Errors after which a send is dropped and the stream goes on: the kernel had no buffer, or an
// ICMP error from an earlier packet surfaced (RFC 3550 §5: RTP over UDP is best effort).
bool transient_send_error(const error_code& ec) {
  return ec == asio::error::no_buffer_space || ec == asio::error::connection_refused;
}

class rtp_stream_impl final : public rtp_stream {
 public:
  explicit rtp_stream_impl(asio::any_io_executor ex) : socket_(ex), timer_(ex), park_(ex) {}

  error_code open(const udp::endpoint& local) {
    error_code ec;
    socket_.open(local.protocol(), ec);
    if (!ec) socket_.bind(local, ec);
    // send_to() then returns would_block instead of waiting: the coroutine awaits instead.
    if (!ec) socket_.non_blocking(true, ec);
    if (!ec) port_ = socket_.local_endpoint(ec).port();
    if (ec) {
      error_code ignored;
      socket_.close(ignored);
    }
    return ec;
  }

  std::uint16_t local_port() const override { return port_; }

  asio::awaitable<play_result> play(play_params p) override;

  void stop() override {
    stopped_ = true;
    timer_.cancel();
    park_.cancel();
    error_code ignored;
    socket_.close(ignored);  // the pending receive (and send, if any) end with operation_aborted
  }

 private:
  asio::awaitable<void> send_loop(const play_params& p, media::rtp_start start, play_result& r);
  asio::awaitable<void> receive_loop(const play_params& p, play_result& r);
  void on_datagram(std::size_t size, const play_params& p, media::dtmf_receiver& dtmf,
                   play_result& r);

  udp::socket socket_;
  asio::steady_timer timer_;  // the send schedule: one wait per packet
  asio::steady_timer park_;   // holds the receive loop after a socket error it cannot clear
  std::uint16_t port_ = 0;
  bool stopped_ = false;
  bool playing_ = false;
  // Reused by every packet of every play: no allocation per packet.
  std::array<std::uint8_t, samples_per_packet> payload_{};
  std::array<std::uint8_t, media::rtp_fixed_header_size + samples_per_packet> packet_{};
  std::array<std::uint8_t, max_datagram> inbound_{};
  udp::endpoint from_;
};

asio::awaitable<play_result> rtp_stream_impl::play(play_params p) {
  play_result r;
  if (stopped_ || !socket_.is_open()) {
    r.ec = asio::error::operation_aborted;
    co_return r;
  }
  if (playing_) {
    r.ec = asio::error::already_started;
    co_return r;
  }
  if (!p.audio || p.remote.port() == 0) {
    r.ec = boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
    co_return r;
  }
  if (p.codec.payload_type != pt_pcmu && p.codec.payload_type != pt_pcma) {
    r.ec = media::errc::no_common_codec;
    co_return r;
  }
  if (p.max_packets == 0) {
    r.ec = media::errc::packet_limit;
    co_return r;
  }
  media::rtp_start start;
  try {
    start = media::random_rtp_start();  // RFC 3550 §5.1, §8.1: random, from the OS CSPRNG
  } catch (const std::system_error& e) {
    r.ec = error_code(e.code());
    co_return r;
  }

  playing_ = true;
  // The receive loop only ends when cancelled (or the socket is closed by stop()): the play
  // ends with the send loop, and `||` then cancels the pending receive.
  using namespace asio::experimental::awaitable_operators;
  co_await (send_loop(p, start, r) || receive_loop(p, r));
  playing_ = false;
  co_return r;
}

asio::awaitable<void> rtp_stream_impl::send_loop(const play_params& p, media::rtp_start start,
                                                 play_result& r) {
  co_await asio::this_coro::throw_if_cancelled(false);
  const std::vector<std::int16_t>& audio = *p.audio;
  const std::uint64_t whole = (audio.size() + samples_per_packet - 1) / samples_per_packet;
  const std::uint64_t total = std::min(whole, p.max_packets);
  const bool ulaw = p.codec.payload_type == pt_pcmu;

  media::rtp_sender_config sc;
  sc.payload_type = p.codec.payload_type;
  sc.ptime = ptime;
  sc.start = start;
  media::rtp_sender sender(sc);  // marks the first packet (RFC 3551 §4.1)
  media::pacer_config pc;
  pc.interval = ptime;
  pc.policy = media::late_policy::send_late;  // a prompt never drops digits: late is sent
  media::pacer pacer(pc);
  pacer.start(steady::now());

  while (pacer.next_index() < total) {
    if (pacer.next_due() > steady::now()) {
      timer_.expires_at(pacer.next_due());
      auto [ec] = co_await timer_.async_wait(use_nothrow);
      if (ec || stopped_) {
        r.ec = asio::error::operation_aborted;
        co_return;
      }
    }
    const media::pacer::action a = pacer.poll(steady::now());
    const std::uint64_t end = std::min(a.first + a.send, total);
    for (std::uint64_t n = a.first; n < end; ++n) {
      // Packet n carries samples [160 n, 160 n + 160); the last one is padded with silence.
      const std::size_t first = static_cast<std::size_t>(n) * samples_per_packet;
      const std::size_t count = std::min(samples_per_packet, audio.size() - first);
      const std::span<const std::int16_t> in(audio.data() + first, count);
      if (ulaw) {
        media::encode_ulaw(in, payload_);
      } else {
        media::encode_alaw(in, payload_);
      }
      std::fill(payload_.begin() + static_cast<std::ptrdiff_t>(count), payload_.end(),
                ulaw ? media::ulaw_silence : media::alaw_silence);
      std::size_t size = 0;
      // Cannot fail: packet_ holds a fixed header and 160 bytes of payload.
      (void)sender.packet(payload_, packet_, size);

      const auto due = pacer.due(n);
      const auto sent_at = steady::now();
      const auto buffer = asio::buffer(packet_.data(), size);
      error_code ec;
      if (!p.async_send) socket_.send_to(buffer, p.remote, 0, ec);
      if (p.async_send || ec == asio::error::would_block || ec == asio::error::try_again) {
        std::tie(ec, std::ignore) = co_await socket_.async_send_to(buffer, p.remote, use_nothrow);
      }
      if (stopped_) {
        r.ec = asio::error::operation_aborted;
        co_return;
      }
      if (ec && !transient_send_error(ec)) {
        r.ec = ec;
        co_return;
      }
      if (!ec) ++r.packets_sent;
      const auto lateness = std::chrono::duration_cast<std::chrono::nanoseconds>(sent_at - due);
      if (lateness > ptime) ++r.packets_late;
      r.max_lateness = std::max(r.max_lateness, lateness);
      if (p.on_sent) p.on_sent(n, due, sent_at);
    }
  }
  if (total < whole) r.ec = media::errc::packet_limit;
}

asio::awaitable<void> rtp_stream_impl::receive_loop(const play_params& p, play_result& r) {
  co_await asio::this_coro::throw_if_cancelled(false);
  media::dtmf_receiver dtmf;
  for (;;) {
    auto [ec, size] =
        co_await socket_.async_receive_from(asio::buffer(inbound_), from_, use_nothrow);
    if (ec == asio::error::operation_aborted || stopped_) co_return;
    if (ec == asio::error::connection_refused) continue;  // an ICMP error, reported once
    if (ec) {
      // Unexpected and possibly permanent: do not spin on it, and do not end the play either
      // (the prompt still goes out). Wait here until the play ends and cancels this wait.
      park_.expires_at(steady::time_point::max());
      co_await park_.async_wait(use_nothrow);
      co_return;
    }
    on_datagram(size, p, dtmf, r);
  }
}

void rtp_stream_impl::on_datagram(std::size_t size, const play_params& p,
                                  media::dtmf_receiver& dtmf, play_result& r) {
  ++r.packets_received;
  // Symmetric RTP: the peer's audio arrives here and is dropped unread; nothing in it changes
  // where we send. Only RFC 4733 events of the negotiated payload type are decoded.
  media::rtp_packet packet;
  if (media::parse(std::span<const std::uint8_t>(inbound_.data(), size), packet)) {
    ++r.datagrams_ignored;
    return;
  }
  if (!p.telephone_event || packet.header.payload_type != *p.telephone_event) return;
  error_code ec;
  const auto digit =
      dtmf.on_packet(packet.header.timestamp, packet.header.marker, packet.payload, ec);
  if (ec) {
    ++r.datagrams_ignored;
    return;
  }
  if (digit && digit->symbol != '\0' && p.on_key) p.on_key(digit->symbol);
}

}  // namespace

error_code rtp_stream::open(asio::any_io_executor ex, const udp::endpoint& local,
                            std::unique_ptr<rtp_stream>& out) {
  auto stream = std::make_unique<rtp_stream_impl>(std::move(ex));
  if (error_code ec = stream->open(local)) return ec;
  out = std::move(stream);
  return {};
}

}  // namespace otpd::voice
