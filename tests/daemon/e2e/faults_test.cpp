// Faults that otpd does not control, each bounded in time: an SMSC that drops the connection,
// answers slowly, throttles, sends garbage, never answers enquire_link or refuses the bind; a
// database at its size cap; a disk that fills up, then has space again; a read-only state
// folder; kill -9 at random moments under load; SIGTERM under load. After
// each, every verification that got its 201 is accounted for: final (delivered, undelivered,
// failed with a reason) or pending with a known outcome (submitted), never stuck or missing.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <future>
#include <iostream>
#include <random>
#include <set>

#include "tests/daemon/e2e/scenario.hpp"
#include "tests/support/small_disk.hpp"

namespace otpd::test::e2e {
namespace {

namespace json = boost::json;

// A national number unique to n ("09120" and 5 digits): one destination per request, so that
// SMSC events, verifications and requests can be matched by it.
std::string number(int n) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "09120%05d", n);
  return buf;
}
std::string dest(int n) { return "84" + number(n).substr(1); }

// otpd's options with every +84 number routed to `smsc`.
otpd_options routed_to(const smsc_process& smsc) {
  otpd_options opts;
  opts.carriers = {vietnam_carrier(smsc.port())};
  return opts;
}

// POST /v1/verifications; status 0 when the connection is refused (otpd gone or stopping).
http_response post_or_refused(otpd_process& o, const std::string& to) {
  try {
    return o.post("/v1/verifications", json::object{{"to", to}});
  } catch (const std::system_error&) {
    return http_response{};
  }
}

bool resolved(const json::object& v) {
  const std::string s = str(attempt(v, 0), "status");
  return !s.empty() && s != "queued";
}

// What became of a set of accepted verifications.
struct tally {
  std::size_t accepted = 0, delivered = 0, undelivered = 0, failed = 0, submitted = 0, stuck = 0,
              missing = 0, unknown = 0;
  std::vector<std::string> problems;

  std::string describe() const {
    return "accepted " + std::to_string(accepted) + ": delivered " + std::to_string(delivered) +
           ", undelivered " + std::to_string(undelivered) + ", failed " + std::to_string(failed) +
           ", submitted (pending) " + std::to_string(submitted) + " (of which the SMSC's answer " +
           "never came: " + std::to_string(unknown) + "), stuck " + std::to_string(stuck) +
           ", missing " + std::to_string(missing);
  }
};

// Waits (bounded) until every id's first attempt has left "queued", then counts.
tally account_for(otpd_process& o, const std::vector<std::string>& ids,
                  std::chrono::milliseconds timeout = 30s) {
  tally t;
  t.accepted = ids.size();
  for (const std::string& id : ids) {
    json::object v = o.poll_verification(id, resolved, timeout);
    const std::string s = str(attempt(v, 0), "status");
    if (v.empty() || str(v, "id") != id) {
      ++t.missing;
      t.problems.push_back(id + ": not found");
    } else if (s == "delivered") {
      ++t.delivered;
    } else if (s == "undelivered") {
      ++t.undelivered;
    } else if (s == "failed") {
      ++t.failed;
      if (str(attempt(v, 0), "error").empty()) {
        t.problems.push_back(id + ": failed without a reason: " + json::serialize(v));
      }
    } else if (s == "submitted") {
      ++t.submitted;
      const json::object first = attempt(v, 0);
      const auto* u = first.if_contains("outcome_unknown");
      if (u && u->is_bool() && u->as_bool()) ++t.unknown;
    } else {
      ++t.stuck;
      t.problems.push_back(id + ": " + json::serialize(v));
    }
  }
  return t;
}

// submit_sm the SMSC took (answered with status 0, or dropped the connection on without an
// answer, so that otpd cannot know), per destination. One refused with a throttling status and
// sent again is not a duplicate.
std::map<std::string, int> submits_by_dest(smsc_process& smsc) {
  smsc.sync();
  std::map<std::string, int> n;
  for (const auto& ev : smsc.events()) {
    if (str(ev, "event") != "submit") continue;
    const auto* dropped = ev.if_contains("dropped");
    if (num(ev, "status") == 0 || (dropped && dropped->is_bool() && dropped->as_bool())) {
      ++n[dest_of(ev)];
    }
  }
  return n;
}
std::size_t duplicates(const std::map<std::string, int>& by_dest) {
  std::size_t d = 0;
  for (const auto& [k, n] : by_dest) d += n > 1 ? static_cast<std::size_t>(n - 1) : 0;
  return d;
}

