#include "smpp/text/decoder.hpp"

#include "smpp/text/gsm7.hpp"
#include "smpp/text/latin1.hpp"
#include "smpp/text/ucs2.hpp"

namespace otpd::smpp::text {
namespace {

// Walks the information elements (TS 23.040 §9.2.3.24: IEI, IEDL, data) for a
// concatenation IE. A malformed IE list only means "no concat info": the text is still shown.
std::optional<concat_info> find_concat(std::string_view ies) {
  std::size_t i = 0;
  while (i + 2 <= ies.size()) {
    const auto iei = static_cast<std::uint8_t>(ies[i]);
    const auto len = static_cast<std::uint8_t>(ies[i + 1]);
    if (i + 2 + len > ies.size()) return std::nullopt;
    const auto d = [&](std::size_t k) { return static_cast<std::uint8_t>(ies[i + 2 + k]); };
    if (iei == 0x00 && len == 3) return concat_info{d(0), d(1), d(2), false};
    if (iei == 0x08 && len == 4) {
      return concat_info{static_cast<std::uint16_t>((d(0) << 8) | d(1)), d(2), d(3), true};
    }
    i += 2 + len;
  }
  return std::nullopt;
}

void append_hex(std::string_view octets, std::string& out) {
  static constexpr char digits[] = "0123456789ABCDEF";
  for (const char c : octets) {
    const auto b = static_cast<std::uint8_t>(c);
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0x0F]);
  }
}

}  // namespace

boost::system::error_code decode(std::string_view octets, std::uint8_t data_coding, bool udhi,
                                 const decode_options& opts, decoded_text& out, error_info& info) {
  out = decoded_text{};
  std::size_t udh_octets = 0;
  if (udhi) {
    // TS 23.040 §9.2.3.24: the first octet (UDHL) counts the octets after it.
    if (octets.empty() || 1u + static_cast<std::uint8_t>(octets[0]) > octets.size()) {
      info = {0, 0};
      return errc::invalid_udh;
    }
    udh_octets = 1 + static_cast<std::uint8_t>(octets[0]);
    out.udh.assign(octets.substr(0, udh_octets));
    out.concat = find_concat(octets.substr(1, udh_octets - 1));
  }
  const std::string_view body = octets.substr(udh_octets);

  switch (alphabet_of(data_coding)) {
    case alphabet::gsm7: {
      std::string septets;
      if (opts.packing == gsm7_packing::packed) {
        // The text starts after the UDH and its fill bits (TS 23.040 §9.2.3.24).
        septets = gsm7_unpack(octets, udh_octets * 8 + gsm7_fill_bits(udh_octets));
      } else {
        septets.assign(body);
      }
      std::size_t bad = 0;
      if (!gsm7_to_utf8(septets, out.utf8, &out.substituted, &bad)) {
        info = {udh_octets + bad, 0};
        return errc::invalid_gsm7;
      }
      return {};
    }
    case alphabet::ascii:
    case alphabet::latin1:
      latin1_to_utf8(body, out.utf8);
      return {};
    case alphabet::ucs2:
      if (!utf16be_to_utf8(body, out.utf8, &out.substituted)) {
        info = {octets.size() - 1, 0};
        return errc::invalid_ucs2;
      }
      return {};
    case alphabet::binary:
    case alphabet::unsupported:
      break;
  }
  if (!opts.hex_for_unsupported) {
    info = {0, 0};
    return errc::unsupported_data_coding;
  }
  out.is_hex = true;
  append_hex(body, out.utf8);
  return {};
}

}  // namespace otpd::smpp::text
