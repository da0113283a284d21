// voice::caller against real SIP peers on 127.0.0.1 (tests/support/sip_peers.hpp): baresip as
// the called phone (auto answer, ring, busy, hang up), kamailio as a digest-auth proxy in front
// of it. Each call runs on an io_context bounded by run_for; waits on the peers have deadlines.
#include "voice/call/caller.hpp"

#include <gtest/gtest.h>

#include <thread>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <functional>
#include <numbers>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "tests/support/raw_sip_peer.hpp"
#include "tests/support/sip_peers.hpp"
#include "voice/prompts/wav.hpp"

namespace otpd::voice {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::baresip_process;
using test::kamailio_process;
using test::raw_sip_peer;

// A 440 Hz tone, `seconds` long, at 8 kHz.
std::shared_ptr<const std::vector<std::int16_t>> tone(double seconds) {
  auto v = std::make_shared<std::vector<std::int16_t>>(static_cast<std::size_t>(seconds * 8000));
  for (std::size_t i = 0; i < v->size(); ++i) {
    (*v)[i] = static_cast<std::int16_t>(
        8000 * std::sin(2 * std::numbers::pi * 440 * static_cast<double>(i) / 8000));
  }
  return v;
}

trunk_config trunk_to(std::uint16_t port, std::string transport = "udp") {
  trunk_config t;
  t.name = "test";
  t.uri = "sip:127.0.0.1:" + std::to_string(port);
  t.transport = std::move(transport);
  t.caller_id = "otpd";
  t.local_address = "127.0.0.1";
  t.ring_timeout = 10s;
  t.max_call = 30s;
  t.t1 = 100ms;  // keeps Timer B / F short on loopback
  return t;
}

struct call_run {
  std::optional<call_result> result;
  std::vector<call_event> events;
  std::chrono::milliseconds took{0};
};

// Runs one call to the end, or until `limit` (then result is empty). `during` runs on the
// io_context after the call started, with the caller and the call's cancellation signal.
template <class During>
call_run run_call(const trunk_config& t, std::string to, double seconds_of_audio,
                  std::chrono::milliseconds limit, During during, char replay_key = '\0') {
  asio::io_context io;
  caller c(io.get_executor(), t);
  call_run run;
  call_request req;
  req.to = std::move(to);
  req.audio = tone(seconds_of_audio);
  req.replay_key = replay_key;
  req.on_event = [&](const call_event& e) { run.events.push_back(e); };
  asio::cancellation_signal cancel;
  const auto start = std::chrono::steady_clock::now();
  asio::co_spawn(
      io, c.call(std::move(req)),
      asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e, call_result r) {
        if (e) std::rethrow_exception(e);
        run.result = std::move(r);
        run.took = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - start);
      }));
  during(io, c, cancel);
  io.run_for(limit);
  EXPECT_EQ(c.active_calls(), 0u);
  return run;
}

call_run run_call(const trunk_config& t, std::string to, double seconds_of_audio,
                  std::chrono::milliseconds limit) {
  return run_call(t, std::move(to), seconds_of_audio, limit,
                  [](asio::io_context&, caller&, asio::cancellation_signal&) {});
}

std::vector<call_state> states(const call_run& r) {
  std::vector<call_state> v;
  for (const auto& e : r.events) v.push_back(e.state);
  return v;
}

std::string describe(const call_run& r) {
  if (!r.result) return "no result within the limit";
  return std::string(to_string(r.result->final.state)) + " " +
         std::to_string(r.result->final.sip_code) + " " + r.result->final.sip_reason;
}

const std::vector<call_state> answered_states{call_state::trying, call_state::ringing,
                                              call_state::answered};

// What baresip recorded: enough samples, and not silence.
void expect_recorded_tone(baresip_process& callee, double seconds) {
  auto files = callee.wait_for_recordings(1, 10s);
  ASSERT_EQ(files.size(), 1u) << callee.output().tail();
  prompts::pcm_audio audio;
  ASSERT_FALSE(prompts::read_wav_file(files[0], audio)) << files[0];
  ASSERT_GT(audio.sample_rate, 0);
  const double recorded =
      static_cast<double>(audio.samples.size()) / static_cast<double>(audio.sample_rate);
  EXPECT_GT(recorded, seconds * 0.6) << files[0];
  double energy = 0;
  for (const std::int16_t s : audio.samples) energy += static_cast<double>(s) * s;
  EXPECT_GT(std::sqrt(energy / static_cast<double>(audio.samples.size())), 1000.0)
      << "the recording is (nearly) silent";
}

