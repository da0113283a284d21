#include "smpp/text/explain.hpp"

#include <cstdio>

#include "smpp/text/utf8.hpp"

namespace otpd::smpp::text {

std::string_view name_of(coding_policy p) noexcept {
  switch (p) {
    case coding_policy::gsm7:
      return "gsm7";
    case coding_policy::latin1:
      return "latin1";
    case coding_policy::ucs2:
      return "ucs2";
    case coding_policy::auto_select:
      break;
  }
  return "auto";
}

namespace {

// "'ệ' (U+1EC7)"; a control character is named by its number only.
std::string describe_character(char32_t cp) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "U+%04X", static_cast<unsigned>(cp));
  if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) return hex;
  std::string out = "'";
  append_utf8(out, cp);
  return out + "' (" + hex + ")";
}

}  // namespace

std::string why_unsendable(std::string_view utf8, const encode_options& eopts,
                           const split_options& sopts) {
  segment_count count;
  error_info info;
  const boost::system::error_code ec = count_segments(utf8, eopts, sopts, count, info);
  if (!ec) return {};
  if (ec == errc::unencodable_character) {
    return "character not representable in " + std::string(name_of(eopts.policy)) + ": " +
           describe_character(info.code_point);
  }
  if (ec == errc::too_many_parts) {
    return "text needs " + std::to_string(count.segments) + " parts, max_parts is " +
           std::to_string(sopts.max_parts);
  }
  if (ec == errc::invalid_utf8) {
    return "text is not valid UTF-8 at byte " + std::to_string(info.offset);
  }
  return ec.message();
}

}  // namespace otpd::smpp::text
