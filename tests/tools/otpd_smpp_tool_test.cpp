// otpd-smpp, the built binary, against the node-smpp SMSC stand-in on 127.0.0.1 with an
// OS-chosen port: what an integrator sees (exit code and output) for a delivered GSM text, a
// long UCS2 text by SAR, a wrong password, bad flags and a config snippet. Every run is
// bounded by a deadline; nothing sleeps.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/smsc_process.hpp"

namespace otpd::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

// The stand-in accepts only this account; the password is distinctive so that the test can
// tell that it never appears in the tool's output.
constexpr const char* password = "Zq7xK9pw";
constexpr const char* account = "otpd:Zq7xK9pw";

struct run_result {
  int exit_code = -1;  // -1: did not exit normally
  std::string output;  // stdout and stderr, interleaved as written
};

// Runs the tool with `args`, stderr merged into stdout, until it exits (bounded).
run_result run_tool(const std::vector<std::string>& args, std::chrono::seconds limit = 60s) {
  // sh only redirects stderr; exec keeps the tool as the child stopped on a timeout.
  std::vector<std::string> argv = {"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>&1", OTPD_SMPP_TOOL};
  argv.insert(argv.end(), args.begin(), args.end());
  std::mutex mu;
  std::string out;
  child_process child(argv, [&](std::string_view line) {
    std::lock_guard lk(mu);
    out.append(line).push_back('\n');
  });
  run_result r;
  std::optional<int> status = child.wait_exit(child_process::clock::now() + limit);
  if (!status) {
    ADD_FAILURE() << "otpd-smpp did not exit within " << limit.count() << " s";
    child.stop();
  } else {
    child.stop();  // joins the reader: every line is in `out`
    if (WIFEXITED(*status)) r.exit_code = WEXITSTATUS(*status);
  }
  std::lock_guard lk(mu);
  r.output = out;
  return r;
}

// A file removed at the end of the test.
struct temp_file {
  explicit temp_file(std::string_view content) {
    char tmpl[] = "/tmp/otpd_smpp_tool_test_XXXXXX";
    const int fd = ::mkstemp(tmpl);
    EXPECT_GE(fd, 0);
    ::close(fd);
    path = tmpl;
    std::ofstream(path, std::ios::binary) << content;
  }
  ~temp_file() { std::remove(path.c_str()); }
  std::string path;
};

std::vector<std::string> connect_args(const smsc_process& smsc, const temp_file& pw) {
  return {"--host",      "127.0.0.1", "--port",          std::to_string(smsc.port()),
          "--system-id", "otpd",      "--password-file", pw.path,
          "--timeout",   "20s"};
}