TEST(voice_caller, baresip_answers_over_udp_and_records_the_prompt) {
  baresip_process callee;
  const call_run r = run_call(trunk_to(callee.sip_port()), callee.user(), 2.0, 30s);
  ASSERT_TRUE(r.result) << callee.output().tail();
  EXPECT_EQ(r.result->final.state, call_state::completed) << describe(r);
  EXPECT_EQ(r.result->final.sip_code, 200);
  EXPECT_EQ(states(r), answered_states);
  EXPECT_EQ(r.events.back().sip_code, 200);
  EXPECT_EQ(r.result->packets_sent, 100u);  // 2 s of 20 ms packets
  EXPECT_TRUE(r.result->read_in_full);
  EXPECT_EQ(r.result->played, 2000ms);
  // Paced: 100 packets take 2 s, and (almost) none went out more than a packet late.
  EXPECT_LE(r.result->packets_late, 5u);
  EXPECT_GT(r.result->setup.count(), 0);
  EXPECT_GE(r.result->talk, 1900ms);
  EXPECT_LT(r.result->talk, 3500ms);
  EXPECT_FALSE(r.result->call_id.empty());
  EXPECT_GE(callee.wait_for_output("session closed", 5s), 0) << callee.output().tail();
  expect_recorded_tone(callee, 2.0);
}

TEST(voice_caller, the_replay_key_reads_the_prompt_again) {
  baresip_process callee;
  std::thread presser;
  const call_run r = run_call(
      trunk_to(callee.sip_port()), callee.user(), 3.0, 30s,
      [&](asio::io_context&, caller&, asio::cancellation_signal&) {
        presser = std::thread([&callee] {
          // Once the call is up, the phone's user presses '*' (RFC 4733 from baresip).
          if (callee.wait_for_output("Call established", 10s) >= 0) callee.send_keys("*");
        });
      },
      '*');
  presser.join();
  ASSERT_TRUE(r.result) << callee.output().tail();
  EXPECT_EQ(r.result->final.state, call_state::completed) << describe(r);
  // 3 s is 150 packets; the replay adds up to another 150.
  EXPECT_GT(r.result->packets_sent, 150u) << callee.output().tail();
  EXPECT_LE(r.result->packets_sent, 300u);
}

TEST(voice_caller, baresip_answers_over_tcp) {
  baresip_process callee;
  const call_run r = run_call(trunk_to(callee.sip_port(), "tcp"), callee.user(), 1.0, 30s);
  ASSERT_TRUE(r.result) << callee.output().tail();
  EXPECT_EQ(r.result->final.state, call_state::completed) << describe(r) << callee.output().tail();
  EXPECT_EQ(states(r), answered_states);
  EXPECT_EQ(r.result->packets_sent, 50u);
}

TEST(voice_caller, busy_callee) {
  baresip_process::options opts;
  opts.mode = baresip_process::answer_mode::busy;
  baresip_process callee(opts);
  const call_run r = run_call(trunk_to(callee.sip_port()), callee.user(), 1.0, 30s);
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->final.state, call_state::busy) << describe(r);
  EXPECT_EQ(r.result->final.sip_code, 486);
  EXPECT_EQ(r.result->packets_sent, 0u);
}

TEST(voice_caller, ring_timeout_cancels) {
  baresip_process::options opts;
  opts.mode = baresip_process::answer_mode::ring;
  baresip_process callee(opts);
  trunk_config t = trunk_to(callee.sip_port());
  t.ring_timeout = 2s;
  const call_run r = run_call(t, callee.user(), 1.0, 30s);
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->final.state, call_state::no_answer) << describe(r);
  EXPECT_EQ(r.result->final.sip_code, 487);
  EXPECT_EQ(states(r), (std::vector<call_state>{call_state::trying, call_state::ringing}));
  EXPECT_GE(r.took, 2s);
  EXPECT_LT(r.took, 8s);
}

TEST(voice_caller, callee_hangs_up_during_the_prompt) {
  baresip_process::options opts;
  opts.mode = baresip_process::answer_mode::hangup_after;
  opts.hangup_after = 500ms;
  baresip_process callee(opts);
  const call_run r = run_call(trunk_to(callee.sip_port()), callee.user(), 10.0, 30s);
  ASSERT_TRUE(r.result);
  // The code (here the whole 10 s) was not read in full: not completed.
  EXPECT_EQ(r.result->final.state, call_state::hung_up_early) << describe(r);
  EXPECT_FALSE(r.result->read_in_full);
  // The call's SIP outcome is the INVITE's 200; the callee's BYE is how it ended.
  EXPECT_EQ(r.result->final.sip_code, 200);
  EXPECT_EQ(r.result->final.sip_reason, "remote hangup");
  EXPECT_LT(r.result->packets_sent, 400u);  // stopped well before the 500 packets of 10 s
  EXPECT_GT(r.result->played, 0ms);
  EXPECT_LT(r.result->played, 8s);
  EXPECT_LT(r.took, 8s);
}