// ---- the SMSC misbehaves ------------------------------------------------------------------------

constexpr const char* default_timeouts =
    "{connect: 2s, bind: 2s, response: 2s, enquire_link: 500ms}";

struct smsc_fault {
  std::string name;
  std::vector<std::string> smsc_flags;  // at start
  std::vector<json::object> commands;   // sent once otpd is bound
  std::string timeouts = default_timeouts;
};

void PrintTo(const smsc_fault& f, std::ostream* os) { *os << f.name; }

class e2e_smsc_faults : public ::testing::TestWithParam<smsc_fault> {};

TEST_P(e2e_smsc_faults, every_accepted_verification_is_accounted_for) {
  const smsc_fault& f = GetParam();
  temp_dir dir;
  smsc_process smsc(smsc_flags(f.smsc_flags));
  otpd_options opts = routed_to(smsc);
  opts.carriers[0].binds[0].timeouts = f.timeouts;
  // While the bind is down each request waits this long for it before its 503: short, so that
  // the 30 requests fit the test's time.
  opts.carriers[0].extra_yaml = "reconnect_queue: {max_wait: 1s}";
  otpd_process o(opts, dir.path());
  ASSERT_TRUE(o.wait_ready()) << o.output();
  for (const json::object& c : f.commands) {
    json::object ack = smsc.command(c);
    ASSERT_TRUE(ack.contains("ok") ? ack.at("ok").as_bool() : true) << json::serialize(ack);
  }

  // 30 requests while the fault lasts. Each answer is 201 (accepted) or a clear refusal: 503
  // while no bind can take it, never a dropped connection or a 500.
  constexpr int n = 30;
  std::vector<std::string> accepted;
  std::map<int, int> refused;  // status -> count
  for (int i = 0; i < n; ++i) {
    http_response r = post_or_refused(o, number(i));
    if (r.status == 201) {
      accepted.push_back(str(r.obj(), "id"));
    } else {
      ++refused[r.status];
      EXPECT_EQ(r.status, 503) << r.body;
      EXPECT_EQ(r.problem_slug(), "no_carrier_available") << r.body;
    }
  }
  // The fault ends; the SMSC behaves again.
  smsc.command(json::object{{"cmd", "reset"}});

  tally t = account_for(o, accepted);
  std::cout << "[ fault " << f.name << " ] " << t.describe() << "; refused "
            << (n - static_cast<int>(accepted.size())) << "\n";
  EXPECT_EQ(t.stuck + t.missing, 0u) << t.describe();
  for (const auto& p : t.problems) ADD_FAILURE() << p;
  EXPECT_EQ(t.delivered + t.undelivered + t.failed + t.submitted, t.accepted);

  // No SMS for a refused request, and none taken twice: otpd sends again only what the SMSC
  // refused, never a message whose outcome it does not know.
  auto by_dest = submits_by_dest(smsc);
  EXPECT_LE(by_dest.size(), accepted.size());
  for (const auto& [d, count] : by_dest) EXPECT_EQ(count, 1) << d;
  std::cout << "[ fault " << f.name << " ] submit_sm at the SMSC " << by_dest.size()
            << " destinations, duplicates " << duplicates(by_dest) << "\n";

  // otpd recovered by itself: bound again, and a new verification goes through to the end.
  ASSERT_TRUE(o.wait_ready(30s)) << o.output();
  ASSERT_TRUE(o.wait_bound("vn", "vn-trx", 30s)) << o.output();
  smsc.sync();
  const std::size_t mark = smsc.size();
  const std::string id = create(o, {{"to", number(900)}});
  ASSERT_FALSE(id.empty());
  const std::string code = next_code(smsc, mark, 6, dest(900));
  EXPECT_EQ(check(o, id, code).status, 200);
  EXPECT_EQ(o.get("/healthz", false).status, 200);
}

// A generic_nack-worthy PDU (command_id 0x0000ffff) and one whose command_length (5) is
// shorter than a header: the stream cannot be framed after it.
constexpr const char* unknown_command_pdu = "000000100000ffff0000000000000001";
constexpr const char* truncated_header = "0000000500";

