#include "smpp/text/transliterate.hpp"

#include <algorithm>
#include <iterator>

#include "smpp/text/utf8.hpp"

namespace otpd::smpp::text {
namespace {

struct entry {
  char32_t from;
  const char* to;
};

// Sorted by code point for binary search. Vietnamese letters: Unicode blocks Latin-1
// Supplement, Latin Extended-A/B and Latin Extended Additional (U+1EA0..U+1EF9); the tones
// are huyền (grave), sắc (acute), ngã (tilde), hỏi (hook above) and nặng (dot below).
constexpr entry table[] = {
    {0x00A0, " "},    // no-break space
    {0x00C0, "A"},    // Vietnamese À
    {0x00C1, "A"},    // Vietnamese Á
    {0x00C2, "A"},    // Vietnamese Â
    {0x00C3, "A"},    // Vietnamese Ã
    {0x00C8, "E"},    // Vietnamese È
    {0x00C9, "E"},    // Vietnamese É
    {0x00CA, "E"},    // Vietnamese Ê
    {0x00CC, "I"},    // Vietnamese Ì
    {0x00CD, "I"},    // Vietnamese Í
    {0x00D2, "O"},    // Vietnamese Ò
    {0x00D3, "O"},    // Vietnamese Ó
    {0x00D4, "O"},    // Vietnamese Ô
    {0x00D5, "O"},    // Vietnamese Õ
    {0x00D9, "U"},    // Vietnamese Ù
    {0x00DA, "U"},    // Vietnamese Ú
    {0x00DD, "Y"},    // Vietnamese Ý
    {0x00E0, "a"},    // Vietnamese à
    {0x00E1, "a"},    // Vietnamese á
    {0x00E2, "a"},    // Vietnamese â
    {0x00E3, "a"},    // Vietnamese ã
    {0x00E8, "e"},    // Vietnamese è
    {0x00E9, "e"},    // Vietnamese é
    {0x00EA, "e"},    // Vietnamese ê
    {0x00EC, "i"},    // Vietnamese ì
    {0x00ED, "i"},    // Vietnamese í
    {0x00F2, "o"},    // Vietnamese ò
    {0x00F3, "o"},    // Vietnamese ó
    {0x00F4, "o"},    // Vietnamese ô
    {0x00F5, "o"},    // Vietnamese õ
    {0x00F9, "u"},    // Vietnamese ù
    {0x00FA, "u"},    // Vietnamese ú
    {0x00FD, "y"},    // Vietnamese ý
    {0x0102, "A"},    // Vietnamese Ă
    {0x0103, "a"},    // Vietnamese ă
    {0x0110, "D"},    // Vietnamese Đ
    {0x0111, "d"},    // Vietnamese đ
    {0x0128, "I"},    // Vietnamese Ĩ
    {0x0129, "i"},    // Vietnamese ĩ
    {0x0168, "U"},    // Vietnamese Ũ
    {0x0169, "u"},    // Vietnamese ũ
    {0x01A0, "O"},    // Vietnamese Ơ
    {0x01A1, "o"},    // Vietnamese ơ
    {0x01AF, "U"},    // Vietnamese Ư
    {0x01B0, "u"},    // Vietnamese ư
    {0x0300, ""},     // combining grave (huyền)
    {0x0301, ""},     // combining acute (sắc)
    {0x0302, ""},     // combining circumflex (â ê ô)
    {0x0303, ""},     // combining tilde (ngã)
    {0x0306, ""},     // combining breve (ă)
    {0x0309, ""},     // combining hook above (hỏi)
    {0x031B, ""},     // combining horn (ơ ư)
    {0x0323, ""},     // combining dot below (nặng)
    {0x1EA0, "A"},    // Vietnamese Ạ
    {0x1EA1, "a"},    // Vietnamese ạ
    {0x1EA2, "A"},    // Vietnamese Ả
    {0x1EA3, "a"},    // Vietnamese ả
    {0x1EA4, "A"},    // Vietnamese Ấ
    {0x1EA5, "a"},    // Vietnamese ấ
    {0x1EA6, "A"},    // Vietnamese Ầ
    {0x1EA7, "a"},    // Vietnamese ầ
    {0x1EA8, "A"},    // Vietnamese Ẩ
    {0x1EA9, "a"},    // Vietnamese ẩ
    {0x1EAA, "A"},    // Vietnamese Ẫ
    {0x1EAB, "a"},    // Vietnamese ẫ
    {0x1EAC, "A"},    // Vietnamese Ậ
    {0x1EAD, "a"},    // Vietnamese ậ
    {0x1EAE, "A"},    // Vietnamese Ắ
    {0x1EAF, "a"},    // Vietnamese ắ
    {0x1EB0, "A"},    // Vietnamese Ằ
    {0x1EB1, "a"},    // Vietnamese ằ
    {0x1EB2, "A"},    // Vietnamese Ẳ
    {0x1EB3, "a"},    // Vietnamese ẳ
    {0x1EB4, "A"},    // Vietnamese Ẵ
    {0x1EB5, "a"},    // Vietnamese ẵ
    {0x1EB6, "A"},    // Vietnamese Ặ
    {0x1EB7, "a"},    // Vietnamese ặ
    {0x1EB8, "E"},    // Vietnamese Ẹ
    {0x1EB9, "e"},    // Vietnamese ẹ
    {0x1EBA, "E"},    // Vietnamese Ẻ
    {0x1EBB, "e"},    // Vietnamese ẻ
    {0x1EBC, "E"},    // Vietnamese Ẽ
    {0x1EBD, "e"},    // Vietnamese ẽ
    {0x1EBE, "E"},    // Vietnamese Ế
    {0x1EBF, "e"},    // Vietnamese ế
    {0x1EC0, "E"},    // Vietnamese Ề
    {0x1EC1, "e"},    // Vietnamese ề
    {0x1EC2, "E"},    // Vietnamese Ể
    {0x1EC3, "e"},    // Vietnamese ể
    {0x1EC4, "E"},    // Vietnamese Ễ
    {0x1EC5, "e"},    // Vietnamese ễ
    {0x1EC6, "E"},    // Vietnamese Ệ
    {0x1EC7, "e"},    // Vietnamese ệ
    {0x1EC8, "I"},    // Vietnamese Ỉ
    {0x1EC9, "i"},    // Vietnamese ỉ
    {0x1ECA, "I"},    // Vietnamese Ị
    {0x1ECB, "i"},    // Vietnamese ị
    {0x1ECC, "O"},    // Vietnamese Ọ
    {0x1ECD, "o"},    // Vietnamese ọ
    {0x1ECE, "O"},    // Vietnamese Ỏ
    {0x1ECF, "o"},    // Vietnamese ỏ
    {0x1ED0, "O"},    // Vietnamese Ố
    {0x1ED1, "o"},    // Vietnamese ố
    {0x1ED2, "O"},    // Vietnamese Ồ
    {0x1ED3, "o"},    // Vietnamese ồ
    {0x1ED4, "O"},    // Vietnamese Ổ
    {0x1ED5, "o"},    // Vietnamese ổ
    {0x1ED6, "O"},    // Vietnamese Ỗ
    {0x1ED7, "o"},    // Vietnamese ỗ
    {0x1ED8, "O"},    // Vietnamese Ộ
    {0x1ED9, "o"},    // Vietnamese ộ
    {0x1EDA, "O"},    // Vietnamese Ớ
    {0x1EDB, "o"},    // Vietnamese ớ
    {0x1EDC, "O"},    // Vietnamese Ờ
    {0x1EDD, "o"},    // Vietnamese ờ
    {0x1EDE, "O"},    // Vietnamese Ở
    {0x1EDF, "o"},    // Vietnamese ở
    {0x1EE0, "O"},    // Vietnamese Ỡ
    {0x1EE1, "o"},    // Vietnamese ỡ
    {0x1EE2, "O"},    // Vietnamese Ợ
    {0x1EE3, "o"},    // Vietnamese ợ
    {0x1EE4, "U"},    // Vietnamese Ụ
    {0x1EE5, "u"},    // Vietnamese ụ
    {0x1EE6, "U"},    // Vietnamese Ủ
    {0x1EE7, "u"},    // Vietnamese ủ
    {0x1EE8, "U"},    // Vietnamese Ứ
    {0x1EE9, "u"},    // Vietnamese ứ
    {0x1EEA, "U"},    // Vietnamese Ừ
    {0x1EEB, "u"},    // Vietnamese ừ
    {0x1EEC, "U"},    // Vietnamese Ử
    {0x1EED, "u"},    // Vietnamese ử
    {0x1EEE, "U"},    // Vietnamese Ữ
    {0x1EEF, "u"},    // Vietnamese ữ
    {0x1EF0, "U"},    // Vietnamese Ự
    {0x1EF1, "u"},    // Vietnamese ự
    {0x1EF2, "Y"},    // Vietnamese Ỳ
    {0x1EF3, "y"},    // Vietnamese ỳ
    {0x1EF4, "Y"},    // Vietnamese Ỵ
    {0x1EF5, "y"},    // Vietnamese ỵ
    {0x1EF6, "Y"},    // Vietnamese Ỷ
    {0x1EF7, "y"},    // Vietnamese ỷ
    {0x1EF8, "Y"},    // Vietnamese Ỹ
    {0x1EF9, "y"},    // Vietnamese ỹ
    {0x2007, " "},    // figure space
    {0x2009, " "},    // thin space
    {0x2010, "-"},    // hyphen
    {0x2011, "-"},    // non-breaking hyphen
    {0x2012, "-"},    // figure dash
    {0x2013, "-"},    // en dash
    {0x2014, "-"},    // em dash
    {0x2015, "-"},    // horizontal bar
    {0x2018, "'"},    // left single quote
    {0x2019, "'"},    // right single quote
    {0x201A, "'"},    // low single quote
    {0x201B, "'"},    // reversed single quote
    {0x201C, "\""},   // left double quote
    {0x201D, "\""},   // right double quote
    {0x201E, "\""},   // low double quote
    {0x201F, "\""},   // reversed double quote
    {0x2026, "..."},  // ellipsis
    {0x202F, " "},    // narrow no-break space
    {0x2212, "-"},    // minus sign
};

constexpr bool table_sorted() {
  for (std::size_t i = 1; i < std::size(table); ++i) {
    if (!(table[i - 1].from < table[i].from)) return false;
  }
  return true;
}
static_assert(table_sorted(), "transliteration table must be sorted and unique");

}  // namespace

std::optional<std::string_view> transliteration_of(char32_t cp) noexcept {
  if (cp < 0xA0) return std::nullopt;
  const auto it = std::lower_bound(std::begin(table), std::end(table), cp,
                                   [](const entry& e, char32_t v) { return e.from < v; });
  if (it == std::end(table) || it->from != cp) return std::nullopt;
  return std::string_view(it->to);
}

boost::system::error_code transliterate(std::string_view utf8, std::string& out, error_info& info) {
  out.clear();
  out.reserve(utf8.size());
  std::size_t pos = 0;
  while (pos < utf8.size()) {
    const std::size_t start = pos;
    char32_t cp = 0;
    if (!next_code_point(utf8, pos, cp)) {
      info = {start, 0};
      return errc::invalid_utf8;
    }
    if (const auto t = transliteration_of(cp)) {
      out.append(*t);
    } else {
      out.append(utf8.substr(start, pos - start));
    }
  }
  return {};
}

}  // namespace otpd::smpp::text