TEST(voice_caller, a_hang_up_after_the_code_was_read_once_is_completed) {
  // The code ends 0.4 s into 10 s of audio: the callee's BYE after 2 s comes after it.
  baresip_process::options opts;
  opts.mode = baresip_process::answer_mode::hangup_after;
  opts.hangup_after = 2s;
  baresip_process callee(opts);
  asio::io_context io;
  caller c(io.get_executor(), trunk_to(callee.sip_port()));
  call_request req;
  req.to = callee.user();
  req.audio = tone(10.0);
  req.code_end = 3200;
  std::optional<call_result> result;
  asio::co_spawn(io, c.call(std::move(req)), [&](std::exception_ptr e, call_result r) {
    if (e) std::rethrow_exception(e);
    result = std::move(r);
  });
  io.run_for(30s);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->final.state, call_state::completed) << result->final.sip_reason;
  EXPECT_TRUE(result->read_in_full);
  EXPECT_EQ(result->final.sip_code, 200);
  EXPECT_EQ(result->final.sip_reason, "remote hangup");
  EXPECT_LT(result->played, 8s);
}

TEST(voice_caller, cancelling_the_awaiting_coroutine_cancels_the_call) {
  baresip_process::options opts;
  opts.mode = baresip_process::answer_mode::ring;
  baresip_process callee(opts);
  // Cancels once baresip reports the incoming call: polls its output on the io_context. The
  // poller owns its timer and is kept alive only by its pending wait, so that it goes with the
  // io_context's handlers.
  struct poller : std::enable_shared_from_this<poller> {
    poller(asio::io_context& io, baresip_process& c, asio::cancellation_signal& s)
        : timer(io), callee(c), cancel(s) {}
    void arm() {
      timer.expires_after(20ms);
      timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (ec) return;
        if (self->callee.output().wait_for("Incoming call", std::chrono::steady_clock::now()) >=
            0) {
          self->cancel.emit(asio::cancellation_type::terminal);
          return;
        }
        self->arm();
      });
    }
    asio::steady_timer timer;
    baresip_process& callee;
    asio::cancellation_signal& cancel;
  };
  const call_run r =
      run_call(trunk_to(callee.sip_port()), callee.user(), 1.0, 30s,
               [&](asio::io_context& io, caller&, asio::cancellation_signal& cancel) {
                 std::make_shared<poller>(io, callee, cancel)->arm();
               });
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->final.state, call_state::failed) << describe(r);
  EXPECT_EQ(r.result->final.sip_reason, "cancelled");
  EXPECT_EQ(r.result->final.sip_code, 487);
  EXPECT_LT(r.took, 8s);
}

TEST(voice_caller, stop_hangs_up_an_answered_call) {
  baresip_process callee;
  const call_run r = run_call(trunk_to(callee.sip_port()), callee.user(), 20.0, 30s,
                              [&](asio::io_context& io, caller& c, asio::cancellation_signal&) {
                                auto t = std::make_shared<asio::steady_timer>(io, 1500ms);
                                t->async_wait([t, &c](boost::system::error_code) { c.stop(); });
                              });
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->final.state, call_state::failed) << describe(r);
  EXPECT_EQ(r.result->final.sip_reason, "shutting down");
  EXPECT_LT(r.result->packets_sent, 200u);
  EXPECT_GE(callee.wait_for_output("session closed", 5s), 0) << callee.output().tail();
}

TEST(voice_caller, max_call_bounds_a_call_that_rings_forever) {
  baresip_process::options opts;
  opts.mode = baresip_process::answer_mode::ring;
  baresip_process callee(opts);
  trunk_config t = trunk_to(callee.sip_port());
  t.max_call = 1500ms;
  const call_run r = run_call(t, callee.user(), 1.0, 30s);
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->final.state, call_state::failed) << describe(r);
  EXPECT_EQ(r.result->final.sip_reason, "max call duration");
  EXPECT_LT(r.took, 6s);
}

TEST(voice_caller, nobody_listening_over_udp_fails_at_once) {
  // A UDP port that was free a moment ago: the kernel answers the INVITE with ICMP port
  // unreachable, and the call ends on it rather than on Timer B (64*T1 = 6.4 s).
  const std::uint16_t port = test::pick_free_port();
  const call_run r = run_call(trunk_to(port), "callee", 1.0, 30s);
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->final.state, call_state::failed) << describe(r);
  EXPECT_EQ(r.result->final.sip_code, 0) << describe(r);
  EXPECT_EQ(r.result->final.sip_reason,
            "cannot reach 127.0.0.1:" + std::to_string(port) + ": Connection refused");
  EXPECT_LT(r.took, 2s);
}