INSTANTIATE_TEST_SUITE_P(
    faults, e2e_smsc_faults,
    ::testing::Values(
        // Closes the session when the 5th submit_sm arrives, without answering it.
        smsc_fault{"drop_mid_window", {}, {{{"cmd", "drop_after"}, {"n", 5}, {"once", true}}}},
        // Answers every submit after 3 s, past otpd's 2 s response timeout.
        smsc_fault{"slow_past_the_timeout", {}, {{{"cmd", "delay"}, {"ms", 3000}}}},
        // Answers every submit after 300 ms: slow, within the timeout.
        smsc_fault{"slow_within_the_timeout", {}, {{{"cmd", "delay"}, {"ms", 300}}}},
        // ESME_RTHROTTLED for every 3rd submit.
        smsc_fault{"throttles_every_3rd", {}, {{{"cmd", "throttle"}, {"every", 3}}}},
        // ESME_RMSGQFUL for every 4th.
        smsc_fault{"queue_full_every_4th", {}, {{{"cmd", "qfull"}, {"every", 4}}}},
        // Stops answering anything, enquire_link included; binds hang too.
        smsc_fault{"never_answers_enquire_link", {}, {{{"cmd", "silent"}}}},
        // Refuses every bind, then drops the session.
        smsc_fault{"refuses_the_bind",
                   {},
                   {{{"cmd", "refuse_binds"}, {"on", true}}, {{"cmd", "close_all"}}}},
        // An unknown command: generic_nack, the session goes on.
        smsc_fault{"unknown_command", {}, {{{"cmd", "raw"}, {"hex", unknown_command_pdu}}}},
        // A header that cannot be framed: otpd closes the session and reconnects.
        smsc_fault{"truncated_pdu", {}, {{{"cmd", "raw"}, {"hex", truncated_header}}}}),
    [](const ::testing::TestParamInfo<smsc_fault>& p) { return p.param.name; });

// ---- the database fills up ----------------------------------------------------------------------

// A log line that gives a full store as the reason of a refusal: the insert's, or that of the
// count against the sending limits before it.
bool says_the_store_is_full(std::string_view line) {
  return (line.find("store_insert_failed ") != std::string_view::npos ||
          line.find("store_failed op=") != std::string_view::npos) &&
         line.find("full") != std::string_view::npos;
}

// Creates (one request at a time, numbers from `next` on, at most `max`) until three in a row
// are refused: at a full store some writes still fit, so 201s and 503s alternate for a while.
// Each 201 joins `accepted`; every refusal must be 503 store_unavailable. The refusals.
void create_until_refused_three_times(otpd_process& o, int& next, int max,
                                      std::vector<std::pair<int, std::string>>& accepted,
                                      int& refusals) {
  int refused_in_a_row = 0;
  for (const int end = next + max; next < end && refused_in_a_row < 3; ++next) {
    http_response r = post_or_refused(o, number(next));
    if (r.status == 201) {
      accepted.emplace_back(next, str(r.obj(), "id"));
      refused_in_a_row = 0;
    } else {
      ASSERT_EQ(r.status, 503) << r.body;
      EXPECT_EQ(r.problem_slug(), "store_unavailable") << r.body;
      ++refused_in_a_row;
      ++refusals;
    }
  }
  ASSERT_EQ(refused_in_a_row, 3) << refusals << " refused, " << accepted.size() << " accepted";
}

// Every request answered 201 had its SMS; of those answered 503, at most the first (its SMS
// may have left while its row was being written, and is counted): once the store has failed,
// nothing is sent before a row is stored.
void expect_an_sms_per_201_only(otpd_process& o, smsc_process& smsc, std::size_t accepted) {
  const double unrecorded = metric(o.ops_get("/metrics").body, "otpd_sms_sent_unrecorded_total");
  EXPECT_GE(unrecorded, 0);
  EXPECT_LE(unrecorded, 1);
  const std::size_t expected = accepted + static_cast<std::size_t>(unrecorded);
  ASSERT_TRUE(smsc.wait_for(
      [&, seen = std::make_shared<std::size_t>(0)](const json::object& ev) {
        return str(ev, "event") == "submit" && ++*seen == expected;
      },
      15s))
      << o.output();
  EXPECT_EQ(submits_by_dest(smsc).size(), expected) << "an SMS for a request answered 503";
}

