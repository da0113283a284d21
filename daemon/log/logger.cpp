#include "daemon/log/logger.hpp"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <ctime>
#include <limits>

#include "common/ascii.hpp"
#include "common/utf8.hpp"
#include "config/config.hpp"
#include "daemon/model.hpp"

namespace otpd::log {

namespace {

constexpr std::string_view redacted = "[redacted]";

using ascii::iends_with;
using ascii::iequals;

void append_hex_byte(std::string& out, std::string_view prefix, unsigned char c) {
  static constexpr char digits[] = "0123456789abcdef";
  out += prefix;
  out += digits[c >> 4];
  out += digits[c & 0xF];
}

// journal format: a value is written bare when it is a plain token, else quoted with C-style
// escapes. Control characters are always escaped, so a value can never start a new log line
// (log injection through a header or a number field).
bool needs_quotes(std::string_view v) noexcept {
  if (v.empty()) return true;
  for (unsigned char c : v) {
    if (c <= 0x20 || c == '"' || c == '=' || c == '\\' || c >= 0x7F) return true;
  }
  return false;
}

// A quoted string with '"', '\\', and control characters escaped. The two line formats differ
// only in how they spell a control character (`control_prefix` + two hex digits) and an
// invalid UTF-8 byte (`invalid_utf8`, or \xHH when empty).
struct escape_style {
  std::string_view control_prefix;
  std::string_view invalid_utf8;
};

void append_quoted(std::string& out, std::string_view v, const escape_style& style) {
  out += '"';
  for (std::size_t i = 0; i < v.size();) {
    const auto c = static_cast<unsigned char>(v[i]);
    if (c >= 0x80) {
      const std::size_t n = utf8::multibyte_length(v, i);
      if (n == 0) {
        if (style.invalid_utf8.empty()) {
          append_hex_byte(out, "\\x", c);
        } else {
          out += style.invalid_utf8;
        }
        ++i;
      } else {
        out.append(v.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          append_hex_byte(out, style.control_prefix, c);
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

void append_journal_value(std::string& out, std::string_view v) {
  if (!needs_quotes(v)) {
    out += v;
    return;
  }
  append_quoted(out, v, escape_style{"\\x", {}});
}

// RFC 8259 §7; invalid UTF-8 becomes U+FFFD so that the line stays valid JSON.
void append_json_string(std::string& out, std::string_view v) {
  append_quoted(out, v, escape_style{"\\u00", "\\ufffd"});
}

// Keys are identifiers; anything else is replaced so that a key cannot break the line format.
void append_key(std::string& out, std::string_view key) {
  if (key.empty()) {
    out += '_';
    return;
  }
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    out += ok ? c : '_';
  }
}

template <class T>
void append_number(std::string& out, T v) {
  std::array<char, 64> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  if (ec != std::errc{}) return;
  out.append(buf.data(), end);
}

void append_double(std::string& out, double v, bool json) {
  if (v != v || v == std::numeric_limits<double>::infinity() ||
      v == -std::numeric_limits<double>::infinity()) {
    out += json ? "null" : (v != v ? "NaN" : (v > 0 ? "+Inf" : "-Inf"));
    return;
  }
  std::array<char, 64> buf{};
  auto [end, ec] =
      std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::general);
  if (ec == std::errc{}) out.append(buf.data(), end);
}

void append_duration(std::string& out, std::chrono::nanoseconds d) {
  // Milliseconds with three decimals, without going through floating point.
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  const auto abs_us = us < 0 ? -us : us;
  if (us < 0) out += '-';
  append_number(out, abs_us / 1000);
  out += '.';
  const auto frac = abs_us % 1000;
  if (frac < 100) out += '0';
  if (frac < 10) out += '0';
  append_number(out, frac);
}

// RFC 3339 UTC with milliseconds: 2024-05-01T12:34:56.789Z
void append_timestamp(std::string& out) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 32> buf{};
  const std::size_t n = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%S", &tm);
  out.append(buf.data(), n);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) %
                  std::chrono::seconds(1);
  out += '.';
  const auto m = ms.count();
  if (m < 100) out += '0';
  if (m < 10) out += '0';
  append_number(out, m);
  out += 'Z';
}

struct value_writer {
  std::string& out;
  bool json;
  bool mask;  // a number key: strings are masked

  void text(std::string_view v) const {
    if (json) {
      append_json_string(out, v);
    } else {
      append_journal_value(out, v);
    }
  }
  void operator()(std::string_view v) const {
    if (mask) {
      text(service::mask_number(v));
    } else {
      text(v);
    }
  }
  void operator()(std::int64_t v) const { append_number(out, v); }
  void operator()(std::uint64_t v) const { append_number(out, v); }
  void operator()(double v) const { append_double(out, v, json); }
  void operator()(bool v) const { out += v ? "true" : "false"; }
  void operator()(masked_number v) const { text(service::mask_number(v.e164)); }
  void operator()(duration_ms v) const { append_duration(out, v.value); }
};

}  // namespace

std::string_view to_string(level l) noexcept {
  switch (l) {
    case level::debug:
      return "debug";
    case level::info:
      return "info";
    case level::notice:
      return "notice";
    case level::warning:
      return "warning";
    case level::error:
      return "error";
  }
  return "info";
}

int syslog_priority(level l) noexcept {
  switch (l) {
    case level::debug:
      return 7;
    case level::info:
      return 6;
    case level::notice:
      return 5;
    case level::warning:
      return 4;
    case level::error:
      return 3;
  }
  return 6;
}

bool is_secret_key(std::string_view key) noexcept {
  static constexpr std::string_view exact[] = {"authorization",
                                               "proxy_authorization",
                                               "cookie",
                                               "set_cookie",
                                               "code",
                                               "otp",
                                               "otp_code",
                                               "verification_code",
                                               "pin",
                                               "password",
                                               "passwd",
                                               "secret",
                                               "token",
                                               "bearer",
                                               "api_key_secret",
                                               "body",
                                               "request_body",
                                               "text",
                                               "message_text",
                                               "short_message",
                                               "message_payload",
                                               "code_sealed",
                                               "code_mac"};
  static constexpr std::string_view suffixes[] = {"_secret", "_token", "_password",
                                                  "_authorization"};
  for (auto k : exact) {
    if (iequals(key, k)) return true;
  }
  for (auto s : suffixes) {
    if (iends_with(key, s)) return true;
  }
  return false;
}

bool is_number_key(std::string_view key) noexcept {
  static constexpr std::string_view exact[] = {
      "to",           "number",           "phone",
      "phone_number", "msisdn",           "e164",
      "destination",  "destination_addr", "destination_number",
      "callee"};
  for (auto k : exact) {
    if (iequals(key, k)) return true;
  }
  return false;
}

sink stderr_sink() {
  return [](std::string_view line) {
    const char* p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
      const ssize_t n = ::write(STDERR_FILENO, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return;  // nowhere left to report it
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
  };
}

options options_from(const config::logging& cfg) {
  options o;
  o.format = cfg.format == config::log_format::json ? format::json : format::journal;
  switch (cfg.level) {
    case config::log_level::debug:
      o.min_level = level::debug;
      break;
    case config::log_level::info:
      o.min_level = level::info;
      break;
    case config::log_level::notice:
      o.min_level = level::notice;
      break;
    case config::log_level::warning:
      o.min_level = level::warning;
      break;
    case config::log_level::error:
      o.min_level = level::error;
      break;
  }
  return o;
}

logger::logger(options opts, sink out)
    : opts_(opts), min_level_(opts.min_level), out_(std::move(out)) {}

std::string logger::format_line(level l, std::string_view event, fields fs) const {
  std::string line;
  line.reserve(128);
  const bool json = opts_.format == format::json;
  if (json) {
    line += "{\"ts\":\"";
    append_timestamp(line);
    line += "\",\"level\":\"";
    line += to_string(l);
    line += "\",\"event\":";
    append_json_string(line, event);
  } else {
    line += '<';
    append_number(line, syslog_priority(l));
    line += '>';
    if (opts_.journal_timestamps) {
      append_timestamp(line);
      line += ' ';
    }
    append_journal_value(line, event.empty() ? std::string_view("event") : event);
  }
  for (const field& f : fs) {
    if (json) {
      line += ',';
      line += '"';
      append_key(line, f.key);
      line += "\":";
    } else {
      line += ' ';
      append_key(line, f.key);
      line += '=';
    }
    if (is_secret_key(f.key)) {
      value_writer{line, json, false}(redacted);
      continue;
    }
    std::visit(value_writer{line, json, is_number_key(f.key)}, f.value);
  }
  if (json) line += '}';
  line += '\n';
  return line;
}

void logger::write(level l, std::string_view event, fields fs) {
  if (!enabled(l)) return;
  const std::string line = format_line(l, event, fs);
  std::lock_guard lock(mutex_);
  if (out_) out_(line);
}

}  // namespace otpd::log