TEST(voice_caller, a_udp_trunk_that_never_answers_fails_after_timer_b) {
  // Something listens (no ICMP error) and never answers: Timer B ends the call with 408.
  raw_sip_peer silent(raw_sip_peer::transport::udp,
                      [](const std::string&) { return std::vector<std::string>{}; });
  const call_run r = run_call(trunk_to(silent.port()), "callee", 1.0, 30s);
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->final.state, call_state::failed) << describe(r);
  EXPECT_EQ(r.result->final.sip_code, 408);
  EXPECT_GE(r.took, 6s);
  EXPECT_LT(r.took, 10s);
}

TEST(voice_caller, nobody_listening_over_tcp_names_the_address_and_port) {
  const std::uint16_t port = test::pick_free_port();
  const call_run r = run_call(trunk_to(port, "tcp"), "callee", 1.0, 30s);
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->final.state, call_state::failed) << describe(r);
  EXPECT_EQ(r.result->final.sip_reason,
            "cannot connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
  EXPECT_LT(r.took, 2s);
}

TEST(voice_caller, invalid_trunk_fails_at_once) {
  trunk_config t = trunk_to(5060);
  t.uri = "mailto:nobody";
  const call_run r = run_call(t, "callee", 1.0, 5s);
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->final.state, call_state::failed);
}

// ---- a trunk that answers with garbage (raw_sip_peer: no real peer can be made to) ----

std::size_t count_starting_with(const std::vector<std::string>& v, std::string_view prefix) {
  return static_cast<std::size_t>(std::count_if(
      v.begin(), v.end(), [&](const std::string& m) { return m.starts_with(prefix); }));
}

TEST(voice_caller, a_udp_trunk_answering_garbage_is_ignored_until_timer_b) {
  // To every INVITE (and its retransmissions): bytes that are not SIP, then responses for the
  // call that are not well-formed SIP. Each is discarded and counted; none stops the INVITE's
  // retransmissions, and Timer B ends the call with 408.
  const std::vector<std::string> garbage{
      std::string("\x00\x01\xff\xfe garbage \x80\x81", 15),
      "SIP/2.0 18O Ringing\r\n\r\n",  // a status code that is not a number
      "SIP/2.0 200 OK\r\nthis line has no colon\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",  // another protocol
  };
  raw_sip_peer trunk(raw_sip_peer::transport::udp, [&](const std::string& m) {
    std::vector<std::string> replies = garbage;
    // A 180 for this very transaction, but its Content-Length claims more than the datagram.
    std::string lying = test::sip_response_to(m, 180, "Ringing");
    lying.replace(lying.find("Content-Length: 0"), 17, "Content-Length: 4000");
    replies.push_back(lying);
    return replies;
  });
  trunk_config t = trunk_to(trunk.port());
  t.t1 = 50ms;  // Timer B = 64*T1 = 3.2 s
  const call_run r = run_call(t, "callee", 1.0, 20s);
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->final.state, call_state::failed) << describe(r);
  EXPECT_EQ(r.result->final.sip_code, 408) << describe(r);
  EXPECT_EQ(states(r), std::vector<call_state>{call_state::trying})
      << "a garbage 180 was taken for ringing";
  // Timer A kept retransmitting: nothing was taken for a provisional response.
  const std::vector<std::string> got = trunk.received();
  EXPECT_GE(count_starting_with(got, "INVITE "), 5u);
  // Every reply to at least the first INVITE reached the caller and was counted; replies to
  // the last retransmission may come after Timer B.
  EXPECT_GE(r.result->malformed, garbage.size() + 1);
  EXPECT_LE(r.result->malformed, (garbage.size() + 1) * got.size());
}

TEST(voice_caller, an_answer_whose_sdp_is_garbage_is_acked_and_hung_up) {
  // Well-formed SIP, answered at once, but the SDP answer is not SDP: the dialog exists (ACK),
  // no audio can go anywhere, so the caller hangs up (BYE) and the call fails with the reason.
  std::atomic<std::uint16_t> port{0};  // the Contact (where ACK and BYE go) names the peer
  raw_sip_peer trunk(raw_sip_peer::transport::udp, [&port](const std::string& m) {
    if (m.starts_with("INVITE ")) {
      return std::vector<std::string>{
          test::sip_response_to(m, 200, "OK", "raw",
                                "Contact: <sip:raw@127.0.0.1:" + std::to_string(port.load()) +
                                    ">\r\nContent-Type: application/sdp\r\n",
                                "v=0\r\nthis is not an SDP answer\r\n")};
    }
    if (m.starts_with("BYE ")) return std::vector<std::string>{test::sip_response_to(m, 200, "OK")};
    return std::vector<std::string>{};
  });
  port = trunk.port();
  const call_run r = run_call(trunk_to(trunk.port()), "callee", 1.0, 20s);
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->final.state, call_state::failed) << describe(r);
  EXPECT_TRUE(r.result->final.sip_reason.starts_with("SDP answer: ")) << describe(r);
  EXPECT_EQ(r.result->packets_sent, 0u);
  EXPECT_TRUE(trunk.wait_for("ACK ", 5s));
  EXPECT_TRUE(trunk.wait_for("BYE ", 5s));
  EXPECT_EQ(r.result->malformed, 0u);
  EXPECT_LT(r.took, 3s);
}

