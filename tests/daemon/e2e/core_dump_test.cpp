// What a core of a running otpd holds: none of the configured secrets (MAC key, SMPP password,
// webhook secret, SIP password, API key), none of the codes it sent, by SMS or read in a call,
// and none typed on /check. Secrets sit in pages marked MADV_DONTDUMP (left out of cores by the
// kernel and by gcore alike) and codes, texts, PDUs and request buffers are wiped once used; the
// process is not dumpable unless process.core_dumps says so. The secrets are given as ${env:}
// and ${file:} references, as docs/operations.md asks: one written in the file itself may stay
// in the YAML parser's freed memory.
//
// Labelled `core`: the AddressSanitizer build does not run these (its shadow and allocator
// reserve tens of GB that a gcore would write out, and the sanitizer turns core dumps off
// itself); the debug and release builds, what ships, do.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <csignal>
#include <fstream>
#include <iterator>

#include "tests/daemon/e2e/scenario.hpp"
#include "tests/support/sip_peers.hpp"

namespace otpd::test::e2e {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

constexpr std::string_view sip_password = "e2e-sip-password-31c7d9a2";
// Typed on /check (not the code sent: 10 digits, a chance match of 1 in 10^10) and a bearer
// key otpd does not know.
constexpr std::string_view typed_wrong_code = "7305918264";
constexpr std::string_view unknown_api_key = "e2e-unknown-key-e6b02d9f41";

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A core of the running process, taken with gdb's gcore; its bytes.
std::string take_core(pid_t pid, const fs::path& dir) {
  const fs::path prefix = dir / "core";
  std::vector<std::string> out;
  child_process gcore(
      {"gcore", "-o", prefix.string(), std::to_string(pid)},
      [&out](std::string_view l) { out.emplace_back(l); },
      child_process::options{.merge_stderr = true});
  const auto status = gcore.wait_exit(child_process::clock::now() + 120s);
  std::string log;
  for (const auto& l : out) log += l + "\n";
  EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << log;
  const fs::path file = prefix.string() + "." + std::to_string(pid);
  std::string bytes = read_all(file);
  fs::remove(file);
  return bytes;
}

// Where `what` is in the core, with the bytes around it (printable ones), for the failure
// message: what kind of buffer still held it.
std::string found_in(const std::string& core, std::string_view what) {
  const std::size_t at = core.find(what);
  if (at == std::string::npos) return "nowhere";
  const std::size_t from = at < 96 ? 0 : at - 96;
  std::string around = core.substr(from, 192 + what.size());
  for (char& c : around) {
    if (c < 0x20 || c > 0x7e) c = '.';
  }
  return "offset " + std::to_string(at) + ": " + around;
}

// The otpd options of these tests: long codes (no chance match among a core's digits), signed
// webhooks, and a SIP trunk whose password comes from a file (nothing calls it).
otpd_options with_every_secret(const fs::path& dir, std::uint16_t webhook_port) {
  const fs::path pw = dir / "sip-password";
  std::ofstream(pw, std::ios::binary) << sip_password << "\n";
  fs::permissions(pw, fs::perms::owner_read | fs::perms::owner_write);
  otpd_options opts;
  opts.policy["code_length"] = "10";
  opts.webhook_url = "http://127.0.0.1:" + std::to_string(webhook_port) + "/hook";
  const closed_port nowhere;
  opts.extra_yaml = "voice:\n  trunks:\n    - name: local\n      uri: sip:127.0.0.1:" +
                    std::to_string(nowhere.port()) +
                    "\n      username: otpd\n      password: " + "${file:" + pw.string() + "}\n";
  return opts;
}

TEST(e2e_core, a_core_holds_no_secret_and_no_code_sent) {
  webhook_receiver hooks;
  temp_dir keys;
  otpd_options opts = with_every_secret(keys.path(), hooks.port());
  opts.extra_yaml += "process:\n  core_dumps: true\n";  // as an operator debugging a crash
  single_world w(opts);
  otpd_process& o = *w.otpd;

  // Three SMS, each one through to its receipt and its signed webhook.
  std::vector<std::string> codes;
  std::string last_id;
  for (const char* to : {"+84912345671", "+84912345672", "+84912345673"}) {
    w.smsc.sync();
    const std::size_t from = w.smsc.size();
    const std::string id = create(o, json::object{{"to", to}});
    ASSERT_FALSE(id.empty());
    last_id = id;
    codes.push_back(next_code(w.smsc, from, 10));
    ASSERT_EQ(codes.back().size(), 10u);
    o.poll_verification(id,
                        [](const json::object& b) { return attempt_status_is(b, 0, "delivered"); });
    ASSERT_TRUE(hooks.wait_for(
        [&](const received_request& r) { return r.body.find(id) != std::string::npos; }, 15s))
        << "no signed webhook for " << id;
  }

  // What users type reaches otpd through the HTTP API: a wrong code and the right one on
  // /check, each on a request carrying the bearer key; and a request with a key otpd does not
  // know (refused, but read all the same). None of these may stay in the connection's buffers,
  // the parser's copies or the JSON parsed from the body once the request is answered.
  const std::string check_target = "/v1/verifications/" + last_id + "/check";
  http_response r = o.post(check_target, json::object{{"code", typed_wrong_code}});
  ASSERT_EQ(r.status, 422) << r.body;
  r = o.post(check_target, json::object{{"code", codes.back()}});
  ASSERT_EQ(r.status, 200) << r.body;
  r = o.call("GET", "/v1/verifications/" + last_id,
             {{"Authorization", "Bearer " + std::string(unknown_api_key)}}, std::nullopt, false);
  ASSERT_EQ(r.status, 401) << r.body;

  const std::string core = take_core(o.pid(), w.dir.path());
  // The core is a real one: the heap with the configuration's own (non-secret) text is in it.
  ASSERT_GT(core.size(), 1'000'000u);
  ASSERT_NE(core.find("Your otpd code is {code}"), std::string::npos) << "no template in the core";
  EXPECT_EQ(core.find(mac_key), std::string::npos)
      << "the MAC key is in the core: " << found_in(core, mac_key);
  EXPECT_EQ(core.find(smsc_password), std::string::npos)
      << "the SMPP password is in the core: " << found_in(core, smsc_password);
  EXPECT_EQ(core.find(webhook_secret), std::string::npos)
      << "the webhook secret is in the core: " << found_in(core, webhook_secret);
  EXPECT_EQ(core.find(sip_password), std::string::npos)
      << "the SIP password is in the core: " << found_in(core, sip_password);
  for (const std::string& code : codes) {
    EXPECT_EQ(core.find(code), std::string::npos)
        << "the code is in the core: " << found_in(core, code);
  }
  EXPECT_EQ(core.find(typed_wrong_code), std::string::npos)
      << "the wrong code typed is in the core: " << found_in(core, typed_wrong_code);
  EXPECT_EQ(core.find(api_key), std::string::npos)
      << "the API key is in the core: " << found_in(core, api_key);
  EXPECT_EQ(core.find(unknown_api_key), std::string::npos)
      << "the unknown API key is in the core: " << found_in(core, unknown_api_key);
}

TEST(e2e_core, a_core_after_a_call_holds_neither_the_trunk_password_nor_the_code_read) {
  baresip_process phone(baresip_process::options{.user = "84912345678"});
  kamailio_process proxy(kamailio_process::options{.password = std::string(sip_password),
                                                   .forward = phone.host_port()});
  temp_dir keys;
  const fs::path pw = keys.path() / "sip-password";
  std::ofstream(pw, std::ios::binary) << sip_password << "\n";
  fs::permissions(pw, fs::perms::owner_read | fs::perms::owner_write);
  otpd_options opts;
  opts.policy["code_length"] = "10";
  opts.policy["new_code_on_resend"] = "false";  // the call reads the SMS's code, which we know
  opts.code_seal_key = "e2e-seal-key-0123456789abcdef012";  // 32 bytes
  opts.extra_yaml = "voice:\n  trunks:\n    - name: local\n      uri: sip:127.0.0.1:" +
                    std::to_string(proxy.sip_port()) +
                    "\n      number_format: e164\n      username: " + proxy.username() +
                    "\n      password: ${file:" + pw.string() + "}" +
                    "\nprocess:\n  core_dumps: true\n";
  single_world w(opts);
  otpd_process& o = *w.otpd;

  const std::string id = create(o, json::object{{"to", "+84912345678"}});
  ASSERT_FALSE(id.empty());
  const std::string code = next_code(w.smsc, 0, 10);
  ASSERT_EQ(code.size(), 10u);
  o.advance_clock(31s);
  const http_response r =
      o.post("/v1/verifications/" + id + "/resend", json::object{{"channel", "voice"}});
  ASSERT_EQ(r.status, 202) << r.body;
  const json::object v = o.poll_verification(
      id,
      [](const json::object& b) {
        const std::string s = str(attempt(b, 1), "status");
        return s == "completed" || s == "failed";
      },
      60s);
  ASSERT_EQ(str(attempt(v, 1), "status"), "completed") << json::serialize(v) << o.output();

  const std::string core = take_core(o.pid(), w.dir.path());
  ASSERT_NE(core.find("Your otpd code is {code}"), std::string::npos) << "no template in the core";
  EXPECT_EQ(core.find(sip_password), std::string::npos)
      << "the SIP password is in the core: " << found_in(core, sip_password);
  EXPECT_EQ(core.find(code), std::string::npos)
      << "the code is in the core: " << found_in(core, code);
}

// Sends `sig`, which otpd does not handle, and returns how it ended.
int killed_by(otpd_process& o, int sig) {
  EXPECT_EQ(::kill(o.pid(), sig), 0);
  return o.stop();
}

TEST(e2e_core, by_default_a_crash_leaves_no_core) {
  // Cores allowed by the limit, as under a unit without LimitCORE=0: the process itself refuses.
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_CORE, &saved), 0);
  rlimit unlimited{RLIM_INFINITY, saved.rlim_max};
  ASSERT_EQ(::setrlimit(RLIMIT_CORE, &unlimited), 0);
  int by_default = 0;
  int when_asked = 0;
  {
    single_world w;
    by_default = killed_by(*w.otpd, SIGABRT);
  }
  {
    otpd_options opts;
    opts.extra_yaml = "process:\n  core_dumps: true\n";
    single_world w(opts);
    when_asked = killed_by(*w.otpd, SIGABRT);
  }
  ::setrlimit(RLIMIT_CORE, &saved);
  ASSERT_TRUE(WIFSIGNALED(by_default)) << describe_wait_status(by_default);
  EXPECT_FALSE(WCOREDUMP(by_default)) << describe_wait_status(by_default);
  // The same kill with process.core_dumps: true dumps: the switch is what made the difference.
  ASSERT_TRUE(WIFSIGNALED(when_asked)) << describe_wait_status(when_asked);
  EXPECT_TRUE(WCOREDUMP(when_asked)) << describe_wait_status(when_asked);
}

}  // namespace
}  // namespace otpd::test::e2e
