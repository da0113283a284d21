// The `routing` section: the carriers, the prefixes routed to each, their senders and binds.
#include <algorithm>
#include <string>
#include <tuple>

#include "config/detail/bind_reader.hpp"
#include "config/detail/config_loader.hpp"

namespace otpd::config::detail {
namespace {

// 3GPP TS 23.040 §9.1.2.5: an alphanumeric originating address holds 11 GSM characters.
constexpr std::size_t max_alphanumeric_sender = 11;
constexpr std::size_t max_numeric_sender = 20;  // SMPP 3.4 §5.2.8: source_addr, 21 octets

// Calls fn(item, its path, its text) for each non-empty string of the list at `f` (what: how
// the list is described when `f` is not one).
template <class Fn>
void for_each_string(yaml_reader& r, const field& f, const std::string& path,
                     const std::string& what, Fn fn) {
  auto list = r.items(f, path, what);
  if (!list) return;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const field& e = (*list)[i];
    const std::string ep = item_path(path, i);
    if (auto s = r.get_string(e, ep, {.allow_empty = false})) fn(e, ep, *s);
  }
}

void read_message_ids(yaml_reader& r, const field& f, const std::string& path,
                      smpp::dlr::id_config& ids) {
  // What `otpd-smpp` reports as "id mapping ...", or `learn` (the default): see
  // smpp/dlr/message_id.hpp. A fixed mapping is the pair of spellings it stands for.
  using smpp::dlr::id_format;
  auto i = r.get_choice(f, path, {"learn", "same", "decimal_to_hex", "hex_to_decimal"},
                        "learn, same, decimal_to_hex or hex_to_decimal");
  if (!i) return;
  static constexpr std::pair<id_format, id_format> fixed[] = {{id_format::hex, id_format::hex},
                                                              {id_format::hex, id_format::decimal},
                                                              {id_format::decimal, id_format::hex}};
  if (*i == 0) {
    ids.mode = smpp::dlr::id_mode::automatic;
  } else {
    ids.mode = smpp::dlr::id_mode::fixed;
    std::tie(ids.submit_format, ids.receipt_format) = fixed[*i - 1];
  }
}

void read_sender(yaml_reader& r, const field& f, const std::string& path, smpp::address& a) {
  auto m = r.fields(f.value, yaml_reader::mark_of(f), path, {"addr", "ton", "npi"});
  if (!m) return;
  r.require(*m, f.value, path, "addr", "the brandname or number the SMS comes from");
  const field* addr = find(*m, "addr");
  std::optional<std::string> s;
  if (addr)
    s = r.get_string(*addr, sub_path(path, "addr"),
                     {.max_length = max_numeric_sender, .allow_empty = false});
  std::optional<long long> ton, npi;
  if (const field* v = find(*m, "ton")) {
    ton = r.get_integer(*v, sub_path(path, "ton"), 0, 6);  // SMPP 3.4 §5.2.5
    if (!ton) return;
  }
  if (const field* v = find(*m, "npi")) {
    npi = r.get_integer(*v, sub_path(path, "npi"), 0, 18);  // SMPP 3.4 §5.2.6
    if (!npi) return;
  }
  if (!s) return;
  const std::string digits = s->starts_with('+') ? s->substr(1) : *s;
  const bool numeric = all_digits(digits);
  // Without TON/NPI: a number is international (1/1), anything else a brandname (5/0).
  const long long t = ton.value_or(numeric ? 1 : 5);
  const long long n = npi.value_or(numeric ? 1 : 0);
  if (t == 5) {
    const bool printable =
        std::all_of(s->begin(), s->end(), [](char ch) { return ch >= 0x20 && ch < 0x7f; });
    if (s->size() > max_alphanumeric_sender || !printable) {
      r.error(yaml_reader::mark_of(*addr),
              sub_path(path, "addr") + ": '" + *s +
                  "' cannot be an alphanumeric sender (TON 5); "
                  "expected at most 11 printable ASCII characters (3GPP TS 23.040 §9.1.2.5)");
      return;
    }
    a.addr = *s;
  } else {
    if (!numeric) {
      r.error(yaml_reader::mark_of(*addr), sub_path(path, "addr") + ": expected digits for TON " +
                                               std::to_string(t) + " (a number), got '" + *s +
                                               "'; a brandname needs ton: 5");
      return;
    }
    a.addr = digits;
  }
  a.ton = static_cast<std::uint8_t>(t);
  a.npi = static_cast<std::uint8_t>(n);
}

}  // namespace

