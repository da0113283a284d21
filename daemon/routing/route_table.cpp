#include "daemon/routing/route_table.hpp"

#include <algorithm>
#include <unordered_map>

namespace otpd::routing {
namespace {

constexpr std::size_t max_prefix_digits = 15;  // ITU-T E.164 §6.2.1

bool all_digits(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view strip_plus(std::string_view s) noexcept {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  return s;
}

}  // namespace

route_table::route_table() {
  node root;
  root.child.fill(-1);
  trie_.push_back(root);
}

std::optional<route_table> route_table::build(const std::vector<config::carrier>& carriers,
                                              std::vector<std::string>& errors) {
  const std::size_t errors_before = errors.size();
  route_table t;
  std::unordered_map<std::string, std::int32_t> index;

  for (const auto& c : carriers) {
    if (c.name.empty()) {
      errors.push_back("a carrier has no name");
      continue;
    }
    if (!index.emplace(c.name, static_cast<std::int32_t>(t.names_.size())).second) {
      errors.push_back("carrier \"" + c.name + "\" is defined twice");
      continue;
    }
    t.names_.push_back(c.name);
  }

  for (const auto& c : carriers) {
    const auto self = index.find(c.name);
    if (self == index.end()) continue;
    const std::int32_t id = self->second;

    for (const auto& raw : c.prefixes) {
      const std::string_view p = strip_plus(raw);
      if (p.empty() || p.size() > max_prefix_digits || !all_digits(p)) {
        errors.push_back("carrier \"" + c.name + "\": prefix \"" + raw +
                         "\" is not 1 to 15 digits");
        continue;
      }
      std::int32_t at = 0;
      for (const char ch : p) {
        const auto d = static_cast<std::size_t>(ch - '0');
        if (t.trie_[static_cast<std::size_t>(at)].child[d] < 0) {
          node n;
          n.child.fill(-1);
          t.trie_.push_back(n);
          t.trie_[static_cast<std::size_t>(at)].child[d] =
              static_cast<std::int32_t>(t.trie_.size() - 1);
        }
        at = t.trie_[static_cast<std::size_t>(at)].child[d];
      }
      std::int32_t& owner = t.trie_[static_cast<std::size_t>(at)].carrier;
      if (owner >= 0 && owner != id) {
        errors.push_back("prefix \"" + std::string(p) + "\" is claimed by carriers \"" +
                         t.names_[static_cast<std::size_t>(owner)] + "\" and \"" + c.name + "\"");
        continue;
      }
      owner = id;
    }
  }

  t.order_.resize(t.names_.size());
  for (const auto& c : carriers) {
    const auto self = index.find(c.name);
    if (self == index.end()) continue;
    auto& order = t.order_[static_cast<std::size_t>(self->second)];
    if (!order.empty()) continue;  // a duplicate definition, reported above
    order.push_back(c.name);
    for (const auto& f : c.failover) {
      if (index.find(f) == index.end()) {
        errors.push_back("carrier \"" + c.name + "\": failover \"" + f + "\" is no carrier");
        continue;
      }
      if (std::find(order.begin(), order.end(), f) == order.end()) order.push_back(f);
    }
  }

  if (errors.size() != errors_before) return std::nullopt;
  return t;
}

bool route_table::load_ported(std::string_view csv_text, std::vector<ported_error>& errors) {
  ported_map parsed;
  if (!parse_ported_numbers(csv_text, names_, parsed, errors)) return false;
  std::unordered_map<std::string, std::int32_t> next;
  next.reserve(parsed.size());
  for (auto& [number, carrier] : parsed) {
    const auto it = std::find(names_.begin(), names_.end(), carrier);
    next.emplace(number, static_cast<std::int32_t>(it - names_.begin()));
  }
  ported_ = std::move(next);
  return true;
}

std::int32_t route_table::lookup(std::string_view digits) const noexcept {
  if (digits.empty() || digits.size() > max_prefix_digits || !all_digits(digits)) return -1;
  if (!ported_.empty()) {
    // At most 15 digits: the key fits std::string's small buffer, so this does not allocate.
    if (const auto it = ported_.find(std::string(digits)); it != ported_.end()) return it->second;
  }
  std::int32_t best = -1;
  std::int32_t at = 0;
  for (const char ch : digits) {
    at = trie_[static_cast<std::size_t>(at)].child[static_cast<std::size_t>(ch - '0')];
    if (at < 0) break;
    if (const std::int32_t c = trie_[static_cast<std::size_t>(at)].carrier; c >= 0) best = c;
  }
  return best;
}

std::vector<std::string> route_table::route(std::string_view e164) const {
  const std::int32_t c = lookup(strip_plus(e164));
  if (c < 0) return {};
  return order_[static_cast<std::size_t>(c)];
}

const std::string* route_table::primary(std::string_view e164) const noexcept {
  const std::int32_t c = lookup(strip_plus(e164));
  return c < 0 ? nullptr : &names_[static_cast<std::size_t>(c)];
}

}  // namespace otpd::routing