// Nothing corrupted or lost: SQLite's own check of the database in `dir`, then otpd started again
// on it approves every accepted verification with the code its SMS carried.
void expect_intact_and_every_code_approved(
    const temp_dir& dir, const otpd_options& opts, smsc_process& smsc,
    const std::vector<std::pair<int, std::string>>& accepted) {
  command_result integrity =
      run_command({"sqlite3", (dir.path() / "otpd.db").string(), "PRAGMA integrity_check"});
  EXPECT_EQ(integrity.exit_code, 0) << integrity.output();
  EXPECT_EQ(integrity.output(), "ok\n");
  const std::map<std::string, std::string> code_by_dest = codes_by_destination(smsc);
  otpd_process again(opts, dir.path());
  ASSERT_TRUE(again.wait_ready()) << again.output();
  for (const auto& [n, id] : accepted) {
    http_response r = check(again, id, code_by_dest.at(dest(n)));
    EXPECT_EQ(r.status, 200) << id << " " << r.body;
    EXPECT_EQ(str(r.obj(), "status"), "approved") << id << " " << r.body;
  }
  EXPECT_FALSE(create(again, {{"to", number(99999)}}).empty());
}

TEST(e2e_faults, a_full_database_answers_503_and_loses_nothing) {
  temp_dir dir;
  smsc_process smsc(smsc_flags());
  otpd_options opts = routed_to(smsc);
  opts.store_yaml = "sqlite_max_bytes: 131072";

  std::vector<std::pair<int, std::string>> accepted;  // request number, id
  {
    otpd_process o(opts, dir.path());
    ASSERT_TRUE(o.wait_ready()) << o.output();
    // 201 until the cap; at the cap some inserts still fit (a B-tree page with room takes a
    // row; one that must split cannot).
    int i = 0;
    int refusals = 0;
    ASSERT_NO_FATAL_FAILURE(create_until_refused_three_times(o, i, 5000, accepted, refusals));
    ASSERT_GT(accepted.size(), 10u);
    ASSERT_NO_FATAL_FAILURE(expect_an_sms_per_201_only(o, smsc, accepted.size()));

    // Reads still work, and each refusal has its reason in the log: the insert, or the count
    // against the sending limits before it.
    EXPECT_EQ(o.get("/v1/verifications/" + accepted.front().second).status, 200);
    EXPECT_EQ(o.get("/healthz", false).status, 200);
    EXPECT_TRUE(o.wait_for_line(
        [reasons = std::make_shared<int>(0), refusals](std::string_view l) {
          return says_the_store_is_full(l) && ++*reasons == refusals;
        },
        5s))
        << o.output();
    const int status = o.stop();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe_wait_status(status);
  }

  // Not corrupted, nothing lost: otpd on the same file without the cap.
  opts.store_yaml.clear();
  expect_intact_and_every_code_approved(dir, opts, smsc, accepted);
}

TEST(e2e_faults, a_full_disk_answers_503_and_recovers_when_space_is_freed) {
  // The file system under the state folder fills up while otpd runs (a real ENOSPC, not
  // otpd's own size cap), then space is freed: no restart is needed.
  temp_dir dir;
  const std::string folder = dir.path().string();
  small_disk disk(folder, 16 << 20);
  ASSERT_EQ(disk.error(), "") << "this test needs CAP_SYS_ADMIN (it runs as root in the suite)";
  smsc_process smsc(smsc_flags());
  otpd_options opts = routed_to(smsc);

  std::vector<std::pair<int, std::string>> accepted;  // request number, id
  {
    otpd_process o(opts, dir.path());
    ASSERT_TRUE(o.wait_ready()) << o.output();
    int i = 0;
    for (; i < 20; ++i) {
      accepted.emplace_back(i, create(o, {{"to", number(i)}}));
      ASSERT_FALSE(accepted.back().second.empty());
    }
    const std::size_t lines_before = o.lines().size();

    // Full. Writes that fit in space SQLite already holds (the WAL is rewritten from its start
    // after a checkpoint) still succeed.
    ASSERT_GT(disk.fill(), 0u);
    int refusals = 0;
    ASSERT_NO_FATAL_FAILURE(create_until_refused_three_times(o, i, 3000, accepted, refusals));
    EXPECT_TRUE(o.wait_for_line(says_the_store_is_full, 5s, lines_before)) << o.output();
    // Reads still work.
    EXPECT_EQ(o.get("/v1/verifications/" + accepted.front().second).status, 200);
    EXPECT_EQ(o.get("/healthz", false).status, 200);

    // Space comes back: so does otpd, by itself.
    ASSERT_EQ(disk.make_room(), "");
    for (const int end = i + 10; i < end; ++i) {
      http_response r = o.post("/v1/verifications", json::object{{"to", number(i)}});
      ASSERT_EQ(r.status, 201) << r.body;
      accepted.emplace_back(i, str(r.obj(), "id"));
    }

    ASSERT_NO_FATAL_FAILURE(expect_an_sms_per_201_only(o, smsc, accepted.size()));
    const int status = o.stop();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe_wait_status(status);
  }

  expect_intact_and_every_code_approved(dir, opts, smsc, accepted);
}

