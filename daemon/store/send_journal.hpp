// What may be on the wire: one short record per SMS attempt, appended before its submit_sm is
// handed to a bind, so that after a crash (kill -9 included) otpd tells an attempt that may
// have reached the SMSC from one that never left.
//
// A record is "<verification id> <attempt number>\n": never the code, never the number. It is
// written with write(2) on a file opened O_APPEND: once write returns, the record is in the
// kernel's page cache and survives the death of the process, the same guarantee as the store's
// (SQLite WAL with synchronous=NORMAL); a power loss may lose the last ones, as it may lose the
// last transactions.
//
// Files "sms-journal.<node>.<generation>" in the state folder. A generation takes at most
// records_per_generation records, then the next one starts; a full generation is deleted once
// every attempt recorded in it has its outcome in the store (settle()). At start-up the
// generations of the previous run are read (written_before), and dropped by drop_previous()
// once the attempts they name are settled.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace otpd::service {

class send_journal {
 public:
  static constexpr std::size_t records_per_generation = 4096;
  // A verification id longer than this is not ours: not recorded, skipped when read.
  static constexpr std::size_t max_id_length = 64;

  send_journal() = default;
  ~send_journal();
  send_journal(const send_journal&) = delete;
  send_journal& operator=(const send_journal&) = delete;

  // Reads the generations `node` left in `dir` and starts a new one. false (and `why`) when the
  // folder cannot be written: record() then writes nothing and returns false. Each node's files
  // carry its name ("sms-journal.<node>.<generation>"; "sms-journal.<generation>" without one),
  // so that nodes sharing a folder never read or delete each other's.
  bool open(const std::filesystem::path& dir, std::string_view node, std::string& why);

  // Appends the record; returns its generation (0: not written, see last_error()).
  std::uint64_t record(std::string_view verification_id, int attempt);
  // The attempt recorded in `generation` has its outcome in the store.
  void settle(std::uint64_t generation);

  // Whether a previous run recorded this attempt (read by open()).
  bool written_before(std::string_view verification_id, int attempt) const;
  std::size_t previous_records() const noexcept { return previous_.size(); }
  // Deletes the previous run's generations (their attempts are settled).
  void drop_previous();

  std::string last_error() const;
  std::uint64_t generation() const;

 private:
  bool start_generation(std::uint64_t g, std::string& why);  // mutex_ held
  void read_generation(const std::filesystem::path& file);
  std::filesystem::path file_of(std::uint64_t g) const;

  mutable std::mutex mutex_;
  std::filesystem::path dir_;
  std::string prefix_;  // "sms-journal." and the node's name with a dot, if any
  int fd_ = -1;
  std::uint64_t current_ = 0;
  std::size_t records_in_current_ = 0;
  std::map<std::uint64_t, std::size_t> unsettled_;  // generation -> records without an outcome
  std::set<std::pair<std::string, int>> previous_;
  std::set<std::uint64_t> previous_generations_;
  std::string last_error_;
};

}  // namespace otpd::service
