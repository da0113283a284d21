#include "smpp/dlr/receipt.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "common/ascii.hpp"
#include "smpp/proto/tlv.hpp"

namespace otpd::smpp::dlr {
namespace {

// SMPP 3.4 §5.2.12: bits 5-2 of esm_class carry the message type.
constexpr std::uint8_t esm_message_type_mask = 0x3C;

bool is_blank(char c) noexcept {
  // NUL too: some SMSCs send short_message as a C string.
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0' || c == '\v' || c == '\f';
}

using ascii::iequals;

// A field name against its canonical lower-case spelling, ignoring case and the separators
// vendors put inside names ("submit_date", "Submit-Date", "DONE DATE").
bool name_is(std::string_view name, std::string_view canonical) noexcept {
  std::size_t j = 0;
  for (char c : name) {
    if (c == '_' || c == '-' || c == ' ') continue;
    if (j >= canonical.size() || ascii::to_lower(c) != canonical[j]) return false;
    ++j;
  }
  return j == canonical.size();
}

// The Appendix B fields we read; everything else is skipped unread.
enum field : std::size_t { f_id, f_sub, f_dlvrd, f_submit_date, f_done_date, f_stat, f_err };
constexpr std::size_t field_count = 7;
constexpr std::size_t f_text = field_count;  // the end of what may be read
constexpr std::size_t f_unknown = field_count + 1;

std::size_t classify(std::string_view name) noexcept {
  if (name_is(name, "id")) return f_id;
  if (name_is(name, "sub")) return f_sub;
  if (name_is(name, "dlvrd")) return f_dlvrd;
  if (name_is(name, "submitdate")) return f_submit_date;
  if (name_is(name, "donedate")) return f_done_date;
  if (name_is(name, "stat")) return f_stat;
  if (name_is(name, "err") || name_is(name, "error")) return f_err;
  if (name_is(name, "text")) return f_text;
  return f_unknown;
}

// Views into the caller's text, for the fields above only.
struct text_fields {
  std::array<std::optional<std::string_view>, field_count> v;