TEST(e2e_faults, a_receipt_the_store_cannot_record_is_refused_for_now_and_recorded_when_resent) {
  // Another program holds the database's write lock (the sqlite3 shell here, as an operator's
  // maintenance might): otpd cannot record a delivery receipt, so it answers the deliver_sm
  // with ESME_RX_T_APPN instead of acknowledging a receipt it would lose. The SMSC sends it
  // again, and once the lock is gone it is recorded, and counted once.
  temp_dir dir;
  smsc_process smsc(smsc_flags({"--receipt-retry-ms", "300"}));
  otpd_process o(routed_to(smsc), dir.path());
  ASSERT_TRUE(o.wait_ready()) << o.output();

  smsc.command({{"cmd", "hold_receipts"}, {"on", true}});
  const std::size_t mark = smsc.size();
  const std::string id = create(o, {{"to", number(1)}});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(smsc.wait_for_event("receipt_queued", 15s, mark));
  // The submit's outcome (and the SMSC's message id the receipt will name) is stored before the
  // lock is taken: the lock is meant to meet the receipt, not the submit.
  json::object submitted = o.poll_verification(
      id, [](const json::object& b) { return attempt_status_is(b, 0, "submitted"); });
  ASSERT_EQ(str(attempt(submitted, 0), "status"), "submitted") << json::serialize(submitted);

  std::promise<void> got_lock;
  std::future<void> locked = got_lock.get_future();
  child_process holder({"sqlite3", (dir.path() / "otpd.db").string()}, [&](std::string_view line) {
    if (line == "locked") got_lock.set_value();
  });
  ASSERT_TRUE(holder.write_stdin(".timeout 10000\nBEGIN IMMEDIATE;\nSELECT 'locked';\n"));
  ASSERT_EQ(locked.wait_for(15s), std::future_status::ready);

  const std::size_t lines_before = o.lines().size();
  const std::size_t released = smsc.size();
  smsc.command({{"cmd", "hold_receipts"}, {"on", false}});
  // Refused for now once otpd's write gives up waiting for the lock (busy_timeout, 5 s).
  ASSERT_TRUE(smsc.wait_for(event_with("deliver_sm_resp", {{"kind", "receipt"}, {"status", 0x64}}),
                            20s, released))
      << o.output();
  EXPECT_TRUE(o.wait_for_line(
      [](std::string_view l) {
        return l.find("receipt_deferred") != l.npos && l.find("ESME_RX_T_APPN") != l.npos;
      },
      5s, lines_before))
      << o.output();

  // The lock goes: a later copy of the receipt is recorded.
  ASSERT_TRUE(holder.write_stdin("ROLLBACK;\n"));
  holder.close_stdin();
  ASSERT_TRUE(holder.wait_exit(child_process::clock::now() + 10s));
  ASSERT_TRUE(smsc.wait_for(event_with("deliver_sm_resp", {{"kind", "receipt"}, {"status", 0}}),
                            30s, released))
      << o.output();
  json::object v = o.poll_verification(
      id, [](const json::object& b) { return attempt_status_is(b, 0, "delivered"); });
  EXPECT_EQ(str(attempt(v, 0), "status"), "delivered") << json::serialize(v);
  EXPECT_EQ(str(attempt(v, 0), "dlr_stat"), "DELIVRD");

  smsc.sync();
  EXPECT_EQ(smsc.count("receipt_refused"), 0u);  // the SMSC never gave up on it
  EXPECT_GE(smsc.count("receipt_retry"), 1u);
  const std::string m = o.ops_get("/metrics").body;
  EXPECT_GE(metric(m, R"(otpd_sms_receipts_refused_total{carrier="vn"})"), 1);
  EXPECT_EQ(metric(m, R"(otpd_sms_receipts_total{carrier="vn",stat="DELIVRD"})"), 1);
}

