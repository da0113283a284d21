#include "smpp/text/latin1.hpp"

#include <cstdint>

#include "smpp/text/utf8.hpp"

namespace otpd::smpp::text {

void latin1_to_utf8(std::string_view octets, std::string& out) {
  // ISO 8859-1 code points are the first 256 of Unicode.
  for (const char c : octets) append_utf8(out, static_cast<std::uint8_t>(c));
}

}  // namespace otpd::smpp::text
