#include "config/load_options.hpp"

#include <charconv>
#include <cstdint>

namespace otpd::config {

std::string to_string(const config_error& e) {
  std::string out = e.file;
  if (e.line != 0) out += ":" + std::to_string(e.line) + ":" + std::to_string(e.column);
  return out + ": " + e.message;
}

std::optional<smpp::duration> parse_duration(std::string_view text) noexcept {
  std::uint64_t n = 0;
  const char* begin = text.data();
  const char* end = begin + text.size();
  auto [p, ec] = std::from_chars(begin, end, n);
  if (ec != std::errc() || p == begin) return std::nullopt;
  const std::string_view unit(p, static_cast<std::size_t>(end - p));
  std::uint64_t ms_per_unit = 0;
  if (unit == "ms")
    ms_per_unit = 1;
  else if (unit == "s")
    ms_per_unit = 1000;
  else if (unit == "m")
    ms_per_unit = 60'000;
  else if (unit == "h")
    ms_per_unit = 3'600'000;
  else
    return std::nullopt;
  // Bounded far below what the nanosecond clock can hold (~292 years).
  constexpr std::uint64_t limit_ms = 100ULL * 365 * 24 * 3'600'000;
  if (n > limit_ms / ms_per_unit) return std::nullopt;
  return std::chrono::duration_cast<smpp::duration>(
      std::chrono::milliseconds(static_cast<std::int64_t>(n * ms_per_unit)));
}

std::string format_duration(smpp::duration d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace otpd::config