TEST(e2e_faults, a_read_only_state_folder_is_a_clear_error_and_loses_nothing) {
  // The state folder mounted read-only (a mount namespace of this test's own, so root's
  // privileges do not get around it): otpd refuses to start, says why, and the database it
  // could not write is intact. (A folder that turns read-only under a running otpd cannot be
  // made here: the kernel refuses to remount while otpd holds the database open for writing.)
  temp_dir dir;
  smsc_process smsc(smsc_flags());
  otpd_options opts = routed_to(smsc);
  std::vector<std::pair<int, std::string>> accepted;  // request number, id
  {
    otpd_process o(opts, dir.path());
    ASSERT_TRUE(o.wait_ready()) << o.output();
    for (int i = 0; i < 3; ++i) accepted.emplace_back(i, create(o, {{"to", number(i)}}));
    ASSERT_TRUE(smsc.wait_for(
        [seen = std::make_shared<int>(0)](const json::object& ev) {
          return str(ev, "event") == "submit" && ++*seen == 3;
        },
        15s));
    const int status = o.stop();
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe_wait_status(status);
  }
  const std::string folder = dir.path().string();
  // sh -c SCRIPT sh FOLDER NAME=value... OTPD --config FILE: the secrets the configuration
  // names come from the environment, as otpd_process gives them.
  std::vector<std::string> argv = {"unshare",
                                   "--mount",
                                   "--propagation",
                                   "private",
                                   "--",
                                   "sh",
                                   "-c",
                                   "mount --bind -o ro \"$1\" \"$1\" && shift && exec env \"$@\"",
                                   "sh",
                                   folder};
  for (std::string& e : otpd_secrets_environment()) argv.push_back(std::move(e));
  argv.insert(argv.end(), {OTPD_BINARY, "--config", folder + "/otpd.yaml"});
  command_result ro = run_command(std::move(argv), 30s, true);
  EXPECT_EQ(ro.exit_code, 3) << ro.output();
  const std::string out = ro.output();
  EXPECT_NE(out.find("store_open_failed"), std::string::npos) << out;
  EXPECT_NE(out.find("read-only"), std::string::npos) << out;
  EXPECT_EQ(out.find("listening"), std::string::npos) << out;

  expect_intact_and_every_code_approved(dir, opts, smsc, accepted);
}

// ---- kill -9 under load, twenty times -----------------------------------------------------------

TEST(e2e_faults, kill9_at_random_moments_under_load_loses_nothing) {
  temp_dir dir;
  smsc_process smsc(smsc_flags());
  otpd_options opts = routed_to(smsc);
  std::mt19937 rng(std::random_device{}());

  constexpr int rounds = 20;
  std::vector<std::pair<int, std::string>> accepted;  // request number, id
  int next = 0;
  std::size_t unanswered = 0;  // requests in flight at a kill: no 201, outcome unknown
  for (int round = 0; round < rounds; ++round) {
    otpd_process o(opts, dir.path());
    ASSERT_TRUE(o.wait_ready()) << o.output();
    // Four clients send until the kill; the kill comes after a random number of 201s.
    const int kill_after = std::uniform_int_distribution<int>(1, 40)(rng);
    std::atomic<int> created{0};
    std::atomic<int> counter{next};
    std::mutex m;
    std::vector<std::thread> clients;
    std::atomic<bool> killed{false};
    std::condition_variable cv;
    for (int c = 0; c < 4; ++c) {
      clients.emplace_back([&] {
        for (int k = 0; k < 200 && !killed; ++k) {
          const int i = counter++;
          http_response r = post_or_refused(o, number(i));
          std::lock_guard lock(m);
          if (r.status == 201) {
            accepted.emplace_back(i, str(r.obj(), "id"));
            if (++created >= kill_after) cv.notify_all();
          } else {
            ++unanswered;
            if (!killed) ADD_FAILURE() << "before the kill: " << r.status << " " << r.body;
          }
        }
      });
    }
    {
      std::unique_lock lock(m);
      cv.wait_for(lock, 30s, [&] { return created >= kill_after; });
      killed = true;
    }
    o.kill9();
    for (auto& t : clients) t.join();
    next = counter;
  }

  // A last start: everything accepted is there; attempts cut off by a kill are failed with
  // interrupted_by_restart, the others submitted or delivered.
  otpd_process last(opts, dir.path());
  ASSERT_TRUE(last.wait_ready()) << last.output();
  std::vector<std::string> ids;
  for (const auto& a : accepted) ids.push_back(a.second);
  tally t = account_for(last, ids);
  auto by_dest = submits_by_dest(smsc);
  std::size_t orphans = 0;  // SMS for a request that never got its 201
  std::set<std::string> accepted_dests;
  for (const auto& a : accepted) accepted_dests.insert(dest(a.first));
  for (const auto& [d, count] : by_dest) orphans += accepted_dests.count(d) ? 0 : 1;
  std::cout << "[ kill -9 x" << rounds << " ] requests " << next << ", " << t.describe()
            << "; in flight at a kill " << unanswered << ", SMS for those " << orphans
            << ", duplicate submit_sm " << duplicates(by_dest) << "\n";
  EXPECT_EQ(t.missing + t.stuck, 0u) << t.describe();
  for (const auto& p : t.problems) ADD_FAILURE() << p;
  EXPECT_EQ(duplicates(by_dest), 0u) << "otpd never sends an SMS twice on its own";
  EXPECT_LE(orphans, unanswered);
  EXPECT_GE(accepted.size(), static_cast<std::size_t>(rounds));
}

