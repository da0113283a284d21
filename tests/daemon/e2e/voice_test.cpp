// The voice channel end to end: otpd as built calls baresip (the phone) directly and through
// kamailio (a proxy that challenges with 407), reads the code, and records the outcome. The
// code read on the call is checked in baresip's recording against the prompt composed from
// the same clips (written as WAV files for otpd's prompts_folder).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "tests/daemon/e2e/scenario.hpp"
#include "tests/support/raw_sip_peer.hpp"
#include "tests/support/sip_peers.hpp"
#include "voice/prompts/prompt_match.hpp"
#include "voice/prompts/prompt_set.hpp"
#include "voice/prompts/wav.hpp"

namespace otpd::test::e2e {
namespace {

namespace json = boost::json;

// One prompt set for the whole test program (synthesised once), written as recordings that
// otpd reads from its prompts_folder: both sides then play and expect the same audio.
struct shared_prompts {
  std::filesystem::path folder;
  prompts::prompt_set set;
  shared_prompts() {
    folder =
        std::filesystem::temp_directory_path() / ("otpd-e2e-prompts-" + std::to_string(::getpid()));
    std::filesystem::create_directories(folder / "en");
    prompts::synthesizer tts;
    prompts::prompt_set synthesised;
    if (auto ec = prompts::prompt_set::build("en", {}, tts, synthesised)) {
      throw std::runtime_error("prompts: " + ec.message());
    }
    for (std::size_t i = 0; i < prompts::clip_count; ++i) {
      const auto c = static_cast<prompts::clip>(i);
      const auto path = folder / "en" / (std::string(prompts::clip_name(c)) + ".wav");
      if (auto ec = prompts::write_wav_file(path.string(), synthesised.samples(c), 8000)) {
        throw std::runtime_error("write " + path.string() + ": " + ec.message());
      }
    }
    // What otpd builds from those files (normalised the same way).
    prompts::prompt_set_options po;
    po.recordings = folder;
    if (auto ec = prompts::prompt_set::build("en", po, tts, set)) {
      throw std::runtime_error("prompts from recordings: " + ec.message());
    }
  }
  ~shared_prompts() {
    std::error_code ec;
    std::filesystem::remove_all(folder, ec);
  }
};

shared_prompts& the_prompts() {
  static shared_prompts p;
  return p;
}

constexpr const char* seal_key = "0123456789abcdef0123456789abcdef";

otpd_options voice_options(const std::string& trunk_yaml) {
  otpd_options opts;
  opts.policy["new_code_on_resend"] = "false";  // the call reads the SMS's code
  opts.code_seal_key = seal_key;
  opts.extra_yaml = "voice:\n  prompts_folder: " + the_prompts().folder.string() +
                    "\n  repeats: 2\n  trunks:\n" + trunk_yaml;
  return opts;
}

std::string trunk(std::uint16_t port, const std::string& extra = "") {
  return "    - name: local\n      uri: sip:127.0.0.1:" + std::to_string(port) +
         "\n      number_format: e164\n      ring_timeout: 3s\n" + extra;
}

bool final_call(const json::object& v, std::size_t i) {
  const std::string s = str(attempt(v, i), "status");
  return s == "completed" || s == "failed" || s == "busy" || s == "no_answer" || s == "rejected" ||
         s == "hung_up_early";
}

// Creates a verification, reads its SMS code, moves past the cooldown and asks for a call.
struct called {
  std::string id;
  std::string code;
  http_response resend;
};
called ask_for_a_call(single_world& w) {
  called c;
  const std::size_t from = w.smsc.events().size();
  c.id = create(*w.otpd, json::object{{"to", "+84912345678"}});
  EXPECT_FALSE(c.id.empty());
  c.code = next_code(w.smsc, from);
  w.otpd->advance_clock(std::chrono::seconds(31));
  c.resend =
      w.otpd->post("/v1/verifications/" + c.id + "/resend", json::object{{"channel", "voice"}});
  return c;
}

// One entry of voice.trunks: `name` at 127.0.0.1:`port`, e164 numbers, `priority`, then `extra`
// (more keys, each line indented by six spaces and ending in a newline).
std::string named_trunk(const std::string& name, std::uint16_t port, int priority,
                        const std::string& extra = "") {
  return "    - name: " + name + "\n      uri: sip:127.0.0.1:" + std::to_string(port) +
         "\n      number_format: e164\n      priority: " + std::to_string(priority) + "\n" + extra;
}

// The sum of otpd_voice_calls_total over every trunk and outcome in a /metrics text.
int calls_counted_in(const std::string& metrics) {
  int sum = 0;
  std::size_t at = 0;
  const std::string name = "otpd_voice_calls_total{";
  while ((at = metrics.find(name, at)) != std::string::npos) {
    const std::size_t end = metrics.find('\n', at);
    const std::string line = metrics.substr(at, end - at);
    sum += std::stoi(line.substr(line.rfind(' ') + 1));
    at = end;
  }
  return sum;
}

// Asks for a call and expects the trunk named `carrier` to complete it; returns /metrics.
std::string expect_completed_by(single_world& w, const std::string& carrier) {
  called c = ask_for_a_call(w);
  EXPECT_EQ(c.resend.status, 202) << c.resend.body;
  if (c.resend.status != 202) return {};
  json::object v = w.otpd->poll_verification(
      c.id, [](const json::object& b) { return final_call(b, 1); }, 60s);
  EXPECT_EQ(str(attempt(v, 1), "status"), "completed") << json::serialize(v) << w.otpd->output();
  EXPECT_EQ(str(attempt(v, 1), "carrier"), carrier);
  return w.otpd->ops_get("/metrics").body;
}

TEST(e2e_voice, the_call_reads_the_code_and_completes) {
  baresip_process phone(baresip_process::options{.user = "84912345678"});
  single_world w(voice_options(trunk(phone.sip_port())));
  called c = ask_for_a_call(w);
  ASSERT_EQ(c.resend.status, 202) << c.resend.body;
  EXPECT_EQ(str(attempt(c.resend.obj(), 1), "channel"), "voice");

  json::object v = w.otpd->poll_verification(
      c.id, [](const json::object& b) { return final_call(b, 1); }, 60s);
  ASSERT_EQ(str(attempt(v, 1), "status"), "completed") << json::serialize(v) << w.otpd->output();
  EXPECT_EQ(num(attempt(v, 1), "sip_code"), 200);
  EXPECT_EQ(str(attempt(v, 1), "carrier"), "local");
  EXPECT_FALSE(str(attempt(v, 1), "submitted_at").empty()) << json::serialize(v);
  EXPECT_TRUE(attempt(v, 1).contains("played_seconds")) << json::serialize(v);

  // What the phone heard is the prompt for this code, and not for another.
  auto files = phone.wait_for_recordings(1, 20s);
  ASSERT_EQ(files.size(), 1u);
  prompts::pcm_audio heard;
  ASSERT_FALSE(prompts::read_wav_file(files[0], heard));
  ASSERT_EQ(heard.sample_rate, 8000);
  prompts::prompt right;
  prompts::prompt wrong;
  ASSERT_FALSE(the_prompts().set.compose(c.code, 2, {}, right));
  ASSERT_FALSE(the_prompts().set.compose(wrong_code(c.code), 2, {}, wrong));
  const auto r = prompts::match_prompt(heard.samples, right);
  const auto x = prompts::match_prompt(heard.samples, wrong);
  std::cout << "prompt match, worst segment: right code " << r.min_score << ", wrong code "
            << x.min_score << "\n";
  EXPECT_GT(r.min_score, 0.7) << "right code: min " << r.min_score << " mean " << r.mean_score;
  EXPECT_LT(x.min_score, r.min_score - 0.2) << "wrong code scored " << x.min_score;

  // The code heard approves the verification.
  http_response ok = check(*w.otpd, c.id, c.code);
  EXPECT_EQ(ok.status, 200) << ok.body;

  http_response m = w.otpd->ops_get("/metrics");
  EXPECT_NE(m.body.find("otpd_voice_calls_total{trunk=\"local\",outcome=\"completed\"} 1"),
            std::string::npos)
      << m.body;
}

TEST(e2e_voice, through_a_proxy_that_asks_for_digest_auth) {
  baresip_process phone(baresip_process::options{.user = "84912345678"});
  kamailio_process proxy(kamailio_process::options{.forward = phone.host_port()});
  single_world w(
      voice_options(trunk(proxy.sip_port(), "      username: " + proxy.username() +
                                                "\n      password: " + proxy.password() + "\n")));
  called c = ask_for_a_call(w);
  ASSERT_EQ(c.resend.status, 202) << c.resend.body;
  json::object v = w.otpd->poll_verification(
      c.id, [](const json::object& b) { return final_call(b, 1); }, 60s);
  EXPECT_EQ(str(attempt(v, 1), "status"), "completed") << json::serialize(v) << w.otpd->output();
  EXPECT_EQ(phone.wait_for_recordings(1, 20s).size(), 1u);
}

TEST(e2e_voice, a_wrong_trunk_password_ends_failed_with_the_403) {
  baresip_process phone(baresip_process::options{.user = "84912345678"});
  kamailio_process proxy(kamailio_process::options{.forward = phone.host_port()});
  single_world w(voice_options(trunk(
      proxy.sip_port(), "      username: " + proxy.username() + "\n      password: wrong\n")));
  called c = ask_for_a_call(w);
  ASSERT_EQ(c.resend.status, 202) << c.resend.body;
  json::object v = w.otpd->poll_verification(
      c.id, [](const json::object& b) { return final_call(b, 1); }, 60s);
  EXPECT_EQ(str(attempt(v, 1), "status"), "failed") << json::serialize(v);
  EXPECT_EQ(num(attempt(v, 1), "sip_code"), 403) << json::serialize(v);
  EXPECT_EQ(str(v, "status"), "pending");  // the SMS code still works
  // One call, counted once: failed, and not also failed_over (no trunk took it on).
  const std::string m = w.otpd->ops_get("/metrics").body;
  EXPECT_NE(m.find("otpd_voice_calls_total{trunk=\"local\",outcome=\"failed\"} 1"),
            std::string::npos)
      << m;
  EXPECT_EQ(m.find("outcome=\"failed_over\""), std::string::npos) << m;
  EXPECT_EQ(calls_counted_in(m), 1) << m;
}

TEST(e2e_voice, busy_and_no_answer_are_recorded) {
  {
    baresip_process phone(baresip_process::options{.user = "84912345678",
                                                   .mode = baresip_process::answer_mode::busy});
    single_world w(voice_options(trunk(phone.sip_port())));
    called c = ask_for_a_call(w);
    ASSERT_EQ(c.resend.status, 202) << c.resend.body;
    json::object v = w.otpd->poll_verification(
        c.id, [](const json::object& b) { return final_call(b, 1); }, 30s);
    EXPECT_EQ(str(attempt(v, 1), "status"), "busy") << json::serialize(v);
    EXPECT_EQ(num(attempt(v, 1), "sip_code"), 486);
  }
  {
    // Rings and is never answered: the ring timeout (3 s) cancels the call.
    baresip_process phone(baresip_process::options{.user = "84912345678",
                                                   .mode = baresip_process::answer_mode::ring});
    single_world w(voice_options(trunk(phone.sip_port())));
    called c = ask_for_a_call(w);
    ASSERT_EQ(c.resend.status, 202) << c.resend.body;
    json::object v = w.otpd->poll_verification(
        c.id, [](const json::object& b) { return attempt_status_is(b, 1, "ringing"); }, 20s);
    EXPECT_EQ(str(attempt(v, 1), "status"), "ringing") << json::serialize(v);
    v = w.otpd->poll_verification(
        c.id, [](const json::object& b) { return final_call(b, 1); }, 30s);
    EXPECT_EQ(str(attempt(v, 1), "status"), "no_answer") << json::serialize(v);
  }
}

TEST(e2e_voice, a_declined_call_is_rejected) {
  baresip_process phone(baresip_process::options{.user = "84912345678"});
  kamailio_process proxy(
      kamailio_process::options{.forward = phone.host_port(), .reject_code = 603});
  single_world w(
      voice_options(trunk(proxy.sip_port(), "      username: " + proxy.username() +
                                                "\n      password: " + proxy.password() + "\n")));
  called c = ask_for_a_call(w);
  ASSERT_EQ(c.resend.status, 202) << c.resend.body;
  json::object v = w.otpd->poll_verification(
      c.id, [](const json::object& b) { return final_call(b, 1); }, 30s);
  EXPECT_EQ(str(attempt(v, 1), "status"), "rejected") << json::serialize(v);
  EXPECT_EQ(num(attempt(v, 1), "sip_code"), 603);
}

TEST(e2e_voice, a_trunk_that_cannot_carry_the_call_passes_it_to_the_next) {
  baresip_process phone(baresip_process::options{.user = "84912345678"});
  // The first trunk (priority 0) answers 503 once authenticated; the second reaches the phone.
  kamailio_process broken(kamailio_process::options{
      .forward = phone.host_port(), .reject_code = 503, .reject_reason = "Service Unavailable"});
  single_world w(voice_options(named_trunk("first", broken.sip_port(), 0,
                                           "      username: " + broken.username() +
                                               "\n      password: " + broken.password() + "\n") +
                               named_trunk("second", phone.sip_port(), 1)));
  const std::string metrics = expect_completed_by(w, "second");
  EXPECT_NE(metrics.find("otpd_voice_calls_total{trunk=\"first\",outcome=\"failed_over\"} 1"),
            std::string::npos)
      << metrics;
}

TEST(e2e_voice, a_trunk_answering_garbage_is_counted_and_passes_the_call_on) {
  // The first trunk answers the INVITE with bytes that are not SIP (raw_sip_peer: no real peer
  // can be made to). otpd gives up that connection, counts and logs it, and the second trunk
  // carries the call; otpd keeps serving.
  baresip_process phone(baresip_process::options{.user = "84912345678"});
  raw_sip_peer garbage(raw_sip_peer::transport::tcp, [](const std::string&) {
    return std::vector<std::string>{std::string("\x16\x03\x01\x02\x00 not SIP\r\n\r\n", 17)};
  });
  single_world w(voice_options(named_trunk("garbage", garbage.port(), 0, "      transport: tcp\n") +
                               named_trunk("phone", phone.sip_port(), 1)));
  const std::string metrics = expect_completed_by(w, "phone");
  EXPECT_EQ(garbage.received().size(), 1u);
  EXPECT_NE(metrics.find("otpd_voice_sip_malformed_total{trunk=\"garbage\"} 1"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("otpd_voice_calls_total{trunk=\"garbage\",outcome=\"failed_over\"} 1"),
            std::string::npos)
      << metrics;
  EXPECT_NE(w.otpd->output().find("sip_malformed verification="), std::string::npos)
      << w.otpd->output();
  EXPECT_EQ(w.otpd->get("/healthz", false).status, 200);
}

TEST(e2e_voice, an_undeliverable_sms_falls_back_to_a_call_at_once) {
  baresip_process phone(baresip_process::options{.user = "84912345678"});
  otpd_options opts = voice_options(trunk(phone.sip_port()));
  opts.policy["fallback_on_sms_failure"] = "true";
  // The carrier reports every SMS undeliverable.
  single_world w(opts, {"--receipt-stat", "UNDELIV:001"});
  const std::string id = create(*w.otpd, json::object{{"to", "+84912345678"}});
  ASSERT_FALSE(id.empty());
  // No resend request, no cooldown: the receipt starts the call.
  json::object v = w.otpd->poll_verification(
      id, [](const json::object& b) { return final_call(b, 1); }, 60s);
  EXPECT_EQ(str(attempt(v, 0), "status"), "undelivered") << json::serialize(v);
  EXPECT_EQ(str(attempt(v, 1), "channel"), "voice") << json::serialize(v);
  EXPECT_EQ(str(attempt(v, 1), "status"), "completed") << json::serialize(v);
  EXPECT_EQ(str(v, "status"), "pending");
}

TEST(e2e_voice, without_trunks_the_voice_channel_is_unavailable) {
  single_world w;
  called c = ask_for_a_call(w);
  EXPECT_EQ(c.resend.status, 501) << c.resend.body;
  EXPECT_EQ(c.resend.problem_slug(), "channel_unavailable");
}

TEST(e2e_voice, a_reload_changes_the_trunks_without_a_restart) {
  baresip_process phone(baresip_process::options{.user = "84912345678"});
  auto named = [&](const std::string& name) {
    return "    - name: " + name +
           "\n      uri: sip:127.0.0.1:" + std::to_string(phone.sip_port()) +
           "\n      number_format: e164\n      ring_timeout: 3s\n";
  };
  single_world w(voice_options(named("old")));
  // The trunk "old" is replaced by "new": SIGHUP, no restart.
  otpd_options next = voice_options(named("new"));
  next.carriers = w.options.carriers;
  std::ofstream(w.dir.path() / "otpd.yaml", std::ios::trunc) << config_yaml(next, w.dir.path());
  const std::size_t from = w.otpd->lines().size();
  ASSERT_EQ(::kill(w.otpd->pid(), SIGHUP), 0);
  auto line = w.otpd->wait_for_line(
      [](std::string_view l) { return l.find("reloaded") != std::string_view::npos; }, 10s, from);
  ASSERT_TRUE(line) << w.otpd->output();
  EXPECT_NE(line->find("restart_needed_for=\"\""), std::string::npos) << *line;
  std::string changes;
  for (std::size_t i = from; i < w.otpd->lines().size(); ++i) changes += w.otpd->lines()[i] + "\n";
  EXPECT_NE(changes.find("trunk new added"), std::string::npos) << changes;
  EXPECT_NE(changes.find("trunk old removed"), std::string::npos) << changes;

  called c = ask_for_a_call(w);
  ASSERT_EQ(c.resend.status, 202) << c.resend.body;
  json::object v = w.otpd->poll_verification(
      c.id, [](const json::object& b) { return final_call(b, 1); }, 30s);
  EXPECT_EQ(str(attempt(v, 1), "status"), "completed") << json::serialize(v);
  EXPECT_EQ(str(attempt(v, 1), "carrier"), "new");
}

// Waits for the attempt to reach a final status and says how long that took from `since`.
std::pair<json::object, steady::duration> final_after(single_world& w, const std::string& id,
                                                      steady::time_point since,
                                                      std::chrono::milliseconds limit) {
  json::object v = w.otpd->poll_verification(
      id, [](const json::object& b) { return final_call(b, 1); }, limit);
  return {v, steady::now() - since};
}

TEST(e2e_voice, a_udp_trunk_where_nothing_listens_passes_the_call_on_at_once) {
  // The first trunk is a UDP port where nothing listens: the kernel's ICMP port unreachable
  // ends that leg at once (Timer B would be 32 s), and the second trunk completes the call.
  baresip_process phone(baresip_process::options{.user = "84912345678"});
  const std::uint16_t dead = pick_free_port();
  single_world w(
      voice_options(named_trunk("dead", dead, 0) + named_trunk("phone", phone.sip_port(), 1)));
  const std::size_t from = w.smsc.events().size();
  const std::string id = create(*w.otpd, json::object{{"to", "+84912345678"}});
  ASSERT_FALSE(id.empty());
  next_code(w.smsc, from);
  w.otpd->advance_clock(std::chrono::seconds(31));
  const auto asked = steady::now();
  http_response r =
      w.otpd->post("/v1/verifications/" + id + "/resend", json::object{{"channel", "voice"}});
  ASSERT_EQ(r.status, 202) << r.body;
  // The phone answers well before Timer B could have passed on the first trunk.
  json::object v = w.otpd->poll_verification(
      id,
      [](const json::object& b) { return attempt_status_is(b, 1, "answered") || final_call(b, 1); },
      20s);
  const auto to_answer = steady::now() - asked;
  EXPECT_LT(to_answer, 8s) << json::serialize(v);
  auto [done, took] = final_after(w, id, asked, 60s);
  EXPECT_EQ(str(attempt(done, 1), "status"), "completed") << json::serialize(done);
  EXPECT_EQ(str(attempt(done, 1), "carrier"), "phone");
  const std::string m = w.otpd->ops_get("/metrics").body;
  EXPECT_NE(m.find("otpd_voice_calls_total{trunk=\"dead\",outcome=\"failed_over\"} 1"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("otpd_voice_calls_total{trunk=\"phone\",outcome=\"completed\"} 1"),
            std::string::npos)
      << m;
  EXPECT_EQ(calls_counted_in(m), 2) << m;  // two calls placed, each counted once
}

TEST(e2e_voice, a_callee_hanging_up_before_the_code_was_read_is_hung_up_early) {
  baresip_process phone(baresip_process::options{.user = "84912345678",
                                                 .mode = baresip_process::answer_mode::hangup_after,
                                                 .hangup_after = 2s});
  webhook_receiver hooks;
  otpd_options opts = voice_options(trunk(phone.sip_port()));
  opts.webhook_url = "http://127.0.0.1:" + std::to_string(hooks.port()) + "/hook";
  single_world w(opts);
  called c = ask_for_a_call(w);
  ASSERT_EQ(c.resend.status, 202) << c.resend.body;
  json::object v = w.otpd->poll_verification(
      c.id, [](const json::object& b) { return final_call(b, 1); }, 60s);
  const json::object a = attempt(v, 1);
  ASSERT_EQ(str(a, "status"), "hung_up_early") << json::serialize(v) << w.otpd->output();
  EXPECT_EQ(num(a, "sip_code"), 200);
  EXPECT_EQ(str(a, "sip_reason"), "remote hangup");
  // About the 2 s the phone listened, and less than the first reading of the code.
  prompts::prompt p;
  ASSERT_FALSE(the_prompts().set.compose(c.code, 2, {}, p));
  std::size_t first_reading_end = 0;
  std::size_t digits = 0;
  for (const auto& s : p.segments) {
    if (s.id >= prompts::clip::digit_0 && s.id <= prompts::clip::digit_9 && ++digits == 6) {
      first_reading_end = s.start + s.length;
      break;
    }
  }
  ASSERT_TRUE(a.contains("played_seconds")) << json::serialize(a);
  const double played = a.at("played_seconds").to_number<double>();
  EXPECT_GT(played, 1.0) << json::serialize(a);
  EXPECT_LT(played, static_cast<double>(first_reading_end) / 8000.0) << json::serialize(a);
  // The log line says what the API says.
  auto line = w.otpd->wait_for_line(
      [](std::string_view l) { return l.find("call_ended") != std::string_view::npos; }, 5s);
  ASSERT_TRUE(line) << w.otpd->output();
  EXPECT_NE(line->find("outcome=hung_up_early"), std::string::npos) << *line;
  EXPECT_NE(line->find("sip_code=200"), std::string::npos) << *line;
  // The code was not heard: the SMS code is still the one to use, the verification pending.
  EXPECT_EQ(str(v, "status"), "pending");
  // The webhook tells the backend the same.
  auto hook = hooks.wait_for(
      [](const received_request& r) { return r.body.find("hung_up_early") != std::string::npos; },
      10s);
  ASSERT_TRUE(hook) << w.otpd->output();
  const json::object h = json::parse(hook->body).as_object();
  EXPECT_EQ(str(attempt(h.at("verification").as_object(), 1), "status"), "hung_up_early")
      << hook->body;
  const std::string m = w.otpd->ops_get("/metrics").body;
  EXPECT_NE(m.find("otpd_voice_calls_total{trunk=\"local\",outcome=\"hung_up_early\"} 1"),
            std::string::npos)
      << m;
}

TEST(e2e_voice, a_burst_of_calls_waits_for_the_trunk_rate_instead_of_failing) {
  // 20 voice resends at once on a trunk allowed 4 calls per second: 4 go at once, the other 16
  // wait their turn (250 ms apart), and every one is placed. The callee answers each INVITE
  // 486 Busy (no media: the test is about placing calls).
  std::mutex mu;
  std::vector<steady::time_point> invites;
  raw_sip_peer callee(raw_sip_peer::transport::udp, [&](const std::string& m) {
    if (!m.starts_with("INVITE ")) return std::vector<std::string>{};
    {
      std::lock_guard lock(mu);
      invites.push_back(steady::now());
    }
    return std::vector<std::string>{sip_response_to(m, 486, "Busy Here")};
  });
  otpd_options opts =
      voice_options(named_trunk("slow", callee.port(), 0, "      calls_per_second: 4\n"));
  opts.extra_yaml += "  rate_wait: 10s\n";
  single_world w(opts);
  constexpr int calls = 20;
  std::vector<std::string> ids;
  for (int i = 0; i < calls; ++i) {
    ids.push_back(create(*w.otpd, json::object{{"to", "+84912345678"}}));
    ASSERT_FALSE(ids.back().empty());
  }
  w.otpd->advance_clock(std::chrono::seconds(31));
  for (const std::string& id : ids) {
    http_response r =
        w.otpd->post("/v1/verifications/" + id + "/resend", json::object{{"channel", "voice"}});
    ASSERT_EQ(r.status, 202) << r.body;
  }
  int busy = 0;
  for (const std::string& id : ids) {
    json::object v = w.otpd->poll_verification(
        id, [](const json::object& b) { return final_call(b, 1); }, 30s);
    EXPECT_EQ(str(attempt(v, 1), "status"), "busy") << json::serialize(v);
    EXPECT_NE(str(attempt(v, 1), "error"), "no_trunk_available") << json::serialize(v);
    if (str(attempt(v, 1), "status") == "busy") ++busy;
  }
  EXPECT_EQ(busy, calls);
  std::lock_guard lock(mu);
  ASSERT_EQ(invites.size(), static_cast<std::size_t>(calls));
  // The 16 beyond the bucket went out at the trunk's rate: 16 * 250 ms after the first.
  EXPECT_GE(invites.back() - invites.front(), 3500ms);
  const std::string m = w.otpd->ops_get("/metrics").body;
  EXPECT_NE(m.find("otpd_voice_calls_total{trunk=\"slow\",outcome=\"busy\"} 20"), std::string::npos)
      << m;
  EXPECT_EQ(calls_counted_in(m), calls) << m;
}

TEST(e2e_voice, a_call_that_never_left_gives_its_send_back) {
  // A TCP trunk whose port refuses connections: no INVITE leaves, the attempt fails with the
  // address and port in its reason, and the verification keeps the send.
  closed_port refused;
  single_world w(voice_options(named_trunk("tcp", refused.port(), 0, "      transport: tcp\n")));
  const std::size_t from = w.smsc.events().size();
  const std::string id = create(*w.otpd, json::object{{"to", "+84912345678"}});
  ASSERT_FALSE(id.empty());
  next_code(w.smsc, from);
  w.otpd->advance_clock(std::chrono::seconds(31));
  http_response r =
      w.otpd->post("/v1/verifications/" + id + "/resend", json::object{{"channel", "voice"}});
  ASSERT_EQ(r.status, 202) << r.body;
  const std::int64_t remaining_when_asked = num(r.obj(), "sends_remaining");
  json::object v = w.otpd->poll_verification(
      id, [](const json::object& b) { return final_call(b, 1); }, 20s);
  const json::object a = attempt(v, 1);
  EXPECT_EQ(str(a, "status"), "failed") << json::serialize(v);
  EXPECT_EQ(str(a, "error"), "trunk_unreachable") << json::serialize(v);
  EXPECT_EQ(str(a, "sip_reason"), "cannot connect to 127.0.0.1:" + std::to_string(refused.port()) +
                                      ": Connection refused")
      << json::serialize(v);
  EXPECT_FALSE(a.contains("submitted_at")) << json::serialize(v);
  EXPECT_EQ(num(v, "sends_remaining"), remaining_when_asked + 1) << json::serialize(v);
}

// "2026-12-03T10:43:25.658Z" as milliseconds since the epoch; -1 when it is not that shape.
std::int64_t epoch_ms(const std::string& t) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7) {
    return -1;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(::timegm(&tm)) * 1000 + ms;
}

TEST(e2e_voice, a_failed_call_was_submitted_when_its_invite_left) {
  // The trunk answers the INVITE 100 Trying and nothing more; the ring timeout (1 s) cancels,
  // and the trunk ends the INVITE with 487. submitted_at is the INVITE's time, a second before
  // the call ended, not the end.
  std::mutex mu;
  std::string invite;
  raw_sip_peer trunk_peer(raw_sip_peer::transport::udp, [&](const std::string& m) {
    std::lock_guard lock(mu);
    if (m.starts_with("INVITE ")) {
      invite = m;
      return std::vector<std::string>{sip_response_to(m, 100, "Trying", "")};
    }
    if (m.starts_with("CANCEL ") && !invite.empty()) {
      return std::vector<std::string>{sip_response_to(m, 200, "OK"),
                                      sip_response_to(invite, 487, "Request Terminated")};
    }
    return std::vector<std::string>{};
  });
  single_world w(
      voice_options(named_trunk("slow", trunk_peer.port(), 0, "      ring_timeout: 1s\n")));
  called c = ask_for_a_call(w);
  ASSERT_EQ(c.resend.status, 202) << c.resend.body;
  json::object v = w.otpd->poll_verification(
      c.id, [](const json::object& b) { return final_call(b, 1); }, 20s);
  const json::object a = attempt(v, 1);
  EXPECT_EQ(str(a, "status"), "no_answer") << json::serialize(v);
  EXPECT_EQ(num(a, "sip_code"), 487) << json::serialize(v);
  const std::int64_t created = epoch_ms(str(a, "created_at"));
  const std::int64_t submitted = epoch_ms(str(a, "submitted_at"));
  const std::int64_t completed = epoch_ms(str(a, "completed_at"));
  ASSERT_GT(submitted, 0) << json::serialize(v);
  ASSERT_GT(completed, 0) << json::serialize(v);
  EXPECT_GE(submitted, created) << json::serialize(v);
  EXPECT_GE(completed - submitted, 900) << json::serialize(v);  // the ring timeout between
}

// A UDP socket on `address` counting the datagrams that reach it, read on its own thread (a
// whole prompt is more than a socket buffer holds).
class udp_counter {
 public:
  explicit udp_counter(const char* address) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::inet_pton(AF_INET, address, &a.sin_addr);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      throw std::runtime_error(std::string("bind ") + address);
    }
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    timeval tv{0, 100'000};  // the thread looks at stop_ this often
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    thread_ = std::thread([this] {
      char buf[2048];
      while (!stop_) {
        if (::recv(fd_, buf, sizeof buf, 0) > 0) {
          std::lock_guard lock(mu_);
          ++count_;
          changed_.notify_all();
        }
      }
    });
  }
  ~udp_counter() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }
  int count() const {
    std::lock_guard lock(mu_);
    return count_;
  }
  // Waits until at least `n` have come (the datagrams sent are in the socket's queue; the
  // thread may not have read them yet); the count at that point or at the deadline.
  int wait_for(int n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mu_);
    changed_.wait_for(lock, timeout, [&] { return count_ >= n; });
    return count_;
  }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  int count_ = 0;
  std::thread thread_;
};

