// otpd-smpp: checks a new carrier bind by hand. Binds, sends one message, prints every PDU
// exchanged, waits for the delivery receipt, matches it to the submit and unbinds.
//
// Exit codes: 0 delivered (or accepted when not waiting for a receipt), 1 refused or not
// delivered, 2 usage or configuration error, 3 bind failure or timeout.
//
// The password never appears on the command line (every user can read it with ps) nor in
// the output: it comes from --password-file, OTPD_SMPP_PASSWORD or the --config snippet,
// and the trace shows it as ***.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "config/bind_config_yaml.hpp"
#include "smpp/dlr/message_id.hpp"
#include "smpp/dlr/receipt.hpp"
#include "smpp/net/bind_pool.hpp"
#include "smpp/proto/codec.hpp"
#include "smpp/proto/describe.hpp"
#include "smpp/proto/status.hpp"
#include "smpp/text/decoder.hpp"
#include "smpp/text/encoder.hpp"
#include "smpp/text/segmenter.hpp"
#include "smpp/text/transliterate.hpp"
#include "smpp/text/utf8.hpp"
#include "tools/otpd_smpp_settings.hpp"

namespace {

namespace asio = boost::asio;
namespace smpp = otpd::smpp;
namespace text = otpd::smpp::text;
namespace dlr = otpd::smpp::dlr;
using namespace std::chrono_literals;
using smpp::error_code;
using namespace otpd::smpp_tool;

constexpr int exit_delivered = 0;
constexpr int exit_refused = 1;
constexpr int exit_usage = 2;
constexpr int exit_bind_failure = 3;

const char* const usage_text =
    R"(usage: otpd-smpp [--config FILE] [connection flags] --from SENDER --to NUMBER --text TEXT [flags]

Checks an SMPP bind to a carrier's SMSC: binds, sends one message, prints every PDU
exchanged (time, direction, decoded fields), waits for the delivery receipt, matches it to the
message, prints its state and unbinds.

Connection (each flag overrides the same setting of --config):
  --config FILE          a bind snippet in YAML (see docs/smpp-tool.md); its password may be
                         ${env:NAME} or ${file:/path}
  --host HOST            SMSC host name or address
  --port N               SMSC TCP port (default 2775)
  --tls                  connect over TLS
  --ca-file FILE         TLS: trust these CA certificates instead of the system's
  --server-name NAME     TLS: name to verify in the certificate and send as SNI (default: --host)
  --insecure             TLS: do not verify the SMSC's certificate (testing only)
  --system-id ID         the account (SMPP system_id, at most 15 characters)
  --password-file FILE   read the password from FILE (a trailing newline is ignored);
                         or set OTPD_SMPP_PASSWORD. There is no --password flag: a password on
                         the command line is visible to every user of the machine.
  --system-type TYPE     SMPP system_type (default empty)
  --bind tx|rx|trx       bind as transmitter, receiver or transceiver (default trx). With tx
                         and a receipt to wait for, a second bind (rx) receives the receipt.
                         With rx nothing is sent: deliver_sm PDUs are shown until --timeout.
  --window N             outstanding submit_sm allowed (default 10)

Message:
  --from SENDER          source address: digits (a leading + is dropped) or alphanumeric
  --from-ton N           source TON (default: 1 for digits, 5 for alphanumeric)
  --from-npi N           source NPI (default: 1 for digits, 0 for alphanumeric)
  --to NUMBER            destination number, international format (a leading + is dropped)
  --to-ton N, --to-npi N destination TON / NPI (default 1 / 1)
  --text TEXT            the message, UTF-8
  --coding C             auto|gsm7|latin1|ucs2 (default auto: GSM 7-bit if every character
                         fits, else UCS2)
  --transliterate        turn Vietnamese and typographic characters into ASCII first
  --concat M             long messages: udh8|udh16|sar|payload (default udh8)
  --packed               pack GSM 7-bit text 8 septets into 7 octets (default unpacked)
  --max-parts N          refuse texts needing more parts (1..255, default 10)

Receipt:
  --wait-receipt         wait for the delivery receipt (the default)
  --no-wait-receipt      stop once the SMSC accepted the message (registered_delivery 0)
  --timeout DURATION     how long to wait for the receipt, e.g. 500ms, 30s, 2m (default 30s);
                         also how long a throttled message is retried (plus the response
                         timeout) before giving up
  --id-format F          how the SMSC spells message ids in submit_sm_resp vs the receipt:
                           auto            learn it (default)
                           as-is           the same opaque string on both sides
                           hex, decimal    the same number, in that base, on both sides
                           hex-to-decimal  submit_sm_resp decimal, receipt hex
                           decimal-to-hex  submit_sm_resp hex, receipt decimal

Output:
  --hex                  also print each PDU's raw bytes in hex (the password is masked)
  -h, --help             this text

Exit codes:
  0  delivered (or accepted by the SMSC with --no-wait-receipt)
  1  refused by the SMSC (an error status, or throttled until --timeout), or the receipt
     says not delivered
  2  usage or configuration error (nothing was sent)
  3  could not connect or bind, or a timeout (no response, no receipt)

Example:
  OTPD_SMPP_PASSWORD=secret otpd-smpp --host 127.0.0.1 --port 2775 --system-id otpd \
      --from MyBank --to 84912345678 --text "Your code is 482917"
)";

