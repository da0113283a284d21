#include "daemon/process/process_policy.hpp"

#include <sys/prctl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace otpd::process {

void harden_at_start() noexcept {
  ::umask(077);
  (void)::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

bool apply_core_dump_policy(bool core_dumps) noexcept {
  (void)::prctl(PR_SET_DUMPABLE, core_dumps ? 1 : 0, 0, 0, 0);
  return dumpable();
}

bool dumpable() noexcept { return ::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1; }

env_secrets::env_secrets(char** initial_envp) {
  for (char** e = initial_envp; e != nullptr && *e != nullptr; ++e) initial_.push_back(*e);
}

std::optional<std::string> env_secrets::get(const std::string& name) {
  if (auto it = kept_.find(name); it != kept_.end()) return std::string(it->second.view());
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  read_.insert(name);
  return std::string(v);
}

std::size_t env_secrets::scrub() {
  std::size_t removed = 0;
  for (const std::string& name : read_) {
    char* entry = nullptr;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      if (std::strncmp(*e, name.c_str(), name.size()) == 0 && (*e)[name.size()] == '=') {
        entry = *e;
        break;
      }
    }
    if (entry == nullptr) continue;
    kept_.insert_or_assign(name, secret(std::string_view(entry + name.size() + 1)));
    ::unsetenv(name.c_str());
    // Only the kernel's copy is overwritten: a string setenv() allocated belongs to libc,
    // which may compare it again later.
    if (std::find(initial_.begin(), initial_.end(), entry) != initial_.end()) {
      wipe(entry, std::strlen(entry));
    }
    ++removed;
  }
  read_.clear();
  return removed;
}

}  // namespace otpd::process
