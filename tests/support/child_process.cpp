#include "tests/support/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <system_error>

namespace otpd::test {

namespace {

std::system_error errno_error(const std::string& what) {
  return std::system_error(errno, std::generic_category(), what);
}

void close_fd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

// Writing to a child that has gone must be an error return, not a signal that ends the test.
void ignore_sigpipe() {
  static std::once_flag once;
  std::call_once(once, [] { ::signal(SIGPIPE, SIG_IGN); });
}

int poll_timeout_ms(child_process::clock::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - child_process::clock::now());
  return static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(left.count(), 0, INT_MAX));
}

}  // namespace

int open_pidfd(pid_t pid) noexcept { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0U)); }

std::string find_program(std::string_view program) {
  if (program.find('/') != std::string_view::npos) return std::string(program);
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    auto colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + std::string(program);
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  throw std::runtime_error("program not found in PATH: " + std::string(program));
}

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exited with " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char* name = ::sigdescr_np(sig);
    return "killed by signal " + std::to_string(sig) + " (" + (name ? name : "?") + ")";
  }
  return "wait status " + std::to_string(status);
}

child_process::child_process(std::vector<std::string> argv, line_handler on_line)
    : child_process(std::move(argv), std::move(on_line), options{}) {}

child_process::child_process(std::vector<std::string> argv, line_handler on_line, options opts)
    : on_line_(std::move(on_line)), on_end_(std::move(opts.on_end)) {
  if (argv.empty()) throw std::invalid_argument("child_process: empty argv");
  ignore_sigpipe();

  // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
  const std::string program = find_program(argv[0]);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  const char* workdir = opts.working_directory.empty() ? nullptr : opts.working_directory.c_str();
  const bool merge_stderr = opts.merge_stderr;
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
  for (auto& e : opts.environment) envp.push_back(e.data());
  envp.push_back(nullptr);

  int in_pipe[2];
  int out_pipe[2];
  int exec_pipe[2];  // stays open until exec, which closes it (CLOEXEC): EOF means exec worked
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) throw errno_error("pipe2");
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    auto e = errno_error("pipe2");
    ::close(in_pipe[0]);
    ::close(in_pipe[1]);
    throw e;
  }
  if (::pipe2(exec_pipe, O_CLOEXEC) != 0) {
    auto e = errno_error("pipe2");
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1]}) ::close(fd);
    throw e;
  }
  const pid_t parent = ::getpid();

  pid_ = ::fork();
  if (pid_ < 0) {
    auto e = errno_error("fork");
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], exec_pipe[0], exec_pipe[1]}) {
      ::close(fd);
    }
    throw e;
  }
  if (pid_ == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
    ::dup2(in_pipe[0], STDIN_FILENO);         // dup2 clears CLOEXEC on the new descriptor
    ::dup2(out_pipe[1], STDOUT_FILENO);
    if (merge_stderr) ::dup2(out_pipe[1], STDERR_FILENO);
    // Descriptors the test opened without CLOEXEC (sockets, ...) must not leak into the child.
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);  // ignored dispositions survive exec
    if (workdir == nullptr || ::chdir(workdir) == 0)
      ::execve(program.c_str(), args.data(), envp.data());
    int err = errno;
    [[maybe_unused]] auto n = ::write(exec_pipe[1], &err, sizeof err);
    ::_exit(127);
  }

  // Both sides set the group, so that a signal to -pid never races with the child's setpgid.
  ::setpgid(pid_, pid_);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(exec_pipe[1]);
  stdin_fd_ = in_pipe[1];
  stdout_fd_ = out_pipe[0];

  int exec_errno = 0;
  ssize_t n;
  do {
    n = ::read(exec_pipe[0], &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  ::close(exec_pipe[0]);
  if (n > 0) {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    close_fd(stdin_fd_);
    close_fd(stdout_fd_);
    throw std::system_error(exec_errno, std::generic_category(), "cannot run " + program);
  }

  pidfd_ = open_pidfd(pid_);  // -1 on old kernels: wait_exit then polls
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    auto e = errno_error("eventfd");
    stop(std::chrono::milliseconds(0));
    close_fd(stdin_fd_);
    close_fd(stdout_fd_);
    close_fd(pidfd_);
    throw e;
  }
  reader_ = std::thread([this] { read_loop(); });
}

child_process::~child_process() {
  try {
    stop();
  } catch (const std::exception& e) {
    std::cerr << "child_process: stop failed: " << e.what() << '\n';
  }
  join_reader();
  close_fd(stdin_fd_);
  close_fd(stdout_fd_);
  close_fd(pidfd_);
  close_fd(wake_fd_);
}

