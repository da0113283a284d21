#include "smpp/dlr/message_id.hpp"

#include <algorithm>

#include "common/ascii.hpp"

namespace otpd::smpp::dlr {
namespace {

// Surrounding blanks and NULs are not part of an id: some SMSCs pad the receipt "id:" field
// or leave the C-Octet String NUL inside receipted_message_id (SMPP 3.4 §5.3.2.12).
constexpr std::string_view blanks(" \t\r\n\0\v\f", 7);

std::string_view trim(std::string_view s) noexcept { return ascii::trim(s, blanks); }

using ascii::is_digit;
using ascii::is_hex_digit;
unsigned hex_value(char c) noexcept { return static_cast<unsigned>(ascii::hex_value(c)); }

std::string case_fold(std::string_view s) { return ascii::to_lower(s); }

std::string_view strip_zeros(std::string_view s) noexcept {
  while (s.size() > 1 && s.front() == '0') s.remove_prefix(1);
  return s;
}

// A little-endian number in base 2^32: enough arithmetic to move between bases 10 and 16 for
// any length, so ids at and above 2^63 or 2^64 never pass through a fixed-width integer.
using limbs = std::vector<std::uint32_t>;

void mul_add(limbs& v, std::uint32_t mul, std::uint32_t add) {
  std::uint64_t carry = add;
  for (auto& l : v) {
    const std::uint64_t x = static_cast<std::uint64_t>(l) * mul + carry;
    l = static_cast<std::uint32_t>(x);
    carry = x >> 32;
  }
  if (carry != 0) v.push_back(static_cast<std::uint32_t>(carry));
}

std::uint32_t div_small(limbs& v, std::uint32_t divisor) {
  std::uint64_t rem = 0;
  for (std::size_t i = v.size(); i-- > 0;) {
    const std::uint64_t cur = (rem << 32) | v[i];
    v[i] = static_cast<std::uint32_t>(cur / divisor);
    rem = cur % divisor;
  }
  while (!v.empty() && v.back() == 0) v.pop_back();
  return static_cast<std::uint32_t>(rem);
}

// Digits already validated.
limbs from_decimal(std::string_view digits) {
  limbs v;
  std::size_t i = 0;
  while (i < digits.size()) {
    const std::size_t n = std::min<std::size_t>(9, digits.size() - i);
    std::uint32_t chunk = 0;
    std::uint32_t scale = 1;
    for (std::size_t k = 0; k < n; ++k) {
      chunk = chunk * 10 + static_cast<std::uint32_t>(digits[i + k] - '0');
      scale *= 10;
    }
    mul_add(v, scale, chunk);
    i += n;
  }
  while (!v.empty() && v.back() == 0) v.pop_back();
  return v;
}

limbs from_hex(std::string_view digits) {
  limbs v((digits.size() + 7) / 8, 0);
  for (std::size_t i = 0; i < digits.size(); ++i) {
    const std::size_t from_end = digits.size() - 1 - i;
    v[from_end / 8] |= hex_value(digits[i]) << (4 * (from_end % 8));
  }
  while (!v.empty() && v.back() == 0) v.pop_back();
  return v;
}

std::string to_hex(const limbs& v) {
  if (v.empty()) return "0";
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = v.size(); i-- > 0;) {
    for (int shift = 28; shift >= 0; shift -= 4) {
      const char c = digits[(v[i] >> shift) & 0xF];
      if (out.empty() && c == '0') continue;  // no leading zeros
      out.push_back(c);
    }
  }
  return out.empty() ? "0" : out;
}

std::string to_decimal(limbs v) {
  if (v.empty()) return "0";
  std::vector<std::uint32_t> chunks;  // base 10^9, least significant first
  while (!v.empty()) chunks.push_back(div_small(v, 1000000000u));
  std::string out = std::to_string(chunks.back());
  for (std::size_t i = chunks.size() - 1; i-- > 0;) {
    const std::string part = std::to_string(chunks[i]);
    out.append(9 - part.size(), '0');
    out += part;
  }
  return out;
}

bool all_decimal(std::string_view s) noexcept {
  return !s.empty() && s.size() <= max_numeric_digits && std::all_of(s.begin(), s.end(), is_digit);
}
bool all_hex(std::string_view s) noexcept {
  return !s.empty() && s.size() <= max_numeric_digits &&
         std::all_of(s.begin(), s.end(), is_hex_digit);
}

// Normalisation of an id in a side's format; ids that are not valid in it fall back to as_is.
std::string normalize(std::string_view id, id_format f) {
  switch (f) {
    case id_format::hex:
      if (auto h = normalize_hex(id)) return std::move(*h);
      break;
    case id_format::decimal:
      if (auto d = normalize_decimal(id)) return std::move(*d);
      break;
    case id_format::as_is:
      break;
  }
  return case_fold(trim(id));
}

constexpr std::uint8_t bit(id_mapping m) noexcept {
  return static_cast<std::uint8_t>(1u << static_cast<unsigned>(m));
}

// The single mapping in a mask, if exactly one bit is set.
std::optional<id_mapping> only_mapping(std::uint8_t mask) noexcept {
  for (auto m : {id_mapping::same, id_mapping::decimal_to_hex, id_mapping::hex_to_decimal}) {
    if (mask == bit(m)) return m;
  }
  return std::nullopt;
}

}  // namespace