// The port the caller's Via names (where responses go), or 0.
std::uint16_t via_port(const std::string& m) {
  const std::size_t at = m.find("SIP/2.0/UDP ");
  if (at == std::string::npos) return 0;
  const std::size_t colon = m.find(':', at + 12);
  const std::size_t end = m.find_first_of(";\r\n", at + 12);
  if (colon == std::string::npos || colon > end) return 0;
  return static_cast<std::uint16_t>(std::stoi(m.substr(colon + 1, end - colon - 1)));
}

TEST(voice_caller, a_200_ok_from_another_source_port_is_ignored) {
  // Before the trunk answers 486, another socket on the same address sends the caller a 200 OK
  // for the same transaction. Only the trunk's own next hop (address and port) is listened to.
  boost::asio::io_context io;
  boost::asio::ip::udp::socket spoofer(
      io, boost::asio::ip::udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  std::atomic<int> spoofed{0};
  raw_sip_peer trunk(raw_sip_peer::transport::udp, [&](const std::string& m) {
    if (!m.starts_with("INVITE ")) return std::vector<std::string>{};
    const std::string ok = test::sip_response_to(m, 200, "OK");
    boost::system::error_code ec;
    spoofer.send_to(boost::asio::buffer(ok),
                    {boost::asio::ip::make_address("127.0.0.1"), via_port(m)}, 0, ec);
    if (!ec) ++spoofed;
    return std::vector<std::string>{test::sip_response_to(m, 486, "Busy Here")};
  });
  const call_run r = run_call(trunk_to(trunk.port()), "callee", 1.0, 20s);
  ASSERT_TRUE(r.result);
  ASSERT_GE(spoofed.load(), 1);
  EXPECT_EQ(r.result->final.state, call_state::busy) << describe(r);
  EXPECT_EQ(r.result->final.sip_code, 486) << describe(r);
  EXPECT_GE(r.result->foreign, 1u);
  EXPECT_EQ(r.result->packets_sent, 0u);
}

// ---- where the answer may send media (media_policy.hpp) ----

// A UDP socket on `address` that counts what reaches it (read after the call: on loopback a
// datagram sent is in the socket's queue before send_to returns).
struct rtp_counter {
  asio::io_context io;
  asio::ip::udp::socket sock;
  explicit rtp_counter(const char* address)
      : sock(io, asio::ip::udp::endpoint(asio::ip::make_address(address), 0)) {
    sock.non_blocking(true);
    sock.set_option(asio::socket_base::receive_buffer_size(1 << 20));
  }
  std::uint16_t port() const { return sock.local_endpoint().port(); }
  std::size_t count() {
    std::array<char, 2048> buf;
    std::size_t n = 0;
    boost::system::error_code ec;
    while (sock.receive(asio::buffer(buf), 0, ec), !ec) ++n;
    return n;
  }
};

std::string sdp_answer(const std::string& address, std::uint16_t port) {
  return "v=0\r\no=- 1 1 IN IP4 " + address + "\r\ns=-\r\nc=IN IP4 " + address +
         "\r\nt=0 0\r\nm=audio " + std::to_string(port) + " RTP/AVP 0\r\n";
}

// A trunk that answers every INVITE 200 with an SDP answer sending media to `address`:`port`,
// and BYE with 200. `on_ack` says what to send when the ACK comes (nothing by default).
struct answering_trunk {
  std::atomic<std::uint16_t> port{0};
  std::function<std::vector<std::string>(const std::string&)> on_ack;
  std::string media_address;
  std::uint16_t media_port;
  raw_sip_peer peer;
  answering_trunk(std::string address, std::uint16_t rtp_port)
      : media_address(std::move(address)),
        media_port(rtp_port),
        peer(raw_sip_peer::transport::udp, [this](const std::string& m) { return respond(m); }) {
    port = peer.port();
  }
  std::string contact() const {
    return "Contact: <sip:raw@127.0.0.1:" + std::to_string(port.load()) + ">\r\n";
  }
  std::vector<std::string> respond(const std::string& m) {
    if (m.starts_with("INVITE ")) {
      return {test::sip_response_to(m, 200, "OK", "raw",
                                    contact() + "Content-Type: application/sdp\r\n",
                                    sdp_answer(media_address, media_port))};
    }
    if (m.starts_with("ACK ") && on_ack) return on_ack(m);
    if (m.starts_with("BYE ")) return {test::sip_response_to(m, 200, "OK")};
    return {};
  }
};

TEST(voice_caller, an_answer_sending_media_elsewhere_gets_no_rtp_and_a_bye) {
  // The trunk is 127.0.0.1; its answer names 127.0.0.2. Nothing may go there: the dialog is
  // ACKed and ended with BYE, and the call fails naming the refused address.
  rtp_counter elsewhere("127.0.0.2");
  answering_trunk trunk("127.0.0.2", elsewhere.port());
  const call_run r = run_call(trunk_to(trunk.port), "callee", 1.0, 20s);
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->final.state, call_state::failed) << describe(r);
  EXPECT_EQ(r.result->final.sip_code, 200) << describe(r);
  EXPECT_EQ(r.result->final.sip_reason, "media address refused: 127.0.0.2 port " +
                                            std::to_string(elsewhere.port()) +
                                            " (not in the trunk's media networks)")
      << describe(r);
  EXPECT_EQ(r.result->error, "media_address_refused");
  EXPECT_EQ(r.result->packets_sent, 0u);
  EXPECT_TRUE(trunk.peer.wait_for("ACK ", 5s));
  EXPECT_TRUE(trunk.peer.wait_for("BYE ", 5s));
  EXPECT_EQ(elsewhere.count(), 0u);
  EXPECT_LT(r.took, 3s);
}

