// SIGTERM while an SMS is still waiting for its submit_sm_resp past the drain
// (process.shutdown_drain): otpd gives up waiting, unbinds, flushes the store and exits 0 by
// itself, without a sanitizer report (run in the asan preset: a coroutine left pending at the
// stop must not outlive what it references).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <csignal>
#include <iostream>

#include "tests/daemon/e2e/scenario.hpp"

namespace otpd::test::e2e {
namespace {

bool has(std::string_view line, std::string_view what) {
  return line.find(what) != std::string_view::npos;
}

// A log line of this event (the event's name, then its fields or the end of the line).
auto event(std::string name) {
  return [name](std::string_view l) {
    return has(l, name + " ") || (l.ends_with(name) && !l.ends_with("_" + name));
  };
}

TEST(e2e_shutdown, a_drain_that_times_out_with_a_submit_unanswered_still_exits_cleanly) {
  temp_dir dir;
  // An SMSC that takes ten minutes to answer a submit_sm: it is unanswered at the stop.
  smsc_process smsc(smsc_flags({"--submit-delay-ms", "600000"}));
  otpd_options opts;
  opts.carriers.push_back(vietnam_carrier(smsc.port()));
  opts.carriers[0].binds[0].timeouts = "{connect: 2s, bind: 5s, response: 4s}";
  opts.extra_yaml = "process:\n  shutdown_drain: 500ms\n";
  otpd_process o(opts, dir.path());
  ASSERT_TRUE(o.wait_ready()) << o.output();

  const std::string id = create(o, boost::json::object{{"to", "0912345678"}});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(smsc.wait_for_event("submit", 15s)) << o.output();

  const auto sent = steady::now();
  ASSERT_EQ(::kill(o.pid(), SIGTERM), 0);
  // By itself: no second signal, no SIGKILL. The drain, the unbind (at most the bind's response
  // timeout) and the store's flush.
  const std::optional<int> status = o.wait_exit(12s);
  ASSERT_TRUE(status) << "otpd did not exit within 12 s of SIGTERM\n" << o.output();
  const auto took = steady::now() - sent;
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
      << describe_wait_status(*status) << "\n"
      << o.output();
  const auto lines = o.lines();
  EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), event("drain_timed_out"))) << o.output();
  EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), event("stopped"))) << o.output();
  for (const auto& l : lines) {
    EXPECT_FALSE(has(l, "ERROR: AddressSanitizer") || has(l, "runtime error:")) << l;
  }
  std::cout << "[ SIGTERM ] exited after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
}

}  // namespace
}  // namespace otpd::test::e2e
