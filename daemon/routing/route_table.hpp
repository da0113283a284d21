// Which carriers may carry an SMS to a number, best first.
//
// A number (E.164) goes to the carrier named for it in the ported-numbers file, else to the
// carrier with the longest matching prefix (a digit trie: at most 15 steps, no allocation),
// and then to that carrier's failover list, in the configured order, each carrier once. The
// failover list is not followed transitively: it is the primary's own list. No match: no route,
// and the caller answers 403 destination_not_allowed rather than dropping the message.
//
// Built once from the configuration (and again on reload); read-only afterwards, so one table
// may be shared by threads.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "daemon/routing/ported_numbers.hpp"

namespace otpd::routing {

class route_table {
 public:
  // From the configured carriers. Errors, all at once: a carrier without a name or named
  // twice, a prefix that is not 1..15 digits (a leading '+' is allowed), a prefix claimed by
  // two carriers, a failover name that is no carrier. nullopt when there is any.
  // A carrier listing itself or another twice in its failover list is not an error: each
  // carrier appears once in a route.
  static std::optional<route_table> build(const std::vector<config::carrier>& carriers,
                                          std::vector<std::string>& errors);

  // Replaces the ported-number overrides with the content of the ported-numbers file (see
  // ported_numbers.hpp). On any error nothing changes and false is returned.
  bool load_ported(std::string_view csv_text, std::vector<ported_error>& errors);

  // Carrier names to try for `e164` ('+' optional), best first; empty when there is no route
  // or the number is not all digits.
  std::vector<std::string> route(std::string_view e164) const;

  // The primary carrier alone (nullptr: no route). Points into the table.
  const std::string* primary(std::string_view e164) const noexcept;

  const std::vector<std::string>& carriers() const noexcept { return names_; }
  std::size_t ported_count() const noexcept { return ported_.size(); }

 private:
  struct node {
    std::array<std::int32_t, 10> child;  // index into trie_, -1: none
    std::int32_t carrier = -1;           // index into names_ when a prefix ends here
  };

  route_table();
  std::int32_t lookup(std::string_view digits) const noexcept;

  std::vector<node> trie_;                                // trie_[0] is the root
  std::vector<std::string> names_;                        // carriers in configuration order
  std::vector<std::vector<std::string>> order_;           // per carrier: itself, then its failovers
  std::unordered_map<std::string, std::int32_t> ported_;  // digits -> carrier index
};

}  // namespace otpd::routing