TEST(voice_caller, special_use_addresses_are_refused_even_when_listed) {
  // media_networks allows everything; the answer names link-local and multicast targets.
  for (const char* address : {"169.254.169.254", "224.0.0.1", "0.0.0.0"}) {
    answering_trunk trunk(address, 4000);
    trunk_config t = trunk_to(trunk.port);
    t.media_networks = {"0.0.0.0/0"};
    const call_run r = run_call(t, "callee", 1.0, 20s);
    ASSERT_TRUE(r.result) << address;
    EXPECT_EQ(r.result->final.state, call_state::failed) << describe(r);
    EXPECT_EQ(r.result->error, "media_address_refused") << address;
    EXPECT_TRUE(
        r.result->final.sip_reason.starts_with(std::string("media address refused: ") + address))
        << describe(r);
    EXPECT_EQ(r.result->packets_sent, 0u) << address;
    EXPECT_TRUE(trunk.peer.wait_for("BYE ", 5s)) << address;
  }
}

TEST(voice_caller, a_host_name_for_media_is_refused_and_not_repeated) {
  // RFC 4566 allows a name in c=; we never resolve what a peer names, nor log its bytes.
  answering_trunk trunk("media.carrier.example", 4000);
  trunk_config t = trunk_to(trunk.port);
  t.media_networks = {"0.0.0.0/0"};
  const call_run r = run_call(t, "callee", 1.0, 20s);
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->final.state, call_state::failed) << describe(r);
  EXPECT_EQ(r.result->error, "media_address_refused");
  EXPECT_EQ(r.result->final.sip_reason, "media address refused: not an IP address") << describe(r);
  EXPECT_EQ(r.result->packets_sent, 0u);
  EXPECT_TRUE(trunk.peer.wait_for("BYE ", 5s));
}

TEST(voice_caller, media_networks_allow_a_separate_media_gateway) {
  // The same answer, with 127.0.0.2 in the trunk's media networks: the prompt goes there.
  rtp_counter gateway("127.0.0.2");
  answering_trunk trunk("127.0.0.2", gateway.port());
  trunk_config t = trunk_to(trunk.port);
  t.media_networks = {"127.0.0.2/32"};
  const call_run r = run_call(t, "callee", 1.0, 20s);
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->final.state, call_state::completed) << describe(r);
  EXPECT_TRUE(r.result->error.empty());
  EXPECT_EQ(r.result->packets_sent, 50u);
  EXPECT_EQ(gateway.count(), 50u);
}

// The value of header `name` in `m` ("" when absent).
std::string header(const std::string& m, const std::string& name) {
  const std::size_t at = m.find("\r\n" + name + ": ");
  if (at == std::string::npos) return {};
  const std::size_t from = at + name.size() + 4;
  return m.substr(from, m.find("\r\n", from) - from);
}

