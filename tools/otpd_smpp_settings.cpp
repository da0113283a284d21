#include "tools/otpd_smpp_settings.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include "config/bind_config_yaml.hpp"
#include "config/load_options.hpp"

namespace otpd::smpp_tool {

namespace text = otpd::smpp::text;
namespace dlr = otpd::smpp::dlr;
using namespace std::chrono_literals;

namespace {

std::optional<unsigned long> parse_unsigned(std::string_view s, unsigned long lo,
                                            unsigned long hi) {
  unsigned long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi) return std::nullopt;
  return v;
}

// The value named `v` in `table`; throws usage_error listing `expected` otherwise.
template <class T>
T choose(const std::string& flag, const std::string& v,
         std::initializer_list<std::pair<std::string_view, T>> table, std::string_view expected) {
  for (const auto& [key, val] : table) {
    if (v == key) return val;
  }
  throw usage_error{flag + ": expected " + std::string(expected) + ", got '" + v + "'"};
}

// One flag of the command line and its value: the rest of the word after '=' or the next
// argument.
class flag_reader {
 public:
  flag_reader(const std::vector<std::string_view>& args, std::size_t& i) : args_(args), i_(i) {
    std::string_view arg = args[i];
    if (arg.starts_with("--")) {
      if (auto eq = arg.find('='); eq != std::string_view::npos) {
        inline_value_ = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
      }
    } else if (arg != "-h") {
      throw usage_error{"unexpected argument '" + std::string(arg) +
                        "' (flags start with --; quote a --text with spaces)"};
    }
    name = std::string(arg);
  }

  std::string name;

  std::string value() {
    if (inline_value_) return std::string(*inline_value_);
    if (i_ + 1 >= args_.size()) throw usage_error{name + " needs a value (see --help)"};
    return std::string(args_[++i_]);
  }
  void no_value() const {
    if (inline_value_) throw usage_error{name + " takes no value"};
  }
  unsigned long number(unsigned long lo, unsigned long hi) {
    const std::string v = value();
    auto n = parse_unsigned(v, lo, hi);
    if (!n) {
      throw usage_error{name + ": expected a whole number from " + std::to_string(lo) + " to " +
                        std::to_string(hi) + ", got '" + v + "'"};
    }
    return *n;
  }
  // Sets `flag` for a flag without a value.
  void set(bool& flag, bool to = true) const {
    no_value();
    flag = to;
  }

