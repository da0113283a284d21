// rtp_stream against a real UDP peer on 127.0.0.1 (port 0 on both sides): what it sends is
// decoded back and compared with the prompt, the RTP header fields and the pacing are checked,
// and RFC 4733 events, garbage and stop() are sent at it while it plays. Every wait is bounded
// by io_context::run_for; nothing sleeps to synchronise.
#include "voice/call/rtp_stream.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "voice/media/dtmf.hpp"
#include "voice/media/g711.hpp"
#include "voice/media/rtp.hpp"
#include "voice/media/sdp.hpp"

namespace otpd::voice {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;
using boost::system::error_code;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t spp = 160;  // samples per 20 ms packet at 8 kHz

// Speech-like test audio: three tones under a slow envelope, below G.711's clipping level.
std::shared_ptr<const std::vector<std::int16_t>> make_audio(std::size_t samples) {
  auto v = std::make_shared<std::vector<std::int16_t>>(samples);
  for (std::size_t i = 0; i < samples; ++i) {
    const double t = static_cast<double>(i) / 8000.0;
    const double env = 0.55 + 0.45 * std::sin(2 * std::numbers::pi * 1.3 * t);
    const double x = 0.5 * std::sin(2 * std::numbers::pi * 310 * t) +
                     0.3 * std::sin(2 * std::numbers::pi * 1020 * t) +
                     0.2 * std::sin(2 * std::numbers::pi * 2730 * t);
    (*v)[i] = static_cast<std::int16_t>(std::lround(26000.0 * env * x));
  }
  return v;
}

struct arrival {
  std::vector<std::uint8_t> bytes;
  steady::time_point at;
};

std::vector<std::uint8_t> rtp_bytes(std::uint8_t pt, bool marker, std::uint16_t seq,
                                    std::uint32_t ts, std::span<const std::uint8_t> payload) {
  media::rtp_packet p;
  p.header.payload_type = pt;
  p.header.marker = marker;
  p.header.sequence = seq;
  p.header.timestamp = ts;
  p.header.ssrc = 0x11223344;
  p.payload = payload;
  std::vector<std::uint8_t> out(media::encoded_size(p));
  std::size_t written = 0;
  EXPECT_FALSE(media::encode(p, out, written));
  out.resize(written);
  return out;
}

// One key press as a phone sends it (RFC 4733 §2.5.1): marker on the first packet, the same
// timestamp throughout, growing duration, three end packets.
std::vector<std::vector<std::uint8_t>> key_press(std::uint8_t event, std::uint8_t pt,
                                                 std::uint16_t seq, std::uint32_t ts) {
  std::vector<std::vector<std::uint8_t>> out;
  for (int i = 0; i < 6; ++i) {
    media::telephone_event e;
    e.event = event;
    e.volume = 10;
    e.end = i >= 3;
    e.duration = static_cast<std::uint16_t>(160 * (std::min(i, 3) + 1));
    std::array<std::uint8_t, media::telephone_event_size> payload{};
    EXPECT_FALSE(media::encode(e, payload));
    out.push_back(rtp_bytes(pt, i == 0, static_cast<std::uint16_t>(seq + i), ts, payload));
  }
  return out;
}

class rtp_stream_test : public ::testing::Test {
 protected:
  void SetUp() override {
    const udp::endpoint any(asio::ip::address_v4::loopback(), 0);
    ASSERT_FALSE(rtp_stream::open(io_.get_executor(), any, stream_));
    ASSERT_NE(stream_->local_port(), 0);
    sink_.open(udp::v4());
    sink_.bind(any);
    phone_.open(udp::v4());
    phone_.bind(any);
  }

  play_params params(const media::codec& c, std::shared_ptr<const std::vector<std::int16_t>> a) {
    play_params p;
    p.remote = sink_.local_endpoint();
    p.codec = c;
    p.audio = std::move(a);
    p.on_key = [this](char k) { keys_ += k; };
    return p;
  }

  udp::endpoint stream_endpoint() const {
    return {asio::ip::address_v4::loopback(), stream_->local_port()};
  }

  void send_to_stream(std::span<const std::uint8_t> bytes) {
    phone_.send_to(asio::buffer(bytes.data(), bytes.size()), stream_endpoint());
  }

