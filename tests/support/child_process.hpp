// A child process for integration tests: stdin and stdout on pipes, stdout read line by line on
// a thread, stopped by PID (SIGTERM, then SIGKILL after a bounded wait) and always reaped.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace otpd::test {

class child_process {
 public:
  using clock = std::chrono::steady_clock;
  // Called on the reader thread for each line of the child's stdout, without the '\n'.
  using line_handler = std::function<void(std::string_view line)>;

  struct options {
    // Empty: the test's working directory.
    std::string working_directory;
    // Called on the reader thread after the last line, when stdout closes (or stop()).
    std::function<void()> on_end;
    // Read stderr as well, interleaved with stdout (for programs that log to stderr).
    bool merge_stderr = false;
    // Extra environment variables ("NAME=value"), added to the test's own.
    std::vector<std::string> environment;
  };

  // Starts argv[0] (searched in PATH when it has no '/') with the given arguments. stderr is
  // inherited so that the child's diagnostics land in the test log. The child runs in its own
  // process group, which stop() signals, so grandchildren go too; it is killed if the thread
  // that started it exits (PR_SET_PDEATHSIG) and sees EOF on stdin if the test binary dies.
  // Throws std::system_error when the program cannot be started.
  child_process(std::vector<std::string> argv, line_handler on_line, options opts);
  child_process(std::vector<std::string> argv, line_handler on_line);
  // Stops the child (see stop()) if it still runs.
  ~child_process();

  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const noexcept { return pid_; }

  // Writes all of data to the child's stdin; false when the child no longer reads it.
  bool write_stdin(std::string_view data);
  void close_stdin();

  // Waits until the child exits or the deadline passes; on exit, reaps it and returns its wait
  // status (as from waitpid). Later calls return the same status at once.
  std::optional<int> wait_exit(clock::time_point deadline);
  bool running();

  // SIGTERM to the child's process group, up to `grace` for it to exit, then SIGKILL; reaps and
  // returns the wait status. Also waits for the reader thread, so every line the child wrote
  // has been handed to on_line when this returns.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  void read_loop();
  void join_reader();
  // With wait_mutex_ held: has the child exited (not yet reaped)?
  bool exited_locked();
  // With wait_mutex_ held: kills whatever is left of the process group and reaps the leader.
  int reap_locked();
  void signal_group(int sig);

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int pidfd_ = -1;
  int wake_fd_ = -1;  // eventfd: tells the reader to drain what is left and finish
  line_handler on_line_;
  std::function<void()> on_end_;
  std::thread reader_;
  std::mutex stdin_mutex_;  // guards stdin_fd_
  std::mutex wait_mutex_;   // guards status_, pidfd_ and the reaping
  std::optional<int> status_;
};

// "exited with 0", "killed by signal 9 (Killed)", ...
std::string describe_wait_status(int status);

// A program run to its end: its exit code (-1: killed, or still running at the deadline, when
// it is stopped) and its stdout lines (with stderr when merge_stderr).
struct command_result {
  int exit_code = -1;
  std::vector<std::string> out;
  std::string output() const;  // the lines joined, each ending in '\n'
};
command_result run_command(std::vector<std::string> argv,
                           std::chrono::milliseconds timeout = std::chrono::seconds(30),
                           bool merge_stderr = false);

// A pidfd for `pid` (Linux 5.3+), or -1. Through syscall(): glibc 2.36's <sys/pidfd.h> lacks
// extern "C".
int open_pidfd(pid_t pid) noexcept;

// The absolute path of `program` in PATH (or `program` itself when it contains a '/'); throws
// std::runtime_error when not found.
std::string find_program(std::string_view program);

}  // namespace otpd::test