// ---------------------------------------------------------------------------------------
// Output

std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  localtime_r(&t, &tm);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count()));
  return buf;
}

void say(const std::string& line) { std::cout << "otpd-smpp: " << line << std::endl; }

std::string hex_of(std::span<const std::uint8_t> bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

const char* coding_name(text::coding c) {
  switch (c) {
    case text::coding::gsm7:
      return "GSM 7-bit";
    case text::coding::latin1:
      return "Latin-1";
    case text::coding::ucs2:
      return "UCS2";
  }
  return "?";
}

const char* concat_name(text::concat_method m) {
  switch (m) {
    case text::concat_method::udh8:
      return "udh8";
    case text::concat_method::udh16:
      return "udh16";
    case text::concat_method::sar:
      return "sar";
    case text::concat_method::payload:
      return "payload";
  }
  return "?";
}

std::string code_point_name(char32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
  return buf;
}

std::size_t count_characters(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t pos = 0; pos < s.size(); ++n) {
    char32_t cp = 0;
    if (!text::next_code_point(s, pos, cp)) ++pos;
  }
  return n;
}

std::string format_ms(smpp::duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

// Checks that the text encodes with the bind's profile and says how it will go out; throws
// usage_error when it cannot be sent.
void preview_text(const settings& s) {
  const smpp::text_profile& prof = s.bind.text;
  const std::string& utf8 = *s.cli.text;
  text::error_info info;
  text::segment_count count;
  error_code ec = text::count_segments(utf8, prof.encoding, prof.split, count, info);
  if (ec == text::errc::unencodable_character) {
    throw usage_error{"--text: the character " + code_point_name(info.code_point) + " at byte " +
                      std::to_string(info.offset) +
                      " cannot be written in the forced coding; use --coding auto or ucs2, or "
                      "--transliterate"};
  }
  if (ec == text::errc::invalid_utf8) {
    throw usage_error{"--text: not valid UTF-8 at byte " + std::to_string(info.offset)};
  }
  if (ec == text::errc::too_many_parts) {
    throw usage_error{"--text needs " + std::to_string(count.segments) + " parts, more than " +
                      "--max-parts " + std::to_string(prof.split.max_parts)};
  }
  if (ec) throw usage_error{"--text: " + ec.message()};
  if (prof.encoding.transliterate) {
    std::string out;
    if (!text::transliterate(utf8, out, info) && out != utf8)
      say("transliterated: \"" + out + "\"");
  }
  const char* unit = count.coding == text::coding::gsm7     ? " septets"
                     : count.coding == text::coding::latin1 ? " octets"
                                                            : " UTF-16 units";
  say("text: " + std::to_string(count_characters(utf8)) + " characters -> " +
      coding_name(count.coding) + ", " + std::to_string(count.units) + unit + ", " +
      std::to_string(count.segments) + (count.segments == 1 ? " segment" : " segments") + " in " +
      std::to_string(count.parts) + " submit_sm" +
      (count.parts > 1 || prof.split.method == text::concat_method::payload
           ? std::string(" (") + concat_name(prof.split.method) + ")"
           : std::string()));
}

// ---------------------------------------------------------------------------------------
// The check itself, on one io_context thread.

class bind_check final : public smpp::pool_listener {
 public:
  bind_check(asio::io_context& io, settings s)
      : io_(io), s_(std::move(s)), guard_(io), receipt_timer_(io), mapper_(s_.cli.ids) {}

  int run() {
    smpp::pool_config pc;
    pc.name = s_.bind.session.name;
    pc.binds.push_back(s_.bind);
    const auto type = s_.bind.session.smpp.type;
    // A transmitter cannot receive the receipt: carriers that want TX and RX binds deliver it
    // on a receiver bind of the same account.
    if (type == smpp::bind_type::transmitter && s_.cli.wait_receipt) {
      smpp::bind_config rx = s_.bind;
      rx.session.name = s_.bind.session.name + "-rx";
      rx.session.smpp.type = smpp::bind_type::receiver;
      pc.binds.push_back(std::move(rx));
    }
    pool_ = std::make_unique<smpp::bind_pool>(io_.get_executor(), pc, this);
    for (auto& sess : pool_->sessions()) {
      smpp::session* sp = sess.get();
      sp->set_trace([this, sp](smpp::session::direction d, std::span<const std::uint8_t> bytes) {
        trace(*sp, d, bytes);
      });
    }
    const auto& ep = s_.bind.session.endpoint;
    std::string transport = "TCP";
    if (ep.tls) {
      transport = "TLS";
      if (!ep.verify_peer)
        transport += ", certificate NOT verified (--insecure)";
      else if (!ep.ca_file.empty())
        transport += ", CA " + ep.ca_file;
      else
        transport += ", system CAs";
      if (!ep.tls_server_name.empty()) transport += ", server name " + ep.tls_server_name;
    }
    say("connecting to " + ep.host + ":" + std::to_string(ep.port) + " (" + transport + ")");
    for (const auto& b : pc.binds) {
      say("bind '" + b.session.name + "': " + smpp::to_string(b.session.smpp.type) +
          ", system_id \"" + b.session.smpp.system_id + "\", password *** (" + s_.password_origin +
          ")" + ", window " + std::to_string(b.session.smpp.window));
    }
    bind_count_ = pc.binds.size();
    started_ = smpp::clock_type::now();
    // A backstop: the session's own connect and bind timeouts normally fire first.
    arm_guard(ep.connect_timeout + s_.bind.session.smpp.bind_timeout + 2s,
              "no bind within the connect and bind timeouts");
    pool_->start();
    io_.run();
    return code_;
  }

 private:
  bool multi() const { return bind_count_ > 1; }

  void trace(const smpp::session& sess, smpp::session::direction d,
             std::span<const std::uint8_t> bytes) {
    std::string line = timestamp();
    line += d == smpp::session::direction::sent ? " --> " : " <-- ";
    if (multi()) line += "[" + sess.name() + "] ";
    smpp::pdu p;
    smpp::decode_info info;
    const error_code ec = smpp::decode(bytes, p, &info);
    // SMPP 3.4 §5.1.2.1: bind_receiver 1, bind_transmitter 2, bind_transceiver 9, outbind 0x0B.
    const std::uint32_t id = info.raw_command_id;
    const bool holds_password = id == 0x01 || id == 0x02 || id == 0x09 || id == 0x0B;
    if (ec) {
      line += "undecodable PDU (" + ec.message() + "), " + std::to_string(bytes.size()) + " bytes" +
              (holds_password ? " (not shown: it holds a password)" : ": " + hex_of(bytes));
    } else {
      line += smpp::describe(p);
      if (d == smpp::session::direction::received &&
          std::holds_alternative<smpp::submit_sm_resp>(p.body) &&
          smpp::is_throttling(
              smpp::make_error_code(static_cast<smpp::command_status>(p.command_status)))) {
        ++throttled_;
      }
    }
    std::cout << line << std::endl;
    if (s_.cli.hex) {
      std::string raw = holds_password && ec ? "(not shown)" : hex_of(bytes);
      // Never a password, even in hex: re-encode a bind or outbind with it blanked.
      if (!ec) {
        std::visit(
            [&](auto& body) {
              if constexpr (requires { body.password; }) {
                // "***" whatever its length, so that the length does not leak either.
                body.password = "***";
                std::string out;
                if (!smpp::encode(p, out)) {
                  raw = hex_of({reinterpret_cast<const std::uint8_t*>(out.data()), out.size()}) +
                        " (re-encoded with the password replaced by ***)";
                } else {
                  raw = "(not shown: it holds a password)";
                }
              }
            },
            p.body);
      }
      std::cout << "               " << raw << std::endl;
    }
  }

  void arm_guard(smpp::duration d, std::string why) {
    guard_.expires_after(d);
    guard_.async_wait([this, why = std::move(why)](error_code ec) {
      if (!ec) finish(exit_bind_failure, "timeout: " + why);
    });
  }

  // pool_listener
  void on_bind_state(smpp::bind_pool&, smpp::session& sess, bool bound, error_code ec) override {
    if (finishing_) return;
    if (bound) {
      ++bound_;
      say("bound '" + sess.name() + "' as " + smpp::to_string(sess.options().smpp.type) +
          " after " + format_ms(smpp::clock_type::now() - started_));
      if (bound_ == bind_count_ && !sent_) {
        guard_.cancel();
        asio::post(io_, [this] { on_all_bound(); });
      }
      return;
    }
    if (!sent_ || bound_ < bind_count_) {
      std::string why = bind_error_text(ec);
      finish(exit_bind_failure, "bind '" + sess.name() + "' failed: " + why);
      return;
    }
    // Lost after binding: the session binds again by itself; a receipt may still come.
    say("bind '" + sess.name() + "' lost (" + ec.message() + "); reconnecting");
  }

  std::string bind_error_text(error_code ec) const {
    if (ec.category() == smpp::command_status_category()) {
      std::string t = ec.message();
      if (ec == smpp::command_status::invalid_password) {
        t += " (check the password and its source: " + s_.password_origin + ")";
      } else if (ec == smpp::command_status::invalid_system_id) {
        t += " (check --system-id / system_id)";
      } else if (ec == smpp::command_status::bind_failed) {
        t += " (the SMSC refused the bind: account, allowed IP address or bind type)";
      }
      return t;
    }
    const auto& ep = s_.bind.session.endpoint;
    std::string t = ec.message() + " (" + ep.host + ":" + std::to_string(ep.port) + ")";
    if (std::string_view(ec.category().name()) == "asio.ssl") {
      t += "; TLS: check --ca-file (tls.ca_file) and that the certificate names --server-name "
           "(tls.server_name, default --host); --insecure tells a certificate problem from "
           "others";
    }
    return t;
  }

  void on_all_bound() {
    if (finishing_) return;
    if (s_.bind.session.smpp.type == smpp::bind_type::receiver) {
      say("receiver bind: showing deliver_sm PDUs for " +
          otpd::config::format_duration(s_.cli.timeout));
      receipt_timer_.expires_after(s_.cli.timeout);
      receipt_timer_.async_wait([this](error_code ec) {
        if (!ec)
          finish(exit_delivered, "listened for " + otpd::config::format_duration(s_.cli.timeout));
      });
      return;
    }
    sent_ = true;
    smpp::message_request req;
    req.source = s_.source;
    req.dest = s_.dest;
    req.text = *s_.cli.text;
    // SMPP 3.4 §5.2.17: 1 = SMSC delivery receipt on success or failure.
    req.registered_delivery = s_.cli.wait_receipt ? 1 : 0;
    submitted_ = smpp::clock_type::now();
    // The session resends a throttled part by itself, as otpd does in service; a person
    // waiting needs an end to that, so the submit phase gets the same budget as the receipt.
    guard_.expires_after(s_.cli.timeout + s_.bind.session.smpp.response_timeout);
    guard_.async_wait([this](error_code ec) {
      if (ec) return;
      const std::string waited = otpd::config::format_duration(s_.cli.timeout);
      if (throttled_ > 0) {
        finish(exit_refused, "REFUSED: the SMSC answered ESME_RTHROTTLED / ESME_RMSGQFUL " +
                                 std::to_string(throttled_) + " times in " + waited +
                                 " (the account's TPS or queue limit)");
      } else {
        finish(exit_bind_failure, "timeout: the message was not accepted within " + waited);
      }
    });
    pool_->submit(std::move(req), [this](smpp::pool_result r) { on_submitted(std::move(r)); });
  }

  void on_submitted(smpp::pool_result r) {
    if (finishing_) return;
    guard_.cancel();
    for (std::size_t i = 0; i < r.parts.size(); ++i) {
      const auto& part = r.parts[i];
      say("part " + std::to_string(i + 1) + "/" + std::to_string(r.part_count) + ": " +
          smpp::status_name(part.command_status) +
          (part.message_id.empty() ? std::string() : ", message_id " + part.message_id));
    }
    if (r.ec) {
      if (r.ec.category() == smpp::command_status_category()) {
        finish(exit_refused, "REFUSED by the SMSC: " + r.ec.message());
      } else if (r.ec.category() == text::error_category()) {
        finish(exit_usage, "the text cannot be sent: " + r.ec.message());
      } else {
        std::string why = r.ec.message();
        if (r.outcome_unknown) why += " (the message may or may not have been accepted)";
        finish(exit_bind_failure, "no answer to submit_sm: " + why);
      }
      return;
    }
    say("accepted by the SMSC in " + format_ms(smpp::clock_type::now() - submitted_) + " (" +
        std::to_string(r.part_count) + (r.part_count == 1 ? " part)" : " parts)"));
    if (!s_.cli.wait_receipt) {
      finish(exit_delivered, "ACCEPTED (not waiting for a receipt)");
      return;
    }
    for (std::size_t i = 0; i < r.parts.size(); ++i) {
      parts_.push_back({r.parts[i].message_id, std::nullopt});
      pending_[mapper_.key_for_submit(r.parts[i].message_id)] = i;
    }
    say("waiting up to " + otpd::config::format_duration(s_.cli.timeout) + " for " +
        (parts_.size() == 1 ? std::string("the delivery receipt")
                            : std::to_string(parts_.size()) + " delivery receipts (one per part)"));
    receipt_timer_.expires_after(s_.cli.timeout);
    receipt_timer_.async_wait([this](error_code ec) {
      if (!ec) {
        finish(exit_bind_failure,
               "timeout: no delivery receipt within " +
                   otpd::config::format_duration(s_.cli.timeout) +
                   (unmatched_ > 0 ? " (receipts came but matched no part: check --id-format)"
                                   : " (does the account have receipts enabled?)"));
      }
    });
    // Receipts that came on the receiver bind before submit_sm_resp on the transmitter.
    std::vector<dlr::receipt> early = std::move(early_);
    early_.clear();
    for (auto& rc : early) on_receipt(rc);
  }

  void on_deliver(smpp::bind_pool&, smpp::session&, smpp::event::deliver& d) override {
    if (finishing_) return;
    dlr::receipt rc;
    const error_code ec =
        std::visit([&](const auto& m) { return dlr::parse_receipt(m, rc); }, d.message);
    if (ec == dlr::errc::not_a_receipt) {
      describe_mo(d);
      return;
    }
    if (ec) {
      say("a receipt without a usable message id (" + ec.message() + "), ignored");
      return;
    }
    if (parts_.empty()) {
      if (s_.bind.session.smpp.type == smpp::bind_type::receiver) {
        say("receipt for message " + rc.id + ": " + state_text(rc));
      } else if (sent_) {
        early_.push_back(std::move(rc));  // our submit_sm_resp is not processed yet
      } else {
        say("receipt for message " + rc.id + " (sent before this run): " + state_text(rc));
      }
      return;
    }
    on_receipt(rc);
  }

  void describe_mo(const smpp::event::deliver& d) {
    std::visit(
        [&](const auto& m) {
          using T = std::decay_t<decltype(m)>;
          if constexpr (std::is_same_v<T, smpp::deliver_sm>) {
            text::decoded_text t;
            text::error_info info;
            text::decode_options opts;
            opts.packing = s_.bind.text.split.packing;
            if (!text::decode(m.short_message, m.data_coding, (m.esm_class & 0x40) != 0, opts, t,
                              info)) {
              say("MO message from " + m.source.addr + ": " + (t.is_hex ? "hex " : "\"") + t.utf8 +
                  (t.is_hex ? "" : "\""));
              return;
            }
          }
          say("MO message from " + m.source.addr + " (not a receipt)");
        },
        d.message);
  }

  static std::string state_text(const dlr::receipt& rc) {
    std::string t;
    if (rc.state) {
      t = std::string(dlr::to_string(*rc.state));
    } else {
      t = "state unknown (stat \"" + rc.stat + "\")";
    }
    if (!rc.err.empty()) t += " err " + rc.err;
    if (rc.network_error_code) {
      t += " network_error " + std::to_string(rc.network_error_code->network_type) + "/" +
           std::to_string(rc.network_error_code->code);
    }
    t += rc.is_final ? " (final)" : " (not final)";
    return t;
  }

  void on_receipt(const dlr::receipt& rc) {
    auto is_pending = [this](std::string_view key) { return pending_.find(key) != pending_.end(); };
    dlr::correlation c = mapper_.correlate(rc.id, is_pending);
    if (c.status == dlr::match_status::not_found && !rc.text_id.empty() && rc.text_id != rc.id) {
      c = mapper_.correlate(rc.text_id, is_pending);  // the TLV and the text disagree
    }
    if (c.status == dlr::match_status::ambiguous) {
      say("receipt id " + rc.id +
          " could stand for several parts; use --id-format to say how "
          "the SMSC spells ids");
      return;
    }
    if (c.status == dlr::match_status::not_found) {
      std::string ids;
      for (const auto& p : parts_) ids += (ids.empty() ? "" : ", ") + p.message_id;
      ++unmatched_;
      say("receipt for message " + rc.id + " does not match ours (" + ids + "): " + state_text(rc) +
          "; ignored. If it should, try --id-format (now " + s_.cli.id_format + ")");
      return;
    }
    const std::size_t index = pending_.find(c.key)->second;
    part_state& p = parts_[index];
    std::string how;
    if (c.mapping) how = ", id mapping " + std::string(dlr::to_string(*c.mapping));
    say("receipt for part " + std::to_string(index + 1) + "/" + std::to_string(parts_.size()) +
        " (message_id " + p.message_id + ", receipt id " + rc.id + how + "): " + state_text(rc) +
        ", " + format_ms(smpp::clock_type::now() - submitted_) + " after submit");
    if (!rc.is_final) return;  // ENROUTE, intermediate notifications: keep waiting
    p.receipt = rc;
    pending_.erase(c.key);
    if (!pending_.empty()) return;
    receipt_timer_.cancel();
    for (std::size_t i = 0; i < parts_.size(); ++i) {
      const dlr::receipt& r = *parts_[i].receipt;
      if (r.state != dlr::message_state::delivered) {
        finish(exit_refused, "NOT DELIVERED: part " + std::to_string(i + 1) + " " + state_text(r));
        return;
      }
    }
    finish(exit_delivered, "DELIVERED");
  }

  // Ends the run: unbind (bounded by the drain and unbind timeouts), then stop the loop.
  void finish(int code, const std::string& why) {
    if (finishing_) return;
    finishing_ = true;
    code_ = code;
    result_ = why;
    receipt_timer_.cancel();
    const auto& sc = s_.bind.session.smpp;
    guard_.cancel();
    guard_.expires_after(sc.drain_timeout + sc.unbind_timeout + 2s);
    guard_.async_wait([this](error_code ec) {
      if (ec) return;
      say("the unbind was not confirmed in time; closing");
      done();
    });
    asio::post(io_, [this] { pool_->stop([this] { done(); }); });
  }

  void done() {
    if (reported_) return;
    reported_ = true;
    guard_.cancel();
    say("result: " + result_ + " (exit " + std::to_string(code_) + ")");
    io_.stop();
  }

  struct part_state {
    std::string message_id;
    std::optional<dlr::receipt> receipt;
  };

  asio::io_context& io_;
  settings s_;
  std::unique_ptr<smpp::bind_pool> pool_;
  asio::steady_timer guard_;
  asio::steady_timer receipt_timer_;
  dlr::message_id_mapper mapper_;
  std::size_t bind_count_ = 1;
  std::size_t bound_ = 0;
  bool sent_ = false;
  bool finishing_ = false;
  bool reported_ = false;
  int code_ = exit_bind_failure;
  std::string result_;
  smpp::time_point started_{};
  smpp::time_point submitted_{};
  std::vector<part_state> parts_;
  std::map<std::string, std::size_t, std::less<>> pending_;  // receipt key -> part index
  std::vector<dlr::receipt> early_;
  std::size_t unmatched_ = 0;  // receipts that matched no part
  std::size_t throttled_ = 0;  // submit_sm_resp with ESME_RTHROTTLED or ESME_RMSGQFUL
};

}  // namespace

int main(int argc, char** argv) {
  settings s;
  try {
    const cli_options o = parse_command_line(argc, argv);
    if (o.help) {
      std::cout << usage_text;
      return exit_delivered;
    }
    s = make_settings(o);
    if (s.bind.session.smpp.type != smpp::bind_type::receiver) preview_text(s);
  } catch (const usage_error& e) {
    std::cerr << "otpd-smpp: " << e.message << "\n";
    return exit_usage;
  }
  try {
    asio::io_context io(1);
    bind_check check(io, std::move(s));
    return check.run();
  } catch (const std::exception& e) {
    std::cerr << "otpd-smpp: internal error: " << e.what() << "\n";
    return exit_bind_failure;
  }
}
