#include "daemon/model.hpp"

#include <array>
#include <utility>

#include "common/ascii.hpp"

namespace otpd::service {

namespace {

// The spellings are part of the HTTP API (docs/architecture.md §3) and of the database (stored as
// text so that an operator can read it with the sqlite3 shell): never rename one.
constexpr std::array verification_names{
    std::pair{verification_status::pending, "pending"},
    std::pair{verification_status::approved, "approved"},
    std::pair{verification_status::canceled, "canceled"},
    std::pair{verification_status::expired, "expired"},
    std::pair{verification_status::max_attempts_reached, "max_attempts_reached"},
    std::pair{verification_status::blocked, "blocked"},
    std::pair{verification_status::undeliverable, "undeliverable"},
};

constexpr std::array attempt_names{
    std::pair{attempt_status::queued, "queued"},
    std::pair{attempt_status::submitted, "submitted"},
    std::pair{attempt_status::delivered, "delivered"},
    std::pair{attempt_status::undelivered, "undelivered"},
    std::pair{attempt_status::failed, "failed"},
    std::pair{attempt_status::ringing, "ringing"},
    std::pair{attempt_status::answered, "answered"},
    std::pair{attempt_status::completed, "completed"},
    std::pair{attempt_status::no_answer, "no_answer"},
    std::pair{attempt_status::busy, "busy"},
    std::pair{attempt_status::rejected, "rejected"},
    std::pair{attempt_status::hung_up_early, "hung_up_early"},
};

constexpr std::array channel_names{
    std::pair{channel::sms, "sms"},
    std::pair{channel::voice, "voice"},
};

template <class Table, class E>
const char* name_of(const Table& table, E value) noexcept {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "unknown";  // only for a value cast from an out-of-range integer
}

template <class E, class Table>
std::optional<E> value_of(const Table& table, std::string_view s) noexcept {
  for (const auto& [v, name] : table) {
    if (s == name) return v;
  }
  return std::nullopt;
}

using ascii::is_digit;

}  // namespace

const char* to_string(verification_status s) noexcept { return name_of(verification_names, s); }
std::optional<verification_status> verification_status_from(std::string_view s) noexcept {
  return value_of<verification_status>(verification_names, s);
}

const char* to_string(attempt_status s) noexcept { return name_of(attempt_names, s); }
std::optional<attempt_status> attempt_status_from(std::string_view s) noexcept {
  return value_of<attempt_status>(attempt_names, s);
}

const char* to_string(channel c) noexcept { return name_of(channel_names, c); }
std::optional<channel> channel_from(std::string_view s) noexcept {
  return value_of<channel>(channel_names, s);
}

// The rule, the same for every country so that no numbering-plan table is needed: after the '+'
// the first four digits stay (a 1-3 digit country code plus the start of the national number,
// which names the carrier: "+8491..." is Vinaphone) and the last three stay (what a user
// recognises); every digit between becomes '*'. At least three digits must be hidden: a number
// shorter than 10 digits is masked entirely. Anything that is not '+' followed by digits only
// (a malformed input that reached a log) is masked entirely too, length kept.
std::string mask_number(std::string_view e164) {
  constexpr std::size_t head = 4;
  constexpr std::size_t tail = 3;
  constexpr std::size_t min_hidden = 3;

  std::string out(e164);
  const bool plus = !out.empty() && out.front() == '+';
  std::string_view digits = e164.substr(plus ? 1 : 0);
  bool well_formed = plus && !digits.empty();
  for (char c : digits) well_formed = well_formed && is_digit(c);

  const std::size_t first = plus ? 1 : 0;
  if (!well_formed || digits.size() < head + tail + min_hidden) {
    for (std::size_t i = first; i < out.size(); ++i) out[i] = '*';
    return out;
  }
  for (std::size_t i = first + head; i < out.size() - tail; ++i) out[i] = '*';
  return out;
}

}  // namespace otpd::service
