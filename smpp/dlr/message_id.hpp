// Message-id normalisation: one correlation key for every spelling of one SMSC message id.
//
// Carriers spell the id of one message differently in submit_sm_resp (SMPP 3.4 §4.4.2) and in
// the receipt (receipted_message_id, SMPP 3.4 §5.3.2.12, or the Appendix B "id:" field): hex
// in one and decimal in the other, upper vs lower case, leading zeros, 64-bit values at and
// above 2^63. A message_id_mapper, one per bind, turns both sides into the same key.
//
// Keys are spelled the way the submit side spells ids, normalised:
//  - submit side hex (and the automatic mode): ASCII lower case, leading zeros stripped;
//  - submit side decimal: leading zeros stripped;
//  - as_is, or an id that is not valid in its side's format: ASCII lower case only.
// A receipt id is converted into that spelling (decimal -> hex, hex -> decimal) with
// string-based base conversion of any length, so no value is ever squeezed through a signed
// (or any fixed-width) integer. Ids longer than max_numeric_digits are kept as strings.
//
// Surrounding blanks and NULs are never part of an id. The mapper is pure (no clock, no I/O)
// and cheap: a few short strings per call.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace otpd::smpp::dlr {

// How one side of a bind spells message ids.
enum class id_format : std::uint8_t {
  as_is,    // an opaque string, compared ASCII case-insensitively
  hex,      // an unsigned hex number of any length: case and leading zeros do not matter
  decimal,  // an unsigned decimal number of any length: leading zeros do not matter
};

// How a receipt id is turned into the submit side's spelling.
enum class id_mapping : std::uint8_t {
  same,            // both sides use one spelling (up to case and leading zeros)
  decimal_to_hex,  // submit_sm_resp in hex, receipt in decimal (the common carrier quirk)
  hex_to_decimal,  // submit_sm_resp in decimal, receipt in hex
};

const char* to_string(id_mapping m) noexcept;

enum class id_mode : std::uint8_t {
  fixed,      // use submit_format / receipt_format as configured
  automatic,  // learn the mapping from the first matched pairs, then keep it for the bind
};

// Per-bind configuration.
struct id_config {
  id_mode mode = id_mode::automatic;
  // Fixed mode only. as_is on one side and a number format on the other means "spelled like
  // the other side" (e.g. {as_is, hex} behaves as {hex, hex}).
  id_format submit_format = id_format::as_is;
  id_format receipt_format = id_format::as_is;
  // Automatic mode: this many unambiguous matches in a row, all agreeing on one mapping, fix
  // it for the bind. 0 is taken as 1.
  std::uint32_t lock_after = 3;
};

// Ids with more digits than this are never converted (compared as strings instead): SMPP
// message ids are at most 64 characters (C-Octet String of 65, SMPP 3.4 §5.2.23), so this is
// only a bound on the work done for hostile input.
inline constexpr std::size_t max_numeric_digits = 128;

enum class match_status : std::uint8_t {
  not_found,  // no candidate key is pending
  matched,    // exactly one candidate key is pending
  ambiguous,  // several candidate keys are pending (different messages): do not trust it
};

struct correlation {
  match_status status = match_status::not_found;
  // The pending key: the only one when matched, the first in preference order when ambiguous.
  std::string key;
  // The mapping that produced `key`, when exactly one did (ids "0".."9" read the same in
  // every mapping).
  std::optional<id_mapping> mapping;
};

enum class learn_result : std::uint8_t {
  ignored,    // fixed mode, already locked, or an empty id
  no_match,   // no mapping turns the receipt id into the submit id's key
  ambiguous,  // several mappings do: the pair says nothing about the bind
  counted,    // one mapping does: it counts towards lock_after
  locked,     // ... and that was the lock_after-th in a row: the mapping is now fixed
};

namespace detail {
// One candidate key for a receipt id and the mappings (bit 1 << id_mapping) that produce it.
struct candidate {
  std::string key;
  std::uint8_t mappings = 0;
};
struct candidate_set {
  std::array<candidate, 3> items;
  std::size_t size = 0;
};
}  // namespace detail

class message_id_mapper {
 public:
  explicit message_id_mapper(id_config config = {}) noexcept;

  // The key under which a pending submit is stored. It depends on the configuration only,
  // never on what was learned, so keys stored before the mapping locked stay valid.
  std::string key_for_submit(std::string_view submit_id) const;

  // The keys a receipt id may stand for, in preference order, without duplicates: one key in
  // fixed mode and once locked; up to three (same, decimal_to_hex, hex_to_decimal) while
  // learning. Empty for an empty id.
  std::vector<std::string> keys_for_receipt(std::string_view receipt_id) const;

  // Evidence that submit_id and receipt_id name the same message (e.g. matched by another
  // means). Only unambiguous evidence counts; evidence for another mapping restarts the count.
  learn_result learn(std::string_view submit_id, std::string_view receipt_id);

  // Looks the receipt id's candidate keys up with is_pending(std::string_view key) -> bool
  // and, when exactly one is pending and exactly one mapping produced it, counts it as
  // evidence (automatic mode). An ambiguous match is reported, never learned from.
  template <class IsPending>
  requires std::is_invocable_r_v<bool, IsPending&, std::string_view> correlation
  correlate(std::string_view receipt_id, IsPending&& is_pending) {
    detail::candidate_set c = candidates(receipt_id);
    std::array<bool, 3> hits{};
    for (std::size_t i = 0; i < c.size; ++i) {
      hits[i] = is_pending(std::string_view(c.items[i].key));
    }
    return settle(c, hits);
  }

  // The mapping in force: the configured one, or the learned one once locked; nullopt while
  // the automatic mode is still learning.
  std::optional<id_mapping> mapping() const noexcept;
  bool locked() const noexcept { return mapping().has_value(); }

  // Forgets what was learned (e.g. the carrier moved the bind to another SMSC).
  void reset() noexcept;

  const id_config& config() const noexcept { return config_; }

 private:
  detail::candidate_set candidates(std::string_view receipt_id) const;
  correlation settle(detail::candidate_set& c, const std::array<bool, 3>& hits);
  learn_result record(std::uint8_t mappings);

  id_config config_;
  id_format submit_norm_;                // how submit ids are normalised
  std::optional<id_mapping> fixed_;      // fixed mode, or learned and locked
  std::optional<id_mapping> streak_of_;  // automatic mode: the mapping being counted
  std::uint32_t streak_ = 0;
};

// Free helpers, exposed for tests and for logging.
// ASCII lower case, leading zeros stripped ("0" for all zeros); nullopt unless every
// character is a hex digit and there are at most max_numeric_digits of them.
std::optional<std::string> normalize_hex(std::string_view id);
// Leading zeros stripped; nullopt unless all decimal digits (at most max_numeric_digits).
std::optional<std::string> normalize_decimal(std::string_view id);
// The value of a decimal id in lower-case hex, and the reverse (no leading zeros).
std::optional<std::string> decimal_to_hex(std::string_view id);
std::optional<std::string> hex_to_decimal(std::string_view id);

}  // namespace otpd::smpp::dlr
