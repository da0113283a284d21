// Sample-rate conversion for prompt audio: espeak-ng speaks at 22 050 Hz and recordings come
// at 44.1 / 48 kHz, while G.711 carries 8 kHz (ITU-T G.711 §1). Decimating without a proper
// low-pass folds sibilants (4-11 kHz) back into the speech band as hiss, so this is a
// windowed-sinc polyphase filter, not a linear interpolator.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace otpd::prompts {

// The slowest and fastest rates resample() accepts.
inline constexpr int min_sample_rate = 1000;
inline constexpr int max_sample_rate = 384'000;

// Converts in from from_rate to to_rate (both in Hz). The filter is a Kaiser-windowed sinc
// (about 80 dB stop-band rejection) with its pass band flat to 0.425 x the lower rate
// (3.4 kHz when going to 8 kHz) and its stop band starting at half the lower rate, so nothing
// above the new Nyquist frequency aliases back. The output has ceil(n x to / from) samples,
// time-aligned with the input (the filter is zero phase); samples outside in count as zero.
// Equal rates copy; a rate outside [min_sample_rate, max_sample_rate] gives an empty vector.
std::vector<std::int16_t> resample(std::span<const std::int16_t> in, int from_rate, int to_rate);

}  // namespace otpd::prompts