// A trunk on 127.0.0.1 that answers every INVITE 200 with an SDP answer sending the media to
// `media_address`:`media_port`, and every BYE 200.
struct media_elsewhere_trunk {
  std::atomic<std::uint16_t> port{0};
  std::string address;
  std::uint16_t media_port;
  raw_sip_peer peer;
  media_elsewhere_trunk(std::string media_address, std::uint16_t rtp_port)
      : address(std::move(media_address)),
        media_port(rtp_port),
        peer(raw_sip_peer::transport::udp, [this](const std::string& m) {
          if (m.starts_with("INVITE ")) {
            const std::string sdp = "v=0\r\no=- 1 1 IN IP4 " + address + "\r\ns=-\r\nc=IN IP4 " +
                                    address + "\r\nt=0 0\r\nm=audio " + std::to_string(media_port) +
                                    " RTP/AVP 0\r\n";
            return std::vector<std::string>{
                sip_response_to(m, 200, "OK", "raw",
                                "Contact: <sip:raw@127.0.0.1:" + std::to_string(port.load()) +
                                    ">\r\nContent-Type: application/sdp\r\n",
                                sdp)};
          }
          if (m.starts_with("BYE ")) return std::vector<std::string>{sip_response_to(m, 200, "OK")};
          return std::vector<std::string>{};
        }) {
    port = peer.port();
  }
};