  // Plays and collects what arrives at the sink until the play has completed and the sink has
  // every packet it reports sent, or the deadline passes. on_arrival runs for each packet.
  void run(play_params p, std::chrono::milliseconds deadline) {
    asio::co_spawn(io_, sink_loop(), asio::detached);
    asio::co_spawn(io_, stream_->play(std::move(p)), [this](std::exception_ptr e, play_result r) {
      ASSERT_FALSE(e);
      result_ = r;
      done_ = true;
      done_at_ = steady::now();
      if (arrivals_.size() >= r.packets_sent) sink_.cancel();
    });
    io_.run_for(deadline);
    ASSERT_TRUE(done_) << "play() did not complete within the deadline";
    ASSERT_EQ(arrivals_.size(), result_.packets_sent);
  }

  asio::awaitable<void> sink_loop() {
    std::array<std::uint8_t, 2048> buf{};
    udp::endpoint from;
    for (;;) {
      auto [ec, n] = co_await sink_.async_receive_from(asio::buffer(buf), from, use_nothrow);
      if (ec) co_return;
      arrivals_.push_back(
          {{buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)}, steady::now()});
      if (on_arrival_) on_arrival_(arrivals_.size() - 1);
      if (done_ && arrivals_.size() >= result_.packets_sent) co_return;
    }
  }

  // Checks the headers and returns the decoded audio.
  std::vector<std::int16_t> check_and_decode(std::uint8_t pt) {
    std::vector<std::int16_t> out;
    media::rtp_packet first;
    for (std::size_t i = 0; i < arrivals_.size(); ++i) {
      media::rtp_packet p;
      EXPECT_FALSE(media::parse(arrivals_[i].bytes, p)) << "packet " << i;
      if (i == 0) first = p;
      EXPECT_EQ(p.header.payload_type, pt);
      EXPECT_EQ(p.header.marker, i == 0) << "packet " << i;  // RFC 3551 §4.1
      EXPECT_EQ(p.header.ssrc, first.header.ssrc);
      EXPECT_EQ(p.header.sequence, static_cast<std::uint16_t>(first.header.sequence + i));
      EXPECT_EQ(p.header.timestamp, static_cast<std::uint32_t>(first.header.timestamp + i * spp));
      EXPECT_EQ(p.header.csrc_count, 0);
      EXPECT_FALSE(p.header.extension);
      EXPECT_EQ(p.padding, 0);
      EXPECT_EQ(p.payload.size(), spp);
      const std::size_t at = out.size();
      out.resize(at + p.payload.size());
      std::span<std::int16_t> dst(out.data() + at, p.payload.size());
      if (pt == 0) {
        media::decode_ulaw(p.payload, dst);
      } else {
        media::decode_alaw(p.payload, dst);
      }
    }
    return out;
  }