const char* to_string(id_mapping m) noexcept {
  switch (m) {
    case id_mapping::same:
      return "same";
    case id_mapping::decimal_to_hex:
      return "decimal_to_hex";
    case id_mapping::hex_to_decimal:
      return "hex_to_decimal";
  }
  return "unknown";
}

std::optional<std::string> normalize_hex(std::string_view id) {
  id = trim(id);
  if (!all_hex(id)) return std::nullopt;
  return case_fold(strip_zeros(id));
}

std::optional<std::string> normalize_decimal(std::string_view id) {
  id = trim(id);
  if (!all_decimal(id)) return std::nullopt;
  return std::string(strip_zeros(id));
}

std::optional<std::string> decimal_to_hex(std::string_view id) {
  id = trim(id);
  if (!all_decimal(id)) return std::nullopt;
  return to_hex(from_decimal(id));
}

std::optional<std::string> hex_to_decimal(std::string_view id) {
  id = trim(id);
  if (!all_hex(id)) return std::nullopt;
  return to_decimal(from_hex(id));
}

message_id_mapper::message_id_mapper(id_config config) noexcept
    : config_(config), submit_norm_(id_format::hex) {
  if (config_.lock_after == 0) config_.lock_after = 1;
  if (config_.mode == id_mode::automatic) {
    // Hex digits are a superset of decimal ones: normalising as hex (case, leading zeros)
    // gives every numeric submit id one spelling whatever base it turns out to be in.
    submit_norm_ = id_format::hex;
    return;
  }
  // Fixed mode. as_is on one side means "spelled like the other side".
  id_format s = config_.submit_format;
  id_format r = config_.receipt_format;
  if (s == id_format::as_is) s = r;
  if (r == id_format::as_is) r = s;
  submit_norm_ = s;
  if (s == id_format::hex && r == id_format::decimal) {
    fixed_ = id_mapping::decimal_to_hex;
  } else if (s == id_format::decimal && r == id_format::hex) {
    fixed_ = id_mapping::hex_to_decimal;
  } else {
    fixed_ = id_mapping::same;
  }
}

std::string message_id_mapper::key_for_submit(std::string_view submit_id) const {
  return normalize(submit_id, submit_norm_);
}

