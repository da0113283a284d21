// otpd's logger: one line per event, to stderr by default.
//
// Two formats: `journal` writes `<6>event key=value ...` (the `<N>` prefix is the syslog
// priority that systemd-journald reads from a service's stderr, SyslogLevelPrefix=), `json`
// writes one JSON object per line. A line is written with a single write(2), so lines from
// several threads never interleave.
//
// Leaks are made hard rather than forbidden by review (docs/architecture.md §4, "never log a
// code"):
// - a phone number is logged through `masked_number`, which has no way to print the digits;
//   string fields under keys that name a number ("to", "number", "msisdn", ...) are masked too;
// - fields under keys that name secrets ("authorization", "code", "secret", "token", "body",
//   "text", ...) are replaced by "[redacted]", whatever their type;
// - there is no overload that takes an HTTP request or a body.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>

namespace otpd::config {
struct logging;
}

namespace otpd::log {

// Ordered by severity; the syslog priorities are RFC 5424 §6.2.1.
enum class level : std::uint8_t { debug, info, notice, warning, error };
enum class format : std::uint8_t { journal, json };

std::string_view to_string(level l) noexcept;
int syslog_priority(level l) noexcept;  // debug 7, info 6, notice 5, warning 4, error 3

// A phone number that is always written masked ("+8490****567", the rule of
// otpd::service::mask_number). Holds a view: build it in the logging call.
struct masked_number {
  std::string_view e164;
};

// A duration, written in milliseconds with microsecond precision ("12.345").
struct duration_ms {
  std::chrono::nanoseconds value;
};

// One key=value pair. The key must be a plain identifier ([a-z0-9_]); the value is copied into
// the line at once, so views into temporaries are fine.
struct field {
  using value_type = std::variant<std::string_view, std::int64_t, std::uint64_t, double, bool,
                                  masked_number, duration_ms>;

  field(std::string_view k, std::string_view v) : key(k), value(v) {}
  field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  field(std::string_view k, const char* v) : key(k), value(std::string_view(v ? v : "")) {}
  field(std::string_view k, masked_number v) : key(k), value(v) {}
  field(std::string_view k, duration_ms v) : key(k), value(v) {}
  field(std::string_view k, bool v) : key(k), value(v) {}
  field(std::string_view k, double v) : key(k), value(v) {}
  template <class I>
  requires(std::is_integral_v<I> && !std::is_same_v<I, bool>) field(std::string_view k, I v)
      : key(k) {
    if constexpr (std::is_signed_v<I>) {
      value = static_cast<std::int64_t>(v);
    } else {
      value = static_cast<std::uint64_t>(v);
    }
  }

  std::string_view key;
  value_type value;
};

using fields = std::initializer_list<field>;

// Where lines go: called with one complete line, '\n' included, under the logger's lock.
using sink = std::function<void(std::string_view line)>;

// Writes to file descriptor 2 with write(2), retrying on EINTR and short writes.
sink stderr_sink();

struct options {
  log::format format = log::format::journal;
  log::level min_level = log::level::info;
  // journal format: journald adds its own timestamp, so none is written unless this is set;
  // json format: always has "ts" (RFC 3339, UTC, milliseconds).
  bool journal_timestamps = false;
};

// From the configuration's `logging:` section.
options options_from(const config::logging& cfg);

class logger {
 public:
  explicit logger(options opts = {}, sink out = stderr_sink());

  logger(const logger&) = delete;
  logger& operator=(const logger&) = delete;

  bool enabled(level l) const noexcept { return l >= min_level_.load(std::memory_order_relaxed); }
  // For SIGHUP reloads; safe while other threads log.
  void set_level(level l) noexcept { min_level_.store(l, std::memory_order_relaxed); }

  // `event` is a short snake_case name ("http_request", "bind_up"); thread-safe.
  void write(level l, std::string_view event, fields fs = {});

  void debug(std::string_view event, fields fs = {}) { write(level::debug, event, fs); }
  void info(std::string_view event, fields fs = {}) { write(level::info, event, fs); }
  void notice(std::string_view event, fields fs = {}) { write(level::notice, event, fs); }
  void warning(std::string_view event, fields fs = {}) { write(level::warning, event, fs); }
  void error(std::string_view event, fields fs = {}) { write(level::error, event, fs); }

  // The line that write() would emit, without the lock or the sink (for tests and for callers
  // that batch).
  std::string format_line(level l, std::string_view event, fields fs) const;

 private:
  options opts_;
  std::atomic<level> min_level_;
  sink out_;
  std::mutex mutex_;
};

// True for keys whose values are never written (compared case-insensitively).
bool is_secret_key(std::string_view key) noexcept;
// True for keys whose string values are phone numbers and are written masked.
bool is_number_key(std::string_view key) noexcept;

}  // namespace otpd::log