 private:
  const std::vector<std::string_view>& args_;
  std::size_t& i_;
  std::optional<std::string_view> inline_value_;
};

smpp::bind_type bind_type_of(flag_reader& f) {
  return choose<smpp::bind_type>(f.name, f.value(),
                                 {{"tx", smpp::bind_type::transmitter},
                                  {"rx", smpp::bind_type::receiver},
                                  {"trx", smpp::bind_type::transceiver},
                                  {"transmitter", smpp::bind_type::transmitter},
                                  {"receiver", smpp::bind_type::receiver},
                                  {"transceiver", smpp::bind_type::transceiver}},
                                 "tx, rx or trx");
}

text::coding_policy coding_of(flag_reader& f) {
  return choose<text::coding_policy>(f.name, f.value(),
                                     {{"auto", text::coding_policy::auto_select},
                                      {"gsm7", text::coding_policy::gsm7},
                                      {"latin1", text::coding_policy::latin1},
                                      {"ucs2", text::coding_policy::ucs2}},
                                     "auto, gsm7, latin1 or ucs2");
}

text::concat_method concat_of(flag_reader& f) {
  return choose<text::concat_method>(f.name, f.value(),
                                     {{"udh8", text::concat_method::udh8},
                                      {"udh16", text::concat_method::udh16},
                                      {"sar", text::concat_method::sar},
                                      {"payload", text::concat_method::payload}},
                                     "udh8, udh16, sar or payload");
}

smpp::duration timeout_of(flag_reader& f) {
  const std::string v = f.value();
  auto d = otpd::config::parse_duration(v);
  if (!d || *d <= smpp::duration::zero() || *d > std::chrono::hours(24)) {
    throw usage_error{
        "--timeout: expected a duration such as 500ms, 30s or 2m (at most 24h), "
        "got '" +
        v + "'"};
  }
  return *d;
}

void read_id_format(flag_reader& f, cli_options& o) {
  using F = dlr::id_format;
  const auto fixed = [](F submit, F receipt) {
    return dlr::id_config{dlr::id_mode::fixed, submit, receipt};
  };
  const std::string v = f.value();
  o.ids = choose<dlr::id_config>(f.name, v,
                                 {{"auto", dlr::id_config{}},
                                  {"as-is", fixed(F::as_is, F::as_is)},
                                  {"hex", fixed(F::hex, F::hex)},
                                  {"decimal", fixed(F::decimal, F::decimal)},
                                  {"hex-to-decimal", fixed(F::decimal, F::hex)},
                                  {"decimal-to-hex", fixed(F::hex, F::decimal)}},
                                 "auto, as-is, hex, decimal, hex-to-decimal or decimal-to-hex");
  o.id_format = v;
}

// The flags of the connection and the bind; false when `f` is none of them.
bool read_bind_flag(flag_reader& f, cli_options& o) {
  const std::string& name = f.name;
  if (name == "--config") {
    o.config = f.value();
  } else if (name == "--host") {
    o.host = f.value();
    if (o.host->empty()) throw usage_error{"--host: expected a host name or address"};
  } else if (name == "--port") {
    o.port = static_cast<std::uint16_t>(f.number(1, 65535));
  } else if (name == "--tls") {
    f.set(o.tls);
  } else if (name == "--ca-file") {
    o.ca_file = f.value();
  } else if (name == "--server-name") {
    o.server_name = f.value();
  } else if (name == "--insecure") {
    f.set(o.insecure);
  } else if (name == "--system-id") {
    o.system_id = f.value();
  } else if (name == "--password") {
    // Deliberately no such flag; the value (if any) is not echoed.
    throw usage_error{
        "--password is not accepted: a password on the command line is visible to every "
        "user of this machine (ps, shell history). Use --password-file FILE or set " +
        std::string(password_env) + "."};
  } else if (name == "--password-file") {
    o.password_file = f.value();
  } else if (name == "--system-type") {
    o.system_type = f.value();
  } else if (name == "--bind") {
    o.bind = bind_type_of(f);
  } else if (name == "--window") {
    o.window = f.number(1, 1000);
  } else {
    return false;
  }
  return true;
}

// The flags of the message: addresses, text, encoding and splitting; false when `f` is none
// of them.
bool read_message_flag(flag_reader& f, cli_options& o) {
  const std::string& name = f.name;
  if (name == "--from") {
    o.from = f.value();
  } else if (name == "--from-ton") {
    o.from_ton = static_cast<std::uint8_t>(f.number(0, 6));
  } else if (name == "--from-npi") {
    o.from_npi = static_cast<std::uint8_t>(f.number(0, 18));
  } else if (name == "--to") {
    o.to = f.value();
  } else if (name == "--to-ton") {
    o.to_ton = static_cast<std::uint8_t>(f.number(0, 6));
  } else if (name == "--to-npi") {
    o.to_npi = static_cast<std::uint8_t>(f.number(0, 18));
  } else if (name == "--text") {
    o.text = f.value();
  } else if (name == "--coding") {
    o.coding = coding_of(f);
  } else if (name == "--transliterate") {
    f.set(o.transliterate);
  } else if (name == "--concat") {
    o.concat = concat_of(f);
  } else if (name == "--packed") {
    f.set(o.packed);
  } else if (name == "--max-parts") {
    o.max_parts = f.number(1, 255);
  } else {
    return false;
  }
  return true;
}

// The flags of the run itself: help, receipts, the timeout, ids, output; false when `f` is
// none of them.
bool read_run_flag(flag_reader& f, cli_options& o) {
  const std::string& name = f.name;
  if (name == "--help" || name == "-h") {
    o.help = true;
  } else if (name == "--wait-receipt") {
    f.set(o.wait_receipt);
  } else if (name == "--no-wait-receipt") {
    f.set(o.wait_receipt, false);
  } else if (name == "--timeout") {
    o.timeout = timeout_of(f);
  } else if (name == "--id-format") {
    read_id_format(f, o);
  } else if (name == "--hex") {
    f.set(o.hex);
  } else {
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------
std::string read_secret_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw usage_error{"--password-file: cannot read " + path + ": " + std::strerror(errno)};
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  // `echo secret > file` and editors add a newline that is not part of the password.
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string strip_plus(std::string s) {
  if (s.size() > 1 && s.front() == '+' && all_digits(std::string_view(s).substr(1))) s.erase(0, 1);
  return s;
}

// The bind as --config gives it, or the defaults; throws usage_error listing the config's
// errors.
void load_bind(const cli_options& o, bool password_supplied, settings& s) {
  smpp::bind_config& b = s.bind;
  if (o.config) {
    otpd::config::load_options lo;
    lo.supplied_keys.insert("name");  // the tool has its own default
    if (o.host) lo.supplied_keys.insert("host");
    lo.supplied_keys.insert("port");  // 2775 by default here
    lo.supplied_keys.insert("bind");  // transceiver by default here
    if (o.system_id) lo.supplied_keys.insert("system_id");
    if (password_supplied) lo.supplied_keys.insert("password");
    auto r = otpd::config::load_bind_config_file(*o.config, lo);
    if (!r.ok()) {
      std::string msg = "the config has " + std::to_string(r.errors.size()) +
                        (r.errors.size() == 1 ? " error:" : " errors:");
      for (const auto& e : r.errors) msg += "\n  " + otpd::config::to_string(e);
      throw usage_error{msg};
    }
    b = *r.config;
    if (b.session.name.empty()) b.session.name = "otpd-smpp";
    s.password_origin = "from " + *o.config;
  } else {
    // Without a snippet: the loader's defaults, and timeouts suited to a person waiting.
    b.session.endpoint.port = 2775;
    b.session.endpoint.connect_timeout = 10s;
    b.session.smpp.bind_timeout = 10s;
    b.session.smpp.response_timeout = 10s;
  }
}

// The password from --password-file or the environment (either wins over --config); throws
// usage_error when there is none at all.
void set_password(const cli_options& o, const char* env_password, settings& s) {
  auto& sc = s.bind.session.smpp;
  if (o.password_file) {
    std::string pw = read_secret_file(*o.password_file);
    sc.password = otpd::secret::take(pw);
    s.password_origin = "from " + *o.password_file;
  } else if (env_password) {
    sc.password = otpd::secret(env_password);
    s.password_origin = std::string("from ") + password_env;
  } else if (!o.config) {
    throw usage_error{"no password: use --password-file FILE, set " + std::string(password_env) +
                      ", or give password: in --config"};
  }
}

// The flags over what --config gave.
void apply_flags(const cli_options& o, smpp::bind_config& b) {
  auto& ep = b.session.endpoint;
  auto& sc = b.session.smpp;
  if (o.host) ep.host = *o.host;
  if (o.port) ep.port = *o.port;
  if (o.tls) ep.tls = true;
  if (o.ca_file) ep.ca_file = *o.ca_file;
  if (o.server_name) ep.tls_server_name = *o.server_name;
  if (o.insecure) ep.verify_peer = false;
  if (o.system_id) sc.system_id = *o.system_id;
  if (o.system_type) sc.system_type = *o.system_type;
  if (o.bind) sc.type = *o.bind;
  if (o.window) sc.window = *o.window;
  if (o.coding) b.text.encoding.policy = *o.coding;
  if (o.transliterate) b.text.encoding.transliterate = true;
  if (o.concat) b.text.split.method = *o.concat;
  if (o.packed) b.text.split.packing = text::gsm7_packing::packed;
  if (o.max_parts) b.text.split.max_parts = *o.max_parts;
  // A person is watching: a failed bind is reported, not retried for minutes.
  b.session.reconnect.initial_delay = 1s;
  b.session.reconnect.max_delay = 1s;
}

// SMPP 3.4 §5.2.1 sizes, checked here so that a bind PDU that cannot be encoded is a clear
// message rather than a silent failure. The password's length only, never its value.
void check_bind(const settings& s) {
  const auto& ep = s.bind.session.endpoint;
  const auto& sc = s.bind.session.smpp;
  if (ep.host.empty()) throw usage_error{"no SMSC host: use --host or host: in --config"};
  if (sc.system_id.empty())
    throw usage_error{"no system_id: use --system-id or system_id: in --config"};
  if (sc.system_id.size() > 15)
    throw usage_error{"--system-id: at most 15 characters (SMPP 3.4 §5.2.1)"};
  if (sc.system_type.size() > 12)
    throw usage_error{"--system-type: at most 12 characters (SMPP 3.4 §5.2.1)"};
  if (sc.password.size() > 8) {
    throw usage_error{"the password " + s.password_origin + " is " +
                      std::to_string(sc.password.size()) +
                      " characters long; SMPP 3.4 allows at most 8 (§5.2.1)"};
  }
  if (ep.tls && !ep.ca_file.empty()) {
    std::ifstream in(ep.ca_file);
    if (!in)
      throw usage_error{"--ca-file: cannot read " + ep.ca_file + ": " + std::strerror(errno)};
  }
}

// The sender and the destination of the SMS (not for a receiver bind, which sends nothing).
void set_addresses(const cli_options& o, settings& s) {
  if (!o.from) throw usage_error{"--from is required (the sender: digits or an alphanumeric name)"};
  if (!o.to) throw usage_error{"--to is required (the destination number)"};
  if (!o.text) throw usage_error{"--text is required (the message to send)"};
  const std::string from = strip_plus(*o.from);
  const std::string to = strip_plus(*o.to);
  if (from.empty() || from.size() > 20) throw usage_error{"--from: 1 to 20 characters"};
  if (to.empty() || to.size() > 20) throw usage_error{"--to: 1 to 20 characters"};
  // SMPP 3.4 §5.2.5/§5.2.6: TON 1 / NPI 1 (international, E.164) for numbers, TON 5 /
  // NPI 0 (alphanumeric, unknown) for names.
  const bool digits = all_digits(from);
  s.source = {o.from_ton.value_or(digits ? 1 : 5), o.from_npi.value_or(digits ? 1 : 0), from};
  s.dest = {o.to_ton, o.to_npi, to};
}

}  // namespace

cli_options parse_command_line(int argc, char** argv) {
  cli_options o;
  std::vector<std::string_view> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    flag_reader f(args, i);
    if (!read_run_flag(f, o) && !read_bind_flag(f, o) && !read_message_flag(f, o)) {
      throw usage_error{"unknown option " + f.name + " (see --help)"};
    }
  }
  return o;
}

settings make_settings(const cli_options& o) {
  settings s;
  s.cli = o;
  s.bind.session.name = "otpd-smpp";
  const char* env_password = std::getenv(password_env);
  load_bind(o, o.password_file || env_password, s);
  apply_flags(o, s.bind);
  set_password(o, env_password, s);
  check_bind(s);
  if (s.bind.session.smpp.type != smpp::bind_type::receiver) set_addresses(o, s);
  return s;
}

}  // namespace otpd::smpp_tool
