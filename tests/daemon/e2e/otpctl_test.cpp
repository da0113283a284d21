// otpctl against a running otpd over its control socket: status, verification, send-test,
// reload, drain and enable, errors, and the socket's permissions.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <mutex>

#include "tests/daemon/e2e/scenario.hpp"
#include "tests/support/child_process.hpp"

namespace otpd::test::e2e {
namespace {

namespace json = boost::json;

struct ctl_result {
  int exit_code = -1;
  std::string out;  // stdout and stderr
};

ctl_result otpctl(const std::filesystem::path& socket, std::vector<std::string> args) {
  std::vector<std::string> argv{OTPCTL_BINARY, "--socket", socket.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  command_result c = run_command(std::move(argv), 60s, true);
  return ctl_result{c.exit_code, c.output()};
}

TEST(e2e_otpctl, status_verification_send_test_and_reload_over_the_socket) {
  temp_dir dir;
  const auto sock = dir.path() / "otpd.sock";
  otpd_options opts;
  opts.extra_yaml = "admin:\n  socket: \"" + sock.string() + "\"\n";
  single_world w(opts);
  ASSERT_TRUE(w.otpd->wait_bound("vn", "vn-trx")) << w.otpd->output();

  // Only the owner and the group may open it.
  struct stat st {};
  ASSERT_EQ(::stat(sock.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);

  ctl_result status = otpctl(sock, {"status"});
  EXPECT_EQ(status.exit_code, 0) << status.out;
  EXPECT_NE(status.out.find("otpd ready"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("carrier vn: 1 transmitting bind(s) up"), std::string::npos)
      << status.out;
  EXPECT_NE(status.out.find("bind vn-trx  transceiver  bound"), std::string::npos) << status.out;

  ctl_result as_json = otpctl(sock, {"--json", "status"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.out;
  json::value v = json::parse(as_json.out);
  EXPECT_EQ(str(v.as_object()["carriers"].as_array()[0].as_object(), "name"), "vn");

  // A verification, as the API shows it (number masked, no code).
  const std::size_t from = w.smsc.events().size();
  const std::string id = create(*w.otpd, json::object{{"to", "+84912345678"}});
  ASSERT_FALSE(id.empty());
  const std::string code = next_code(w.smsc, from);
  ctl_result shown = otpctl(sock, {"verification", id});
  EXPECT_EQ(shown.exit_code, 0) << shown.out;
  EXPECT_NE(shown.out.find("+8491****678"), std::string::npos) << shown.out;
  EXPECT_EQ(shown.out.find(code), std::string::npos) << shown.out;
  ctl_result missing = otpctl(sock, {"verification", "nosuchid"});
  EXPECT_EQ(missing.exit_code, 1) << missing.out;

  // A test SMS through the carrier: the SMSC receives it, without any code.
  const std::size_t before = w.smsc.events().size();
  ctl_result sent = otpctl(sock, {"send-test", "0912 345 670", "--carrier", "vn"});
  EXPECT_EQ(sent.exit_code, 0) << sent.out;
  EXPECT_NE(sent.out.find("sent through vn / vn-trx"), std::string::npos) << sent.out;
  auto submit = w.smsc.wait_for_event("submit", 15s, before);
  ASSERT_TRUE(submit);
  EXPECT_EQ(sms_text(*submit), "otpd test message");
  ctl_result unknown = otpctl(sock, {"send-test", "0912 345 670", "--carrier", "nope"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.out.find("no carrier named 'nope'"), std::string::npos) << unknown.out;

  // reload: the unchanged file reloads; a broken one is rejected with its error.
  ctl_result reloaded = otpctl(sock, {"reload"});
  EXPECT_EQ(reloaded.exit_code, 0) << reloaded.out;
  EXPECT_NE(reloaded.out.find("reloaded"), std::string::npos) << reloaded.out;
  {
    std::ofstream f(w.dir.path() / "otpd.yaml", std::ios::trunc);
    f << "policy: [\n";
  }
  ctl_result rejected = otpctl(sock, {"reload"});
  EXPECT_EQ(rejected.exit_code, 1) << rejected.out;
  EXPECT_NE(rejected.out.find("otpd.yaml:"), std::string::npos) << rejected.out;

  // Usage and an unreachable otpd have their own exit codes.
  EXPECT_EQ(otpctl(sock, {"frobnicate"}).exit_code, 2);
  EXPECT_EQ(otpctl(dir.path() / "absent.sock", {"status"}).exit_code, 3);
}

// Whether a line of otpd's output has every one of `parts`.
bool logged(const otpd_process& o, std::initializer_list<std::string> parts) {
  for (const auto& l : o.lines()) {
    bool all = true;
    for (const auto& p : parts) all = all && l.find(p) != std::string::npos;
    if (all) return true;
  }
  return false;
}

TEST(e2e_otpctl, send_test_keeps_to_the_routes_and_the_limits_and_logs_who_ran_it) {
  temp_dir dir;
  const auto sock = dir.path() / "otpd.sock";
  smsc_process smsc(smsc_flags());
  otpd_options opts;
  // vn carries +84 and fails over to th; th carries +66; la carries +856.
  opts.carriers = {carrier_spec{"vn", {"84"}, {bind_spec{"vn-trx", smsc.port()}}, {"th"}},
                   carrier_spec{"th", {"66"}, {bind_spec{"th-trx", smsc.port()}}, {}},
                   carrier_spec{"la", {"856"}, {bind_spec{"la-trx", smsc.port()}}, {}}};
  opts.rate_limits["per_number"] = "[{max: 1, window: 10m}]";
  opts.extra_yaml = "admin:\n  socket: \"" + sock.string() + "\"\n";
  otpd_process o(opts, dir.path());
  ASSERT_TRUE(o.wait_bound("vn", "vn-trx") && o.wait_bound("th", "th-trx") &&
              o.wait_bound("la", "la-trx"))
      << o.output();
  const std::string uid = "uid=" + std::to_string(::getuid());

  // A prefix no carrier serves, and a carrier that does not serve the number: refused, sent
  // nowhere, and neither counts against a limit.
  smsc.sync();
  const std::size_t submits_before = smsc.count("submit");
  ctl_result unrouted = otpctl(sock, {"send-test", "+61 412 345 678", "--carrier", "vn"});
  EXPECT_EQ(unrouted.exit_code, 1) << unrouted.out;
  EXPECT_NE(unrouted.out.find("no route for +6141****678"), std::string::npos) << unrouted.out;
  ctl_result wrong = otpctl(sock, {"send-test", "0912 000 001", "--carrier", "la"});
  EXPECT_EQ(wrong.exit_code, 1) << wrong.out;
  EXPECT_NE(wrong.out.find("carrier 'la' does not carry +8491****001; its route is vn, th"),
            std::string::npos)
      << wrong.out;
  EXPECT_TRUE(logged(o, {"test_sms", uid, "carrier=la", "outcome=refused"})) << o.output();

  // The number's own carrier and its failover are both fine.
  ctl_result own = otpctl(sock, {"send-test", "0912 000 001", "--carrier", "vn"});
  EXPECT_EQ(own.exit_code, 0) << own.out;
  EXPECT_NE(own.out.find("sent through vn / vn-trx"), std::string::npos) << own.out;
  ctl_result failover = otpctl(sock, {"send-test", "0912 000 002", "--carrier", "th"});
  EXPECT_EQ(failover.exit_code, 0) << failover.out;
  EXPECT_NE(failover.out.find("sent through th / th-trx"), std::string::npos) << failover.out;

  // The per-number limit holds for test SMS as for any send, both ways.
  ctl_result again = otpctl(sock, {"send-test", "0912 000 001", "--carrier", "vn"});
  EXPECT_EQ(again.exit_code, 1) << again.out;
  EXPECT_NE(again.out.find("refused by the per-number limit"), std::string::npos) << again.out;
  EXPECT_EQ(o.post("/v1/verifications", json::object{{"to", "0912 000 002"}}).status, 429);

  // At most send_test_max (5) test SMS a minute: two went out, three more do, the sixth not.
  for (int i = 3; i <= 5; ++i) {
    ctl_result r =
        otpctl(sock, {"send-test", "0912 000 00" + std::to_string(i), "--carrier", "vn"});
    EXPECT_EQ(r.exit_code, 0) << r.out;
  }
  ctl_result sixth = otpctl(sock, {"send-test", "0912 000 006", "--carrier", "vn"});
  EXPECT_EQ(sixth.exit_code, 1) << sixth.out;
  EXPECT_NE(sixth.out.find("refused by the send-test limit (at most 5 test SMS every 60 s)"),
            std::string::npos)
      << sixth.out;
  smsc.sync();
  EXPECT_EQ(smsc.count("submit") - submits_before, 5u);

  // Each line says who: the uid and pid of otpctl (SO_PEERCRED), number masked.
  EXPECT_TRUE(logged(o, {"admin_command", "command=send-test", uid, "pid="})) << o.output();
  EXPECT_TRUE(logged(o, {"test_sms", uid, "carrier=th", "outcome=sent", "+8491****002"}))
      << o.output();
  EXPECT_TRUE(logged(o, {"test_sms", uid, "outcome=refused", "send-test limit"})) << o.output();
  EXPECT_FALSE(logged(o, {"912000006"})) << o.output();
  ASSERT_EQ(otpctl(sock, {"status"}).exit_code, 0);
  EXPECT_TRUE(logged(o, {"admin_command", "command=status", uid})) << o.output();
}

TEST(e2e_otpctl, drain_unbinds_a_bind_without_losing_a_message_and_enable_brings_it_back) {
  temp_dir dir;
  const auto sock = dir.path() / "otpd.sock";
  // Slow answers, so that submits are in flight on the bind when it is drained.
  smsc_process smsc(smsc_flags({"--submit-delay-ms", "300"}));
  otpd_options opts;
  opts.carriers = {carrier_spec{"vn",
                                {"84"},
                                {bind_spec{"vn-a", smsc.port(), "transceiver"},
                                 bind_spec{"vn-b", smsc.port(), "transceiver"}},
                                {}}};
  opts.extra_yaml = "admin:\n  socket: \"" + sock.string() + "\"\n";
  otpd_process o(opts, dir.path());
  ASSERT_TRUE(o.wait_bound("vn", "vn-a") && o.wait_bound("vn", "vn-b")) << o.output();

  // Traffic on both binds, then drain vn-a while its submits are unanswered.
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) {
    ids.push_back(create(o, json::object{{"to", "09120000" + std::to_string(10 + i)}}));
  }
  ctl_result drained = otpctl(sock, {"drain", "vn-a"});
  EXPECT_EQ(drained.exit_code, 0) << drained.out;
  EXPECT_NE(drained.out.find("draining vn / vn-a"), std::string::npos) << drained.out;

  // The SMSC sees vn-a unbind; vn-b stays up and carries what comes next.
  ASSERT_TRUE(smsc.wait_for(event_is("unbind"), 15s)) << o.output();
  ctl_result status = otpctl(sock, {"status"});
  EXPECT_NE(status.out.find("bind vn-a  transceiver"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("(drained)"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("carrier vn: 1 transmitting bind(s) up"), std::string::npos)
      << status.out;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(create(o, json::object{{"to", "09120000" + std::to_string(30 + i)}}));
  }
  // Every message reached the SMSC once and got its answer: none was lost to the drain.
  for (const auto& id : ids) {
    json::object v = o.poll_verification(
        id, [](const json::object& b) { return attempt_status_is(b, 0, "delivered"); }, 20s);
    EXPECT_EQ(str(attempt(v, 0), "status"), "delivered") << json::serialize(v);
    EXPECT_EQ(str(attempt(v, 0), "carrier"), "vn") << json::serialize(v);
  }
  smsc.sync();
  EXPECT_EQ(smsc.count("submit"), ids.size());
  EXPECT_EQ(otpctl(sock, {"drain", "nope"}).exit_code, 1);

  // enable: vn-a binds again at once.
  ctl_result enabled = otpctl(sock, {"enable", "vn-a"});
  EXPECT_EQ(enabled.exit_code, 0) << enabled.out;
  ASSERT_TRUE(o.wait_bound("vn", "vn-a")) << o.output();
  status = otpctl(sock, {"status"});
  EXPECT_EQ(status.out.find("(drained)"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("carrier vn: 2 transmitting bind(s) up"), std::string::npos)
      << status.out;
  bool logged = false;
  for (const auto& l : o.lines()) logged |= l.find("smpp_bind_drained") != std::string::npos;
  EXPECT_TRUE(logged) << o.output();
}

}  // namespace
}  // namespace otpd::test::e2e
