#include "tests/support/child_process.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace otpd::test {
namespace {

using namespace std::chrono_literals;

// Collects a child's stdout lines; tests wait on it with deadlines.
class line_sink {
 public:
  child_process::line_handler handler() {
    return [this](std::string_view line) {
      std::lock_guard lock(mutex_);
      lines_.emplace_back(line);
      changed_.notify_all();
    };
  }
  bool wait_for_count(std::size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return lines_.size() >= n; });
  }
  std::vector<std::string> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
};

// True when the (non-child) process behind pidfd has exited before the timeout.
bool pidfd_exits(int pidfd, std::chrono::milliseconds timeout) {
  pollfd p{pidfd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
}

TEST(child_process, delivers_stdout_lines_and_exit_status) {
  line_sink sink;
  child_process child({"/bin/sh", "-c", "echo one; printf 'two\\nthree'; exit 3"}, sink.handler());
  auto status = child.wait_exit(child_process::clock::now() + 10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 3);
  EXPECT_EQ(child.stop(), *status);  // joins the reader: every line is in
  EXPECT_EQ(sink.lines(), (std::vector<std::string>{"one", "two", "three"}));
}

TEST(child_process, writes_stdin_and_child_sees_eof) {
  line_sink sink;
  child_process child({"cat"}, sink.handler());
  ASSERT_TRUE(child.write_stdin("hello\n"));
  ASSERT_TRUE(sink.wait_for_count(1, 10s));
  EXPECT_EQ(sink.lines().at(0), "hello");
  child.close_stdin();
  auto status = child.wait_exit(child_process::clock::now() + 10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(describe_wait_status(*status), "exited with 0");
  EXPECT_FALSE(child.write_stdin("late\n"));
}

TEST(child_process, sigkill_follows_an_ignored_sigterm) {
  line_sink sink;
  // An ignored signal stays ignored across exec, so `sleep` refuses SIGTERM.
  child_process child({"/bin/sh", "-c", "trap '' TERM; echo ready; exec sleep 60"}, sink.handler());
  ASSERT_TRUE(sink.wait_for_count(1, 10s));
  const pid_t pid = child.pid();
  int status = child.stop(200ms);
  EXPECT_TRUE(WIFSIGNALED(status)) << describe_wait_status(status);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  EXPECT_EQ(::kill(pid, 0), -1);  // reaped: the PID is free
  EXPECT_EQ(errno, ESRCH);
}

TEST(child_process, stop_kills_grandchildren) {
  line_sink sink;
  child_process child({"/bin/sh", "-c", "sleep 60 & echo $!; wait"}, sink.handler());
  ASSERT_TRUE(sink.wait_for_count(1, 10s));
  const pid_t grandchild = std::stoi(sink.lines().at(0));
  const int pidfd = open_pidfd(grandchild);
  ASSERT_GE(pidfd, 0) << "grandchild " << grandchild << " already gone";
  child.stop(2s);
  EXPECT_TRUE(pidfd_exits(pidfd, 10s));
  ::close(pidfd);
}

TEST(child_process, destructor_stops_and_reaps) {
  pid_t pid;
  {
    line_sink sink;
    child_process child({"/bin/sh", "-c", "echo ready; exec sleep 60"}, sink.handler());
    ASSERT_TRUE(sink.wait_for_count(1, 10s));
    pid = child.pid();
    EXPECT_TRUE(child.running());
  }
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST(child_process, unknown_programs_throw) {
  EXPECT_THROW(child_process({"otpd-no-such-program"}, nullptr), std::runtime_error);
  EXPECT_THROW(child_process({"/nonexistent/otpd-no-such-program"}, nullptr), std::system_error);
  child_process::options opts;
  opts.working_directory = "/nonexistent/otpd-no-such-directory";
  EXPECT_THROW(child_process({"/bin/true"}, nullptr, opts), std::system_error);
}

TEST(child_process, find_program_searches_path) {
  EXPECT_EQ(find_program("/bin/sh"), "/bin/sh");
  auto sh = find_program("sh");
  EXPECT_EQ(sh.back(), 'h');
  EXPECT_EQ(::access(sh.c_str(), X_OK), 0);
}

}  // namespace
}  // namespace otpd::test
