// Does a recording carry a given prompt? For tests that call through a real SIP phone or a
// stand-in, decode what it heard to 8 kHz and want to know that the code read was 4821 and not
// 4822, whatever the leading delay, codec noise and small gaps (jitter buffers, packet loss
// concealment) on the way.
//
// Two passes: envelopes (mean |x| per 10 ms) find the prompt's start in the recording; then
// each segment is looked for near where the previous one was found (so gaps accumulate
// without breaking alignment) and scored by the normalised cross-correlation of waveforms.
// Different words correlate poorly sample by sample even when their envelopes look alike,
// which is what separates one digit from another.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "voice/prompts/prompt_set.hpp"

namespace otpd::prompts {

struct match_options {
  std::size_t frame = 80;          // envelope frame in samples (10 ms at 8 kHz)
  std::size_t max_delay = 80'000;  // the prompt starts within this many samples (10 s)
  std::size_t max_drift = 1'600;   // a segment may sit this far from where the one before
                                   // it put the prompt (200 ms: gaps, clock skew)
};

struct segment_match {
  segment expected;       // as composed
  std::ptrdiff_t at = 0;  // where it was found in the recording (may be < 0 or past the end
                          // when the recording is cut short)
  double score = 0.0;     // normalised cross-correlation, -1..1; 1 = identical waveform
};

struct match_result {
  // Recording index of prompt sample 0: from the first segment that matched (score >= 0.5),
  // else from the envelope pass (to about a frame).
  std::ptrdiff_t offset = 0;
  double min_score = 0.0;  // the worst segment: what "carries the prompt" hinges on
  double mean_score = 0.0;
  std::vector<segment_match> segments;
};

// Never fails: an empty recording or prompt scores 0 everywhere.
match_result match_prompt(std::span<const std::int16_t> recording, const prompt& expected,
                          const match_options& opts = {});

// Pass 1 of match_prompt: where in `recording` `prompt_samples` starts, to the frame (a
// multiple of opts.frame, at most opts.max_delay), from the envelopes' correlation. 0 when
// either is shorter than a frame.
std::ptrdiff_t find_prompt_start(std::span<const std::int16_t> recording,
                                 std::span<const std::int16_t> prompt_samples,
                                 const match_options& opts = {});

// The largest normalised cross-correlation sum(a[i] b[i - lag]) / sqrt(Ea Eb) over lags in
// [min_lag, max_lag], each over the overlap of a and the shifted b (energies of the overlap).
// best_lag, when given, receives the lag. 0 when nothing overlaps or a part is silent.
double max_normalised_correlation(std::span<const std::int16_t> a, std::span<const std::int16_t> b,
                                  std::ptrdiff_t min_lag, std::ptrdiff_t max_lag,
                                  std::ptrdiff_t* best_lag = nullptr);

}  // namespace otpd::prompts
