#include "config/detail/private_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/secret.hpp"

namespace otpd::config::detail {
namespace {

std::string mode_text(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

struct fd_guard {
  int fd;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::optional<std::string> read_private_file(const std::filesystem::path& p, std::size_t limit,
                                             std::string& why) {
  fd_guard f{::open(p.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  if (S_ISDIR(st.st_mode)) {
    why = "it is a directory";
    return std::nullopt;
  }
  // Devices and pipes (/dev/stdin, a FIFO) have modes of their own meaning; a regular file
  // is what an operator edits.
  if (S_ISREG(st.st_mode) && (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    why = "writable by its group or by others (mode " + mode_text(st.st_mode) +
          "); otpd refuses it: chmod go-w " + p.string();
    return std::nullopt;
  }
  std::string content;
  // One allocation of the final size where the size is known, so that no shorter buffer
  // holding part of the secret is freed unwiped on the way.
  const std::size_t expected = S_ISREG(st.st_mode) ? static_cast<std::size_t>(st.st_size) : 0;
  content.resize(std::min(limit, expected) + 1);
  std::size_t used = 0;
  for (;;) {
    if (used == content.size()) {
      if (used > limit) break;
      std::string bigger(std::min(limit + 1, 2 * content.size() + 4096), '\0');
      std::memcpy(bigger.data(), content.data(), used);
      wipe(content);
      content.swap(bigger);
    }
    const ssize_t n = ::read(f.fd, content.data() + used, content.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      why = std::strerror(errno);
      wipe(content);
      return std::nullopt;
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  if (used > limit) {
    why = "larger than " + std::to_string(limit) + " bytes";
    wipe(content);
    return std::nullopt;
  }
  content.resize(used);
  return content;
}

}  // namespace otpd::config::detail
