#include "voice/media/jitter_stats.hpp"

#include <algorithm>
#include <cstdint>

namespace otpd::media {
namespace {

// Nearest-rank percentile of sorted values: the smallest value with at least p% at or below.
std::chrono::nanoseconds percentile(const std::vector<std::chrono::nanoseconds>& sorted,
                                    unsigned p) {
  const std::size_t n = sorted.size();
  std::size_t rank = (static_cast<std::size_t>(p) * n + 99) / 100;
  rank = std::clamp<std::size_t>(rank, 1, n);
  return sorted[rank - 1];
}

}  // namespace

std::vector<std::chrono::nanoseconds> schedule_deviation(std::span<const pacer::time_point> sends,
                                                         pacer::time_point t0,
                                                         std::chrono::nanoseconds interval) {
  std::vector<std::chrono::nanoseconds> out;
  out.reserve(sends.size());
  for (std::size_t n = 0; n < sends.size(); ++n) {
    const auto ideal = t0 + interval * static_cast<std::int64_t>(n);
    out.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(sends[n] - ideal));
  }
  return out;
}

std::vector<std::chrono::nanoseconds> interval_deviation(std::span<const pacer::time_point> sends,
                                                         std::chrono::nanoseconds interval) {
  std::vector<std::chrono::nanoseconds> out;
  if (sends.size() < 2) return out;
  out.reserve(sends.size() - 1);
  for (std::size_t n = 1; n < sends.size(); ++n) {
    out.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(sends[n] - sends[n - 1]) -
                  interval);
  }
  return out;
}

jitter_summary summarize(std::span<const std::chrono::nanoseconds> deviations) {
  jitter_summary s;
  s.count = deviations.size();
  if (deviations.empty()) return s;
  std::vector<std::chrono::nanoseconds> abs;
  abs.reserve(deviations.size());
  long double sum = 0;
  for (const auto d : deviations) {
    abs.push_back(d < d.zero() ? -d : d);
    sum += static_cast<long double>(d.count());
    s.early = std::min(s.early, d);
  }
  std::sort(abs.begin(), abs.end());
  s.p50 = percentile(abs, 50);
  s.p99 = percentile(abs, 99);
  s.max = abs.back();
  s.mean = std::chrono::nanoseconds(
      static_cast<std::int64_t>(sum / static_cast<long double>(deviations.size())));
  return s;
}

jitter_summary schedule_jitter(std::span<const pacer::time_point> sends,
                               std::chrono::nanoseconds interval) {
  if (sends.empty()) return {};
  return summarize(schedule_deviation(sends, sends.front(), interval));
}

}  // namespace otpd::media
