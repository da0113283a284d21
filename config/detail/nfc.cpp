#include "config/detail/nfc.hpp"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>

namespace otpd::config::detail {

std::optional<std::string> to_nfc(std::string_view utf8) {
  if (utf8.empty()) return std::string();
  utf8proc_uint8_t* out = nullptr;
  // UTF8PROC_STABLE | UTF8PROC_COMPOSE is utf8proc_NFC() with an explicit length, so that a
  // NUL inside the text is kept rather than taken as its end.
  const utf8proc_ssize_t n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(utf8.data()),
                   static_cast<utf8proc_ssize_t>(utf8.size()), &out,
                   static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  const std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(out, &std::free);
  if (n < 0 || out == nullptr) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
}

}  // namespace otpd::config::detail
