#include "tests/support/small_disk.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace otpd::test {

small_disk::small_disk(std::string folder, std::size_t bytes) : folder_(std::move(folder)) {
  const auto failed = [this](const char* what) {
    error_ = std::string(what) + ": " + std::strerror(errno);
  };
  if (::unshare(CLONE_NEWNS) != 0) {
    failed("unshare(CLONE_NEWNS)");
  } else if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    failed("making / private");
  } else if (::mount("otpd-test", folder_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
                     ("size=" + std::to_string(bytes)).c_str()) != 0) {
    failed("mount tmpfs");
  } else {
    mounted_ = true;
  }
}

small_disk::~small_disk() {
  if (mounted_) ::umount2(folder_.c_str(), MNT_DETACH);
}

namespace {
constexpr const char* filler = "/otpd-test-filler";
}  // namespace

std::size_t small_disk::fill() {
  const std::string path = folder_ + filler;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return 0;
  std::size_t written = 0;
  const std::string chunk(64 * 1024, 'x');
  // Large writes first, then smaller ones for the last partial blocks.
  for (std::size_t size = chunk.size(); size >= 512; size /= 2) {
    for (;;) {
      const ssize_t n = ::write(fd, chunk.data(), size);
      if (n <= 0) break;
      written += static_cast<std::size_t>(n);
    }
  }
  ::close(fd);
  return written;
}

std::string small_disk::make_room() {
  if (::unlink((folder_ + filler).c_str()) != 0) {
    return std::string("unlink: ") + std::strerror(errno);
  }
  return {};
}

}  // namespace otpd::test
