#include "smpp/proto/describe.hpp"

#include <cstdio>
#include <string_view>

#include "smpp/proto/detail/fields.hpp"
#include "smpp/proto/status.hpp"
#include "smpp/proto/tlv.hpp"

namespace otpd::smpp {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";

bool printable(unsigned char c) noexcept { return c >= 0x20 && c < 0x7F; }

bool all_printable(std::string_view s) noexcept {
  for (const char c : s) {
    if (!printable(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

class line {
 public:
  std::string out;

  void raw(std::string_view s) { out.append(s); }

  void hex(std::string_view s) {
    for (const char c : s) {
      const auto u = static_cast<unsigned char>(c);
      out.push_back(hex_digits[u >> 4]);
      out.push_back(hex_digits[u & 0xF]);
    }
  }

  void quoted(std::string_view s) {
    out.push_back('"');
    for (const char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        out.push_back('\\');
        out.push_back(c);
      } else if (printable(u)) {
        out.push_back(c);
      } else {
        out.append("\\x");
        out.push_back(hex_digits[u >> 4]);
        out.push_back(hex_digits[u & 0xF]);
      }
    }
    out.push_back('"');
  }

  void number(std::uint32_t v) { out.append(std::to_string(v)); }

  void hex_number(std::uint32_t v, int width) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%0*X", width, static_cast<unsigned>(v));
    out.append(buf);
  }

  // Field separators and names.
  void name(std::string_view n) {
    out.push_back(' ');
    out.append(n);
    out.push_back('=');
  }

  // The visitor over detail::walk(): each field as `name=value`.
  void u8(std::string_view n, std::uint8_t v) {
    name(n);
    number(v);
  }
  // Bit fields read better in hex (esm_class, registered_delivery, data_coding).
  void flags(std::string_view n, std::uint8_t v) {
    name(n);
    hex_number(v, 2);
  }
  void cstr(std::string_view n, std::string_view v, std::size_t) {
    name(n);
    quoted(v);
  }
  void time(std::string_view n, std::string_view v) { cstr(n, v, 0); }
  void secret(std::string_view n, std::string_view, std::size_t) {
    name(n);
    raw("***");  // never print credentials, even an empty password
  }
  void address(std::string_view n, const smpp::address& a, std::size_t) {
    name(n);
    number(a.ton);
    out.push_back('/');
    number(a.npi);
    out.push_back(':');
    quoted(a.addr);
  }
  // Length, hex, and the text when every byte is printable ASCII.
  void sm(std::string_view n, std::string_view v) {
    name(n);
    payload(v);
  }
  void tlvs(std::string_view n, const tlv_list& list) {
    name(n);
    out.push_back('{');
    bool first = true;
    for (const tlv& t : list) {
      if (!first) out.push_back(' ');
      first = false;
      tlv_value(t);
    }
    out.push_back('}');
  }

 private:
  void tlv_value(const tlv& t) {
    const tlv_traits* tr = find_tlv_traits(t.tag);
    if (tr == nullptr) {  // unknown (vendor or later SMPP version): tag and raw value
      hex_number(t.tag, 4);
      out.push_back('=');
      hex(t.value);
      return;
    }
    out.append(tr->name);
    out.push_back('=');
    const std::string_view v = t.value;
    std::uint32_t num = 0;
    for (const char c : v) num = (num << 8) | static_cast<unsigned char>(c);
    switch (tr->type) {
      case tlv_type::u8:
        if (v.size() == 1) return number(num);
        break;
      case tlv_type::u16:
        if (v.size() == 2) return number(num);
        break;
      case tlv_type::u32:
        if (v.size() == 4) return number(num);
        break;
      case tlv_type::c_string: {
        std::string_view s = v;
        if (!s.empty() && s.back() == '\0') s.remove_suffix(1);
        return quoted(s);
      }
      case tlv_type::empty:
        if (v.empty()) return;
        break;
      case tlv_type::octets:
        if (tr->tag == tlv_tag::message_payload) return payload(v);
        break;
    }
    // Octet strings, and known tags whose length does not fit their type.
    hex(v);
  }

  void payload(std::string_view v) {
    out.push_back('[');
    number(static_cast<std::uint32_t>(v.size()));
    out.push_back(']');
    if (!v.empty()) {
      out.push_back(' ');
      hex(v);
      if (all_printable(v)) {
        out.push_back(' ');
        quoted(v);
      }
    }
  }
};

}  // namespace

std::string describe(const pdu& p) {
  line l;
  l.out.reserve(256);
  l.raw(to_string(command_id_of(p)));
  l.name("seq");
  l.number(p.sequence_number);
  l.name("status");
  l.raw(status_name(p.command_status));
  std::visit([&](const auto& b) { detail::walk(l, b); }, p.body);
  return std::move(l.out);
}

}  // namespace otpd::smpp
