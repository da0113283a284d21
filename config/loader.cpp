#include "config/loader.hpp"

#include <arpa/inet.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include "config/detail/bind_reader.hpp"
#include "config/detail/media_networks.hpp"
#include "config/detail/nfc.hpp"
#include "config/detail/ops_reader.hpp"
#include "config/detail/weak_settings.hpp"
#include "config/detail/yaml_reader.hpp"

namespace otpd::config {
namespace {

using namespace std::chrono_literals;
using detail::field;
using detail::field_map;
using detail::item_path;
using detail::string_rules;
using detail::sub_path;
using detail::yaml_reader;

// DESIGN.md §4 (NIST SP 800-63B): a code lives at most 10 minutes.
constexpr seconds hard_max_ttl{600};
// HMAC-SHA-256 is keyed with at least as many bytes as its output (RFC 2104 §3).
constexpr std::size_t min_mac_key = 32;
constexpr std::size_t seal_key_size = 32;  // AES-256-GCM
// A bearer key or a webhook secret shorter than this can be guessed.
constexpr std::size_t min_shared_secret = 16;
// 3GPP TS 23.040 §9.1.2.5: an alphanumeric originating address holds 11 GSM characters.
constexpr std::size_t max_alphanumeric_sender = 11;
constexpr std::size_t max_numeric_sender = 20;  // SMPP 3.4 §5.2.8: source_addr, 21 octets
constexpr std::size_t max_e164_digits = 15;     // ITU-T E.164 §6.1
constexpr std::size_t max_template = 1600;      // ten concatenated parts of GSM-7 and then some

const field* find(const field_map& m, std::string_view key) {
  auto it = m.find(key);
  return it == m.end() ? nullptr : &it->second;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

std::string lowercase(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

std::string hex_decode(std::string_view hex) {
  const auto nibble = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
  };
  std::string out(hex.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<char>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  }
  return out;
}

// A name that appears in logs and metric labels: letters, digits, '.', '_' and '-'.
bool is_label(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

// BCP 47, as far as templates need it: "vi", "en", "en-GB", "zh-Hant".
bool is_locale(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && s[i] >= 'a' && s[i] <= 'z') ++i;
  if (i < 2 || i > 3) return false;
  while (i < s.size()) {
    if (s[i] != '-') return false;
    const std::size_t start = ++i;
    while (i < s.size() && std::isalnum(static_cast<unsigned char>(s[i]))) ++i;
    if (i - start < 2 || i - start > 8) return false;
  }
  return true;
}

bool is_ip_address(const std::string& s) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool is_wildcard(const std::string& address) { return address == "0.0.0.0" || address == "::"; }

source_position position_of(const YAML::Mark& m) {
  if (m.is_null()) return {};
  return {static_cast<std::size_t>(m.line) + 1, static_cast<std::size_t>(m.column) + 1};
}

std::string names_of(const std::vector<carrier>& carriers) {
  std::string out;
  for (const carrier& c : carriers) {
    if (c.name.empty()) continue;
    if (!out.empty()) out += ", ";
    out += c.name;
  }
  return out;
}

std::string line_of(const YAML::Mark& m) { return "line " + std::to_string(m.line + 1); }

class config_loader {
 public:
  config_loader(yaml_reader& r, config& c) : r_(r), c_(c) {}
  void load(const YAML::Node& root);

 private:
  void load_listeners(const field& f);
  void load_tls_server(const field& f, const std::string& path, http_listener& l);
  void load_http(const field& f);
  void load_api_keys(const field& f);
  void load_policy(const field& f);
  void load_rate_limits(const field& f);
  void load_limit_list(const field& f, const std::string& path, std::vector<rate_limit>& out);
  void load_number_plan(const field& f);
  void load_templates(const field& f);
  void load_routing(const field& f);
  void load_carrier(const field& item, const std::string& path);
  void load_sender(const field& f, const std::string& path, smpp::address& a);
  void load_reconnect_queue(const field& f, const std::string& path, carrier::reconnect_queue& q);
  void load_message_ids(const field& f, const std::string& path, smpp::dlr::id_config& ids);
  void load_voice(const field& f);
  void load_trunk(const field& item, const std::string& path);
  void load_webhooks(const field& f);
  void load_store(const field& f);
  void load_secrets(const field& f);
  void load_logging(const field& f);
  void load_admin(const field& f);
  void load_process(const field& f);
  void load_testing(const field& f);
  void check_across();

  // A file otpd will read at start-up: checked now, so that --check-config catches it.
  std::optional<std::filesystem::path> input_file(const field& f, const std::string& path);

  yaml_reader& r_;
  config& c_;

  // What the checks across sections need, once everything is read.
  struct failover_ref {
    std::string carrier;
    std::string target;
    YAML::Mark mark;
    std::string path;
  };
  std::vector<failover_ref> failovers_;
  struct queue_wait_ref {
    milliseconds wait;
    YAML::Mark mark;
    std::string path;
  };
  std::vector<queue_wait_ref> queue_waits_;  // each carrier's reconnect_queue.max_wait
  std::map<std::string, YAML::Mark, std::less<>> carrier_names_;
  std::map<std::string, std::pair<std::string, YAML::Mark>, std::less<>> prefixes_;
  std::map<std::string, YAML::Mark, std::less<>> bind_names_;
  std::map<std::string, YAML::Mark, std::less<>> trunk_names_;
  std::optional<field> locale_field_;
  std::optional<field> new_code_field_;
  std::optional<field> templates_field_;
  bool templates_failed_ = false;  // then a missing locale is a consequence, not news
  bool seal_key_given_ = false;
};

void config_loader::load(const YAML::Node& root) {
  auto top = r_.fields(root, YAML::Mark(), "",
                       {"listeners", "http", "api_keys", "policy", "rate_limits", "number_plan",
                        "templates", "routing", "voice", "webhooks", "store", "secrets", "logging",
                        "admin", "process", "testing", "ops"});
  if (!top) return;
  const field_map& t = *top;
  r_.require(t, root, "", "api_keys", "the keys backends present as 'Authorization: Bearer KEY'");
  r_.require(t, root, "", "routing", "the carriers, their prefixes and binds");
  r_.require(t, root, "", "secrets", "at least secrets.code_mac_key");
  if (const field* f = find(t, "listeners")) load_listeners(*f);
  detail::read_ops(r_, find(t, "ops"), c_.listeners, c_.ops);
  if (const field* f = find(t, "http")) load_http(*f);
  if (const field* f = find(t, "api_keys")) load_api_keys(*f);
  if (const field* f = find(t, "policy")) load_policy(*f);
  if (const field* f = find(t, "rate_limits")) load_rate_limits(*f);
  if (const field* f = find(t, "number_plan")) load_number_plan(*f);
  if (const field* f = find(t, "templates")) load_templates(*f);
  if (const field* f = find(t, "routing")) load_routing(*f);
  if (const field* f = find(t, "voice")) load_voice(*f);
  if (const field* f = find(t, "webhooks")) load_webhooks(*f);
  if (const field* f = find(t, "store")) load_store(*f);
  if (const field* f = find(t, "secrets")) load_secrets(*f);
  if (const field* f = find(t, "logging")) load_logging(*f);
  if (const field* f = find(t, "admin")) load_admin(*f);
  if (const field* f = find(t, "process")) load_process(*f);
  if (const field* f = find(t, "testing")) load_testing(*f);
  check_across();
}

std::optional<std::filesystem::path> config_loader::input_file(const field& f,
                                                               const std::string& path) {
  auto s = r_.get_string(f, path, {.allow_empty = false});
  if (!s) return std::nullopt;
  std::filesystem::path p = r_.resolve(*s);
  std::string why;
  if (!r_.readable(p, why)) {
    r_.error(yaml_reader::mark_of(f), path + ": cannot read " + p.string() + ": " + why);
    return std::nullopt;
  }
  return p;
}

// ---- listeners, http -----------------------------------------------------------------------

void config_loader::load_listeners(const field& f) {
  auto list = r_.items(f, "listeners", "a list of listeners, each {address, port, tls}");
  if (!list) return;
  if (list->empty()) {
    r_.error(yaml_reader::mark_of(f), "listeners: expected at least one listener");
    return;
  }
  c_.listeners.clear();
  std::vector<std::pair<std::string, YAML::Mark>> used;  // "address:port", where
  for (std::size_t i = 0; i < list->size(); ++i) {
    const field& item = (*list)[i];
    const std::string path = item_path("listeners", i);
    auto m = r_.fields(item.value, yaml_reader::mark_of(item), path, {"address", "port", "tls"});
    if (!m) continue;
    http_listener l;
    if (const field* v = find(*m, "address")) {
      const std::string p = sub_path(path, "address");
      if (auto s = r_.get_string(*v, p, {.allow_empty = false})) {
        if (is_ip_address(*s)) {
          l.address = *s;
        } else {
          r_.error(yaml_reader::mark_of(*v), p +
                                                 ": expected an IPv4 or IPv6 address such as "
                                                 "127.0.0.1, 0.0.0.0 or ::1, got '" +
                                                 *s + "'");
        }
      }
    }
    if (const field* v = find(*m, "port")) {
      if (auto n = r_.get_integer(*v, sub_path(path, "port"), 0, 65535)) {
        l.port = static_cast<std::uint16_t>(*n);
      }
    }
    if (const field* v = find(*m, "tls")) load_tls_server(*v, sub_path(path, "tls"), l);
    // Port 0 asks the OS for a free port, which never collides.
    if (l.port != 0) {
      for (const auto& [other, where] : used) {
        const auto colon = other.rfind(':');
        const std::string other_address = other.substr(0, colon);
        if (other.substr(colon + 1) == std::to_string(l.port) &&
            (other_address == l.address || is_wildcard(other_address) || is_wildcard(l.address))) {
          r_.error(item.value.Mark(), path + ": " + l.address + " port " + std::to_string(l.port) +
                                          " overlaps the listener at " + line_of(where) +
                                          "; two listeners cannot share a port");
          break;
        }
      }
      used.emplace_back(l.address + ":" + std::to_string(l.port), item.value.Mark());
    }
    c_.listeners.push_back(std::move(l));
  }
}

void config_loader::load_tls_server(const field& f, const std::string& path, http_listener& l) {
  auto m =
      r_.fields(f.value, yaml_reader::mark_of(f), path, {"certificate_file", "private_key_file"});
  if (!m) return;
  r_.require(*m, f.value, path, "certificate_file", "the PEM certificate chain");
  r_.require(*m, f.value, path, "private_key_file", "the PEM private key");
  tls_server t;
  if (const field* v = find(*m, "certificate_file")) {
    if (auto p = input_file(*v, sub_path(path, "certificate_file"))) t.certificate_file = *p;
  }
  if (const field* v = find(*m, "private_key_file")) {
    if (auto p = input_file(*v, sub_path(path, "private_key_file"))) t.private_key_file = *p;
  }
  l.tls = std::move(t);
}

void config_loader::load_http(const field& f) {
  auto m = r_.fields(
      f.value, yaml_reader::mark_of(f), "http",
      {"max_body_bytes", "max_header_bytes", "read_timeout", "idle_timeout", "max_connections"});
  if (!m) return;
  http_limits& h = c_.http;
  if (const field* v = find(*m, "max_body_bytes")) {
    if (auto n = r_.get_integer(*v, "http.max_body_bytes", 64, 64LL << 20)) {
      h.max_body_bytes = static_cast<std::size_t>(*n);
    }
  }
  if (const field* v = find(*m, "max_header_bytes")) {
    if (auto n = r_.get_integer(*v, "http.max_header_bytes", 1024, 1LL << 20)) {
      h.max_header_bytes = static_cast<std::size_t>(*n);
    }
  }
  if (const field* v = find(*m, "read_timeout")) {
    if (auto d = r_.get_duration(*v, "http.read_timeout", 1ms, 10min)) {
      h.read_timeout = std::chrono::duration_cast<milliseconds>(*d);
    }
  }
  if (const field* v = find(*m, "idle_timeout")) {
    if (auto d = r_.get_duration(*v, "http.idle_timeout", 1ms, 1h)) {
      h.idle_timeout = std::chrono::duration_cast<milliseconds>(*d);
    }
  }
  if (const field* v = find(*m, "max_connections")) {
    if (auto n = r_.get_integer(*v, "http.max_connections", 1, 1'000'000)) {
      h.max_connections = static_cast<std::size_t>(*n);
    }
  }
}

// ---- api keys ------------------------------------------------------------------------------

void config_loader::load_api_keys(const field& f) {
  // A key where the list belongs is not shown.
  auto list =
      r_.items(f, "api_keys", "a list of keys, each {name, sha256} or {name, secret}", true);
  if (!list) return;
  if (list->empty()) {
    r_.error(yaml_reader::mark_of(f),
             "api_keys: expected at least one key; without one no backend can call the API");
    return;
  }
  std::map<std::string, YAML::Mark, std::less<>> names;
  std::map<std::string, std::string, std::less<>> hashes;  // sha256 -> name
  for (std::size_t i = 0; i < list->size(); ++i) {
    const field& item = (*list)[i];
    const std::string path = item_path("api_keys", i);
    if (item.value.IsScalar()) {
      // Most likely the key itself: refused, and not repeated in the message.
      r_.error(yaml_reader::mark_of(item),
               path +
                   ": a key written in plain text is refused (it is not shown here); write "
                   "{name: NAME, sha256: HEX} with the SHA-256 of the key, or {name: NAME, "
                   "secret: ${file:/path}} to have otpd hash it at load time");
      continue;
    }
    auto m = r_.fields(item.value, yaml_reader::mark_of(item), path, {"name", "sha256", "secret"});
    if (!m) continue;
    r_.require(*m, item.value, path, "name", "shown in logs and metrics, never the key");
    api_key k;
    if (const field* v = find(*m, "name")) {
      const std::string p = sub_path(path, "name");
      if (auto s = r_.get_string(*v, p, {.max_length = 64, .allow_empty = false})) {
        if (!is_label(*s)) {
          r_.error(yaml_reader::mark_of(*v),
                   p + ": expected letters, digits, '.', '_' or '-', got '" + *s + "'");
        } else if (auto [pos, inserted] = names.emplace(*s, v->value.Mark()); !inserted) {
          r_.error(
              yaml_reader::mark_of(*v),
              p + ": the name '" + *s + "' is already used by the key at " + line_of(pos->second));
        } else {
          k.name = *s;
        }
      }
    }
    const field* hash = find(*m, "sha256");
    const field* secret = find(*m, "secret");
    if (hash && secret) {
      r_.error(secret->key.Mark(), path + ": give either sha256 or secret, not both");
      continue;
    }
    if (!hash && !secret) {
      r_.error(item.value.Mark(), "missing required key '" + sub_path(path, "sha256") +
                                      "' (the SHA-256 of the key in hex) or '" +
                                      sub_path(path, "secret") +
                                      "' (${file:/path} or ${env:NAME})");
      continue;
    }
    if (hash) {
      const std::string p = sub_path(path, "sha256");
      // Treated as a secret: a key pasted here by mistake must not be repeated.
      if (auto s = r_.get_string(*hash, p, {.secret = true})) {
        if (s->size() != 64 || !is_hex(*s)) {
          r_.error(yaml_reader::mark_of(*hash),
                   p +
                       ": expected 64 hexadecimal digits (the SHA-256 of the key, as printed by "
                       "`printf %s KEY | sha256sum`), got " +
                       std::to_string(s->size()) + " characters (not shown)");
        } else {
          k.sha256 = lowercase(*s);
        }
      }
    } else {
      const std::string p = sub_path(path, "secret");
      if (secret->value.IsScalar() && !detail::is_reference(secret->value.Scalar())) {
        r_.error(yaml_reader::mark_of(*secret),
                 p + ": a key written in the file itself is refused (it is not shown here); give "
                     "${file:/path} or ${env:NAME}, or sha256: HEX instead");
        continue;
      }
      if (auto s = r_.get_secret(*secret, p, {.allow_empty = false})) {
        if (s->size() < min_shared_secret) {
          r_.error(yaml_reader::mark_of(*secret),
                   p + ": the value of " + secret->value.Scalar() + " is " +
                       std::to_string(s->size()) + " bytes long; at least " +
                       std::to_string(min_shared_secret) + " are expected");
        } else {
          k.sha256 = api_key_sha256(s->view());
        }
      }
    }
    if (!k.sha256.empty()) {
      if (auto [pos, inserted] = hashes.emplace(k.sha256, k.name); !inserted) {
        r_.error(item.value.Mark(), path + ": the same key as '" + pos->second +
                                        "'; each backend needs a key of its own");
      }
    }
    c_.api_keys.push_back(std::move(k));
  }
}

// ---- policy, limits, numbers, templates ----------------------------------------------------

void config_loader::load_policy(const field& f) {
  auto m = r_.fields(f.value, yaml_reader::mark_of(f), "policy",
                     {"code_length", "allow_short_codes", "ttl", "max_ttl", "max_checks",
                      "max_sends", "resend_cooldown", "cooldown_growth", "new_code_on_resend",
                      "default_resend_channel", "fallback_on_sms_failure", "default_locale"});
  if (!m) return;
  otp_policy& p = c_.policy;
  detail::read_code_length(r_, find(*m, "code_length"), find(*m, "allow_short_codes"), p);
  bool times_ok = true;
  const field* ttl = find(*m, "ttl");
  const field* max_ttl = find(*m, "max_ttl");
  if (ttl) {
    auto s = r_.get_seconds(*ttl, "policy.ttl", 1s, hard_max_ttl);
    if (s) p.ttl = *s;
    times_ok = times_ok && s;
  }
  if (max_ttl) {
    auto s = r_.get_seconds(*max_ttl, "policy.max_ttl", 1s, hard_max_ttl);
    if (s) p.max_ttl = *s;
    times_ok = times_ok && s;
  }
  if (times_ok && p.ttl > p.max_ttl) {
    if (ttl) {
      r_.error(yaml_reader::mark_of(*ttl), "policy.ttl: " + format_duration(p.ttl) +
                                               " is longer than policy.max_ttl (" +
                                               format_duration(p.max_ttl) + ")");
    } else {
      r_.error(yaml_reader::mark_of(*max_ttl), "policy.max_ttl: " + format_duration(p.max_ttl) +
                                                   " is shorter than policy.ttl (" +
                                                   format_duration(p.ttl) + ", the default)");
    }
  }
  if (const field* v = find(*m, "max_checks")) {
    if (auto n = r_.get_integer(*v, "policy.max_checks", 1, 10))
      p.max_checks = static_cast<int>(*n);
  }
  bool sends_ok = true;
  if (const field* v = find(*m, "max_sends")) {
    auto n = r_.get_integer(*v, "policy.max_sends", 1, 20);
    if (n) p.max_sends = static_cast<int>(*n);
    sends_ok = n.has_value();
  }
  if (const field* v = find(*m, "resend_cooldown")) {
    if (auto s = r_.get_seconds(*v, "policy.resend_cooldown", 0s, hard_max_ttl)) {
      p.resend_cooldown = *s;
      if (times_ok && sends_ok && p.max_sends > 1 && p.resend_cooldown >= p.ttl) {
        r_.error(yaml_reader::mark_of(*v),
                 "policy.resend_cooldown: " + format_duration(*s) +
                     " leaves no time to resend within policy.ttl (" + format_duration(p.ttl) +
                     "); shorten it, or set policy.max_sends: 1 to allow no resend");
      }
    }
  }
  if (const field* v = find(*m, "cooldown_growth")) {
    if (auto n = r_.get_number(*v, "policy.cooldown_growth", 1, 10)) p.cooldown_growth = *n;
  }
  if (const field* v = find(*m, "new_code_on_resend")) {
    if (auto b = r_.get_bool(*v, "policy.new_code_on_resend")) p.new_code_on_resend = *b;
    new_code_field_ = *v;
  }
  if (const field* v = find(*m, "default_resend_channel")) {
    static constexpr channel channels[] = {channel::sms, channel::voice};
    if (auto i =
            r_.get_choice(*v, "policy.default_resend_channel", {"sms", "voice"}, "sms or voice")) {
      p.default_resend_channel = channels[*i];
    }
  }
  if (const field* v = find(*m, "fallback_on_sms_failure")) {
    if (auto b = r_.get_bool(*v, "policy.fallback_on_sms_failure")) p.fallback_on_sms_failure = *b;
  }
  if (const field* v = find(*m, "default_locale")) {
    if (auto s =
            r_.get_string(*v, "policy.default_locale", {.max_length = 35, .allow_empty = false})) {
      if (is_locale(*s)) {
        p.default_locale = *s;
        locale_field_ = *v;
      } else {
        r_.error(yaml_reader::mark_of(*v),
                 "policy.default_locale: expected a language tag such as vi, en or en-GB, got '" +
                     *s + "'");
      }
    }
  }
}

void config_loader::load_rate_limits(const field& f) {
  auto m = r_.fields(f.value, yaml_reader::mark_of(f), "rate_limits",
                     {"per_number", "per_api_key", "per_client_ip", "per_prefix", "prefix_digits"});
  if (!m) return;
  rate_limits& l = c_.limits;
  if (const field* v = find(*m, "per_number"))
    load_limit_list(*v, "rate_limits.per_number", l.per_number);
  if (const field* v = find(*m, "per_api_key")) {
    load_limit_list(*v, "rate_limits.per_api_key", l.per_api_key);
  }
  if (const field* v = find(*m, "per_client_ip")) {
    load_limit_list(*v, "rate_limits.per_client_ip", l.per_client_ip);
  }
  if (const field* v = find(*m, "per_prefix"))
    load_limit_list(*v, "rate_limits.per_prefix", l.per_prefix);
  if (const field* v = find(*m, "prefix_digits")) {
    if (auto n = r_.get_integer(*v, "rate_limits.prefix_digits", 1, max_e164_digits)) {
      l.prefix_digits = static_cast<int>(*n);
    }
  }
}

void config_loader::load_limit_list(const field& f, const std::string& path,
                                    std::vector<rate_limit>& out) {
  auto list = r_.items(f, path, "a list of limits, each {max, window} ([] for none)");
  if (!list) return;
  out.clear();
  for (std::size_t i = 0; i < list->size(); ++i) {
    const field& item = (*list)[i];
    const std::string p = item_path(path, i);
    auto m = r_.fields(item.value, yaml_reader::mark_of(item), p, {"max", "window"});
    if (!m) continue;
    r_.require(*m, item.value, p, "max", "events allowed per window; 0 for no limit");
    r_.require(*m, item.value, p, "window", "a duration such as 10m or 24h");
    rate_limit l;
    if (const field* v = find(*m, "max")) {
      if (auto n = r_.get_integer(*v, sub_path(p, "max"), 0, 1'000'000'000))
        l.max = static_cast<int>(*n);
    }
    if (const field* v = find(*m, "window")) {
      if (auto s = r_.get_seconds(*v, sub_path(p, "window"), 1s, 31 * 24h)) l.window = *s;
    }
    out.push_back(l);
  }
}

void config_loader::load_number_plan(const field& f) {
  auto m = r_.fields(f.value, yaml_reader::mark_of(f), "number_plan",
                     {"default_country_code", "national_prefix", "min_digits", "max_digits"});
  if (!m) return;
  number_plan& n = c_.numbers;
  if (const field* v = find(*m, "default_country_code")) {
    const std::string p = "number_plan.default_country_code";
    if (auto s = r_.get_string(*v, p, {.allow_empty = false})) {
      std::string cc = s->starts_with('+') ? s->substr(1) : *s;
      // ITU-T E.164: country codes are one to three digits and never start with 0.
      if (all_digits(cc) && cc.size() <= 3 && cc[0] != '0') {
        n.default_country_code = cc;
      } else {
        r_.error(yaml_reader::mark_of(*v),
                 p + ": expected a country code of 1 to 3 digits such as 84, got '" + *s + "'");
      }
    }
  }
  if (const field* v = find(*m, "national_prefix")) {
    const std::string p = "number_plan.national_prefix";
    if (auto s = r_.get_string(*v, p)) {
      if (s->empty() || (all_digits(*s) && s->size() <= 3)) {
        n.national_prefix = *s;
      } else {
        r_.error(yaml_reader::mark_of(*v),
                 p + ": expected up to 3 digits such as 0 (or \"\" for none), got '" + *s + "'");
      }
    }
  }
  bool ok = true;
  const field* min = find(*m, "min_digits");
  const field* max = find(*m, "max_digits");
  if (min) {
    auto d = r_.get_integer(*min, "number_plan.min_digits", 1, max_e164_digits);
    if (d) n.min_digits = static_cast<int>(*d);
    ok = ok && d;
  }
  if (max) {
    auto d = r_.get_integer(*max, "number_plan.max_digits", 1, max_e164_digits);
    if (d) n.max_digits = static_cast<int>(*d);
    ok = ok && d;
  }
  if (ok && n.min_digits > n.max_digits) {
    const field* at = max ? max : min;
    r_.error(yaml_reader::mark_of(*at), "number_plan: min_digits (" + std::to_string(n.min_digits) +
                                            ") is larger than max_digits (" +
                                            std::to_string(n.max_digits) + ")");
  } else if (ok && n.default_country_code.size() + static_cast<std::size_t>(n.max_digits) >
                       max_e164_digits) {
    r_.error(yaml_reader::mark_of(max ? *max : *min),
             "number_plan.max_digits: " + std::to_string(n.max_digits) +
                 " digits after country code " + n.default_country_code +
                 " exceed the 15 digits of an E.164 number");
  }
}

void config_loader::load_templates(const field& f) {
  templates_field_ = f;
  templates_failed_ = true;  // until the texts are read
  bool failed = false;
  auto m = r_.fields(f.value, yaml_reader::mark_of(f), "templates", {"sms"});
  if (!m) return;
  const field* sms = find(*m, "sms");
  if (!sms) {
    templates_failed_ = false;
    return;
  }
  if (!sms->value.IsMap() || sms->value.size() == 0) {
    r_.error_at(*sms, "templates.sms",
                "a mapping of locale to text, such as vi: \"Ma xac thuc: {code}\"");
    return;
  }
  std::map<std::string, std::string> out;
  std::map<std::string, source_position> at;
  std::map<std::string, YAML::Mark> seen;
  for (const auto kv : sms->value) {
    const YAML::Node k = kv.first;
    if (!k.IsScalar() || !is_locale(k.Scalar())) {
      failed = true;
      r_.error(k.Mark(),
               "templates.sms: expected a language tag such as vi, en or en-GB as the "
               "key, got " +
                   detail::describe_node(k));
      continue;
    }
    const std::string locale = k.Scalar();
    const std::string p = "templates.sms." + locale;
    if (auto [pos, inserted] = seen.emplace(locale, k.Mark()); !inserted) {
      r_.error(k.Mark(), "duplicate key '" + p + "' (first given at " + line_of(pos->second) + ")");
      failed = true;
      continue;
    }
    const field v{k, kv.second};
    auto s = r_.get_string(v, p, {.max_length = max_template, .allow_empty = false});
    if (!s) {
      failed = true;
      continue;
    }
    // "{code}" and "{minutes}" are the only placeholders; anything else in braces is a typo
    // that would reach the user's phone as written.
    bool has_code = false, bad = false;
    for (std::size_t open = s->find('{'); open != std::string::npos;
         open = s->find('{', open + 1)) {
      const std::size_t close = s->find('}', open);
      if (close == std::string::npos) break;
      const std::string name = s->substr(open + 1, close - open - 1);
      if (name == "code") {
        has_code = true;
      } else if (name != "minutes") {
        r_.error(yaml_reader::mark_of(v), p + ": unknown placeholder {" + name +
                                              "}; expected {code} and optionally {minutes}");
        bad = true;
      }
    }
    if (!has_code) {
      r_.error(yaml_reader::mark_of(v), p + ": the text has no {code} placeholder, where the "
                                            "code goes");
      bad = true;
    }
    // Decomposed text (e + U+0302 + U+0323 for ệ, as some editors save it) would go out as
    // written, three UCS2 units where one does.
    std::optional<std::string> nfc = detail::to_nfc(*s);
    if (!nfc) {
      r_.error(yaml_reader::mark_of(v), p + ": the text is not valid UTF-8");
      bad = true;
    }
    if (bad) {
      failed = true;
    } else {
      out.emplace(locale, std::move(*nfc));
      at.emplace(locale, position_of(yaml_reader::mark_of(v)));
    }
  }
  c_.text.sms = std::move(out);
  c_.text.sms_at = std::move(at);
  templates_failed_ = failed;
}

// ---- routing -------------------------------------------------------------------------------

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
  if (const field* v = find(*m, "name")) {
    const std::string p = sub_path(path, "name");
    if (auto s = r_.get_string(*v, p, {.max_length = 64, .allow_empty = false})) {
      if (!is_label(*s)) {
        r_.error(yaml_reader::mark_of(*v),
                 p + ": expected letters, digits, '.', '_' or '-', got '" + *s + "'");
      } else if (auto [pos, inserted] = carrier_names_.emplace(*s, v->value.Mark()); !inserted) {
        r_.error(yaml_reader::mark_of(*v),
                 p + ": carrier '" + *s + "' is already defined at " + line_of(pos->second));
      } else {
        c.name = *s;
      }
    }
  }
  if (const field* v = find(*m, "prefixes")) {
    const std::string p = sub_path(path, "prefixes");
    if (auto list = r_.items(*v, p, "a list of E.164 prefixes such as \"8486\"")) {
      for (std::size_t i = 0; i < list->size(); ++i) {
        const field& e = (*list)[i];
        const std::string ep = item_path(p, i);
        auto s = r_.get_string(e, ep, {.allow_empty = false});
        if (!s) continue;
        const std::string digits = s->starts_with('+') ? s->substr(1) : *s;
        if (!all_digits(digits) || digits.size() > max_e164_digits) {
          r_.error(yaml_reader::mark_of(e), ep +
                                                ": expected up to 15 digits of an E.164 "
                                                "number (country code first, no '+' needed), "
                                                "got '" +
                                                *s + "'");
        } else if (digits[0] == '0') {
          // The national form (086...) is what people write; E.164 has the country code
          // (number_plan is read before routing).
          const std::string& trunk = c_.numbers.national_prefix;
          const std::string national =
              !trunk.empty() && digits.starts_with(trunk) ? digits.substr(trunk.size()) : digits;
          r_.error(yaml_reader::mark_of(e),
                   ep + ": '" + *s +
                       "' starts with 0; write the prefix in E.164 form, country "
                       "code first (" +
                       c_.numbers.default_country_code + national + " rather than " + digits + ")");
        } else if (auto [pos, inserted] =
                       prefixes_.emplace(digits, std::make_pair(c.name, e.value.Mark()));
                   !inserted) {
          r_.error(yaml_reader::mark_of(e),
                   ep + ": prefix " + digits + " is already routed to carrier '" +
                       pos->second.first + "' at " + line_of(pos->second.second));
        } else {
          c.prefixes.push_back(digits);
        }
      }
    }
  }
  if (const field* v = find(*m, "sender")) load_sender(*v, sub_path(path, "sender"), c.sender);
  // Before the binds: each bind starts from the carrier's text settings.
  if (const field* v = find(*m, "text"))
    detail::read_text_profile(r_, *v, sub_path(path, "text"), c.text);
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
    load_message_ids(*v, sub_path(path, "message_ids"), c.message_ids);
  }
  if (const field* v = find(*m, "binds")) {
    const std::string p = sub_path(path, "binds");
    if (auto list = r_.items(*v, p,
                             "a list of binds, each {name, host, port, bind, system_id, "
                             "password, ...}")) {
      bool complete = !list->empty();
      std::size_t senders = 0, receivers = 0;
      for (std::size_t i = 0; i < list->size(); ++i) {
        const field& e = (*list)[i];
        const std::string bp = item_path(p, i);
        smpp::bind_config b;
        b.text = c.text;
        const std::size_t errors_before = r_.error_count();
        auto bf = detail::read_bind(r_, e.value, yaml_reader::mark_of(e), bp, b);
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
          if (auto [pos, inserted] = bind_names_.emplace(b.session.name, n->value.Mark());
              !inserted) {
            r_.error(yaml_reader::mark_of(*n), sub_path(bp, "name") + ": bind '" + b.session.name +
                                                   "' is already defined at " +
                                                   line_of(pos->second));
          }
        }
        c.binds.push_back(std::move(b));
        c.binds_at.push_back(position_of(yaml_reader::mark_of(e)));
      }
      if (list->empty()) {
        r_.error(yaml_reader::mark_of(*v), p + ": expected at least one bind");
      } else if (complete && senders == 0) {
        r_.error(yaml_reader::mark_of(*v), p + ": no transmitter or transceiver bind, so the "
                                               "carrier could not send; add one");
      } else if (complete && receivers == 0 && c.request_receipts) {
        r_.error(yaml_reader::mark_of(*v),
                 p + ": no receiver or transceiver bind, so delivery receipts could not arrive; "
                     "add one, or set request_receipts: false");
      }
    }
  }
  if (const field* v = find(*m, "failover")) {
    const std::string p = sub_path(path, "failover");
    if (auto list = r_.items(*v, p, "a list of carrier names, tried in order")) {
      for (std::size_t i = 0; i < list->size(); ++i) {
        const field& e = (*list)[i];
        const std::string ep = item_path(p, i);
        if (auto s = r_.get_string(e, ep, {.allow_empty = false})) {
          failovers_.push_back({c.name, *s, yaml_reader::mark_of(e), ep});
          c.failover.push_back(*s);
        }
      }
    }
  }
  c_.routes.carriers.push_back(std::move(c));
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

void config_loader::load_message_ids(const field& f, const std::string& path,
                                     smpp::dlr::id_config& ids) {
  // What `otpd-smpp` reports as "id mapping ...", or `learn` (the default): see
  // smpp/dlr/message_id.hpp. A fixed mapping is the pair of spellings it stands for.
  using smpp::dlr::id_format;
  auto i = r_.get_choice(f, path, {"learn", "same", "decimal_to_hex", "hex_to_decimal"},
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

void config_loader::load_sender(const field& f, const std::string& path, smpp::address& a) {
  auto m = r_.fields(f.value, yaml_reader::mark_of(f), path, {"addr", "ton", "npi"});
  if (!m) return;
  r_.require(*m, f.value, path, "addr", "the brandname or number the SMS comes from");
  const field* addr = find(*m, "addr");
  std::optional<std::string> s;
  if (addr)
    s = r_.get_string(*addr, sub_path(path, "addr"),
                      {.max_length = max_numeric_sender, .allow_empty = false});
  std::optional<long long> ton, npi;
  if (const field* v = find(*m, "ton")) {
    ton = r_.get_integer(*v, sub_path(path, "ton"), 0, 6);  // SMPP 3.4 §5.2.5
    if (!ton) return;
  }
  if (const field* v = find(*m, "npi")) {
    npi = r_.get_integer(*v, sub_path(path, "npi"), 0, 18);  // SMPP 3.4 §5.2.6
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
      r_.error(yaml_reader::mark_of(*addr),
               sub_path(path, "addr") + ": '" + *s +
                   "' cannot be an alphanumeric sender (TON 5); "
                   "expected at most 11 printable ASCII characters (3GPP TS 23.040 §9.1.2.5)");
      return;
    }
    a.addr = *s;
  } else {
    if (!numeric) {
      r_.error(yaml_reader::mark_of(*addr), sub_path(path, "addr") + ": expected digits for TON " +
                                                std::to_string(t) + " (a number), got '" + *s +
                                                "'; a brandname needs ton: 5");
      return;
    }
    a.addr = digits;
  }
  a.ton = static_cast<std::uint8_t>(t);
  a.npi = static_cast<std::uint8_t>(n);
}

// ---- webhooks, store, secrets, logging, testing --------------------------------------------

// ---- voice ---------------------------------------------------------------------------------

void config_loader::load_voice(const field& f) {
  auto m = r_.fields(f.value, yaml_reader::mark_of(f), "voice",
                     {"trunks", "prompts_folder", "words_per_minute", "repeats", "digit_pause",
                      "replay_key", "rate_wait"});
  if (!m) return;
  voice& vc = c_.calls;
  if (const field* v = find(*m, "trunks")) {
    if (auto list = r_.items(*v, "voice.trunks",
                             "a list of SIP trunks, each {name, uri, caller_id, ...}")) {
      for (std::size_t i = 0; i < list->size(); ++i) {
        load_trunk((*list)[i], item_path("voice.trunks", i));
      }
    }
  }
  if (const field* v = find(*m, "prompts_folder")) {
    if (auto s = r_.get_string(*v, "voice.prompts_folder", {.allow_empty = false})) {
      std::filesystem::path p = r_.resolve(*s);
      std::error_code ec;
      if (!std::filesystem::is_directory(p, ec)) {
        r_.error(yaml_reader::mark_of(*v),
                 "voice.prompts_folder: " + p.string() + " is not a readable folder");
      } else {
        vc.prompts_folder = p;
      }
    }
  }
  if (const field* v = find(*m, "words_per_minute")) {
    if (auto n = r_.get_integer(*v, "voice.words_per_minute", 80, 450))
      vc.words_per_minute = static_cast<int>(*n);
  }
  if (const field* v = find(*m, "repeats")) {
    if (auto n = r_.get_integer(*v, "voice.repeats", 1, 5)) vc.repeats = static_cast<int>(*n);
  }
  if (const field* v = find(*m, "digit_pause")) {
    if (auto d = r_.get_duration(*v, "voice.digit_pause", 0ms, 5s))
      vc.digit_pause = std::chrono::duration_cast<milliseconds>(*d);
  }
  if (const field* v = find(*m, "rate_wait")) {
    // Shorter than any code's lifetime (policy.ttl is at least 30 s).
    if (auto d = r_.get_duration(*v, "voice.rate_wait", 0ms, 20s))
      vc.rate_wait = std::chrono::duration_cast<milliseconds>(*d);
  }
  if (const field* v = find(*m, "replay_key")) {
    if (auto s = r_.get_string(*v, "voice.replay_key")) {
      static constexpr std::string_view keys = "0123456789*#";
      if (s->empty()) {
        vc.replay_key = '\0';
      } else if (s->size() == 1 && keys.find((*s)[0]) != std::string_view::npos) {
        vc.replay_key = (*s)[0];
      } else {
        r_.error(yaml_reader::mark_of(*v),
                 "voice.replay_key: expected one of 0-9, * or #, or \"\" for none");
      }
    }
  }
}

void config_loader::load_trunk(const field& item, const std::string& path) {
  auto m = r_.fields(item.value, yaml_reader::mark_of(item), path,
                     {"name", "uri", "transport", "domain", "username", "password", "caller_id",
                      "local_address", "number_format", "max_calls", "calls_per_second", "priority",
                      "ring_timeout", "max_call", "media_networks"},
                     true);
  if (!m) return;
  r_.require(*m, item.value, path, "name", "a name for logs and metrics");
  r_.require(*m, item.value, path, "uri", "the next hop, e.g. sip:10.0.0.1:5060");
  voice_trunk t;
  const auto p = [&](std::string_view key) { return sub_path(path, key); };
  if (const field* v = find(*m, "name")) {
    if (auto s = r_.get_string(*v, p("name"), {.max_length = 64, .allow_empty = false})) {
      if (!is_label(*s)) {
        r_.error(yaml_reader::mark_of(*v),
                 p("name") + ": expected letters, digits, '-' or '_' (it labels metrics)");
      } else if (auto [pos, inserted] = trunk_names_.emplace(*s, v->value.Mark()); !inserted) {
        r_.error(yaml_reader::mark_of(*v),
                 p("name") + ": trunk '" + *s + "' is already defined at " + line_of(pos->second));
      } else {
        t.name = *s;
      }
    }
  }
  if (const field* v = find(*m, "uri")) {
    if (auto s = r_.get_string(*v, p("uri"), {.max_length = 512, .allow_empty = false})) {
      if (!s->starts_with("sip:") || s->size() == 4 || s->find('@') != std::string::npos) {
        r_.error(yaml_reader::mark_of(*v),
                 p("uri") + ": expected sip:host[:port][;transport=udp|tcp], without a user part");
      } else {
        t.uri = *s;
        if (s->find(";transport=tcp") != std::string::npos) t.transport = "tcp";
      }
    }
  }
  if (const field* v = find(*m, "transport")) {
    static constexpr std::string_view names[] = {"udp", "tcp"};
    if (auto i = r_.get_choice(*v, p("transport"), {"udp", "tcp"}, "udp or tcp"))
      t.transport = names[*i];
  }
  if (const field* v = find(*m, "domain")) {
    if (auto s = r_.get_string(*v, p("domain"), {.max_length = 253})) t.domain = *s;
  }
  if (const field* v = find(*m, "username")) {
    if (auto s = r_.get_string(*v, p("username"), {.max_length = 128})) t.username = *s;
  }
  if (const field* v = find(*m, "password")) {
    if (auto s = r_.get_secret(*v, p("password"), {.max_length = 256})) t.password = std::move(*s);
  }
  if (!t.password.empty() && t.username.empty()) {
    r_.error(item.value.Mark(), "missing required key '" + p("username") +
                                    "' (a password is given: digest needs both)");
  }
  if (const field* v = find(*m, "caller_id")) {
    if (auto s = r_.get_string(*v, p("caller_id"), {.max_length = 64})) t.caller_id = *s;
  }
  if (const field* v = find(*m, "local_address")) {
    if (auto s = r_.get_string(*v, p("local_address"), {.allow_empty = false})) {
      if (!is_ip_address(*s) || is_wildcard(*s)) {
        r_.error(yaml_reader::mark_of(*v),
                 p("local_address") +
                     ": expected the IP address of one interface (it goes into SDP and Contact)");
      } else {
        t.local_address = *s;
      }
    }
  }
  if (const field* v = find(*m, "number_format")) {
    static constexpr std::string_view names[] = {"+e164", "e164", "national"};
    if (auto i = r_.get_choice(*v, p("number_format"), {"+e164", "e164", "national"},
                               "+e164, e164 or national"))
      t.number_format = names[*i];
  }
  if (const field* v = find(*m, "max_calls")) {
    if (auto n = r_.get_integer(*v, p("max_calls"), 1, 10'000)) t.max_calls = static_cast<int>(*n);
  }
  if (const field* v = find(*m, "calls_per_second")) {
    if (auto n = r_.get_number(*v, p("calls_per_second"), 0.01, 1000)) t.calls_per_second = *n;
  }
  if (const field* v = find(*m, "priority")) {
    if (auto n = r_.get_integer(*v, p("priority"), 0, 100)) t.priority = static_cast<int>(*n);
  }
  if (const field* v = find(*m, "ring_timeout")) {
    if (auto d = r_.get_duration(*v, p("ring_timeout"), 1s, 120s))
      t.ring_timeout = std::chrono::duration_cast<milliseconds>(*d);
  }
  if (const field* v = find(*m, "max_call")) {
    if (auto d = r_.get_duration(*v, p("max_call"), 10s, 600s))
      t.max_call = std::chrono::duration_cast<milliseconds>(*d);
  }
  if (const field* v = find(*m, "media_networks")) {
    t.media_networks = detail::read_media_networks(r_, *v, p("media_networks"));
  }
  c_.calls.trunks.push_back(std::move(t));
}

void config_loader::load_webhooks(const field& f) {
  auto m = r_.fields(f.value, yaml_reader::mark_of(f), "webhooks",
                     {"url", "secret", "timeout", "max_attempts", "initial_backoff", "max_backoff"},
                     true);
  if (!m) return;
  webhook& w = c_.webhooks;
  if (const field* v = find(*m, "url")) {
    // Shown in no message: a URL may carry credentials (https://user:pass@host/).
    if (auto s = r_.get_string(*v, "webhooks.url", {.max_length = 2048, .secret = true})) {
      const std::size_t scheme = s->starts_with("https://") ? 8 : s->starts_with("http://") ? 7 : 0;
      if (!s->empty() && (scheme == 0 || s->size() == scheme || (*s)[scheme] == '/')) {
        r_.error(yaml_reader::mark_of(*v),
                 "webhooks.url: expected an http:// or https:// URL "
                 "with a host (or \"\" for no webhooks)");
      } else {
        detail::check_webhook_host(r_, *v, *s);
        w.url = *s;
      }
    }
  }
  if (const field* v = find(*m, "secret")) {
    if (auto s = r_.get_secret(*v, "webhooks.secret")) {
      if (!s->empty() && s->size() < min_shared_secret) {
        r_.error(yaml_reader::mark_of(*v),
                 "webhooks.secret: " +
                     (detail::is_reference(v->value.Scalar()) ? "the value of " + v->value.Scalar()
                                                              : std::string("the value")) +
                     " is " + std::to_string(s->size()) + " bytes long; at least " +
                     std::to_string(min_shared_secret) + " are expected");
      } else {
        w.secret = std::move(*s);
      }
    }
  } else if (!w.url.empty()) {
    r_.error(f.value.Mark(),
             "missing required key 'webhooks.secret' (webhooks are signed with "
             "HMAC-SHA256; give ${file:/path} or ${env:NAME})");
  }
  if (const field* v = find(*m, "timeout")) {
    if (auto s = r_.get_seconds(*v, "webhooks.timeout", 1s, 5min)) w.timeout = *s;
  }
  if (const field* v = find(*m, "max_attempts")) {
    if (auto n = r_.get_integer(*v, "webhooks.max_attempts", 1, 100))
      w.max_attempts = static_cast<int>(*n);
  }
  std::optional<seconds> initial;
  if (const field* v = find(*m, "initial_backoff")) {
    initial = r_.get_seconds(*v, "webhooks.initial_backoff", 1s, 1h);
    if (initial) w.initial_backoff = *initial;
  }
  if (const field* v = find(*m, "max_backoff")) {
    if (auto s = r_.get_seconds(*v, "webhooks.max_backoff", 1s, 24h)) {
      if (*s < w.initial_backoff) {
        r_.error(yaml_reader::mark_of(*v), "webhooks.max_backoff: " + format_duration(*s) +
                                               " is shorter than webhooks.initial_backoff (" +
                                               format_duration(w.initial_backoff) + ")");
      } else {
        w.max_backoff = *s;
      }
    }
  } else if (initial && w.max_backoff < *initial) {
    w.max_backoff = *initial;
  }
}

void config_loader::load_store(const field& f) {
  auto m = r_.fields(f.value, yaml_reader::mark_of(f), "store",
                     {"kind", "sqlite_path", "sqlite_max_bytes", "redis_url", "retention"}, true);
  if (!m) return;
  store& s = c_.state;
  if (const field* v = find(*m, "kind")) {
    static constexpr store_kind kinds[] = {store_kind::sqlite, store_kind::redis};
    if (auto i = r_.get_choice(*v, "store.kind", {"sqlite", "redis"}, "sqlite or redis"))
      s.kind = kinds[*i];
  }
  if (const field* v = find(*m, "sqlite_path")) {
    // As written: state belongs under the daemon's working (or systemd State) directory, not
    // beside the configuration.
    if (auto p = r_.get_string(*v, "store.sqlite_path", {.allow_empty = false})) s.sqlite_path = *p;
  }
  if (const field* v = find(*m, "sqlite_max_bytes")) {
    if (auto n = r_.get_integer(*v, "store.sqlite_max_bytes", 0, 1LL << 44)) {
      if (*n != 0 && *n < (64 << 10)) {
        r_.error(yaml_reader::mark_of(*v),
                 "store.sqlite_max_bytes: expected 0 (no cap) or at least 65536");
      } else {
        s.sqlite_max_bytes = static_cast<std::uint64_t>(*n);
      }
    }
  }
  if (const field* v = find(*m, "redis_url")) {
    // A Redis URL often carries the password: never shown.
    if (auto u = r_.get_string(*v, "store.redis_url", {.secret = true})) {
      if (!u->empty() && !u->starts_with("redis://") && !u->starts_with("rediss://") &&
          !u->starts_with("unix://")) {
        r_.error(yaml_reader::mark_of(*v),
                 "store.redis_url: expected a redis://, rediss:// or unix:// URL");
      } else {
        s.redis_url = *u;
      }
    }
  } else if (s.kind == store_kind::redis) {
    r_.error(f.value.Mark(), "missing required key 'store.redis_url' (store.kind is redis)");
  }
  if (const field* v = find(*m, "retention")) {
    if (auto d = r_.get_seconds(*v, "store.retention", 1h, 366 * 24h)) s.retention = *d;
  }
}

void config_loader::load_secrets(const field& f) {
  auto m = r_.fields(f.value, yaml_reader::mark_of(f), "secrets", {"code_mac_key", "code_seal_key"},
                     true);
  if (!m) return;
  r_.require(*m, f.value, "secrets", "code_mac_key",
             "at least 32 random bytes keying the MAC of codes at rest, e.g. "
             "${file:/run/credentials/otpd.service/code_mac_key}");
  const auto origin = [](const field& v) {
    return detail::is_reference(v.value.Scalar()) ? "the value of " + v.value.Scalar()
                                                  : std::string("the value");
  };
  if (const field* v = find(*m, "code_mac_key")) {
    if (auto s = r_.get_secret(*v, "secrets.code_mac_key", {.allow_empty = false})) {
      if (s->size() < min_mac_key) {
        r_.error(yaml_reader::mark_of(*v),
                 "secrets.code_mac_key: " + origin(*v) + " is " + std::to_string(s->size()) +
                     " bytes long; at least 32 are needed (e.g. openssl rand -hex 32)");
      } else {
        c_.keys.code_mac_key = std::move(*s);
      }
    }
  }
  if (const field* v = find(*m, "code_seal_key")) {
    seal_key_given_ = true;
    if (auto s = r_.get_secret(*v, "secrets.code_seal_key", {.allow_empty = false})) {
      if (s->size() == 2 * seal_key_size && is_hex(s->view())) {
        std::string key = hex_decode(s->view());
        c_.keys.code_seal_key = secret::take(key);
      } else if (s->size() == seal_key_size) {
        c_.keys.code_seal_key = std::move(*s);
      } else {
        r_.error(yaml_reader::mark_of(*v),
                 "secrets.code_seal_key: " + origin(*v) + " is " + std::to_string(s->size()) +
                     " bytes long; expected a 32-byte AES-256-GCM key: 32 bytes, or 64 "
                     "hexadecimal digits (openssl rand -hex 32)");
      }
    }
  }
}

void config_loader::load_logging(const field& f) {
  auto m = r_.fields(f.value, yaml_reader::mark_of(f), "logging", {"format", "level"});
  if (!m) return;
  if (const field* v = find(*m, "format")) {
    static constexpr log_format formats[] = {log_format::journal, log_format::json};
    if (auto i = r_.get_choice(*v, "logging.format", {"journal", "json"}, "journal or json")) {
      c_.log.format = formats[*i];
    }
  }
  if (const field* v = find(*m, "level")) {
    static constexpr log_level levels[] = {log_level::debug, log_level::info, log_level::notice,
                                           log_level::warning, log_level::error};
    if (auto i = r_.get_choice(*v, "logging.level", {"debug", "info", "notice", "warning", "error"},
                               "debug, info, notice, warning or error")) {
      c_.log.level = levels[*i];
    }
  }
}

void config_loader::load_admin(const field& f) {
  auto m = r_.fields(f.value, yaml_reader::mark_of(f), "admin", {"socket"});
  if (!m) return;
  if (const field* v = find(*m, "socket")) {
    // sockaddr_un::sun_path holds 108 bytes with its terminating NUL.
    if (auto s = r_.get_string(*v, "admin.socket",
                               {.max_length = 107, .limit_note = "(a Unix socket path)"})) {
      c_.control.socket = *s;
    }
  }
}

void config_loader::load_process(const field& f) {
  auto m = r_.fields(f.value, yaml_reader::mark_of(f), "process", {"core_dumps", "shutdown_drain"});
  if (!m) return;
  if (const field* v = find(*m, "core_dumps")) {
    if (auto b = r_.get_bool(*v, "process.core_dumps")) c_.proc.core_dumps = *b;
  }
  if (const field* v = find(*m, "shutdown_drain")) {
    if (auto d = r_.get_duration(*v, "process.shutdown_drain", 0ms, 10min)) {
      c_.proc.shutdown_drain = std::chrono::duration_cast<milliseconds>(*d);
    }
  }
}

void config_loader::load_testing(const field& f) {
  auto m = r_.fields(f.value, yaml_reader::mark_of(f), "testing", {"controllable_clock"});
  if (!m) return;
  if (const field* v = find(*m, "controllable_clock")) {
    if (auto b = r_.get_bool(*v, "testing.controllable_clock")) c_.test.controllable_clock = *b;
  }
}

// ---- across sections -----------------------------------------------------------------------

void config_loader::check_across() {
  std::map<std::string, std::map<std::string, YAML::Mark>> lists;  // carrier -> target -> where
  for (const failover_ref& f : failovers_) {
    if (carrier_names_.find(f.target) == carrier_names_.end()) {
      r_.error(f.mark, f.path + ": unknown carrier '" + f.target +
                           "'; expected one of: " + names_of(c_.routes.carriers));
    } else if (f.target == f.carrier) {
      r_.error(f.mark, f.path + ": carrier '" + f.carrier + "' cannot fail over to itself");
    } else if (auto [pos, inserted] = lists[f.carrier].emplace(f.target, f.mark); !inserted) {
      r_.error(f.mark, f.path + ": '" + f.target + "' is already in this failover list at " +
                           line_of(pos->second));
    }
  }
  // A code must outlive the wait for a bind, or the SMS could only leave expired.
  for (const queue_wait_ref& q : queue_waits_) {
    if (q.wait >= c_.policy.ttl) {
      r_.error(q.mark, q.path + ": " + format_duration(q.wait) +
                           " is not shorter than policy.ttl (" + format_duration(c_.policy.ttl) +
                           "), the lifetime of a code; a few seconds is enough to ride out a "
                           "reconnect");
    }
  }
  const std::string& locale = c_.policy.default_locale;
  if (c_.text.sms.find(locale) == c_.text.sms.end() && !templates_failed_ &&
      (locale_field_ || templates_field_)) {
    std::string have;
    for (const auto& [l, t] : c_.text.sms) have += (have.empty() ? "" : ", ") + l;
    const field& at = locale_field_ ? *locale_field_ : *templates_field_;
    r_.error(yaml_reader::mark_of(at), "policy.default_locale: templates.sms has no text for '" +
                                           locale + "' (it has: " + (have.empty() ? "none" : have) +
                                           ")");
  }
  if (!c_.policy.new_code_on_resend && !seal_key_given_ && new_code_field_) {
    r_.error(yaml_reader::mark_of(*new_code_field_),
             "policy.new_code_on_resend: false re-reads the same code, which is then kept sealed: "
             "give secrets.code_seal_key (32 bytes, or 64 hexadecimal digits from "
             "openssl rand -hex 32)");
  }
}

}  // namespace

load_result load_config_file(const std::filesystem::path& path, const load_options& opts) {
  return detail::load_file<load_result>(
      path, opts, [](std::string_view text, std::string_view name, const load_options& o) {
        return load_config(text, name, o);
      });
}

load_result load_config(std::string_view yaml, std::string_view source_name,
                        const load_options& opts) {
  load_result result;
  load_options o = opts;
  o.supplied_keys.clear();  // a bind-snippet option: the full file supplies everything
  yaml_reader r(std::string(source_name), o, "the configuration");
  try {
    if (auto root = r.parse(yaml, "a mapping with at least api_keys, routing and secrets")) {
      config c;
      c.source = std::filesystem::path(std::string(source_name));
      config_loader(r, c).load(*root);
      detail::wipe_scalars(*root);
      if (!r.failed()) result.config = std::move(c);
    }
    result.errors = r.take_errors();
    result.warnings = r.take_warnings();
  } catch (const YAML::Exception& e) {
    // yaml-cpp reports some malformed input only while the tree is walked.
    config_error err{std::string(source_name), 0, 0, "YAML error: " + e.msg};
    if (!e.mark.is_null()) {
      err.line = static_cast<std::size_t>(e.mark.line) + 1;
      err.column = static_cast<std::size_t>(e.mark.column) + 1;
    }
    result.config.reset();
    result.errors = {std::move(err)};
  }
  return result;
}

std::string check_config_report(const load_result& r) {
  std::string out;
  if (r.ok()) {
    for (const config_error& w : r.warnings) {
      config_error shown = w;
      shown.message = "warning: " + w.message;
      out += to_string(shown) + "\n";
    }
    return out + "OK\n";
  }
  for (const config_error& e : r.errors) out += to_string(e) + "\n";
  if (out.empty()) out = "the configuration could not be loaded\n";  // never silent
  return out;
}

std::string api_key_sha256(std::string_view key) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(key.data(), key.size(), md, &len, EVP_sha256(), nullptr) != 1) {
    // Only when OpenSSL itself is broken: a start-up problem, not a key to accept.
    throw std::runtime_error("SHA-256 is not available from OpenSSL");
  }
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    out += digits[md[i] >> 4];
    out += digits[md[i] & 0x0f];
  }
  return out;
}

}  // namespace otpd::config