  void set(std::size_t f, std::string_view value) noexcept {
    if (f < field_count && !v[f]) v[f] = value;  // first wins: a repeated field is noise
  }
  std::string_view get(std::size_t f) const noexcept { return v[f].value_or(std::string_view{}); }
  bool has(std::size_t f) const noexcept { return v[f].has_value() && !v[f]->empty(); }
};

// Tokenises the Appendix B text on blanks. A token "name:value" is a field (the value may hold
// further colons); "name:" with nothing after it takes the next plain token ("stat: DELIVRD");
// "submit date:" / "done date:" span two tokens; ":value" after a plain token names it
// ("stat :DELIVRD"). Field order does not matter. Scanning ends at "text:": what follows is
// the start of our own message (SMPP 3.4 Appendix B) and is never read.
text_fields scan(std::string_view text) noexcept {
  text_fields out;
  std::size_t awaiting = f_unknown;  // a field named with an empty value
  std::string_view prev;             // the last plain token
  std::string_view prev2;            // the one before it
  std::size_t i = 0;
  while (true) {
    while (i < text.size() && is_blank(text[i])) ++i;
    if (i == text.size()) break;
    std::size_t j = i;
    while (j < text.size() && !is_blank(text[j])) ++j;
    const std::string_view token = text.substr(i, j - i);
    i = j;

    const std::size_t colon = token.find(':');
    if (colon == std::string_view::npos) {
      // "dlvrd: submit date:..." must not give dlvrd the value "submit".
      const bool starts_name =
          iequals(token, "submit") || iequals(token, "done") || iequals(token, "text");
      if (awaiting != f_unknown && !starts_name) {
        out.set(awaiting, token);
        awaiting = f_unknown;
        prev = prev2 = {};
      } else {
        prev2 = prev;
        prev = token;
      }
      continue;
    }
    std::string_view name = token.substr(0, colon);
    std::string_view prefix = prev;
    if (name.empty()) {  // "name :value"
      name = prev;
      prefix = prev2;
    }
    std::size_t f = f_unknown;
    if (name_is(name, "date") && name_is(prefix, "submit")) {
      f = f_submit_date;
    } else if (name_is(name, "date") && name_is(prefix, "done")) {
      f = f_done_date;
    } else {
      f = classify(name);
    }
    prev = prev2 = {};
    awaiting = f_unknown;
    if (f == f_text) break;
    if (f == f_unknown) continue;
    const std::string_view value = token.substr(colon + 1);
    if (value.empty()) {
      awaiting = f;
    } else {
      out.set(f, value);
    }
  }
  return out;
}

std::optional<std::uint32_t> parse_u32(std::string_view s) noexcept {
  if (s.empty()) return std::nullopt;
  std::uint32_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

const tlv* find(const tlv_list& list, tlv_tag tag) noexcept {
  for (const auto& t : list) {
    if (t.tag == static_cast<std::uint16_t>(tag)) return &t;
  }
  return nullptr;
}

// SMPP 3.4 §5.3.2.12: receipted_message_id is a C-Octet String of 1..65 octets. Read up to
// the first NUL, tolerating a missing one.
std::optional<std::string_view> tlv_message_id(const tlv_list& list) noexcept {
  const tlv* t = find(list, tlv_tag::receipted_message_id);
  if (t == nullptr) return std::nullopt;
  std::string_view v = t->value;
  v = v.substr(0, v.find('\0'));
  while (!v.empty() && is_blank(v.back())) v.remove_suffix(1);
  while (!v.empty() && is_blank(v.front())) v.remove_prefix(1);
  if (v.empty()) return std::nullopt;
  return v;
}

// SMPP 3.4 §5.3.2.35: one octet, §5.2.28 values. Anything else is ignored (falls back to the
// text) rather than trusted.
std::optional<message_state> tlv_message_state(const tlv_list& list) noexcept {
  const tlv* t = find(list, tlv_tag::message_state);
  if (t == nullptr || t->value.size() != 1) return std::nullopt;
  const auto v = static_cast<std::uint8_t>(t->value[0]);
  if (v < 1 || v > 8) return std::nullopt;
  return static_cast<message_state>(v);
}

// SMPP 3.4 §5.3.2.31: exactly three octets.
std::optional<network_error> tlv_network_error(const tlv_list& list) noexcept {
  const tlv* t = find(list, tlv_tag::network_error_code);
  if (t == nullptr || t->value.size() != 3) return std::nullopt;
  const auto* b = reinterpret_cast<const unsigned char*>(t->value.data());
  return network_error{b[0], static_cast<std::uint16_t>((b[1] << 8) | b[2])};
}

std::string_view payload_of(std::string_view short_message, const tlv_list& tlvs) noexcept {
  if (!short_message.empty()) return short_message;
  // SMPP 3.4 §5.3.2.32: message_payload carries the text when short_message is empty.
  const tlv* t = find(tlvs, tlv_tag::message_payload);
  return t != nullptr ? std::string_view(t->value) : std::string_view{};
}

// A default-type PDU reads as a receipt only with strong evidence: an id, a stat we know, and
// one more Appendix B field. An MO message that merely mentions "id:" does not qualify.
bool looks_like_receipt(const text_fields& f) noexcept {
  if (!f.has(f_id) || !f.has(f_stat) || !parse_stat(f.get(f_stat))) return false;
  return f.has(f_sub) || f.has(f_dlvrd) || f.has(f_submit_date) || f.has(f_done_date) ||
         f.has(f_err);
}

receipt_date make_date(std::string_view raw) {
  return receipt_date{std::string(raw), parse_receipt_date(raw)};
}

boost::system::error_code fill(receipt_kind kind, const text_fields& f, const tlv_list* tlvs,
                               receipt& out) {
  out = receipt{};
  out.kind = kind;

  out.text_id = std::string(f.get(f_id));
  if (auto id = tlvs ? tlv_message_id(*tlvs) : std::nullopt) {
    out.id = std::string(*id);
    out.id_source = value_source::tlv;
  } else if (!out.text_id.empty()) {
    out.id = out.text_id;
    out.id_source = value_source::text;
  } else {
    out = receipt{};
    return make_error_code(errc::missing_message_id);
  }

  out.stat = std::string(f.get(f_stat));
  if (auto s = tlvs ? tlv_message_state(*tlvs) : std::nullopt) {
    out.state = s;
    out.state_source = value_source::tlv;
  } else if (auto t = parse_stat(out.stat)) {
    out.state = t;
    out.state_source = value_source::text;
  }

  out.err = std::string(f.get(f_err));
  out.err_code = parse_u32(out.err);
  out.sub = parse_u32(f.get(f_sub));
  out.dlvrd = parse_u32(f.get(f_dlvrd));
  out.submit_date = make_date(f.get(f_submit_date));
  out.done_date = make_date(f.get(f_done_date));
  if (tlvs) out.network_error_code = tlv_network_error(*tlvs);

  out.is_final = out.state.has_value() && is_final(*out.state) &&
                 kind != receipt_kind::intermediate_notification;
  return {};
}

boost::system::error_code decode(std::uint8_t esm_class, std::string_view short_message,
                                 const tlv_list& tlvs, receipt& out) {
  std::optional<receipt_kind> kind = receipt_kind_of(esm_class);
  const text_fields f = scan(payload_of(short_message, tlvs));
  if (!kind) {
    const bool by_text = (esm_class & esm_message_type_mask) == 0 && looks_like_receipt(f);
    const bool by_tlv = (esm_class & esm_message_type_mask) == 0 &&
                        tlv_message_id(tlvs).has_value() && tlv_message_state(tlvs).has_value();
    if (!by_text && !by_tlv) {
      out = receipt{};
      return make_error_code(errc::not_a_receipt);
    }
    kind = receipt_kind::inferred;
  }
  return fill(*kind, f, &tlvs, out);
}

// boost::system::error_category has a protected non-virtual destructor by design; the category
// is a function-local static, never deleted through a base pointer.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class receipt_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "otpd.smpp.dlr"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::not_a_receipt:
        return "not a delivery receipt";
      case errc::missing_message_id:
        return "delivery receipt without a message id";
    }
    return "unknown receipt error";
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& receipt_category() noexcept {
  static const receipt_category_impl category;
  return category;
}

const char* to_string(message_state s) noexcept {
  switch (s) {
    case message_state::enroute:
      return "ENROUTE";
    case message_state::delivered:
      return "DELIVRD";
    case message_state::expired:
      return "EXPIRED";
    case message_state::deleted:
      return "DELETED";
    case message_state::undeliverable:
      return "UNDELIV";
    case message_state::accepted:
      return "ACCEPTD";
    case message_state::unknown:
      return "UNKNOWN";
    case message_state::rejected:
      return "REJECTD";
  }
  return "UNKNOWN";
}

bool is_final(message_state s) noexcept {
  switch (s) {
    case message_state::delivered:
    case message_state::expired:
    case message_state::deleted:
    case message_state::undeliverable:
    case message_state::accepted:
    case message_state::rejected:
      return true;
    case message_state::enroute:
    case message_state::unknown:
      return false;
  }
  return false;
}

std::optional<message_state> parse_stat(std::string_view stat) noexcept {
  struct entry {
    std::string_view text;
    message_state state;
  };
  // SMPP 3.4 Appendix B spellings first, then variants seen from SMSCs and aggregators.
  static constexpr entry table[] = {
      {"DELIVRD", message_state::delivered},
      {"EXPIRED", message_state::expired},
      {"DELETED", message_state::deleted},
      {"UNDELIV", message_state::undeliverable},
      {"ACCEPTD", message_state::accepted},
      {"UNKNOWN", message_state::unknown},
      {"REJECTD", message_state::rejected},
      {"ENROUTE", message_state::enroute},
      {"DELIVERED", message_state::delivered},
      {"DELIVRED", message_state::delivered},
      {"EXPIRD", message_state::expired},
      {"DELETD", message_state::deleted},
      {"UNDELIVERABLE", message_state::undeliverable},
      {"UNDELIVERED", message_state::undeliverable},
      {"UNDELIVRD", message_state::undeliverable},
      {"FAILED", message_state::undeliverable},
      {"FAILD", message_state::undeliverable},
      {"FAIL", message_state::undeliverable},
      {"ACCEPTED", message_state::accepted},
      {"UNKNWN", message_state::unknown},
      {"REJECTED", message_state::rejected},
      {"REJECT", message_state::rejected},
      {"EN_ROUTE", message_state::enroute},
  };
  for (const auto& e : table) {
    if (iequals(stat, e.text)) return e.state;
  }
  return std::nullopt;
}

std::optional<receipt_kind> receipt_kind_of(std::uint8_t esm_class) noexcept {
  // SMPP 3.4 §5.2.12 (deliver_sm): message type in bits 5-2.
  switch (esm_class & esm_message_type_mask) {
    case 0x04:
      return receipt_kind::smsc_delivery_receipt;
    case 0x08:
      return receipt_kind::sme_delivery_ack;
    case 0x10:
      return receipt_kind::sme_manual_ack;
    case 0x20:
      return receipt_kind::intermediate_notification;
    default:
      return std::nullopt;
  }
}

std::optional<std::chrono::sys_seconds> parse_receipt_date(std::string_view raw) noexcept {
  if (raw.size() != 10 && raw.size() != 12) return std::nullopt;
  for (char c : raw) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  auto two = [raw](std::size_t at) { return (raw[at] - '0') * 10 + (raw[at + 1] - '0'); };
  using namespace std::chrono;
  // SMPP 3.4 Appendix B: YYMMDDhhmm; the two-digit year is read as 20YY.
  const year_month_day ymd{year{2000 + two(0)}, month{static_cast<unsigned>(two(2))},
                           day{static_cast<unsigned>(two(4))}};
  const int hh = two(6);
  const int mm = two(8);
  const int ss = raw.size() == 12 ? two(10) : 0;
  if (!ymd.ok() || hh > 23 || mm > 59 || ss > 59) return std::nullopt;
  return sys_seconds{sys_days{ymd}} + hours{hh} + minutes{mm} + seconds{ss};
}

boost::system::error_code parse_receipt(const deliver_sm& sm, receipt& out) {
  return decode(sm.esm_class, sm.short_message, sm.tlvs, out);
}

boost::system::error_code parse_receipt(const data_sm& sm, receipt& out) {
  // SMPP 3.4 §4.7.1: data_sm has no short_message; text, if any, is in message_payload.
  return decode(sm.esm_class, std::string_view{}, sm.tlvs, out);
}

boost::system::error_code parse_receipt(const pdu& p, receipt& out) {
  if (const auto* d = std::get_if<deliver_sm>(&p.body)) return parse_receipt(*d, out);
  if (const auto* d = std::get_if<data_sm>(&p.body)) return parse_receipt(*d, out);
  out = receipt{};
  return make_error_code(errc::not_a_receipt);
}

boost::system::error_code parse_receipt_text(std::string_view text, receipt& out) {
  return fill(receipt_kind::inferred, scan(text), nullptr, out);
}

std::string_view receipt_stat_label(std::string_view stat) noexcept {
  static constexpr std::array<std::string_view, 8> known{
      "DELIVRD", "EXPIRED", "DELETED", "UNDELIV", "ACCEPTD", "UNKNOWN", "REJECTD", "ENROUTE"};
  if (stat.empty()) return "none";
  const auto upper = [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; };
  for (std::string_view k : known) {
    if (k.size() == stat.size() && std::equal(k.begin(), k.end(), stat.begin(),
                                              [&](char a, char b) { return a == upper(b); })) {
      return k;
    }
  }
  return "other";
}

}  // namespace otpd::smpp::dlr
