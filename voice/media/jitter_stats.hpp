// Send-time jitter of a paced stream against its ideal schedule (t0 + n * interval), for the
// benchmarks: per-packet deviation and its p50 / p99 / max. Pure: time points in, numbers out.
#pragma once

#include <chrono>
#include <cstddef>
#include <span>
#include <vector>

#include "voice/media/pacer.hpp"

namespace otpd::media {

struct jitter_summary {
  std::size_t count = 0;
  // Of the absolute deviations, nearest-rank percentiles.
  std::chrono::nanoseconds p50{};
  std::chrono::nanoseconds p99{};
  std::chrono::nanoseconds max{};
  std::chrono::nanoseconds mean{};   // of the signed deviations: a steady offset shows here
  std::chrono::nanoseconds early{};  // the most negative deviation (sent before due), or 0
};

// deviation[n] = sends[n] - (t0 + n * interval). Positive: late.
std::vector<std::chrono::nanoseconds> schedule_deviation(std::span<const pacer::time_point> sends,
                                                         pacer::time_point t0,
                                                         std::chrono::nanoseconds interval);

// deviation[n] = (sends[n + 1] - sends[n]) - interval, for the n + 1 gaps a receiver sees.
std::vector<std::chrono::nanoseconds> interval_deviation(std::span<const pacer::time_point> sends,
                                                         std::chrono::nanoseconds interval);

jitter_summary summarize(std::span<const std::chrono::nanoseconds> deviations);

// summarize(schedule_deviation(sends, sends[0], interval)): anchored at the first send.
jitter_summary schedule_jitter(std::span<const pacer::time_point> sends,
                               std::chrono::nanoseconds interval = std::chrono::milliseconds(20));

}  // namespace otpd::media
