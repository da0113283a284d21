// load_config: otpd.yaml read section by section (config_loader, config/detail/config_loader.hpp),
// then the checks across sections. The webhooks, secrets, logging, admin, process and testing
// sections are read here; the others by config/detail/*_reader.cpp.
#include "config/loader.hpp"

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

#include "config/detail/config_loader.hpp"
#include "config/detail/ops_reader.hpp"
#include "config/detail/weak_settings.hpp"
#include "config/detail/yaml_reader.hpp"

namespace otpd::config {
namespace detail {
namespace {

using namespace std::chrono_literals;

// HMAC-SHA-256 is keyed with at least as many bytes as its output (RFC 2104 §3).
constexpr std::size_t min_mac_key = 32;
constexpr std::size_t seal_key_size = 32;  // AES-256-GCM

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

std::string names_of(const std::vector<carrier>& carriers) {
  std::string out;
  for (const carrier& c : carriers) {
    if (c.name.empty()) continue;
    if (!out.empty()) out += ", ";
    out += c.name;
  }
  return out;
}

}  // namespace

void config_loader::load(const YAML::Node& root) {
  auto top = r_.fields(root, YAML::Mark(), "",
                       {"listeners", "http", "api_keys", "policy", "rate_limits", "number_plan",
                        "templates", "routing", "voice", "webhooks", "store", "secrets", "logging",
                        "admin", "process", "testing", "ops", "cluster"});
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
  if (const field* f = find(t, "cluster")) load_cluster(*f);
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

// ---- webhooks, secrets, logging, admin, process, testing ----------------------------

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
  check_store_across();
}

}  // namespace detail

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
  detail::yaml_reader r(std::string(source_name), o, "the configuration");
  try {
    if (auto root = r.parse(yaml, "a mapping with at least api_keys, routing and secrets")) {
      config c;
      c.source = std::filesystem::path(std::string(source_name));
      detail::config_loader(r, c).load(*root);
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