  // Decoded audio against the input: exactly G.711's reconstruction of each sample, an SNR
  // typical of G.711, and silence after the end of the prompt in the last packet.
  static void expect_same_audio(const std::vector<std::int16_t>& in,
                                const std::vector<std::int16_t>& decoded, std::uint8_t pt) {
    ASSERT_EQ(decoded.size(), (in.size() + spp - 1) / spp * spp);
    double signal = 0, noise = 0;
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < in.size(); ++i) {
      const std::int16_t ref = pt == 0 ? media::decode_ulaw(media::encode_ulaw(in[i]))
                                       : media::decode_alaw(media::encode_alaw(in[i]));
      if (decoded[i] != ref) ++mismatches;
      const double x = in[i];
      const double e = decoded[i] - x;
      signal += x * x;
      noise += e * e;
    }
    EXPECT_EQ(mismatches, 0u);
    EXPECT_GT(10 * std::log10(signal / noise), 30.0);  // G.711: about 38 dB on such a signal
    const std::int16_t silence =
        pt == 0 ? media::decode_ulaw(media::ulaw_silence) : media::decode_alaw(media::alaw_silence);
    for (std::size_t i = in.size(); i < decoded.size(); ++i) EXPECT_EQ(decoded[i], silence);
  }

  // Pacing at the receiver against the 20 ms schedule. The machine is shared with compile
  // jobs: single intervals may be late by several ms, so what is asserted is what a drifting
  // or mis-paced sender would fail: the mean interval, the median deviation, and where the
  // last packets land against the first.
  void expect_paced(std::size_t n) {
    ASSERT_GE(arrivals_.size(), n);
    const auto span = arrivals_[n - 1].at - arrivals_[0].at;
    const auto mean = span / static_cast<std::int64_t>(n - 1);
    EXPECT_GT(mean, 19500us);
    EXPECT_LT(mean, 20500us);
    std::vector<std::chrono::nanoseconds> dev;
    for (std::size_t i = 1; i < n; ++i) {
      const auto d = arrivals_[i].at - arrivals_[i - 1].at - 20ms;
      dev.push_back(std::chrono::abs(std::chrono::duration_cast<std::chrono::nanoseconds>(d)));
    }
    std::sort(dev.begin(), dev.end());
    const auto p50 = dev[dev.size() / 2];
    const auto p99 = dev[dev.size() * 99 / 100];
    RecordProperty("interval_dev_p50_us", std::to_string(p50.count() / 1000));
    RecordProperty("interval_dev_p99_us", std::to_string(p99.count() / 1000));
    EXPECT_LT(p50, 2ms);
    // Drift: the least-late of the last ten packets against the schedule of the least-late of
    // the first ten (a spike makes one packet late, the first one too; it never makes one
    // early); a drifting clock makes the last ones all late (or early).
    const auto offset = [&](std::size_t i) {
      return std::chrono::duration_cast<std::chrono::nanoseconds>(
          arrivals_[i].at - arrivals_[0].at - 20ms * static_cast<std::int64_t>(i));
    };
    std::chrono::nanoseconds origin = std::chrono::nanoseconds::max();
    for (std::size_t i = 0; i < 10; ++i) origin = std::min(origin, offset(i));
    std::chrono::nanoseconds least = std::chrono::nanoseconds::max();
    for (std::size_t i = n - 10; i < n; ++i) least = std::min(least, offset(i) - origin);
    EXPECT_GT(least, -1ms);  // never ahead of the schedule
    EXPECT_LT(least, 20ms);
  }

  void play_and_check(const media::codec& c, std::size_t samples) {
    auto audio = make_audio(samples);
    auto p = params(c, audio);
    std::vector<steady::time_point> due;
    p.on_sent = [&due](std::uint64_t n, steady::time_point d, steady::time_point sent) {
      EXPECT_EQ(n, due.size());
      EXPECT_GE(sent, d);  // never sent before its time
      due.push_back(d);
    };
    const auto start = steady::now();
    run(std::move(p), 10s);
    const std::size_t packets = (samples + spp - 1) / spp;
    EXPECT_FALSE(result_.ec) << result_.ec.message();
    EXPECT_EQ(result_.packets_sent, packets);
    EXPECT_EQ(result_.packets_received, 0u);
    EXPECT_EQ(result_.datagrams_ignored, 0u);
    // The schedule itself: packet n due exactly n * 20 ms after packet 0 (no drift).
    ASSERT_EQ(due.size(), packets);
    for (std::size_t i = 0; i < due.size(); ++i) {
      EXPECT_EQ(due[i] - due[0], 20ms * static_cast<std::int64_t>(i));
    }
    // The play lasts the audio's length: the last packet is due (packets - 1) * 20 ms in.
    EXPECT_GE(done_at_ - start, 20ms * static_cast<std::int64_t>(packets - 1));
    expect_same_audio(*audio, check_and_decode(c.payload_type), c.payload_type);
    expect_paced(std::min<std::size_t>(packets, 100));
  }

  asio::io_context io_;
  udp::socket sink_{io_};
  udp::socket phone_{io_};
  std::unique_ptr<rtp_stream> stream_;
  std::vector<arrival> arrivals_;
  std::function<void(std::size_t)> on_arrival_;
  play_result result_;
  bool done_ = false;
  steady::time_point done_at_;
  std::string keys_;
};

TEST_F(rtp_stream_test, plays_pcmu_paced_and_intact) { play_and_check(media::pcmu(), 16000); }

TEST_F(rtp_stream_test, plays_pcma_and_pads_the_last_packet_with_silence) {
  play_and_check(media::pcma(), 16000 - 80);  // 2 s less half a packet: 100 packets
}