void config_loader::load_routing(const field& f) {
  auto m =
      r_.fields(f.value, yaml_reader::mark_of(f), "routing", {"carriers", "ported_numbers_file"});
  if (!m) return;
  r_.require(*m, f.value, "routing", "carriers", "at least one carrier with its binds");
  if (const field* v = find(*m, "ported_numbers_file")) {
    if (auto p = input_file(*v, "routing.ported_numbers_file")) c_.routes.ported_numbers_file = *p;
  }
  if (const field* v = find(*m, "carriers")) {
    auto list = r_.items(*v, "routing.carriers",
                         "a list of carriers, each {name, prefixes, "
                         "sender, binds, ...}");
    if (!list) return;
    if (list->empty()) {
      r_.error(yaml_reader::mark_of(*v), "routing.carriers: expected at least one carrier");
      return;
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
      load_carrier((*list)[i], item_path("routing.carriers", i));
    }
  }
}

void config_loader::load_carrier(const field& item, const std::string& path) {
  auto m = r_.fields(item.value, yaml_reader::mark_of(item), path,
                     {"name", "prefixes", "sender", "text", "binds", "failover", "request_receipts",
                      "max_queue", "reconnect_queue", "message_ids"});
  if (!m) return;
  r_.require(*m, item.value, path, "name", "a name for logs, metrics and failover lists");
  r_.require(*m, item.value, path, "sender",
             "{addr: BRAND} for a brandname (TON 5 / NPI 0) or {addr: \"84...\"} for a number");
  r_.require(*m, item.value, path, "binds", "at least one transmitter or transceiver bind");
  carrier c;
  c.at = position_of(yaml_reader::mark_of(item));
  if (const field* v = find(*m, "name")) load_carrier_name(*v, sub_path(path, "name"), c);
  if (const field* v = find(*m, "prefixes")) load_prefixes(*v, sub_path(path, "prefixes"), c);
  if (const field* v = find(*m, "sender")) read_sender(r_, *v, sub_path(path, "sender"), c.sender);
  // Before the binds: each bind starts from the carrier's text settings.
  if (const field* v = find(*m, "text")) read_text_profile(r_, *v, sub_path(path, "text"), c.text);
  if (const field* v = find(*m, "request_receipts")) {
    if (auto b = r_.get_bool(*v, sub_path(path, "request_receipts"))) c.request_receipts = *b;
  }
  if (const field* v = find(*m, "max_queue")) {
    if (auto n = r_.get_integer(*v, sub_path(path, "max_queue"), 1, 1'000'000)) {
      c.max_queue = static_cast<std::size_t>(*n);
    }
  }
  if (const field* v = find(*m, "reconnect_queue")) {
    load_reconnect_queue(*v, sub_path(path, "reconnect_queue"), c.queue);
  }
  if (const field* v = find(*m, "message_ids")) {
    read_message_ids(r_, *v, sub_path(path, "message_ids"), c.message_ids);
  }
  if (const field* v = find(*m, "binds")) load_binds(*v, sub_path(path, "binds"), c);
  if (const field* v = find(*m, "failover")) load_failover(*v, sub_path(path, "failover"), c);
  c_.routes.carriers.push_back(std::move(c));
}

void config_loader::load_carrier_name(const field& f, const std::string& path, carrier& c) {
  auto s = r_.get_string(f, path, {.max_length = 64, .allow_empty = false});
  if (!s) return;
  if (!is_label(*s)) {
    r_.error(yaml_reader::mark_of(f),
             path + ": expected letters, digits, '.', '_' or '-', got '" + *s + "'");
  } else if (auto [pos, inserted] = carrier_names_.emplace(*s, f.value.Mark()); !inserted) {
    r_.error(yaml_reader::mark_of(f),
             path + ": carrier '" + *s + "' is already defined at " + line_of(pos->second));
  } else {
    c.name = *s;
  }
}