detail::candidate_set message_id_mapper::candidates(std::string_view receipt_id) const {
  detail::candidate_set c;
  receipt_id = trim(receipt_id);
  if (receipt_id.empty()) return c;

  auto add = [&c](std::string key, id_mapping m) {
    for (std::size_t i = 0; i < c.size; ++i) {
      if (c.items[i].key == key) {
        c.items[i].mappings |= bit(m);
        return;
      }
    }
    c.items[c.size++] = detail::candidate{std::move(key), bit(m)};
  };
  auto key_by = [&](id_mapping m) -> std::optional<std::string> {
    switch (m) {
      case id_mapping::same:
        return normalize(receipt_id, submit_norm_);
      case id_mapping::decimal_to_hex:
        return decimal_to_hex(receipt_id);
      case id_mapping::hex_to_decimal:
        return hex_to_decimal(receipt_id);
    }
    return std::nullopt;
  };

  if (fixed_) {
    // An id that is not valid in the configured format is compared as a string rather than
    // dropped: the submit side falls back the same way.
    auto key = key_by(*fixed_);
    if (key) {
      add(std::move(*key), *fixed_);
    } else {
      add(case_fold(receipt_id), id_mapping::same);
    }
    return c;
  }
  // Learning: the plain spelling first, then the common hex-submit / decimal-receipt quirk.
  for (auto m : {id_mapping::same, id_mapping::decimal_to_hex, id_mapping::hex_to_decimal}) {
    if (auto key = key_by(m)) add(std::move(*key), m);
  }
  return c;
}

std::vector<std::string> message_id_mapper::keys_for_receipt(std::string_view receipt_id) const {
  detail::candidate_set c = candidates(receipt_id);
  std::vector<std::string> keys;
  keys.reserve(c.size);
  for (std::size_t i = 0; i < c.size; ++i) keys.push_back(std::move(c.items[i].key));
  return keys;
}

learn_result message_id_mapper::record(std::uint8_t mappings) {
  if (config_.mode != id_mode::automatic || fixed_) return learn_result::ignored;
  if (mappings == 0) return learn_result::no_match;
  const auto m = only_mapping(mappings);
  if (!m) return learn_result::ambiguous;
  if (streak_of_ == m) {
    ++streak_;
  } else {
    // Evidence for another mapping: start over rather than lock in a mix.
    streak_of_ = m;
    streak_ = 1;
  }
  if (streak_ >= config_.lock_after) {
    fixed_ = m;
    return learn_result::locked;
  }
  return learn_result::counted;
}

learn_result message_id_mapper::learn(std::string_view submit_id, std::string_view receipt_id) {
  if (config_.mode != id_mode::automatic || fixed_) return learn_result::ignored;
  const std::string submit_key = key_for_submit(submit_id);
  if (submit_key.empty() || trim(receipt_id).empty()) return learn_result::ignored;
  const detail::candidate_set c = candidates(receipt_id);
  std::uint8_t mappings = 0;
  for (std::size_t i = 0; i < c.size; ++i) {
    if (c.items[i].key == submit_key) mappings |= c.items[i].mappings;
  }
  return record(mappings);
}

correlation message_id_mapper::settle(detail::candidate_set& c, const std::array<bool, 3>& hits) {
  correlation result;
  std::size_t first = c.size;
  std::size_t count = 0;
  for (std::size_t i = 0; i < c.size; ++i) {
    if (!hits[i]) continue;
    if (count++ == 0) first = i;
  }
  if (count == 0) return result;
  result.key = std::move(c.items[first].key);
  result.mapping = only_mapping(c.items[first].mappings);
  if (count > 1) {
    // Two pending messages could each be the receipted one: never pick silently, never learn.
    result.status = match_status::ambiguous;
    return result;
  }
  result.status = match_status::matched;
  record(c.items[first].mappings);
  return result;
}

std::optional<id_mapping> message_id_mapper::mapping() const noexcept { return fixed_; }

void message_id_mapper::reset() noexcept {
  if (config_.mode != id_mode::automatic) return;
  fixed_.reset();
  streak_of_.reset();
  streak_ = 0;
}

}  // namespace otpd::smpp::dlr
