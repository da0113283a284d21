// The header-section parser shared by parse() (datagrams) and stream_framer. Internal.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include <boost/system/error_code.hpp>

#include "voice/sip/message.hpp"

namespace otpd::sip::detail {

// The number of CR / LF bytes at the start of `s` (RFC 3261 §7.5 / RFC 5626 keep-alives).
std::size_t skip_leading_crlf(std::string_view s) noexcept;

struct head_end {
  std::size_t head_size = 0;   // start line and headers, up to the last header's LF
  std::size_t body_start = 0;  // first byte after the empty line; 0 when not found
};
// Searches for the empty line that ends the headers, starting at `from`.
head_end find_head_end(std::string_view s, std::size_t from) noexcept;

// Parses the start line and headers (`head` without the empty line) into `out`, and reports
// Content-Length when present. `out` is untouched on error.
boost::system::error_code parse_head(std::string_view head, message& out, const limits& lim,
                                     std::optional<std::size_t>& content_length);

}  // namespace otpd::sip::detail