void config_loader::load_prefixes(const field& f, const std::string& path, carrier& c) {
  const auto prefix = [&](const field& e, const std::string& ep, const std::string& written) {
    const std::string digits = written.starts_with('+') ? written.substr(1) : written;
    if (!all_digits(digits) || digits.size() > max_e164_digits) {
      r_.error(yaml_reader::mark_of(e), ep +
                                            ": expected up to 15 digits of an E.164 "
                                            "number (country code first, no '+' needed), "
                                            "got '" +
                                            written + "'");
    } else if (digits[0] == '0') {
      // The national form (086...) is what people write; E.164 has the country code
      // (number_plan is read before routing).
      const std::string& trunk = c_.numbers.national_prefix;
      const std::string national =
          !trunk.empty() && digits.starts_with(trunk) ? digits.substr(trunk.size()) : digits;
      r_.error(yaml_reader::mark_of(e), ep + ": '" + written +
                                            "' starts with 0; write the prefix in E.164 form, "
                                            "country code first (" +
                                            c_.numbers.default_country_code + national +
                                            " rather than " + digits + ")");
    } else if (auto [pos, inserted] =
                   prefixes_.emplace(digits, std::make_pair(c.name, e.value.Mark()));
               !inserted) {
      r_.error(yaml_reader::mark_of(e), ep + ": prefix " + digits +
                                            " is already routed to carrier '" + pos->second.first +
                                            "' at " + line_of(pos->second.second));
    } else {
      c.prefixes.push_back(digits);
    }
  };
  for_each_string(r_, f, path, "a list of E.164 prefixes such as \"8486\"", prefix);
}

void config_loader::load_binds(const field& f, const std::string& path, carrier& c) {
  auto list = r_.items(f, path,
                       "a list of binds, each {name, host, port, bind, system_id, "
                       "password, ...}");
  if (!list) return;
  bool complete = !list->empty();
  std::size_t senders = 0, receivers = 0;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const field& e = (*list)[i];
    const std::string bp = item_path(path, i);
    smpp::bind_config b;
    b.text = c.text;
    const std::size_t errors_before = r_.error_count();
    auto bf = read_bind(r_, e.value, yaml_reader::mark_of(e), bp, b);
    // A bind with errors has no trustworthy type: judge the carrier's binds without it.
    if (!bf) {
      complete = false;
      continue;
    }
    if (r_.error_count() != errors_before) {
      complete = false;
    } else {
      const smpp::bind_type t = b.session.smpp.type;
      senders += t != smpp::bind_type::receiver;
      receivers += t != smpp::bind_type::transmitter;
    }
    if (const field* n = find(*bf, "name"); n && !b.session.name.empty()) {
      // Bind names label sessions in logs and metrics across all carriers.
      if (auto [pos, inserted] = bind_names_.emplace(b.session.name, n->value.Mark()); !inserted) {
        r_.error(yaml_reader::mark_of(*n), sub_path(bp, "name") + ": bind '" + b.session.name +
                                               "' is already defined at " + line_of(pos->second));
      }
    }
    c.binds.push_back(std::move(b));
    c.binds_at.push_back(position_of(yaml_reader::mark_of(e)));
  }
  if (list->empty()) {
    r_.error(yaml_reader::mark_of(f), path + ": expected at least one bind");
  } else if (complete && senders == 0) {
    r_.error(yaml_reader::mark_of(f), path +
                                          ": no transmitter or transceiver bind, so the "
                                          "carrier could not send; add one");
  } else if (complete && receivers == 0 && c.request_receipts) {
    r_.error(yaml_reader::mark_of(f),
             path +
                 ": no receiver or transceiver bind, so delivery receipts could not arrive; "
                 "add one, or set request_receipts: false");
  }
}

void config_loader::load_failover(const field& f, const std::string& path, carrier& c) {
  for_each_string(r_, f, path, "a list of carrier names, tried in order",
                  [&](const field& e, const std::string& ep, const std::string& s) {
                    failovers_.push_back({c.name, s, yaml_reader::mark_of(e), ep});
                    c.failover.push_back(s);
                  });
}

void config_loader::load_reconnect_queue(const field& f, const std::string& path,
                                         carrier::reconnect_queue& q) {
  auto m = r_.fields(f.value, yaml_reader::mark_of(f), path, {"max_wait", "size"});
  if (!m) return;
  if (const field* v = find(*m, "max_wait")) {
    const std::string p = sub_path(path, "max_wait");
    if (auto d = r_.get_duration(*v, p, smpp::duration::zero(), hard_max_ttl)) {
      q.max_wait = std::chrono::duration_cast<milliseconds>(*d);
      queue_waits_.push_back({q.max_wait, yaml_reader::mark_of(*v), p});
    }
  }
  if (const field* v = find(*m, "size")) {
    if (auto n = r_.get_integer(*v, sub_path(path, "size"), 1, 1'000'000)) {
      q.size = static_cast<std::size_t>(*n);
    }
  }
}

}  // namespace otpd::config::detail