// ---- SIGTERM under load -------------------------------------------------------------------------

TEST(e2e_faults, sigterm_under_load_drains_and_loses_nothing) {
  temp_dir dir;
  // Slow answers: submits are in flight when SIGTERM comes.
  smsc_process smsc(smsc_flags({"--submit-delay-ms", "200"}));
  otpd_options opts = routed_to(smsc);

  std::vector<std::pair<int, std::string>> accepted;
  std::mutex m;
  std::atomic<std::size_t> refused{0};  // read by the clients' loops without the lock
  int status = 0;
  {
    otpd_process o(opts, dir.path());
    ASSERT_TRUE(o.wait_ready()) << o.output();
    std::atomic<int> counter{0};
    std::atomic<int> created{0};
    std::atomic<bool> stopping{false};
    std::condition_variable cv;
    std::vector<std::thread> clients;
    for (int c = 0; c < 4; ++c) {
      clients.emplace_back([&] {
        for (int k = 0; k < 300 && !(stopping && refused > 0); ++k) {
          const int i = counter++;
          http_response r = post_or_refused(o, number(i));
          std::lock_guard lock(m);
          if (r.status == 201) {
            accepted.emplace_back(i, str(r.obj(), "id"));
            if (++created >= 40) cv.notify_all();
          } else {
            ++refused;
            // After SIGTERM: refused (connection refused, 0) or 503 while draining.
            if (!stopping) ADD_FAILURE() << "before SIGTERM: " << r.status << " " << r.body;
            if (r.status != 0) {
              EXPECT_EQ(r.status, 503) << r.body;
            }
          }
        }
      });
    }
    {
      std::unique_lock lock(m);
      cv.wait_for(lock, 30s, [&] { return created >= 40; });
      stopping = true;
    }
    status = o.stop();
    for (auto& t : clients) t.join();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << describe_wait_status(status) << o.output();
  }
  smsc.sync();
  EXPECT_GE(smsc.count("unbind"), 1u) << "otpd did not unbind";

  // Restarted: every accepted verification is there, and none was left queued (the drain
  // finished each submit in flight).
  otpd_process again(opts, dir.path());
  ASSERT_TRUE(again.wait_ready()) << again.output();
  std::vector<std::string> ids;
  for (const auto& a : accepted) ids.push_back(a.second);
  tally t = account_for(again, ids);
  std::cout << "[ SIGTERM ] " << t.describe() << "; refused while stopping " << refused << "\n";
  EXPECT_EQ(t.missing + t.stuck, 0u);
  EXPECT_EQ(t.failed, 0u) << "a submit in flight was cut off by the shutdown";
  for (const auto& p : t.problems) ADD_FAILURE() << p;
  auto by_dest = submits_by_dest(smsc);
  for (const auto& a : accepted) EXPECT_EQ(by_dest[dest(a.first)], 1) << dest(a.first);
}

// ---- HTTP abuse ---------------------------------------------------------------------------------

