// Unicode Normalization Form C (UAX #15) of UTF-8 text, by utf8proc: templates are sent as
// precomposed characters whatever the editor that wrote them saved.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace otpd::config::detail {

// The NFC form of `utf8`; nullopt when it is not valid UTF-8 (or memory ran out).
std::optional<std::string> to_nfc(std::string_view utf8);

}  // namespace otpd::config::detail
