// What the daemon does to its own process so that secrets and codes stay inside it: files it
// creates are private, no core dump (nor ptrace by the same user) unless the operator asks,
// and ${env:} secrets leave the environment once read.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/secret.hpp"

namespace otpd::process {

// First thing in main(): umask(077), so that the SQLite files (and anything else otpd
// creates) are 0600 also outside the unit (which sets UMask=0077 itself); and
// PR_SET_DUMPABLE 0 before any secret is read. A non-dumpable process leaves no core, cannot
// be attached to by ptrace / gcore except by root, and its /proc/PID/mem, environ and maps
// are root's only.
void harden_at_start() noexcept;

// Once the configuration is loaded: process.core_dumps: true makes the process dumpable again
// (for debugging a crash; the core then holds the codes in flight, but not the configured
// secrets, whose pages are MADV_DONTDUMP). Returns whether the process is dumpable now.
bool apply_core_dump_policy(bool core_dumps) noexcept;

// Whether the kernel would write a core for this process (PR_GET_DUMPABLE).
bool dumpable() noexcept;

// ${env:NAME} for the configuration loader, and their removal from the environment.
//
// A variable the configuration names is read once, kept as an otpd::secret, then unset and
// its text overwritten where the kernel first laid out the environment (what
// /proc/PID/environ shows). A reload reads the kept value, so SIGHUP still works after the
// variable is gone. Use from one thread, at start-up or on the I/O thread for a reload.
class env_secrets {
 public:
  // `initial_envp`: main's third argument, the block the kernel wrote.
  explicit env_secrets(char** initial_envp);

  // For load_options::getenv.
  std::optional<std::string> get(const std::string& name);
  // Every variable read since the last call leaves the environment. Returns how many were
  // removed now.
  std::size_t scrub();

 private:
  std::map<std::string, secret, std::less<>> kept_;
  std::set<std::string, std::less<>> read_;
  std::vector<char*> initial_;  // the kernel's "NAME=value" strings
};

}  // namespace otpd::process