TEST(voice_caller, a_reinvite_cannot_move_the_media) {
  // Once the prompt plays, the trunk sends a re-INVITE whose SDP names 127.0.0.2. Re-INVITE is
  // not supported (501): the prompt keeps going to the address of the answer, nothing reaches
  // the new one.
  rtp_counter first("127.0.0.1");
  rtp_counter moved("127.0.0.2");
  answering_trunk trunk("127.0.0.1", first.port());
  std::string invite;
  trunk.on_ack = [&](const std::string& ack) {
    const std::string body = sdp_answer("127.0.0.2", moved.port());
    const std::string to = header(ack, "From");  // our From is the To of the trunk's request
    const std::string contact = header(ack, "Contact");
    const std::string reinvite =
        "INVITE sip:otpd@127.0.0.1:" + std::to_string(via_port(ack)) +
        " SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:" + std::to_string(trunk.port.load()) +
        ";branch=z9hG4bKreinvite1\r\nMax-Forwards: 70\r\nFrom: " + header(ack, "To") +
        "\r\nTo: " + to + "\r\nCall-ID: " + header(ack, "Call-ID") + "\r\nCSeq: 1 INVITE\r\n" +
        trunk.contact() +
        "Content-Type: application/sdp\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\n\r\n" + body;
    return std::vector<std::string>{reinvite};
  };
  trunk_config t = trunk_to(trunk.port);
  t.media_networks = {"127.0.0.0/8"};  // both would be allowed: the target still cannot move
  const call_run r = run_call(t, "callee", 1.0, 20s);
  ASSERT_TRUE(r.result);
  EXPECT_TRUE(trunk.peer.wait_for("SIP/2.0 501", 5s));
  EXPECT_EQ(r.result->final.state, call_state::completed) << describe(r);
  EXPECT_EQ(r.result->packets_sent, 50u);
  EXPECT_EQ(first.count(), 50u);
  EXPECT_EQ(moved.count(), 0u);
}

TEST(voice_caller, a_tcp_trunk_answering_garbage_fails_the_call_at_once) {
  // A stream cannot be resynchronised after bytes that are not SIP: the connection is given up
  // and the call fails at once, long before Timer B (64*T1 = 6.4 s here).
  raw_sip_peer trunk(raw_sip_peer::transport::tcp, [](const std::string&) {
    return std::vector<std::string>{"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"};
  });
  const call_run r = run_call(trunk_to(trunk.port(), "tcp"), "callee", 1.0, 20s);
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->final.state, call_state::failed) << describe(r);
  EXPECT_EQ(r.result->final.sip_code, 0) << describe(r);
  EXPECT_EQ(r.result->final.sip_reason, "malformed SIP from the trunk") << describe(r);
  EXPECT_EQ(r.result->malformed, 1u);
  EXPECT_LT(r.took, 3s);
  EXPECT_EQ(count_starting_with(trunk.received(), "INVITE "), 1u);
}

// ---- an exception in the call's code ----

struct thrown_call {
  std::exception_ptr error;
  bool completed = false;
  std::size_t active_after = 1;
  std::chrono::milliseconds took{0};
};

// A call whose on_event throws when the call reaches `state`: call() must end the call, close
// its sockets, join its coroutines and rethrow to the awaiting coroutine.
thrown_call run_call_throwing_on(const trunk_config& t, call_state state) {
  asio::io_context io;
  caller c(io.get_executor(), t);
  call_request req;
  req.to = "callee";
  req.audio = tone(1.0);
  req.on_event = [state](const call_event& e) {
    if (e.state == state) throw std::runtime_error("on_event failed");
  };
  thrown_call out;
  const auto start = std::chrono::steady_clock::now();
  asio::co_spawn(io, c.call(std::move(req)), [&](std::exception_ptr e, call_result) {
    out.error = e;
    out.completed = true;
    out.took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
  });
  io.run_for(20s);
  out.active_after = c.active_calls();
  return out;
}

std::string what(const std::exception_ptr& e) {
  try {
    if (e) std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  }
  return "no exception";
}

TEST(voice_caller, an_exception_while_ringing_cancels_the_call_and_reaches_the_awaiter) {
  std::string invite;  // the peer's thread only
  raw_sip_peer trunk(raw_sip_peer::transport::udp, [&invite](const std::string& m) {
    if (m.starts_with("INVITE ")) {
      invite = m;
      return std::vector<std::string>{test::sip_response_to(m, 180, "Ringing")};
    }
    if (m.starts_with("CANCEL ")) {
      return std::vector<std::string>{test::sip_response_to(m, 200, "OK"),
                                      test::sip_response_to(invite, 487, "Request Terminated")};
    }
    return std::vector<std::string>{};
  });
  const thrown_call r = run_call_throwing_on(trunk_to(trunk.port()), call_state::ringing);
  ASSERT_TRUE(r.completed) << "call() did not complete";
  EXPECT_EQ(what(r.error), "on_event failed");
  EXPECT_EQ(r.active_after, 0u);
  EXPECT_TRUE(trunk.wait_for("CANCEL ", 5s)) << "the callee was left ringing";
  EXPECT_LT(r.took, 3s);
}