TEST(e2e_voice, an_answer_sending_the_audio_elsewhere_gets_none_and_fails_the_attempt) {
  // The trunk is 127.0.0.1; its answer says c=IN IP4 127.0.0.2. Not one packet of the code
  // may reach 127.0.0.2: the call is hung up and the attempt fails with the reason.
  udp_counter elsewhere("127.0.0.2");
  media_elsewhere_trunk trunk_peer("127.0.0.2", elsewhere.port());
  single_world w(voice_options(trunk(trunk_peer.port)));
  called c = ask_for_a_call(w);
  ASSERT_EQ(c.resend.status, 202) << c.resend.body;
  json::object v = w.otpd->poll_verification(
      c.id, [](const json::object& b) { return final_call(b, 1); }, 20s);
  const json::object a = attempt(v, 1);
  EXPECT_EQ(str(a, "status"), "failed") << json::serialize(v);
  EXPECT_EQ(str(a, "error"), "media_address_refused") << json::serialize(v);
  EXPECT_EQ(num(a, "sip_code"), 200) << json::serialize(v);
  EXPECT_EQ(str(a, "sip_reason"), "media address refused: 127.0.0.2 port " +
                                      std::to_string(elsewhere.port()) +
                                      " (not in the trunk's media networks)")
      << json::serialize(v);
  EXPECT_TRUE(trunk_peer.peer.wait_for("BYE ", 5s));
  auto line = w.otpd->wait_for_line(
      [](std::string_view l) { return l.find("call_ended") != std::string_view::npos; }, 5s);
  ASSERT_TRUE(line) << w.otpd->output();
  EXPECT_NE(line->find("error=media_address_refused"), std::string::npos) << *line;
  EXPECT_NE(line->find("127.0.0.2"), std::string::npos) << *line;
  EXPECT_EQ(line->find("84912345678"), std::string::npos) << *line;  // the number stays masked
  const std::string m = w.otpd->ops_get("/metrics").body;
  EXPECT_NE(m.find("otpd_voice_calls_total{trunk=\"local\",outcome=\"failed\"} 1"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("otpd_voice_media_refused_total{trunk=\"local\"} 1"), std::string::npos) << m;
  auto warning = w.otpd->wait_for_line(
      [](std::string_view l) { return l.find("media_refused") != std::string_view::npos; }, 5s);
  ASSERT_TRUE(warning) << w.otpd->output();
  EXPECT_NE(warning->find("trunk=local"), std::string::npos) << *warning;
  EXPECT_NE(warning->find("127.0.0.2"), std::string::npos) << *warning;
  // After the BYE anything sent would be in the socket's queue: give the thread time to read it.
  EXPECT_EQ(elsewhere.wait_for(1, 1s), 0);
}

TEST(e2e_voice, a_media_network_lets_the_audio_go_to_a_separate_gateway) {
  // The same answer, with 127.0.0.2 in the trunk's media_networks: the code is read there.
  udp_counter gateway("127.0.0.2");
  media_elsewhere_trunk trunk_peer("127.0.0.2", gateway.port());
  single_world w(voice_options(trunk(trunk_peer.port, "      media_networks: [127.0.0.2/32]\n")));
  called c = ask_for_a_call(w);
  ASSERT_EQ(c.resend.status, 202) << c.resend.body;
  json::object v = w.otpd->poll_verification(
      c.id, [](const json::object& b) { return final_call(b, 1); }, 60s);
  const json::object a = attempt(v, 1);
  EXPECT_EQ(str(a, "status"), "completed") << json::serialize(v) << w.otpd->output();
  EXPECT_EQ(str(a, "error"), "") << json::serialize(v);
  ASSERT_TRUE(a.contains("played_seconds")) << json::serialize(a);
  // Every packet sent arrived (loopback): 50 per second of prompt.
  const int sent = static_cast<int>(std::lround(a.at("played_seconds").to_number<double>() * 50));
  EXPECT_GT(sent, 100) << json::serialize(a);
  EXPECT_EQ(gateway.wait_for(sent, 5s), sent) << json::serialize(a);
}

// SIGTERM while a call rings, past the drain (process.shutdown_drain): the call is cancelled,
// otpd exits 0 by itself, and (in the asan preset) without a sanitizer report.
TEST(e2e_voice, sigterm_while_a_call_rings_past_the_drain_cancels_it_and_exits_cleanly) {
  baresip_process phone(
      baresip_process::options{.user = "84912345678", .mode = baresip_process::answer_mode::ring});
  otpd_options opts =
      voice_options(named_trunk("local", phone.sip_port(), 1, "      ring_timeout: 60s\n"));
  opts.extra_yaml += "process:\n  shutdown_drain: 500ms\n";
  single_world w(opts);
  called c = ask_for_a_call(w);
  ASSERT_EQ(c.resend.status, 202) << c.resend.body;
  json::object v = w.otpd->poll_verification(
      c.id, [](const json::object& b) { return attempt_status_is(b, 1, "ringing"); }, 20s);
  ASSERT_EQ(str(attempt(v, 1), "status"), "ringing") << json::serialize(v);

  ASSERT_EQ(::kill(w.otpd->pid(), SIGTERM), 0);
  const std::optional<int> status = w.otpd->wait_exit(15s);
  ASSERT_TRUE(status) << "otpd did not exit within 15 s of SIGTERM\n" << w.otpd->output();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
      << describe_wait_status(*status) << "\n"
      << w.otpd->output();
  EXPECT_NE(w.otpd->output().find("drain_timed_out"), std::string::npos) << w.otpd->output();
}

}  // namespace
}  // namespace otpd::test::e2e
