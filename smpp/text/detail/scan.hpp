// The code-point pipeline shared by encode() and count_segments(): strict UTF-8 decoding,
// then the optional transliteration, calling a sink for each resulting character with the
// byte offset of the input character it came from.
#pragma once

#include <cstddef>
#include <string_view>

#include <boost/system/error_code.hpp>

#include "smpp/text/error.hpp"
#include "smpp/text/transliterate.hpp"
#include "smpp/text/utf8.hpp"

namespace otpd::smpp::text::detail {

// sink(char32_t cp, std::size_t offset) -> error_code; an error stops the scan and is returned
// (the sink fills info itself).
template <class Sink>
boost::system::error_code scan(std::string_view utf8, bool transliterate, error_info& info,
                               Sink&& sink) {
  std::size_t pos = 0;
  while (pos < utf8.size()) {
    const std::size_t start = pos;
    char32_t cp = 0;
    if (!next_code_point(utf8, pos, cp)) {
      info = {start, 0};
      return errc::invalid_utf8;
    }
    if (transliterate) {
      if (const auto t = transliteration_of(cp)) {
        for (const char c : *t) {
          if (auto ec = sink(static_cast<char32_t>(static_cast<unsigned char>(c)), start))
            return ec;
        }
        continue;
      }
    }
    if (auto ec = sink(cp, start)) return ec;
  }
  return {};
}

}  // namespace otpd::smpp::text::detail
