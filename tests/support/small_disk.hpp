// A small file system for tests of a full disk: a tmpfs mounted on a folder, in a mount
// namespace of the calling thread's own. Needs CAP_SYS_ADMIN (the suite runs as root).
#pragma once

#include <cstddef>
#include <string>

namespace otpd::test {

// Seen by the calling thread and by the threads and processes it starts afterwards; the host's
// mounts are untouched, and root's privileges do not get around a full file system (as they do
// around file modes). Unmounted when destroyed.
class small_disk {
 public:
  small_disk(std::string folder, std::size_t bytes);
  ~small_disk();
  small_disk(const small_disk&) = delete;
  small_disk& operator=(const small_disk&) = delete;

  // Empty when mounted; else why not.
  const std::string& error() const noexcept { return error_; }

  // Writes a file of its own in the folder until the file system has no space left; the bytes
  // written.
  std::size_t fill();
  // Deletes that file: the space comes back. Empty when done; else why not.
  std::string make_room();

 private:
  std::string folder_;
  std::string error_;
  bool mounted_ = false;
};

}  // namespace otpd::test