bool child_process::write_stdin(std::string_view data) {
  std::lock_guard lock(stdin_mutex_);
  while (!data.empty()) {
    if (stdin_fd_ < 0) return false;
    ssize_t n = ::write(stdin_fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void child_process::close_stdin() {
  std::lock_guard lock(stdin_mutex_);
  close_fd(stdin_fd_);
}

bool child_process::exited_locked() {
  siginfo_t info{};
  info.si_pid = 0;
  if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    return errno == ECHILD;  // someone else reaped it: nothing left to wait for
  }
  return info.si_pid != 0;
}

int child_process::reap_locked() {
  // The exited leader is still a zombie, so its PID (and group id) cannot have been reused:
  // this reaches only what is left of its group.
  ::kill(-pid_, SIGKILL);
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  if (r < 0) status = 0;  // ECHILD: reaped elsewhere (a SIGCHLD handler set to SIG_IGN)
  status_ = status;
  close_fd(pidfd_);
  return status;
}

std::optional<int> child_process::wait_exit(clock::time_point deadline) {
  std::lock_guard lock(wait_mutex_);
  while (!status_) {
    if (exited_locked()) return reap_locked();
    int timeout = poll_timeout_ms(deadline);
    if (timeout == 0) return std::nullopt;
    if (pidfd_ >= 0) {
      pollfd p{pidfd_, POLLIN, 0};
      if (::poll(&p, 1, timeout) < 0 && errno != EINTR) throw errno_error("poll(pidfd)");
    } else {
      // No pidfd: look again every 10 ms until the deadline.
      ::poll(nullptr, 0, std::min(timeout, 10));
    }
  }
  return status_;
}

bool child_process::running() { return !wait_exit(clock::now()).has_value(); }

void child_process::signal_group(int sig) {
  if (::kill(-pid_, sig) != 0) ::kill(pid_, sig);
}

int child_process::stop(std::chrono::milliseconds grace) {
  if (!wait_exit(clock::now())) {
    // Not yet reaped, so pid_ still names our child (a zombie at worst).
    signal_group(SIGTERM);
    if (!wait_exit(clock::now() + grace)) {
      signal_group(SIGKILL);
      if (!wait_exit(clock::now() + std::chrono::seconds(10))) {
        std::lock_guard lock(wait_mutex_);
        if (!status_) reap_locked();  // blocks: SIGKILL cannot be refused
      }
    }
  }
  join_reader();
  close_stdin();
  std::lock_guard lock(wait_mutex_);
  return *status_;
}

void child_process::join_reader() {
  if (!reader_.joinable()) return;
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  reader_.join();
}

void child_process::read_loop() {
  std::string pending;
  char chunk[64 * 1024];
  auto deliver = [this](std::string_view line) {
    try {
      if (on_line_) on_line_(line);
    } catch (const std::exception& e) {
      std::cerr << "child_process: line handler threw: " << e.what() << '\n';
    }
  };
  while (true) {
    pollfd fds[2] = {{stdout_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    // Output first: after a wake-up, whatever the child wrote is still drained until the pipe
    // is empty, so stop() returns with every line delivered.
    if (fds[0].revents != 0) {
      ssize_t n = ::read(stdout_fd_, chunk, sizeof chunk);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) break;
      pending.append(chunk, static_cast<std::size_t>(n));
      std::size_t start = 0;
      for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n', start)) {
        deliver(std::string_view(pending).substr(start, nl - start));
        start = nl + 1;
      }
      pending.erase(0, start);
      continue;
    }
    if (fds[1].revents != 0) break;
  }
  if (!pending.empty()) deliver(pending);
  try {
    if (on_end_) on_end_();
  } catch (const std::exception& e) {
    std::cerr << "child_process: end handler threw: " << e.what() << '\n';
  }
}

std::string command_result::output() const {
  std::string s;
  for (const auto& l : out) s.append(l).push_back('\n');
  return s;
}

command_result run_command(std::vector<std::string> argv, std::chrono::milliseconds timeout,
                           bool merge_stderr) {
  command_result r;
  auto out = std::make_shared<std::vector<std::string>>();
  auto m = std::make_shared<std::mutex>();
  child_process::options opts;
  opts.merge_stderr = merge_stderr;
  child_process p(
      std::move(argv),
      [out, m](std::string_view line) {
        std::lock_guard lock(*m);
        out->emplace_back(line);
      },
      opts);
  const auto status = p.wait_exit(child_process::clock::now() + timeout);
  p.stop();
  if (status && WIFEXITED(*status)) r.exit_code = WEXITSTATUS(*status);
  std::lock_guard lock(*m);
  r.out = *out;
  return r;
}

}  // namespace otpd::test
