// A template a carrier could never send: `otpd --check-config` refuses the file with the
// template's file:line:column, the carrier, the locale and the reason; `otpd --config` does not
// start on it; a SIGHUP reload to it is rejected and the running configuration kept. An SMS
// that still cannot go out (an older, longer code after a reload) fails with the reason in the
// API and the webhook.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <csignal>
#include <fstream>
#include <mutex>

#include "tests/daemon/e2e/scenario.hpp"
#include "tests/support/pg_cluster.hpp"

namespace otpd::test::e2e {
namespace {

namespace json = boost::json;

struct run_result {
  int exit_code = -1;
  std::string output;
};

// Runs otpd with these arguments (and the secrets in its environment) to its end.
run_result run_otpd(std::vector<std::string> args) {
  std::vector<std::string> argv{OTPD_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  std::mutex m;
  run_result r;
  child_process::options o;
  o.merge_stderr = true;
  o.environment = otpd_secrets_environment();
  child_process p(
      argv,
      [&](std::string_view line) {
        std::lock_guard lock(m);
        r.output.append(line).append("\n");
      },
      o);
  const auto status = p.wait_exit(child_process::clock::now() + 20s);
  EXPECT_TRUE(status.has_value()) << "otpd did not exit";
  p.stop();
  if (status && WIFEXITED(*status)) r.exit_code = WEXITSTATUS(*status);
  std::lock_guard lock(m);
  return r;
}

// Whether `output` has a line that is exactly `line` (a path in an error line may contain "OK").
bool has_line(const std::string& output, std::string_view line) {
  std::size_t start = 0;
  while (start < output.size()) {
    std::size_t end = output.find('\n', start);
    if (end == std::string::npos) end = output.size();
    if (std::string_view(output).substr(start, end - start) == line) return true;
    start = end + 1;
  }
  return false;
}

void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

// The harness's file with a Vietnamese template added ("Mã của bạn: {code}. Hiệu lực ...").
std::string with_vietnamese(std::string yaml) {
  const std::string at = "templates:\n  sms:\n";
  const auto pos = yaml.find(at);
  EXPECT_NE(pos, std::string::npos);
  yaml.insert(pos + at.size(),
              "    vi: \"M\xc3\xa3 c\xe1\xbb\xa7"
              "a b\xe1\xba\xa1n: {code}. Hi\xe1\xbb\x87u "
              "l\xe1\xbb\xb1"
              "c {minutes} ph\xc3\xbat\"\n");
  return yaml;
}

// 1-based line and column of the first `needle` in `text`, as "line:column".
std::string position_of(const std::string& text, std::string_view needle) {
  const auto at = text.find(needle);
  EXPECT_NE(at, std::string::npos) << needle;
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < at && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return std::to_string(line) + ":" + std::to_string(column);
}

otpd_options gsm7_carrier(const std::string& text_yaml) {
  otpd_options opts;
  carrier_spec vn = vietnam_carrier(1);  // never connected: the file is only checked
  vn.binds[0].extra_yaml = "text: " + text_yaml;
  opts.carriers = {vn};
  return opts;
}

TEST(e2e_check_config, a_character_the_carrier_cannot_encode_is_refused_at_the_template) {
  temp_dir dir;
  const auto file = dir.path() / "otpd.yaml";
  const std::string yaml = with_vietnamese(
      config_yaml(gsm7_carrier("{coding: gsm7, transliterate: false}"), dir.path()));
  write_file(file, yaml);

  run_result r = run_otpd({"--check-config", file.string()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  const std::string where = file.string() + ":" + position_of(yaml, "\"M\xc3\xa3") + ": ";
  EXPECT_NE(r.output.find(where + "templates.sms.vi: carrier 'vn' cannot send this text: "
                                  "character not representable in gsm7: '\xc3\xa3' (U+00E3)"),
            std::string::npos)
      << r.output;
  EXPECT_FALSE(has_line(r.output, "OK")) << r.output;

  // Nor does otpd start on it.
  r = run_otpd({"--config", file.string()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("templates.sms.vi"), std::string::npos) << r.output;

  // Transliterated first, the same template is fine.
  write_file(file, with_vietnamese(config_yaml(gsm7_carrier("{coding: gsm7, transliterate: true}"),
                                               dir.path())));
  r = run_otpd({"--check-config", file.string()});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(has_line(r.output, "OK")) << r.output;
}

// NIST SP 800-63B-4: at least 6 digits. 5 is refused naming the key and the way out; with
// policy.allow_short_codes the file is valid and --check-config says what it weakens.
TEST(e2e_check_config, short_codes_are_refused_unless_allowed_and_then_warned_about) {
  temp_dir dir;
  const auto file = dir.path() / "otpd.yaml";
  otpd_options opts;
  opts.carriers = {vietnam_carrier(2775)};  // not contacted: the file is only checked
  opts.policy["code_length"] = "5";
  write_file(file, config_yaml(opts, dir.path()));
  run_result r = run_otpd({"--check-config", file.string()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("policy.code_length: 5 digits is below the minimum of 6"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("policy.allow_short_codes: true"), std::string::npos) << r.output;

  opts.policy["allow_short_codes"] = "true";
  write_file(file, config_yaml(opts, dir.path()));
  r = run_otpd({"--check-config", file.string()});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(has_line(r.output, "OK")) << r.output;
  EXPECT_NE(r.output.find(": warning: policy.code_length: 5-digit codes are allowed"),
            std::string::npos)
      << r.output;
}

TEST(e2e_check_config, a_template_needing_more_parts_than_allowed_is_refused) {
  temp_dir dir;
  const auto file = dir.path() / "otpd.yaml";
  // UCS2 (70 units in one part, 67 per part after): 140 Vietnamese characters need 3 parts.
  std::string yaml = config_yaml(gsm7_carrier("{coding: ucs2, max_parts: 2}"), dir.path());
  std::string long_vi;
  for (int i = 0; i < 140; ++i) long_vi += "\xe1\xbb\x87";  // ệ
  const std::string at = "templates:\n  sms:\n";
  yaml.insert(yaml.find(at) + at.size(), "    vi: \"" + long_vi + " {code}\"\n");
  write_file(file, yaml);

  run_result r = run_otpd({"--check-config", file.string()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(file.string() + ":" + position_of(yaml, "\"\xe1\xbb\x87") +
                          ": templates.sms.vi: carrier 'vn' cannot send this text: text needs 3 "
                          "parts, max_parts is 2"),
            std::string::npos)
      << r.output;
}

TEST(e2e_check_config, a_reload_to_an_unsendable_template_is_rejected) {
  single_world w;
  otpd_process& o = *w.otpd;
  const auto file = w.dir.path() / "otpd.yaml";
  otpd_options bad = w.options;
  bad.carriers[0].binds[0].extra_yaml = "text: {coding: latin1}";
  write_file(file, with_vietnamese(config_yaml(bad, w.dir.path())));

  const std::size_t from = o.lines().size();
  ASSERT_EQ(::kill(o.pid(), SIGHUP), 0);
  auto line = o.wait_for_line(
      [](std::string_view l) { return l.find("reload_rejected") != std::string_view::npos; }, 10s,
      from);
  ASSERT_TRUE(line) << o.output();
  EXPECT_NE(o.output().find("character not representable in latin1"), std::string::npos)
      << o.output();
  // The running configuration still sends.
  const std::size_t events = w.smsc.events().size();
  ASSERT_FALSE(create(o, json::object{{"to", "+84912345678"}}).empty());
  EXPECT_EQ(next_code(w.smsc, events, 6).size(), 6u);
}

// A code from before a reload can be longer than the check assumes for the new file: with
// new_code_on_resend: false a resend reads the 10-digit code again into a template that fits
// one part only with the 4 digits of the new code_length. The attempt fails at once, and the
// API and the webhook say why; neither carries the code.
TEST(e2e_check_config, an_sms_the_bind_cannot_carry_fails_with_the_reason) {
  webhook_receiver hooks;
  otpd_options opts;
  opts.policy["code_length"] = "10";
  opts.policy["new_code_on_resend"] = "false";
  opts.policy["resend_cooldown"] = "0s";
  opts.code_seal_key = "0123456789abcdef0123456789abcdef";
  opts.webhook_url = "http://127.0.0.1:" + std::to_string(hooks.port()) + "/hook";
  single_world w{opts};
  otpd_process& o = *w.otpd;
  const std::string id = create(o, json::object{{"to", "+84912345678"}});
  ASSERT_FALSE(id.empty());
  const std::string code = next_code(w.smsc, 0, 10);
  ASSERT_EQ(code.size(), 10u);

  // 155 characters and the code: 159 septets with 4 digits (one part), 165 with 10 (two).
  otpd_options next = w.options;
  next.policy["code_length"] = "4";
  next.policy["allow_short_codes"] = "true";
  next.carriers[0].binds[0].extra_yaml = "text: {coding: gsm7, max_parts: 1}";
  std::string yaml = config_yaml(next, w.dir.path());
  const std::string at = "templates:\n  sms:\n";
  const auto begin = yaml.find(at) + at.size();
  yaml.replace(begin, yaml.find("routing:") - begin,
               "    en: \"Code {code} " + std::string(149, 'a') + "\"\n");
  write_file(w.dir.path() / "otpd.yaml", yaml);
  const std::size_t from = o.lines().size();
  ASSERT_EQ(::kill(o.pid(), SIGHUP), 0);
  ASSERT_TRUE(o.wait_for_line(
      [](std::string_view l) { return l.find("reloaded") != std::string_view::npos; }, 10s, from))
      << o.output();
  // The reload says that it accepted 4-digit codes on purpose.
  EXPECT_TRUE(o.wait_for_line(
      [](std::string_view l) {
        return l.find("config_warning") != std::string_view::npos &&
               l.find("policy.allow_short_codes") != std::string_view::npos;
      },
      1s, from))
      << o.output();
  // The bind's text settings changed, so it was replaced: ready once the new one is bound.
  ASSERT_TRUE(o.wait_ready()) << o.output();
  w.smsc.sync();
  const std::size_t submits = w.smsc.count("submit");

  const std::size_t hooks_before = hooks.requests().size();
  http_response r = o.post("/v1/verifications/" + id + "/resend", json::object{{"channel", "sms"}});
  ASSERT_EQ(r.status, 202) << r.body;
  const json::object v = o.poll_verification(
      id, [](const json::object& x) { return attempt_status_is(x, 1, "failed"); });
  const json::object failed = attempt(v, 1);
  EXPECT_EQ(str(failed, "status"), "failed") << json::serialize(v);
  EXPECT_EQ(str(failed, "error"), "text_unsendable: text needs 2 parts, max_parts is 1")
      << json::serialize(v);
  EXPECT_EQ(json::serialize(v).find(code), std::string::npos);

  auto hook = hooks.wait_for(
      [](const received_request& q) {
        return q.body.find("text_unsendable: text needs 2 parts") != std::string::npos;
      },
      10s, hooks_before);
  ASSERT_TRUE(hook) << "no webhook carried the reason";
  EXPECT_EQ(hook->body.find(code), std::string::npos);
  w.smsc.sync();
  EXPECT_EQ(w.smsc.count("submit"), submits);  // nothing reached the SMSC
}

// store.kind postgres: --check-config connects once, and a database it cannot reach is an
// error with libpq's reason, never the password of the URL.
TEST(e2e_check_config, a_postgres_store_that_cannot_be_reached_is_reported) {
  temp_dir dir;
  closed_port db;  // connections are refused
  const auto file = dir.path() / "otpd.yaml";
  otpd_options opts;
  opts.carriers = {vietnam_carrier(2775)};    // not contacted: the file is only checked
  opts.code_seal_key = std::string(32, 's');  // an SMS handed between nodes is sealed
  const std::string password = "pgPw-4d1f9e";
  opts.store_yaml = "postgres:\n  url: \"postgresql://otpd:" + password +
                    "@127.0.0.1:" + std::to_string(db.port()) + "/otpd\"\n  connect_timeout: 2s\n";
  opts.store_kind = "postgres";
  write_file(file, config_yaml(opts, dir.path()));

  const run_result r = run_otpd({"--check-config", file.string()});
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("store: PostgreSQL: cannot connect: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(std::to_string(db.port())), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find(password), std::string::npos) << r.output;
  EXPECT_FALSE(has_line(r.output, "OK")) << r.output;
}

TEST(e2e_check_config, a_postgres_store_that_answers_is_ok_and_left_as_it_was) {
  pg_cluster pg;
  temp_dir dir;
  const auto file = dir.path() / "otpd.yaml";
  otpd_options opts;
  opts.carriers = {vietnam_carrier(2775)};
  opts.code_seal_key = std::string(32, 's');
  opts.store_kind = "postgres";
  opts.store_yaml = "postgres:\n  url: \"" + pg.create_database("otpd") + "\"\n";
  write_file(file, config_yaml(opts, dir.path()));
  const run_result r = run_otpd({"--check-config", file.string()});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(has_line(r.output, "OK")) << r.output;
  // Only connected: no schema was created.
  EXPECT_EQ(pg.psql("otpd", "select count(*) from pg_tables where schemaname = 'public'"), "0\n");
}

// A node's state folder (store.sqlite_path's) holds its SMS send journal also on PostgreSQL: a
// start without it is refused, saying which folder, rather than sending without a journal.
TEST(e2e_check_config, a_state_folder_that_does_not_exist_is_refused_at_start) {
  pg_cluster pg;
  temp_dir dir;
  const auto file = dir.path() / "otpd.yaml";
  otpd_options opts;
  opts.carriers = {vietnam_carrier(2775)};  // not reached: otpd stops before its binds
  opts.code_seal_key = std::string(32, 's');
  opts.store_kind = "postgres";
  opts.store_yaml = "postgres:\n  url: \"" + pg.create_database("otpd") + "\"\n";
  opts.database = dir.path() / "missing" / "otpd.db";
  write_file(file, config_yaml(opts, dir.path()));
  const run_result r = run_otpd({"--config", file.string()});
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("state_folder_unusable"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find((dir.path() / "missing").string()), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("listening"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace otpd::test::e2e