TEST(voice_caller, an_exception_once_answered_hangs_up_and_reaches_the_awaiter) {
  rtp_counter media("127.0.0.1");
  answering_trunk trunk("127.0.0.1", media.port());
  const thrown_call r = run_call_throwing_on(trunk_to(trunk.port), call_state::answered);
  ASSERT_TRUE(r.completed) << "call() did not complete";
  EXPECT_EQ(what(r.error), "on_event failed");
  EXPECT_EQ(r.active_after, 0u);
  EXPECT_TRUE(trunk.peer.wait_for("ACK ", 5s));
  EXPECT_TRUE(trunk.peer.wait_for("BYE ", 5s)) << "the dialog was left up";
  EXPECT_EQ(media.count(), 0u);
  EXPECT_LT(r.took, 3s);
}

class voice_caller_proxy : public ::testing::Test {
 protected:
  kamailio_process::options proxy_options() {
    kamailio_process::options opts;
    opts.forward = callee_.host_port();
    return opts;
  }
  trunk_config trunk(const kamailio_process& proxy, std::string password,
                     std::string transport = "udp") {
    trunk_config t = trunk_to(proxy.sip_port(), std::move(transport));
    t.username = proxy.username();
    t.password = secret(password);
    return t;
  }

  baresip_process callee_;
};

TEST_F(voice_caller_proxy, right_password_completes_through_kamailio) {
  kamailio_process proxy(proxy_options());
  const call_run r = run_call(trunk(proxy, proxy.password()), callee_.user(), 1.0, 30s);
  ASSERT_TRUE(r.result) << proxy.output().tail();
  EXPECT_EQ(r.result->final.state, call_state::completed)
      << describe(r) << proxy.output().tail() << callee_.output().tail();
  // kamailio's UDP workers may relay the 180 after the 200 (it is then ignored): ringing is
  // not guaranteed here.
  const auto st = states(r);
  ASSERT_GE(st.size(), 2u);
  EXPECT_EQ(st.front(), call_state::trying);
  EXPECT_EQ(st.back(), call_state::answered);
  EXPECT_GE(proxy.wait_for_output("challenged (407)", 1s), 0) << proxy.output().tail();
  EXPECT_GE(proxy.wait_for_output("authenticated, relaying", 1s), 0) << proxy.output().tail();
  // The BYE went through the proxy (Record-Route) and reached baresip.
  EXPECT_GE(callee_.wait_for_output("session closed", 5s), 0) << callee_.output().tail();
  expect_recorded_tone(callee_, 1.0);
}

TEST_F(voice_caller_proxy, right_password_over_tcp) {
  kamailio_process proxy(proxy_options());
  const call_run r = run_call(trunk(proxy, proxy.password(), "tcp"), callee_.user(), 1.0, 30s);
  ASSERT_TRUE(r.result) << proxy.output().tail();
  EXPECT_EQ(r.result->final.state, call_state::completed)
      << describe(r) << proxy.output().tail() << callee_.output().tail();
}

TEST_F(voice_caller_proxy, wrong_password_fails_with_403) {
  kamailio_process proxy(proxy_options());
  const call_run r = run_call(trunk(proxy, proxy.password() + "-wrong"), callee_.user(), 1.0, 30s);
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->final.state, call_state::failed) << describe(r);
  EXPECT_EQ(r.result->final.sip_code, 403);
  EXPECT_GE(proxy.wait_for_output("wrong credentials", 1s), 0) << proxy.output().tail();
}

TEST_F(voice_caller_proxy, no_credentials_fails_with_407) {
  kamailio_process proxy(proxy_options());
  trunk_config t = trunk(proxy, "");
  t.username.clear();
  const call_run r = run_call(t, callee_.user(), 1.0, 30s);
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->final.state, call_state::failed) << describe(r);
  EXPECT_EQ(r.result->final.sip_code, 407);
}

TEST_F(voice_caller_proxy, decline_603_is_rejected) {
  auto opts = proxy_options();
  opts.reject_code = 603;
  kamailio_process proxy(opts);
  const call_run r = run_call(trunk(proxy, proxy.password()), callee_.user(), 1.0, 30s);
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->final.state, call_state::rejected) << describe(r);
  EXPECT_EQ(r.result->final.sip_code, 603);
}

}  // namespace
}  // namespace otpd::voice
