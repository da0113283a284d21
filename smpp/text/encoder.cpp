#include "smpp/text/encoder.hpp"

#include "smpp/text/detail/scan.hpp"
#include "smpp/text/gsm7.hpp"
#include "smpp/text/latin1.hpp"
#include "smpp/text/ucs2.hpp"

namespace otpd::smpp::text {
namespace {

// '?' exists in both GSM 7-bit (0x3F, TS 23.038 §6.2.1) and Latin-1.
constexpr char replacement_char = '?';

boost::system::error_code encode_as(std::string_view utf8, coding c, const encode_options& opts,
                                    encoded_text& out, error_info& info) {
  out.coding = c;
  out.units.clear();
  out.replaced.clear();
  out.units.reserve(c == coding::ucs2 ? utf8.size() * 2 : utf8.size());
  const bool replace = opts.on_unencodable == unencodable_policy::replace;
  const auto unencodable = [&](char32_t cp, std::size_t offset) -> boost::system::error_code {
    if (!replace) {
      info = {offset, cp};
      return errc::unencodable_character;
    }
    out.replaced.push_back({offset, cp});
    out.units.push_back(replacement_char);
    return {};
  };
  return detail::scan(utf8, opts.transliterate, info,
                      [&](char32_t cp, std::size_t offset) -> boost::system::error_code {
                        switch (c) {
                          case coding::gsm7: {
                            const gsm7_code code = gsm7_encode_char(cp);
                            if (code.length == 0) return unencodable(cp, offset);
                            out.units.append(reinterpret_cast<const char*>(code.septets),
                                             code.length);
                            return {};
                          }
                          case coding::latin1:
                            if (!latin1_encodable(cp)) return unencodable(cp, offset);
                            out.units.push_back(static_cast<char>(static_cast<unsigned char>(cp)));
                            return {};
                          case coding::ucs2:
                            append_utf16be(cp, out.units);
                            return {};
                        }
                        return {};
                      });
}

}  // namespace

boost::system::error_code encode(std::string_view utf8, const encode_options& opts,
                                 encoded_text& out, error_info& info) {
  switch (opts.policy) {
    case coding_policy::gsm7:
      return encode_as(utf8, coding::gsm7, opts, out, info);
    case coding_policy::latin1:
      return encode_as(utf8, coding::latin1, opts, out, info);
    case coding_policy::ucs2:
      return encode_as(utf8, coding::ucs2, opts, out, info);
    case coding_policy::auto_select:
      break;
  }
  // Auto: GSM 7-bit unless some character is outside it; never replace in this mode.
  encode_options strict = opts;
  strict.on_unencodable = unencodable_policy::fail;
  const auto ec = encode_as(utf8, coding::gsm7, strict, out, info);
  if (ec != errc::unencodable_character) return ec;
  info = {};
  return encode_as(utf8, coding::ucs2, strict, out, info);
}

}  // namespace otpd::smpp::text
