#include "config/bind_config_yaml.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config/detail/bind_reader.hpp"
#include "config/detail/yaml_reader.hpp"

namespace otpd::config {
namespace detail {
namespace {

using namespace std::chrono_literals;
using smpp::duration;

// SMPP 3.4 §5.2.1: C-Octet String maxima include the terminating NUL.
constexpr std::size_t max_system_id = 15;    // system_id: 16 octets
constexpr std::size_t max_password = 8;      // password: 9 octets
constexpr std::size_t max_system_type = 12;  // system_type: 13 octets
constexpr std::string_view smpp_limit = "(SMPP 3.4 §5.2.1)";
constexpr std::size_t max_window = 1000;
constexpr double max_tps = 100000;
constexpr duration max_timeout = 1h;

const field* find(const field_map& m, std::string_view key) {
  auto it = m.find(key);
  return it == m.end() ? nullptr : &it->second;
}

void read_tls(yaml_reader& r, const field& f, const std::string& path, smpp::endpoint_config& ep) {
  auto tls = r.fields(f.value, yaml_reader::mark_of(f), path,
                      {"enabled", "ca_file", "verify", "server_name"});
  if (!tls) return;
  if (const field* v = find(*tls, "enabled")) {
    if (auto b = r.get_bool(*v, sub_path(path, "enabled"))) ep.tls = *b;
  }
  if (const field* v = find(*tls, "verify")) {
    if (auto b = r.get_bool(*v, sub_path(path, "verify"))) ep.verify_peer = *b;
  }
  if (const field* v = find(*tls, "server_name")) {
    if (auto s = r.get_string(*v, sub_path(path, "server_name"))) ep.tls_server_name = *s;
  }
  if (const field* v = find(*tls, "ca_file")) {
    if (auto s = r.get_string(*v, sub_path(path, "ca_file"))) {
      ep.ca_file = s->empty() ? std::string() : r.resolve(*s).string();
      // Checked now rather than at the first connect, where it would be a retry loop.
      std::string why;
      if (ep.tls && !ep.ca_file.empty() && !r.readable(ep.ca_file, why)) {
        r.error(yaml_reader::mark_of(*v),
                sub_path(path, "ca_file") + ": cannot read " + ep.ca_file + ": " + why);
      }
    }
  }
}

void read_timeouts(yaml_reader& r, const field& f, const std::string& path, smpp::bind_config& b) {
  auto t = r.fields(f.value, yaml_reader::mark_of(f), path,
                    {"connect", "bind", "response", "enquire_link"});
  if (!t) return;
  if (const field* v = find(*t, "connect")) {
    if (auto d = r.get_duration(*v, sub_path(path, "connect"), 1ms, max_timeout)) {
      b.session.endpoint.connect_timeout = *d;
    }
  }
  if (const field* v = find(*t, "bind")) {
    if (auto d = r.get_duration(*v, sub_path(path, "bind"), 1ms, max_timeout)) {
      b.session.smpp.bind_timeout = *d;
    }
  }
  if (const field* v = find(*t, "response")) {
    if (auto d = r.get_duration(*v, sub_path(path, "response"), 1ms, max_timeout)) {
      b.session.smpp.response_timeout = *d;
    }
  }
  if (const field* v = find(*t, "enquire_link")) {
    // 0 turns enquire_link off (session_config::enquire_link_interval).
    if (auto d = r.get_duration(*v, sub_path(path, "enquire_link"), 0ms, max_timeout)) {
      b.session.smpp.enquire_link_interval = *d;
    }
  }
}

void read_reconnect(yaml_reader& r, const field& f, const std::string& path,
                    smpp::reconnect_config& rc) {
  auto t = r.fields(f.value, yaml_reader::mark_of(f), path, {"initial", "max"});
  if (!t) return;
  std::optional<duration> initial, max;
  if (const field* v = find(*t, "initial")) {
    initial = r.get_duration(*v, sub_path(path, "initial"), 1ms, max_timeout);
    if (initial) rc.initial_delay = *initial;
  }
  if (const field* v = find(*t, "max")) {
    max = r.get_duration(*v, sub_path(path, "max"), 1ms, max_timeout);
    if (max) {
      if (*max < rc.initial_delay) {
        r.error(yaml_reader::mark_of(*v), sub_path(path, "max") + ": " + format_duration(*max) +
                                              " is shorter than " + sub_path(path, "initial") +
                                              " (" + format_duration(rc.initial_delay) + ")");
      } else {
        rc.max_delay = *max;
      }
    }
  }
  if (initial && !max && rc.max_delay < rc.initial_delay) rc.max_delay = rc.initial_delay;
}

// The session's identity: name, host, port, bind type, system_id, password (unless the caller
// supplies it) and system_type.
void read_account(yaml_reader& r, const field_map& t, const std::string& path,
                  bool password_supplied, smpp::bind_config& b) {
  if (const field* v = find(t, "name")) {
    if (auto s =
            r.get_string(*v, sub_path(path, "name"), {.max_length = 64, .allow_empty = false})) {
      b.session.name = *s;
    }
  }
  if (const field* v = find(t, "host")) {
    if (auto s =
            r.get_string(*v, sub_path(path, "host"), {.max_length = 253, .allow_empty = false})) {
      b.session.endpoint.host = *s;
    }
  }
  if (const field* v = find(t, "port")) {
    if (auto n = r.get_integer(*v, sub_path(path, "port"), 1, 65535)) {
      b.session.endpoint.port = static_cast<std::uint16_t>(*n);
    }
  }
  if (const field* v = find(t, "bind")) {
    static constexpr smpp::bind_type types[] = {
        smpp::bind_type::transmitter, smpp::bind_type::receiver, smpp::bind_type::transceiver};
    if (auto i = r.get_choice(*v, sub_path(path, "bind"),
                              {"transmitter", "tx", "receiver", "rx", "transceiver", "trx"},
                              "transmitter, receiver or transceiver")) {
      b.session.smpp.type = types[*i / 2];
    }
  }
  if (const field* v = find(t, "system_id")) {
    if (auto s = r.get_string(
            *v, sub_path(path, "system_id"),
            {.max_length = max_system_id, .allow_empty = false, .limit_note = smpp_limit})) {
      b.session.smpp.system_id = *s;
    }
  }
  // A password the caller supplies is not resolved: a ${env:} it replaces need not be set.
  if (const field* v = find(t, "password"); v && !password_supplied) {
    if (auto s = r.get_secret(*v, sub_path(path, "password"),
                              {.max_length = max_password, .limit_note = smpp_limit})) {
      b.session.smpp.password = std::move(*s);
    }
  }
  if (const field* v = find(t, "system_type")) {
    if (auto s = r.get_string(*v, sub_path(path, "system_type"),
                              {.max_length = max_system_type, .limit_note = smpp_limit})) {
      b.session.smpp.system_type = *s;
    }
  }
}

}  // namespace

void read_text_profile(yaml_reader& r, const field& f, const std::string& path,
                       smpp::text_profile& t) {
  namespace text = smpp::text;
  auto m = r.fields(f.value, yaml_reader::mark_of(f), path,
                    {"coding", "transliterate", "concat", "packed", "max_parts"});
  if (!m) return;
  if (const field* v = find(*m, "coding")) {
    static constexpr text::coding_policy codings[] = {
        text::coding_policy::auto_select, text::coding_policy::gsm7, text::coding_policy::latin1,
        text::coding_policy::ucs2};
    if (auto i = r.get_choice(*v, sub_path(path, "coding"), {"auto", "gsm7", "latin1", "ucs2"},
                              "auto, gsm7, latin1 or ucs2")) {
      t.encoding.policy = codings[*i];
    }
  }
  if (const field* v = find(*m, "transliterate")) {
    if (auto b = r.get_bool(*v, sub_path(path, "transliterate"))) t.encoding.transliterate = *b;
  }
  if (const field* v = find(*m, "concat")) {
    static constexpr text::concat_method methods[] = {
        text::concat_method::udh8, text::concat_method::udh16, text::concat_method::sar,
        text::concat_method::payload};
    if (auto i = r.get_choice(*v, sub_path(path, "concat"), {"udh8", "udh16", "sar", "payload"},
                              "udh8, udh16, sar or payload")) {
      t.split.method = methods[*i];
    }
  }
  if (const field* v = find(*m, "packed")) {
    if (auto b = r.get_bool(*v, sub_path(path, "packed"))) {
      t.split.packing = *b ? text::gsm7_packing::packed : text::gsm7_packing::unpacked;
    }
  }
  if (const field* v = find(*m, "max_parts")) {
    // The UDH and SAR part counters are one octet (segmenter.hpp).
    if (auto n = r.get_integer(*v, sub_path(path, "max_parts"), 1, 255)) {
      t.split.max_parts = static_cast<std::size_t>(*n);
    }
  }
}

std::optional<field_map> read_bind(yaml_reader& r, const YAML::Node& node, const YAML::Mark& where,
                                   const std::string& path, smpp::bind_config& b) {
  // A snippet of its own may leave out what the caller supplies (the CLI's flags).
  const bool snippet = path.empty();
  const auto supplied = [&](std::string_view key) {
    return snippet && r.options().supplied_keys.count(key) != 0;
  };
  auto top = r.fields(node, where, path,
                      {"name", "host", "port", "tls", "bind", "system_id", "password",
                       "system_type", "window", "tps", "timeouts", "reconnect", "text"});
  if (!top) return top;
  const auto require = [&](std::string_view key, const std::string& what) {
    if (!supplied(key)) r.require(*top, node, path, key, what);
  };
  require("name", "a name for logs, e.g. name: carrier-trx-1");
  require("host", "the SMSC's host name or address");
  require("port", "the SMSC's TCP port, 1..65535");
  require("bind", "transmitter, receiver or transceiver");
  require("system_id", "the account the carrier gave you");
  require("password", "a string, ${env:NAME} or ${file:/path}");
  const field_map& t = *top;
  read_account(r, t, path, supplied("password"), b);
  if (const field* v = find(t, "window")) {
    if (auto n =
            r.get_integer(*v, sub_path(path, "window"), 1, static_cast<long long>(max_window))) {
      b.session.smpp.window = static_cast<std::size_t>(*n);
    }
  }
  if (const field* v = find(t, "tps")) {
    if (auto n = r.get_number(*v, sub_path(path, "tps"), 0, max_tps))
      b.session.smpp.flow.max_tps = *n;
  }
  if (const field* v = find(t, "tls")) read_tls(r, *v, sub_path(path, "tls"), b.session.endpoint);
  if (const field* v = find(t, "timeouts")) read_timeouts(r, *v, sub_path(path, "timeouts"), b);
  if (const field* v = find(t, "reconnect")) {
    read_reconnect(r, *v, sub_path(path, "reconnect"), b.session.reconnect);
  }
  if (const field* v = find(t, "text")) read_text_profile(r, *v, sub_path(path, "text"), b.text);
  return top;
}

}  // namespace detail

bind_config_result load_bind_config_file(const std::filesystem::path& path,
                                         const load_options& opts) {
  return detail::load_file<bind_config_result>(
      path, opts, [](std::string_view text, std::string_view name, const load_options& o) {
        return load_bind_config(text, name, o);
      });
}

bind_config_result load_bind_config(std::string_view yaml, std::string_view source_name,
                                    const load_options& opts) {
  bind_config_result result;
  detail::yaml_reader r(std::string(source_name), opts, "the snippet");
  try {
    if (auto root = r.parse(yaml,
                            "a mapping with at least name, host, port, bind, system_id "
                            "and password")) {
      smpp::bind_config b;
      detail::read_bind(r, *root, YAML::Mark(), "", b);
      if (!r.failed()) result.config = std::move(b);
    }
    result.errors = r.take_errors();
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

}  // namespace otpd::config
