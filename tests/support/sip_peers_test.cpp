// The SIP peer harnesses (baresip_process, kamailio_process) against SIPp as the caller; SIPp's
// exit status is the verdict (0: every call went as its scenario says). Scenarios are in
// tests/peers/sip.
#include "tests/support/sip_peers.hpp"

#include <sys/wait.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"

namespace otpd::test {
namespace {

using namespace std::chrono_literals;

struct sipp_result {
  int status = -1;  // wait status
  std::string log;  // the tail of SIPp's output, for failure messages

  bool succeeded() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }
};

std::ostream& operator<<(std::ostream& os, const sipp_result& r) {
  return os << "sipp " << describe_wait_status(r.status) << "\n" << r.log;
}

// Runs one SIPp call (-m 1) as UAC from 127.0.0.1 to `target` ("127.0.0.1:port"). SIPp picks
// its own SIP port (-p 0: the first free from 5060 up); the media port is picked free.
class sipp_call {
 public:
  sipp_call(std::string target, std::vector<std::string> scenario_args,
            std::vector<std::string> extra = {})
      : dir_("otpd-sipp") {
    std::vector<std::string> argv{"sipp"};
    argv.insert(argv.end(), scenario_args.begin(), scenario_args.end());
    for (std::string a : {target, std::string("-i"), std::string("127.0.0.1"), std::string("-p"),
                          std::string("0"), std::string("-mp"), std::to_string(pick_free_port()),
                          std::string("-m"), std::string("1"), std::string("-timeout"),
                          std::string("20s"), std::string("-nostdin"), std::string("-trace_err")}) {
      argv.push_back(std::move(a));
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    child_process::options opts;
    opts.merge_stderr = true;
    opts.working_directory = dir_.path();  // -trace_err writes its file here
    opts.on_end = [this] { log_.close(); };
    child_ = std::make_unique<child_process>(
        std::move(argv), [this](std::string_view line) { log_.append(line); }, std::move(opts));
  }

  // Waits for SIPp to exit (its own -timeout is 20 s).
  sipp_result wait(std::chrono::milliseconds timeout = 30s) {
    sipp_result r;
    auto status = child_->wait_exit(child_process::clock::now() + timeout);
    r.status = status ? *status : child_->stop(1s);
    child_->stop();  // reaped already; joins the reader so the log is complete
    r.log = log_.tail(25);
    return r;
  }

  bool running() { return child_->running(); }

 private:
  temp_dir dir_;
  output_log log_;
  std::unique_ptr<child_process> child_;
};

std::vector<std::string> scenario(const std::string& file) {
  return {"-sf", sip_peers_dir() + "/" + file};
}

std::vector<std::string> to_user(const std::string& user) { return {"-s", user}; }

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The data chunk's size in a canonical 44-byte-header PCM WAV file, or -1.
std::int64_t wav_data_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char header[44];
  if (!in.read(header, sizeof header)) return -1;
  if (std::string_view(header, 4) != "RIFF" || std::string_view(header + 36, 4) != "data") {
    return -1;
  }
  auto* p = reinterpret_cast<const unsigned char*>(header + 40);
  return std::int64_t{p[0]} | std::int64_t{p[1]} << 8 | std::int64_t{p[2]} << 16 |
         std::int64_t{p[3]} << 24;
}

TEST(sip_peers, baresip_answers_a_direct_call) {
  baresip_process callee;
  EXPECT_GT(callee.pid(), 0);
  EXPECT_NE(callee.sip_port(), 0);
  EXPECT_EQ(callee.user(), "callee");
  // SIPp's built-in UAC: INVITE, 180, 200, ACK, BYE.
  sipp_call call(callee.host_port(), concat({"-sn", "uac"}, to_user(callee.user())));
  auto r = call.wait();
  EXPECT_TRUE(r.succeeded()) << r << callee.output().tail();
  EXPECT_GE(callee.wait_for_output("Call established", 5s), 0) << callee.output().tail();
  EXPECT_GE(callee.wait_for_output("session closed", 5s), 0) << callee.output().tail();
}

TEST(sip_peers, baresip_busy_rejects_with_486) {
  baresip_process::options opts;
  opts.mode = baresip_process::answer_mode::busy;
  baresip_process callee(opts);
  sipp_call call(callee.host_port(), concat(scenario("uac_busy.xml"), to_user(callee.user())));
  auto r = call.wait();
  EXPECT_TRUE(r.succeeded()) << r << callee.output().tail();
  EXPECT_GE(callee.wait_for_output("rejecting incoming call", 5s), 0) << callee.output().tail();
}

TEST(sip_peers, baresip_rings_until_accepted) {
  baresip_process::options opts;
  opts.mode = baresip_process::answer_mode::ring;
  baresip_process callee(opts);
  sipp_call call(callee.host_port(), concat({"-sn", "uac"}, to_user(callee.user())));
  ASSERT_GE(callee.wait_for_output("Incoming call from", 10s), 0) << callee.output().tail();
  // Ringing: no answer comes by itself, so the call is still waiting for its 200.
  EXPECT_LT(callee.wait_for_output("Call established", 1s), 0) << callee.output().tail();
  EXPECT_TRUE(call.running());
  ASSERT_TRUE(callee.accept());
  auto r = call.wait();
  EXPECT_TRUE(r.succeeded()) << r << callee.output().tail();
  EXPECT_GE(callee.wait_for_output("Call established", 5s), 0) << callee.output().tail();
}

TEST(sip_peers, baresip_hangs_up_after_a_delay) {
  baresip_process::options opts;
  opts.mode = baresip_process::answer_mode::hangup_after;
  opts.hangup_after = 1s;
  baresip_process callee(opts);
  // INVITE, 200, ACK, then the callee's BYE is expected.
  sipp_call call(callee.host_port(),
                 concat(scenario("uac_remote_bye.xml"), to_user(callee.user())));
  auto r = call.wait();
  EXPECT_TRUE(r.succeeded()) << r << callee.output().tail();
}

TEST(sip_peers, baresip_records_the_audio_it_receives) {
  baresip_process callee;
  EXPECT_TRUE(callee.recordings().empty());
  // PCMA only; about 7 s of RTP from SIPp's g711a.pcap, then BYE.
  sipp_call call(callee.host_port(),
                 concat(scenario("uac_pcma_audio.xml"), to_user(callee.user())));
  auto r = call.wait();
  ASSERT_TRUE(r.succeeded()) << r << callee.output().tail();
  auto closed = callee.wait_for_recordings(1, 10s);
  ASSERT_EQ(closed.size(), 1U) << callee.output().tail();
  EXPECT_EQ(callee.recordings(), closed);
  // 8000 samples/s of 16 bits: at least 5 s of the 7 s sent (the jitter buffer and the start
  // of the stream cost a little).
  EXPECT_GT(wav_data_bytes(closed[0]), 5 * 8000 * 2) << closed[0];
}

class sip_peers_proxy : public ::testing::Test {
 protected:
  kamailio_process::options proxy_options() {
    kamailio_process::options opts;
    opts.forward = callee_.host_port();
    return opts;
  }
  std::vector<std::string> credentials(const kamailio_process& proxy, const std::string& pw) {
    return {"-au", proxy.username(), "-ap", pw};
  }