// A TCP connection to 127.0.0.1:port (blocking, with a 10 s send/receive timeout); -1 on failure.
int connect_to(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST(e2e_faults, http_abuse_does_not_starve_other_clients) {
  otpd_options opts;
  opts.http["read_timeout"] = "2s";
  opts.http["max_connections"] = "1000";
  opts.rate_limits["per_client_ip"] = "[{max: 5, window: 1m}]";
  single_world w(opts);
  otpd_process& o = *w.otpd;
  const std::uint16_t port = o.port();

  // 300 idle connections and 100 slow-loris clients, each sending one more header byte every
  // 100 ms (bounded: 6 s), which read_timeout (2 s) must cut off.
  std::vector<int> idle, slow;
  for (int i = 0; i < 300; ++i) idle.push_back(connect_to(port));
  for (int i = 0; i < 100; ++i) {
    int fd = connect_to(port);
    const std::string start = "POST /v1/verifications HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    if (fd >= 0) (void)::send(fd, start.data(), start.size(), MSG_NOSIGNAL);
    slow.push_back(fd);
  }
  EXPECT_EQ(std::count(idle.begin(), idle.end(), -1), 0);
  EXPECT_EQ(std::count(slow.begin(), slow.end(), -1), 0);
  std::atomic<int> slow_cut{0};
  std::thread trickle([&] {
    // Until otpd has cut every one of them, or 6 s.
    const auto until = steady::now() + 6s;
    std::vector<bool> cut(slow.size(), false);
    while (slow_cut < static_cast<int>(slow.size()) && steady::now() < until) {
      for (std::size_t i = 0; i < slow.size(); ++i) {
        if (slow[i] < 0 || cut[i]) continue;
        if (::send(slow[i], "a", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno != EAGAIN) {
          cut[i] = true;
          ++slow_cut;
        }
      }
      std::this_thread::sleep_for(100ms);  // the attack's pace, not a synchronisation
    }
  });

  // Oversized headers and bodies, and a burst from one end user past its limit, all at once.
  std::atomic<int> too_large_headers{0}, too_large_bodies{0}, limited{0}, burst_other{0};
  std::thread big([&] {
    for (int i = 0; i < 20; ++i) {
      http_response h = o.call("GET", "/v1/verifications/x",
                               {{"X-Big", std::string(16 * 1024, 'h')}}, std::nullopt);
      if (h.status == 431) ++too_large_headers;
      http_response b = o.call("POST", "/v1/verifications", {{"Content-Type", "application/json"}},
                               std::string(64 * 1024, ' '));
      if (b.status == 413) ++too_large_bodies;
    }
  });
  std::thread burst([&] {
    for (int i = 0; i < 100; ++i) {
      http_response r = o.post("/v1/verifications", json::object{{"to", number(1000 + i)},
                                                                 {"client_ip", "203.0.113.66"}});
      if (r.status == 429) {
        ++limited;
      } else if (r.status != 201) {
        ++burst_other;
      }
    }
  });

  // Meanwhile a well-behaved client: every answer right and within its budget.
  std::vector<double> ms;
  for (int i = 0; i < 40; ++i) {
    const auto t0 = steady::now();
    http_response h = o.get("/healthz", false);
    http_response c =
        o.post("/v1/verifications", json::object{{"to", number(i)}, {"client_ip", "198.51.100.1"}});
    ms.push_back(std::chrono::duration<double, std::milli>(steady::now() - t0).count());
    EXPECT_EQ(h.status, 200);
    // Its own limit is 5 per minute: the rest are its own 429s, not the attack's.
    EXPECT_EQ(c.status, i < 5 ? 201 : 429) << c.body;
  }
  big.join();
  burst.join();
  trickle.join();

  std::sort(ms.begin(), ms.end());
  std::cout << "[ http abuse ] well-behaved client, /healthz + create: median " << ms[ms.size() / 2]
            << " ms, max " << ms.back() << " ms; slow-loris cut " << slow_cut << " of "
            << slow.size() << "\n";
  EXPECT_LT(ms.back(), 1000.0) << "a request of the well-behaved client took over 1 s";
  EXPECT_EQ(slow_cut, static_cast<int>(slow.size())) << "slow-loris clients left connected";
  EXPECT_EQ(too_large_headers, 20);
  EXPECT_EQ(too_large_bodies, 20);
  EXPECT_EQ(limited, 95);
  EXPECT_EQ(burst_other, 0);

  // The slow clients were answered 408 and closed by read_timeout; the idle ones too (idle
  // keep-alive has the same bound before a first request).
  for (int fd : slow) {
    char buf[512];
    const ssize_t n = fd >= 0 ? ::recv(fd, buf, sizeof buf - 1, 0) : -1;
    EXPECT_TRUE(
        n == 0 ||
        (n > 0 && std::string_view(buf, static_cast<std::size_t>(n)).starts_with("HTTP/1.1 408")))
        << "a slow-loris connection still open";
    if (fd >= 0) ::close(fd);
  }
  for (int fd : idle) {
    if (fd >= 0) ::close(fd);
  }
  EXPECT_EQ(o.get("/healthz", false).status, 200);
}

}  // namespace
}  // namespace otpd::test::e2e
