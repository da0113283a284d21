#include "daemon/engine/message.hpp"

#include <algorithm>

namespace otpd::engine {
namespace {

// Lowercase, '_' read as '-': locale keys compare this way (RFC 5646 §2.1.1: tags are
// case-insensitive; POSIX spells the separator '_').
std::string fold(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '_') c = '-';
  }
  return out;
}

std::optional<std::string> find_key(const config::templates& text, std::string_view locale) {
  if (locale.empty()) return std::nullopt;
  if (auto it = text.sms.find(std::string(locale)); it != text.sms.end()) return it->first;
  const std::string want = fold(locale);
  for (const auto& [key, value] : text.sms) {
    if (fold(key) == want) return key;
  }
  return std::nullopt;
}

void replace_all(std::string& s, std::string_view what, std::string_view with) {
  std::size_t pos = 0;
  while ((pos = s.find(what, pos)) != std::string::npos) {
    s.replace(pos, what.size(), with);
    pos += with.size();  // never rescan the replacement
  }
}

}  // namespace

std::chrono::seconds remaining_validity(const service::verification& v,
                                        service::sys_time now) noexcept {
  if (now >= v.expires_at) return std::chrono::seconds{0};
  return std::chrono::floor<std::chrono::seconds>(v.expires_at - now);
}

int validity_minutes(std::chrono::seconds remaining) noexcept {
  if (remaining.count() <= 0) return 0;
  // Rounded down, with 5 s of slack for the time the request took to get here: a fresh
  // 5-minute code still says 5 minutes.
  return static_cast<int>(std::max<std::chrono::seconds::rep>(1, (remaining.count() + 5) / 60));
}

std::optional<std::string> pick_locale(const config::templates& text, std::string_view locale,
                                       std::string_view default_locale) {
  if (auto key = find_key(text, locale)) return key;
  if (const auto dash = fold(locale).find('-'); dash != std::string::npos && dash > 0) {
    if (auto key = find_key(text, locale.substr(0, dash))) return key;
  }
  return find_key(text, default_locale);
}

std::optional<rendered_sms> render_sms(const config::templates& text, std::string_view locale,
                                       std::string_view default_locale, std::string_view code,
                                       std::chrono::seconds remaining) {
  auto key = pick_locale(text, locale, default_locale);
  if (!key) return std::nullopt;
  rendered_sms out;
  const std::string& tmpl = text.sms.at(*key);
  // Room for every replacement ({code} grows by at most 4 bytes, {minutes} shrinks): a string
  // that grows frees its old buffer, with the code in it, unwiped.
  out.text.reserve(2 * tmpl.size() + 16);
  out.text = tmpl;
  out.locale = std::move(*key);
  replace_all(out.text, "{code}", code);
  replace_all(out.text, "{minutes}", std::to_string(validity_minutes(remaining)));
  return out;
}

}  // namespace otpd::engine
