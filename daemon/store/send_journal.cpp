#include "daemon/store/send_journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <system_error>

namespace otpd::service {
namespace {

constexpr std::string_view prefix = "sms-journal.";

// The characters of a verification id, and of a node's name in a file name.
bool plain(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// A node's name as part of a file name: plain characters kept, anything else '_'.
std::string file_part(std::string_view node) {
  std::string out(node);
  for (char& c : out) {
    if (!plain(c)) c = '_';
  }
  return out;
}
// A journal larger than this is not one otpd wrote (a generation holds 4096 short records).
constexpr std::uintmax_t max_file_bytes = 4 << 20;

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > send_journal::max_id_length) return false;
  return std::all_of(id.begin(), id.end(), plain);
}

}  // namespace

send_journal::~send_journal() {
  if (fd_ >= 0) ::close(fd_);
}

std::filesystem::path send_journal::file_of(std::uint64_t g) const {
  return dir_ / (prefix_ + std::to_string(g));
}

bool send_journal::open(const std::filesystem::path& dir, std::string_view node, std::string& why) {
  std::lock_guard lock(mutex_);
  dir_ = dir;
  prefix_ = std::string(prefix) + (node.empty() ? "" : file_part(node) + ".");
  std::uint64_t highest = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix_, 0) != 0) continue;
    std::uint64_t g = 0;
    const char* first = name.data() + prefix_.size();
    const char* last = name.data() + name.size();
    auto [p, err] = std::from_chars(first, last, g);
    if (err != std::errc{} || p != last || g == 0) continue;
    highest = std::max(highest, g);
    previous_generations_.insert(g);
    read_generation(it->path());
  }
  if (ec) {
    why = "cannot read " + dir_.string() + ": " + ec.message();
    last_error_ = why;
    return false;
  }
  return start_generation(highest + 1, why);
}

void send_journal::read_generation(const std::filesystem::path& file) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec || size > max_file_bytes) return;
  std::ifstream in(file, std::ios::binary);
  std::string line;
  // A record cut short by the crash has no newline: getline still returns it; it is kept when it
  // parses (the id and the number are complete), which errs towards "may have been written".
  while (std::getline(in, line)) {
    const auto space = line.find(' ');
    if (space == std::string::npos) continue;
    const std::string_view id(line.data(), space);
    int attempt = 0;
    const char* first = line.data() + space + 1;
    const char* last = line.data() + line.size();
    auto [p, err] = std::from_chars(first, last, attempt);
    if (err != std::errc{} || p != last || attempt <= 0 || !valid_id(id)) continue;
    previous_.emplace(std::string(id), attempt);
  }
}

bool send_journal::start_generation(std::uint64_t g, std::string& why) {
  const std::filesystem::path file = file_of(g);
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    why = "cannot open " + file.string() + ": " + std::strerror(errno);
    last_error_ = why;
    return false;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  current_ = g;
  records_in_current_ = 0;
  unsettled_[g];  // present while it is the current generation, even with no record
  return true;
}

std::uint64_t send_journal::record(std::string_view verification_id, int attempt) {
  if (!valid_id(verification_id) || attempt <= 0) return 0;
  std::lock_guard lock(mutex_);
  if (fd_ < 0) return 0;
  if (records_in_current_ >= records_per_generation) {
    const std::uint64_t full = current_;
    std::string why;
    if (!start_generation(current_ + 1, why)) return 0;
    if (unsettled_[full] == 0) {
      unsettled_.erase(full);
      std::error_code ignored;
      std::filesystem::remove(file_of(full), ignored);
    }
  }
  std::string rec;
  rec.reserve(verification_id.size() + 16);
  rec.append(verification_id).append(1, ' ').append(std::to_string(attempt)).append(1, '\n');
  // One write(2) per record: O_APPEND keeps concurrent records whole.
  for (int tries = 0; tries < 3; ++tries) {
    const ssize_t n = ::write(fd_, rec.data(), rec.size());
    if (n == static_cast<ssize_t>(rec.size())) {
      ++records_in_current_;
      ++unsettled_[current_];
      return current_;
    }
    if (n < 0 && errno == EINTR) continue;
    last_error_ = n < 0 ? std::strerror(errno) : "short write";
    return 0;
  }
  last_error_ = "interrupted";
  return 0;
}

void send_journal::settle(std::uint64_t generation) {
  if (generation == 0) return;
  std::lock_guard lock(mutex_);
  auto it = unsettled_.find(generation);
  if (it == unsettled_.end() || it->second == 0) return;
  if (--it->second == 0 && generation != current_) {
    unsettled_.erase(it);
    std::error_code ignored;
    std::filesystem::remove(file_of(generation), ignored);
  }
}

bool send_journal::written_before(std::string_view verification_id, int attempt) const {
  std::lock_guard lock(mutex_);
  return previous_.count({std::string(verification_id), attempt}) != 0;
}

void send_journal::drop_previous() {
  std::lock_guard lock(mutex_);
  for (std::uint64_t g : previous_generations_) {
    std::error_code ignored;
    std::filesystem::remove(file_of(g), ignored);
  }
  previous_generations_.clear();
  previous_.clear();
}

std::string send_journal::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

std::uint64_t send_journal::generation() const {
  std::lock_guard lock(mutex_);
  return current_;
}

}  // namespace otpd::service
