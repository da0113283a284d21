#include "smpp/text/gsm7.hpp"

#include <array>

#include "smpp/text/utf8.hpp"

namespace otpd::smpp::text {
namespace {

// 3GPP TS 23.038 §6.2.1, Figure 1 (main table), indexed by septet. 0x1B is ESC; it is shown
// as a space when decoded alone.
constexpr std::array<char32_t, 128> basic_table = {
    U'@',      U'\u00A3', U'$',      U'\u00A5', U'\u00E8', U'\u00E9', U'\u00F9', U'\u00EC',  // 00
    U'\u00F2', U'\u00C7', U'\n',     U'\u00D8', U'\u00F8', U'\r',     U'\u00C5', U'\u00E5',  // 08
    U'\u0394', U'_',      U'\u03A6', U'\u0393', U'\u039B', U'\u03A9', U'\u03A0', U'\u03A8',  // 10
    U'\u03A3', U'\u0398', U'\u039E', U' ',      U'\u00C6', U'\u00E6', U'\u00DF', U'\u00C9',  // 18
    U' ',      U'!',      U'"',      U'#',      U'\u00A4', U'%',      U'&',      U'\'',      // 20
    U'(',      U')',      U'*',      U'+',      U',',      U'-',      U'.',      U'/',       // 28
    U'0',      U'1',      U'2',      U'3',      U'4',      U'5',      U'6',      U'7',       // 30
    U'8',      U'9',      U':',      U';',      U'<',      U'=',      U'>',      U'?',       // 38
    U'\u00A1', U'A',      U'B',      U'C',      U'D',      U'E',      U'F',      U'G',       // 40
    U'H',      U'I',      U'J',      U'K',      U'L',      U'M',      U'N',      U'O',       // 48
    U'P',      U'Q',      U'R',      U'S',      U'T',      U'U',      U'V',      U'W',       // 50
    U'X',      U'Y',      U'Z',      U'\u00C4', U'\u00D6', U'\u00D1', U'\u00DC', U'\u00A7',  // 58
    U'\u00BF', U'a',      U'b',      U'c',      U'd',      U'e',      U'f',      U'g',       // 60
    U'h',      U'i',      U'j',      U'k',      U'l',      U'm',      U'n',      U'o',       // 68
    U'p',      U'q',      U'r',      U's',      U't',      U'u',      U'v',      U'w',       // 70
    U'x',      U'y',      U'z',      U'\u00E4', U'\u00F6', U'\u00F1', U'\u00FC', U'\u00E0',  // 78
};

struct extension_entry {
  std::uint8_t code;
  char32_t cp;
};

// 3GPP TS 23.038 §6.2.1.1, Figure 2 (extension table). 0x0A is the page break, carried as
// form feed; 0x0D (CR2) and 0x1B (another extension table) have no character of their own.
constexpr std::array<extension_entry, 10> extension_table = {{
    {0x0A, U'\f'},
    {0x14, U'^'},
    {0x28, U'{'},
    {0x29, U'}'},
    {0x2F, U'\\'},
    {0x3C, U'['},
    {0x3D, U'~'},
    {0x3E, U']'},
    {0x40, U'|'},
    {0x65, U'\u20AC'},
}};

// Reverse lookup for ASCII: the common case is answered by one index. 0xFF marks "not in
// the basic table"; ESC's display value (space) is excluded so ' ' maps to 0x20.
constexpr std::array<std::uint8_t, 128> make_ascii_reverse() {
  std::array<std::uint8_t, 128> r{};
  for (auto& v : r) v = 0xFF;
  for (std::size_t s = 0; s < basic_table.size(); ++s) {
    if (s == gsm7_escape) continue;
    const char32_t cp = basic_table[s];
    if (cp < 128) r[cp] = static_cast<std::uint8_t>(s);
  }
  return r;
}
constexpr std::array<std::uint8_t, 128> ascii_reverse = make_ascii_reverse();

}  // namespace

gsm7_code gsm7_encode_char(char32_t cp) noexcept {
  gsm7_code code;
  if (cp < 128 && ascii_reverse[cp] != 0xFF) {
    code.length = 1;
    code.septets[0] = ascii_reverse[cp];
    return code;
  }
  if (cp >= 128) {
    for (std::size_t s = 0; s < basic_table.size(); ++s) {
      if (basic_table[s] == cp) {
        code.length = 1;
        code.septets[0] = static_cast<std::uint8_t>(s);
        return code;
      }
    }
  }
  for (const auto& e : extension_table) {
    if (e.cp == cp) {
      code.length = 2;
      code.septets[0] = gsm7_escape;
      code.septets[1] = e.code;
      return code;
    }
  }
  return code;
}

char32_t gsm7_basic_char(std::uint8_t septet) noexcept { return basic_table[septet & 0x7F]; }

char32_t gsm7_extension_char(std::uint8_t code) noexcept {
  for (const auto& e : extension_table) {
    if (e.code == code) return e.cp;
  }
  return 0;
}

void gsm7_pack(std::string_view septets, unsigned fill_bits, std::string& out) {
  // TS 23.038 §6.1.2.1.1: septet n occupies bits 7n..7n+6 of the bit stream, least
  // significant bit first within each octet.
  std::uint32_t acc = 0;
  unsigned bits = fill_bits;
  for (const char c : septets) {
    acc |= (static_cast<std::uint32_t>(static_cast<std::uint8_t>(c)) & 0x7F) << bits;
    bits += 7;
    while (bits >= 8) {
      out.push_back(static_cast<char>(acc & 0xFF));
      acc >>= 8;
      bits -= 8;
    }
  }
  if (bits == 1) {
    // 7 spare bits: fill them with <CR> (§6.1.2.3.1).
    acc |= 0x0Du << 1;
    bits = 8;
  }
  if (bits > 0) out.push_back(static_cast<char>(acc & 0xFF));
}

std::string gsm7_unpack(std::string_view octets, std::size_t start_bit) {
  std::string septets;
  const std::size_t total_bits = octets.size() * 8;
  if (start_bit >= total_bits) return septets;
  const std::size_t count = (total_bits - start_bit) / 7;
  septets.reserve(count);
  for (std::size_t n = 0; n < count; ++n) {
    const std::size_t bit = start_bit + n * 7;
    const std::size_t index = bit / 8;
    const unsigned shift = static_cast<unsigned>(bit % 8);
    std::uint32_t v = static_cast<std::uint8_t>(octets[index]);
    if (index + 1 < octets.size())
      v |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(octets[index + 1])) << 8;
    septets.push_back(static_cast<char>((v >> shift) & 0x7F));
  }
  if ((total_bits - start_bit) % 7 == 0 && !septets.empty() && septets.back() == '\r') {
    septets.pop_back();
  }
  return septets;
}

bool gsm7_to_utf8(std::string_view septets, std::string& out, std::size_t* substituted,
                  std::size_t* bad_index) {
  std::size_t subs = 0;
  for (std::size_t i = 0; i < septets.size(); ++i) {
    const auto s = static_cast<std::uint8_t>(septets[i]);
    if (s > 0x7F) {
      if (bad_index) *bad_index = i;
      return false;
    }
    if (s != gsm7_escape) {
      append_utf8(out, basic_table[s]);
      continue;
    }
    if (i + 1 == septets.size()) {
      append_utf8(out, U' ');
      ++subs;
      continue;
    }
    const auto code = static_cast<std::uint8_t>(septets[++i]);
    if (code > 0x7F) {
      if (bad_index) *bad_index = i;
      return false;
    }
    if (const char32_t cp = gsm7_extension_char(code); cp != 0) {
      append_utf8(out, cp);
    } else {
      // §6.2.1.1: ESC ESC shows a space; any other undefined code shows its basic character.
      append_utf8(out, code == gsm7_escape ? U' ' : basic_table[code]);
      ++subs;
    }
  }
  if (substituted) *substituted += subs;
  return true;
}

}  // namespace otpd::smpp::text
