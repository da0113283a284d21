// One call's media: a UDP socket for RTP (symmetric: what the callee sends comes to the port we
// offered and we send from it), the prompt sent as G.711 in 20 ms packets paced on the steady
// clock from the stream's start (media::pacer: no drift), what comes back drained, RFC 4733 key
// presses reported. Many streams share one executor: each is one coroutine and one timer.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/system/error_code.hpp>

#include "voice/media/sdp.hpp"

namespace otpd::voice {

struct play_params {
  boost::asio::ip::udp::endpoint remote;        // from the SDP answer
  media::codec codec;                           // the answer's first common codec
  std::optional<std::uint8_t> telephone_event;  // the answer's telephone-event type, if any
  // 8 kHz linear samples. Shared so that a thousand calls reading the same prompt hold it once.
  std::shared_ptr<const std::vector<std::int16_t>> audio;
  // Called (on the stream's executor) for each RFC 4733 key press received.
  std::function<void(char key)> on_key;
  // Optional observer of the pacing, for benchmarks and tests: called (on the stream's
  // executor) right after each packet is handed to the socket, with its index in the stream,
  // its due time (start + index * 20 ms) and the clock reading just before the send.
  std::function<void(std::uint64_t index, std::chrono::steady_clock::time_point due,
                     std::chrono::steady_clock::time_point sent)>
      on_sent;
  // How packets reach the socket. false (the default): a non-blocking send_to, falling back to
  // async_send_to only when the socket buffer is full; true: always async_send_to (for
  // benchmarking the two).
  bool async_send = false;
  // At most this many packets leave in this play; past it the play ends with
  // media::errc::packet_limit. The caller sets it from the call's maximum duration
  // (media::rtp_packet_limit) so that nothing can make a call an open-ended RTP source.
  std::uint64_t max_packets = std::numeric_limits<std::uint64_t>::max();
};

struct play_result {
  // operation_aborted when stop() ended it early (or came before); invalid_argument without
  // audio or remote port; media::errc::no_common_codec for a codec other than PCMU and PCMA;
  // media::errc::packet_limit when max_packets were sent before the audio's end (or it is 0);
  // otherwise the error of a send that failed (the play ends there).
  boost::system::error_code ec;
  std::uint64_t packets_sent = 0;
  std::uint64_t packets_late = 0;       // sent more than a packet interval after their due time
  std::uint64_t packets_received = 0;   // datagrams received from anyone during the play
  std::uint64_t datagrams_ignored = 0;  // of them: not RTP, or a malformed telephone-event
  std::chrono::nanoseconds max_lateness{0};
};

class rtp_stream {
 public:
  // Binds a UDP socket on `local` (port 0: any free port).
  static boost::system::error_code open(boost::asio::any_io_executor ex,
                                        const boost::asio::ip::udp::endpoint& local,
                                        std::unique_ptr<rtp_stream>& out);
  virtual ~rtp_stream() = default;

  virtual std::uint16_t local_port() const = 0;
  // Sends `p.audio` once (the caller composes the repeats into it) and completes after the
  // last packet. Received packets are drained meanwhile and key presses reported.
  virtual boost::asio::awaitable<play_result> play(play_params p) = 0;
  // Ends a play() under way (it completes with operation_aborted) and closes the socket.
  // Call it on the stream's executor. Destroy the stream only once no play() is pending.
  virtual void stop() = 0;
};

}  // namespace otpd::voice