  baresip_process callee_;
};

TEST_F(sip_peers_proxy, kamailio_challenges_then_relays_to_the_callee) {
  kamailio_process proxy(proxy_options());
  EXPECT_GT(proxy.pid(), 0);
  EXPECT_NE(proxy.sip_port(), callee_.sip_port());
  // INVITE, 407, ACK, INVITE with Proxy-Authorization, 200, ACK and BYE via Record-Route.
  sipp_call call(proxy.host_port(), concat(scenario("uac_auth.xml"), to_user(callee_.user())),
                 credentials(proxy, proxy.password()));
  auto r = call.wait();
  EXPECT_TRUE(r.succeeded()) << r << proxy.output().tail() << callee_.output().tail();
  EXPECT_GE(proxy.wait_for_output("challenged (407)", 1s), 0) << proxy.output().tail();
  EXPECT_GE(proxy.wait_for_output("authenticated, relaying", 1s), 0) << proxy.output().tail();
  EXPECT_GE(callee_.wait_for_output("Call established", 5s), 0) << callee_.output().tail();
  EXPECT_GE(callee_.wait_for_output("session closed", 5s), 0) << callee_.output().tail();
}

TEST_F(sip_peers_proxy, kamailio_forbids_a_wrong_password) {
  kamailio_process proxy(proxy_options());
  sipp_call call(proxy.host_port(),
                 concat(scenario("uac_auth_forbidden.xml"), to_user(callee_.user())),
                 credentials(proxy, proxy.password() + "-wrong"));
  auto r = call.wait();
  EXPECT_TRUE(r.succeeded()) << r << proxy.output().tail();
  EXPECT_GE(proxy.wait_for_output("wrong credentials", 1s), 0) << proxy.output().tail();
  EXPECT_LT(callee_.wait_for_output("Incoming call", 0ms), 0) << callee_.output().tail();
}

TEST_F(sip_peers_proxy, kamailio_declines_with_603_when_told_to) {
  auto opts = proxy_options();
  opts.reject_code = 603;
  kamailio_process proxy(opts);
  sipp_call call(proxy.host_port(),
                 concat(scenario("uac_auth_declined.xml"), to_user(callee_.user())),
                 credentials(proxy, proxy.password()));
  auto r = call.wait();
  EXPECT_TRUE(r.succeeded()) << r << proxy.output().tail();
}

}  // namespace
}  // namespace otpd::test