TEST_F(rtp_stream_test, reports_telephone_events_once_per_press) {
  auto p = params(media::pcmu(), make_audio(8000));  // 1 s
  p.telephone_event = 101;
  on_arrival_ = [this](std::size_t i) {
    if (i != 0) return;
    for (const auto& b : key_press(5, 101, 1000, 50000)) send_to_stream(b);
    // The peer's own audio: received and dropped.
    const std::array<std::uint8_t, spp> audio{};
    send_to_stream(rtp_bytes(0, false, 1006, 50160, audio));
    for (const auto& b : key_press(11, 101, 1007, 51600)) send_to_stream(b);  // '#'
  };
  run(std::move(p), 5s);
  EXPECT_FALSE(result_.ec) << result_.ec.message();
  EXPECT_EQ(keys_, "5#");
  EXPECT_EQ(result_.packets_received, 13u);
  EXPECT_EQ(result_.datagrams_ignored, 0u);
  EXPECT_EQ(result_.packets_sent, 50u);
}

TEST_F(rtp_stream_test, ignores_events_of_another_payload_type) {
  auto p = params(media::pcmu(), make_audio(4000));
  p.telephone_event = 96;
  on_arrival_ = [this](std::size_t i) {
    if (i == 0) {
      for (const auto& b : key_press(5, 101, 1, 160)) send_to_stream(b);
    }
  };
  run(std::move(p), 5s);
  EXPECT_FALSE(result_.ec);
  EXPECT_EQ(keys_, "");
  EXPECT_EQ(result_.packets_received, 6u);
}

TEST_F(rtp_stream_test, ignores_and_counts_garbage) {
  auto p = params(media::pcma(), make_audio(8000));
  p.telephone_event = 101;
  on_arrival_ = [this](std::size_t i) {
    if (i != 0) return;
    send_to_stream({});                                            // empty datagram
    send_to_stream(std::vector<std::uint8_t>{0x80, 0x00, 0x01});   // short of a header
    std::vector<std::uint8_t> v1 = rtp_bytes(0, false, 1, 1, {});  // version 1
    v1[0] = static_cast<std::uint8_t>((v1[0] & 0x3f) | 0x40);
    send_to_stream(v1);
    std::vector<std::uint8_t> pad = rtp_bytes(0, false, 2, 2, {});  // P set, count 9 > what is
    pad[0] |= 0x20;                                                 // after the header
    pad.push_back(9);
    send_to_stream(pad);
    const std::array<std::uint8_t, 2> half_event{5, 0x80};  // a telephone-event of 2 bytes
    send_to_stream(rtp_bytes(101, true, 3, 3, half_event));
    std::vector<std::uint8_t> noise(300);
    for (std::size_t k = 0; k < noise.size(); ++k) noise[k] = static_cast<std::uint8_t>(k * 37);
    send_to_stream(noise);
    // Still listening afterwards.
    for (const auto& b : key_press(7, 101, 10, 8000)) send_to_stream(b);
  };
  run(std::move(p), 5s);
  EXPECT_FALSE(result_.ec) << result_.ec.message();
  EXPECT_EQ(result_.packets_sent, 50u);
  EXPECT_EQ(result_.packets_received, 12u);
  EXPECT_EQ(result_.datagrams_ignored, 6u);
  EXPECT_EQ(keys_, "7");
  expect_same_audio(*make_audio(8000), check_and_decode(8), 8);
}

TEST_F(rtp_stream_test, stop_ends_play_promptly_with_operation_aborted) {
  auto p = params(media::pcmu(), make_audio(80000));  // 10 s
  steady::time_point stopped_at;
  on_arrival_ = [&](std::size_t i) {
    if (i == 4) {
      stopped_at = steady::now();
      stream_->stop();
    }
  };
  run(std::move(p), 5s);
  EXPECT_EQ(result_.ec, asio::error::operation_aborted);
  EXPECT_GE(result_.packets_sent, 5u);
  EXPECT_LT(result_.packets_sent, 50u);
  EXPECT_LT(done_at_ - stopped_at, 100ms);
  // Stopped for good: a further play ends at once.
  play_result again;
  bool again_done = false;
  asio::co_spawn(io_, stream_->play(params(media::pcmu(), make_audio(800))),
                 [&](std::exception_ptr, play_result r) {
                   again = r;
                   again_done = true;
                 });
  io_.restart();
  io_.run_for(1s);
  ASSERT_TRUE(again_done);
  EXPECT_EQ(again.ec, asio::error::operation_aborted);
  EXPECT_EQ(again.packets_sent, 0u);
}