std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::size_t count_of(std::string_view haystack, std::string_view needle) {
  std::size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string_view::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

TEST(otpd_smpp_tool, gsm_text_is_delivered_and_receipt_printed) {
  smsc_process smsc({"--account", account});
  temp_file pw(std::string(password) + "\n");
  const run_result r = run_tool(connect_args(smsc, pw) +
                                std::vector<std::string>{"--from", "MyBank", "--to", "+84912345678",
                                                         "--text", "Your code is 482917", "--hex"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // Every PDU, both directions, with the bind password masked.
  EXPECT_THAT(r.output, HasSubstr("--> bind_transceiver seq=1"));
  EXPECT_THAT(r.output, HasSubstr("password=***"));
  EXPECT_THAT(r.output, HasSubstr("<-- bind_transceiver_resp seq=1 status=ESME_ROK"));
  EXPECT_THAT(r.output, HasSubstr("--> submit_sm seq=2"));
  EXPECT_THAT(r.output, HasSubstr("source=5/0:\"MyBank\" dest=1/1:\"84912345678\""));
  EXPECT_THAT(r.output, HasSubstr("<-- submit_sm_resp seq=2 status=ESME_ROK"));
  EXPECT_THAT(r.output, HasSubstr("<-- deliver_sm"));
  EXPECT_THAT(r.output, HasSubstr("--> deliver_sm_resp"));
  EXPECT_THAT(r.output, HasSubstr("--> unbind"));
  EXPECT_THAT(r.output, HasSubstr("<-- unbind_resp"));
  // The receipt, matched to the submit.
  EXPECT_THAT(r.output, HasSubstr("receipt for part 1/1"));
  EXPECT_THAT(r.output, HasSubstr("DELIVRD err 000 (final)"));
  EXPECT_THAT(r.output, HasSubstr("result: DELIVERED (exit 0)"));
  EXPECT_THAT(r.output, Not(HasSubstr(password)));

  auto submit = smsc.wait_for_event("submit", 5s);
  ASSERT_TRUE(submit);
  EXPECT_EQ((*submit)["data_coding"].as_int64(), 0);  // GSM 7-bit
  EXPECT_EQ((*submit)["registered_delivery"].as_int64(), 1);
}

TEST(otpd_smpp_tool, ucs2_long_message_by_sar) {
  smsc_process smsc({"--account", account});
  temp_file pw(password);
  const std::string text =
      "Mã xác thực của bạn là 482917. Mã có hiệu lực trong 5 phút. Không chia sẻ mã này với "
      "bất kỳ ai, kể cả nhân viên ngân hàng.";
  const run_result r =
      run_tool(connect_args(smsc, pw) +
               std::vector<std::string>{"--from", "8080", "--to", "84912345678", "--text", text,
                                        "--coding", "ucs2", "--concat", "sar"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("UCS2"));
  EXPECT_THAT(r.output, HasSubstr("2 segments in 2 submit_sm (sar)"));
  EXPECT_EQ(count_of(r.output, "--> submit_sm seq="), 2u) << r.output;
  EXPECT_THAT(r.output, HasSubstr("source=1/1:\"8080\""));  // digits: TON 1 / NPI 1
  EXPECT_THAT(r.output, HasSubstr("sar_msg_ref_num"));
  EXPECT_THAT(r.output, HasSubstr("receipt for part 1/2"));
  EXPECT_THAT(r.output, HasSubstr("receipt for part 2/2"));
  EXPECT_THAT(r.output, HasSubstr("result: DELIVERED (exit 0)"));

  // The tool has exited after both submit_sm_resp: the SMSC logged both submits before.
  std::vector<boost::json::object> submits;
  for (auto& e : smsc.events()) {
    if (e.at("event") == "submit") submits.push_back(e);
  }
  ASSERT_EQ(submits.size(), 2u);
  for (auto& submit : submits) {
    EXPECT_EQ(submit["data_coding"].as_int64(), 8);
    EXPECT_EQ(submit["esm_class"].as_int64() & 0x40, 0);  // SAR, not UDH
    std::vector<std::string> names;
    for (const auto& t : submit["tlvs"].as_array()) {
      names.emplace_back(t.as_object().at("name").as_string());
    }
    EXPECT_THAT(names, ::testing::ElementsAre("sar_msg_ref_num", "sar_total_segments",
                                              "sar_segment_seqnum"));
  }
}

TEST(otpd_smpp_tool, wrong_password_is_a_bind_failure) {
  smsc_process smsc({"--account", account});
  temp_file pw("Wr0ngpw");
  const run_result r =
      run_tool(connect_args(smsc, pw) + std::vector<std::string>{"--from", "MyBank", "--to",
                                                                 "84912345678", "--text", "hello"});
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_THAT(r.output, HasSubstr("bind_transceiver_resp seq=1 status=ESME_RINVPASWD"));
  EXPECT_THAT(r.output, HasSubstr("failed: ESME_RINVPASWD"));
  EXPECT_THAT(r.output, Not(HasSubstr("Wr0ngpw")));
  EXPECT_THAT(r.output, Not(HasSubstr("--> submit_sm")));
  EXPECT_EQ(smsc.count("submit"), 0u);
}

TEST(otpd_smpp_tool, nothing_listening_is_a_bind_failure) {
  // Port 1 (tcpmux) has no listener on any machine this runs on: connection refused.
  temp_file pw(password);
  const run_result r =
      run_tool({"--host", "127.0.0.1", "--port", "1", "--system-id", "otpd", "--password-file",
                pw.path, "--from", "A", "--to", "1", "--text", "x"});
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_THAT(r.output, HasSubstr("127.0.0.1:1"));
}

TEST(otpd_smpp_tool, bad_flags_are_usage_errors) {
  temp_file pw(password);
  const std::vector<std::string> base = {
      "--host", "127.0.0.1", "--system-id", "otpd", "--password-file", pw.path,
      "--from", "A",         "--to",        "1",    "--text",          "x"};
  struct bad_case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<bad_case> cases = {
      {base + std::vector<std::string>{"--bogus"}, "unknown option --bogus (see --help)"},
      {base + std::vector<std::string>{"--coding", "utf8"},
       "--coding: expected auto, gsm7, latin1 or ucs2, got 'utf8'"},
      {base + std::vector<std::string>{"--port", "70000"},
       "--port: expected a whole number from 1 to 65535, got '70000'"},
      {base + std::vector<std::string>{"--timeout", "30"}, "--timeout: expected a duration"},
      {base + std::vector<std::string>{"--bind", "both"}, "--bind: expected tx, rx or trx"},
      {base + std::vector<std::string>{"--window"}, "--window needs a value"},
      {{"--host", "h", "--system-id", "otpd", "--password-file", pw.path, "--from", "A", "--text",
        "x"},
       "--to is required"},
      {base + std::vector<std::string>{"--coding", "gsm7", "--text", "Mã"},
       "cannot be written in the forced coding"},
      {base + std::vector<std::string>{"--password-file", "/nonexistent/pw"},
       "--password-file: cannot read /nonexistent/pw"},
      // Refused outright, and the would-be password is not echoed.
      {base + std::vector<std::string>{"--password", "S3cretOnCmdLine"},
       "--password is not accepted"},
  };
  for (const auto& c : cases) {
    const run_result r = run_tool(c.args);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_THAT(r.output, HasSubstr("otpd-smpp: "));
    EXPECT_THAT(r.output, HasSubstr(c.message));
    EXPECT_THAT(r.output, Not(HasSubstr("S3cretOnCmdLine")));
    EXPECT_THAT(r.output, Not(HasSubstr(password)));
    EXPECT_THAT(r.output, Not(HasSubstr("-->"))) << "nothing may be sent on a usage error";
  }

  const run_result help = run_tool({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* flag : {"--config", "--password-file", "--bind", "--coding", "--concat",
                           "--id-format", "--timeout", "--insecure", "Exit codes"}) {
    EXPECT_THAT(help.output, HasSubstr(flag));
  }
}

TEST(otpd_smpp_tool, config_snippet_with_flags_and_errors) {
  smsc_process smsc({"--account", account, "--receipt-id-format", "decimal"});
  temp_file pw(std::string(password) + "\n");
  temp_file snippet(
      "name: test-trx\n"
      "host: 127.0.0.1\n"
      "port: " +
      std::to_string(smsc.port()) +
      "\n"
      "bind: transceiver\n"
      "system_id: otpd\n"
      "password: ${file:" +
      pw.path +
      "}\n"
      "timeouts: {connect: 5s, bind: 5s, response: 5s}\n"
      "text: {coding: auto, transliterate: true}\n");
  const run_result r = run_tool({"--config", snippet.path, "--from", "MyBank", "--to",
                                 "84912345678", "--text", "Mã xác thực của bạn là 482917"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("transliterated: \"Ma xac thuc cua ban la 482917\""));
  EXPECT_THAT(r.output, HasSubstr("GSM 7-bit"));
  EXPECT_THAT(r.output, HasSubstr("id mapping decimal_to_hex"));  // learned, --id-format auto
  EXPECT_THAT(r.output, HasSubstr("result: DELIVERED"));
  EXPECT_THAT(r.output, Not(HasSubstr(password)));

  // The same snippet with a transmitter bind from the flags: the receipt comes on a second,
  // receiver bind.
  const run_result tx = run_tool({"--config", snippet.path, "--bind", "tx", "--from", "MyBank",
                                  "--to", "84912345678", "--text", "code 1"});
  EXPECT_EQ(tx.exit_code, 0) << tx.output;
  EXPECT_THAT(tx.output, HasSubstr("[test-trx] bind_transmitter"));
  EXPECT_THAT(tx.output, HasSubstr("[test-trx-rx] bind_receiver"));
  EXPECT_THAT(tx.output, HasSubstr("[test-trx-rx] deliver_sm"));

  temp_file bad("host: 127.0.0.1\nport: lots\nbind: trx\nsystem_id: otpd\npassword: x\nwindw: 3\n");
  const run_result e = run_tool({"--config", bad.path, "--from", "A", "--to", "1", "--text", "x"});
  EXPECT_EQ(e.exit_code, 2) << e.output;
  EXPECT_THAT(e.output, HasSubstr("the config has 2 errors"));
  EXPECT_THAT(e.output,
              HasSubstr(bad.path + ":2:7: port: expected an integer from 1 to 65535, got 'lots'"));
  EXPECT_THAT(e.output, HasSubstr(bad.path + ":6:1: unknown key 'windw' (did you mean 'window'?)"));
}

TEST(otpd_smpp_tool, undelivered_receipt_and_refusal_exit_1) {
  smsc_process smsc({"--account", account, "--receipt-stat", "8499=UNDELIV:001"});
  temp_file pw(password);
  const run_result r =
      run_tool(connect_args(smsc, pw) + std::vector<std::string>{"--from", "MyBank", "--to",
                                                                 "84991234567", "--text", "code"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("NOT DELIVERED: part 1 UNDELIV err 001"));

  // Not waiting: accepted is enough.
  const run_result nw = run_tool(connect_args(smsc, pw) +
                                 std::vector<std::string>{"--from", "MyBank", "--to", "84991234567",
                                                          "--text", "code", "--no-wait-receipt"});
  EXPECT_EQ(nw.exit_code, 0) << nw.output;
  EXPECT_THAT(nw.output, HasSubstr("registered_delivery=0x00"));
  EXPECT_THAT(nw.output, HasSubstr("result: ACCEPTED"));
}

TEST(otpd_smpp_tool, throttled_until_the_timeout_is_a_refusal) {
  smsc_process smsc({"--account", account, "--throttle-every", "1"});
  temp_file pw(password);
  temp_file snippet("name: throttled\nhost: 127.0.0.1\nport: " + std::to_string(smsc.port()) +
                    "\nbind: trx\nsystem_id: otpd\npassword: ${file:" + pw.path +
                    "}\ntimeouts: {response: 1s}\n");
  const run_result r = run_tool({"--config", snippet.path, "--from", "MyBank", "--to",
                                 "84912345678", "--text", "code", "--timeout", "1s"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("submit_sm_resp seq=2 status=ESME_RTHROTTLED"));
  EXPECT_THAT(r.output, HasSubstr("REFUSED: the SMSC answered ESME_RTHROTTLED"));
  EXPECT_THAT(r.output, HasSubstr("<-- unbind_resp"));
}

TEST(otpd_smpp_tool, password_from_the_environment) {
  ::unsetenv("OTPD_SMPP_PASSWORD");  // whatever the shell running the tests had
  smsc_process smsc({"--account", account});
  // env(1) sets it for the tool only; the password is in env's argv here, which is fine for
  // a test and is exactly what the tool itself refuses to need.
  const run_result r =
      run_tool({"--host", "127.0.0.1", "--port", std::to_string(smsc.port()), "--system-id", "otpd",
                "--from", "MyBank", "--to", "84912345678", "--text", "hi", "--no-wait-receipt"},
               60s);
  // Without a password source at all: a usage error.
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("no password"));

  std::vector<std::string> argv = {"/usr/bin/env",
                                   std::string("OTPD_SMPP_PASSWORD=") + password,
                                   "/bin/sh",
                                   "-c",
                                   "exec \"$0\" \"$@\" 2>&1",
                                   OTPD_SMPP_TOOL,
                                   "--host",
                                   "127.0.0.1",
                                   "--port",
                                   std::to_string(smsc.port()),
                                   "--system-id",
                                   "otpd",
                                   "--from",
                                   "MyBank",
                                   "--to",
                                   "84912345678",
                                   "--text",
                                   "hi",
                                   "--no-wait-receipt"};
  std::mutex mu;
  std::string out;
  child_process child(argv, [&](std::string_view line) {
    std::lock_guard lk(mu);
    out.append(line).push_back('\n');
  });
  auto status = child.wait_exit(child_process::clock::now() + 60s);
  child.stop();
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << out;
  std::lock_guard lk(mu);
  EXPECT_THAT(out, HasSubstr("password *** (from OTPD_SMPP_PASSWORD)"));
  EXPECT_THAT(out, Not(HasSubstr(password)));
}

// A temporary directory removed at the end of the test.
struct temp_dir {
  temp_dir() {
    char tmpl[] = "/tmp/otpd_smpp_tool_test_XXXXXX";
    path = ::mkdtemp(tmpl) ? tmpl : "";
    EXPECT_FALSE(path.empty());
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string path;
};

// The node-smpp stand-in speaks plain SMPP: tls_proxy.js terminates TLS in front of it, with a
// self-signed certificate for "smsc.test" made for the test.
TEST(otpd_smpp_tool, tls_verifies_the_certificate_and_its_name) {
  temp_dir dir;
  const std::string cert = dir.path + "/cert.pem";
  const std::string key = dir.path + "/key.pem";
  {
    child_process openssl({"/bin/sh",
                           "-c",
                           "exec \"$0\" \"$@\" 2>&1",
                           find_program("openssl"),
                           "req",
                           "-x509",
                           "-newkey",
                           "ec",
                           "-pkeyopt",
                           "ec_paramgen_curve:prime256v1",
                           "-nodes",
                           "-keyout",
                           key,
                           "-out",
                           cert,
                           "-days",
                           "1",
                           "-subj",
                           "/CN=smsc.test",
                           "-addext",
                           "subjectAltName=DNS:smsc.test"},
                          [](std::string_view) {});
    auto status = openssl.wait_exit(child_process::clock::now() + 30s);
    openssl.stop();
    ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
  }

  smsc_process smsc({"--account", account});
  std::mutex mu;
  std::condition_variable cv;
  std::string first;
  child_process proxy({"node", std::string(OTPD_TOOLS_TEST_DIR) + "/tls_proxy.js", cert, key,
                       std::to_string(smsc.port())},
                      [&](std::string_view line) {
                        std::lock_guard lk(mu);
                        if (first.empty()) first = line;
                        cv.notify_all();
                      });
  std::uint16_t tls_port = 0;
  {
    std::unique_lock lk(mu);
    ASSERT_TRUE(cv.wait_for(lk, 20s, [&] { return !first.empty(); }))
        << "tls_proxy.js did not start";
    tls_port = static_cast<std::uint16_t>(
        boost::json::parse(first).as_object().at("port").to_number<int>());
  }

  temp_file pw(password);
  const std::vector<std::string> base = {"--host",
                                         "127.0.0.1",
                                         "--port",
                                         std::to_string(tls_port),
                                         "--system-id",
                                         "otpd",
                                         "--password-file",
                                         pw.path,
                                         "--from",
                                         "MyBank",
                                         "--to",
                                         "84912345678",
                                         "--text",
                                         "tls",
                                         "--timeout",
                                         "20s",
                                         "--tls"};

  const run_result ok =
      run_tool(base + std::vector<std::string>{"--ca-file", cert, "--server-name", "smsc.test"});
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_THAT(ok.output, HasSubstr("(TLS, CA " + cert + ", server name smsc.test)"));
  EXPECT_THAT(ok.output, HasSubstr("result: DELIVERED"));

  // The certificate names smsc.test, not 127.0.0.1 (the default server name is --host).
  const run_result wrong_name = run_tool(base + std::vector<std::string>{"--ca-file", cert});
  EXPECT_EQ(wrong_name.exit_code, 3) << wrong_name.output;
  EXPECT_THAT(wrong_name.output, HasSubstr("certificate verify failed"));
  EXPECT_THAT(wrong_name.output, Not(HasSubstr("--> bind_transceiver")));

  // Not signed by a CA the system trusts.
  const run_result untrusted =
      run_tool(base + std::vector<std::string>{"--server-name", "smsc.test"});
  EXPECT_EQ(untrusted.exit_code, 3) << untrusted.output;

  const run_result insecure = run_tool(base + std::vector<std::string>{"--insecure"});
  EXPECT_EQ(insecure.exit_code, 0) << insecure.output;
  EXPECT_THAT(insecure.output, HasSubstr("certificate NOT verified (--insecure)"));
  for (const run_result* r : {&ok, &wrong_name, &untrusted, &insecure}) {
    EXPECT_THAT(r->output, Not(HasSubstr(password)));
  }
}

}  // namespace
}  // namespace otpd::test