TEST_F(rtp_stream_test, stop_from_another_handler_while_waiting) {
  // stop() posted from outside the stream (as the call coroutine does on BYE).
  auto p = params(media::pcmu(), make_audio(80000));
  asio::steady_timer t(io_, 150ms);
  t.async_wait([this](error_code) { stream_->stop(); });
  run(std::move(p), 5s);
  EXPECT_EQ(result_.ec, asio::error::operation_aborted);
  EXPECT_GE(result_.packets_sent, 1u);
  EXPECT_LT(result_.packets_sent, 50u);
}

TEST_F(rtp_stream_test, late_packets_are_sent_at_once_not_skipped) {
  // The executor is blocked for 110 ms in the middle (a stand-in for an overloaded thread):
  // the packets due meanwhile go out back to back when it resumes, are counted late, and the
  // schedule after them is unchanged.
  auto audio = make_audio(8000);  // 50 packets
  auto p = params(media::pcmu(), audio);
  on_arrival_ = [](std::size_t i) {
    if (i == 10) std::this_thread::sleep_for(110ms);
  };
  run(std::move(p), 5s);
  EXPECT_FALSE(result_.ec);
  EXPECT_EQ(result_.packets_sent, 50u);
  EXPECT_GE(result_.packets_late, 3u);  // due 40..100 ms into the block: > 20 ms late
  EXPECT_GE(result_.max_lateness, 80ms);
  expect_same_audio(*audio, check_and_decode(0), 0);
  // Back on the original schedule at the end: no drift from the block.
  const auto last = arrivals_.back().at - arrivals_.front().at;
  EXPECT_GE(last, 49 * 20ms);
  EXPECT_LT(last, 49 * 20ms + 20ms);
}

TEST_F(rtp_stream_test, stops_at_the_packet_limit) {
  // 50 packets of audio, a ceiling of 7: exactly 7 reach the sink and the play says why it
  // ended early.
  auto p = params(media::pcmu(), make_audio(8000));
  p.max_packets = 7;
  run(std::move(p), 5s);
  EXPECT_EQ(result_.ec, media::errc::packet_limit);
  EXPECT_EQ(result_.packets_sent, 7u);
  EXPECT_EQ(arrivals_.size(), 7u);
}

TEST_F(rtp_stream_test, a_zero_packet_limit_sends_nothing) {
  auto p = params(media::pcmu(), make_audio(8000));
  p.max_packets = 0;
  run(std::move(p), 5s);
  EXPECT_EQ(result_.ec, media::errc::packet_limit);
  EXPECT_EQ(result_.packets_sent, 0u);
  EXPECT_TRUE(arrivals_.empty());
}

TEST_F(rtp_stream_test, rejects_bad_parameters) {
  play_result r1, r2, r3;
  auto p1 = params(media::pcmu(), nullptr);
  media::codec g722{9, "G722", 8000};
  auto p2 = params(g722, make_audio(160));
  auto p3 = params(media::pcmu(), make_audio(160));
  p3.remote = udp::endpoint(asio::ip::address_v4::loopback(), 0);
  int done = 0;
  auto spawn = [&](play_params p, play_result& out) {
    asio::co_spawn(io_, stream_->play(std::move(p)), [&](std::exception_ptr, play_result r) {
      out = r;
      ++done;
    });
  };
  spawn(std::move(p1), r1);
  spawn(std::move(p2), r2);
  spawn(std::move(p3), r3);
  io_.run_for(2s);
  ASSERT_EQ(done, 3);
  EXPECT_EQ(r1.ec, boost::system::errc::invalid_argument);
  EXPECT_EQ(r2.ec, media::errc::no_common_codec);
  EXPECT_EQ(r3.ec, boost::system::errc::invalid_argument);
}

TEST(rtp_stream_open, fails_on_a_port_in_use) {
  asio::io_context io;
  std::unique_ptr<rtp_stream> a, b;
  ASSERT_FALSE(
      rtp_stream::open(io.get_executor(), udp::endpoint(asio::ip::address_v4::loopback(), 0), a));
  const udp::endpoint taken(asio::ip::address_v4::loopback(), a->local_port());
  EXPECT_EQ(rtp_stream::open(io.get_executor(), taken, b), asio::error::address_in_use);
  EXPECT_FALSE(b);
}

}  // namespace
}  // namespace otpd::voice
