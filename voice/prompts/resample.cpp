#include "voice/prompts/resample.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <numeric>

namespace otpd::prompts {
namespace {

// Kaiser window design (Oppenheim & Schafer, "Discrete-Time Signal Processing", §7.5.3):
// attenuation A dB needs beta = 0.1102 (A - 8.7) and a length of (A - 8) / (2.285 dw) taps.
constexpr double stop_band_db = 80.0;
constexpr double kaiser_beta = 0.1102 * (stop_band_db - 8.7);
constexpr double pass_edge = 0.425;  // x the lower rate
constexpr double stop_edge = 0.5;

// Above this many distinct phases the coefficient table is not worth building (odd rate
// pairs such as 44 101 -> 8 000); coefficients are then computed per output sample.
constexpr std::int64_t max_table_phases = 4096;

double bessel_i0(double x) noexcept {
  // Power series; converges fast for the arguments a Kaiser window needs (< 10).
  double sum = 1.0;
  double term = 1.0;
  const double q = x * x / 4.0;
  for (int k = 1; k < 64; ++k) {
    term *= q / (static_cast<double>(k) * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

struct filter {
  double cutoff_hz;     // -6 dB point, between pass and stop edge
  double half_width_s;  // the window covers [-half_width_s, +half_width_s]
  double in_rate;
  double i0_beta;

  // The impulse response at time t seconds, already scaled for unit DC gain when summed
  // over input samples at in_rate.
  double at(double t) const noexcept {
    const double x = t / half_width_s;
    if (x <= -1.0 || x >= 1.0) return 0.0;
    const double w = bessel_i0(kaiser_beta * std::sqrt(1.0 - x * x)) / i0_beta;
    const double arg = 2.0 * cutoff_hz * t;
    const double sinc =
        arg == 0.0 ? 1.0 : std::sin(std::numbers::pi * arg) / (std::numbers::pi * arg);
    return 2.0 * cutoff_hz / in_rate * sinc * w;
  }
};

std::int16_t to_int16(double v) noexcept {
  return static_cast<std::int16_t>(std::clamp(std::round(v), -32768.0, 32767.0));
}

}  // namespace

std::vector<std::int16_t> resample(std::span<const std::int16_t> in, int from_rate, int to_rate) {
  if (from_rate < min_sample_rate || from_rate > max_sample_rate || to_rate < min_sample_rate ||
      to_rate > max_sample_rate)
    return {};
  if (from_rate == to_rate) return {in.begin(), in.end()};

  const std::int64_t g = std::gcd(from_rate, to_rate);
  const std::int64_t up = to_rate / g;      // L: output time steps in units of 1/L input sample
  const std::int64_t down = from_rate / g;  // M
  const double lower = std::min(from_rate, to_rate);
  const double transition = (stop_edge - pass_edge) * lower;
  filter f{};
  f.cutoff_hz = (pass_edge + stop_edge) / 2.0 * lower;
  f.half_width_s = (stop_band_db - 8.0) / (2.285 * 2.0 * std::numbers::pi * transition) / 2.0;
  f.in_rate = from_rate;
  f.i0_beta = bessel_i0(kaiser_beta);

  // Input taps on each side of the output instant.
  const auto reach = static_cast<std::int64_t>(std::ceil(f.half_width_s * from_rate));
  const std::int64_t taps = 2 * reach + 1;

  // Output n sits at input position n * M / L = base + phase / L. Its taps are the inputs
  // base - reach + j, j = 0..taps-1, at time offsets (j - reach - phase / L) / from_rate.
  auto coefficients = [&](std::int64_t phase, double* h) {
    double sum = 0.0;
    for (std::int64_t j = 0; j < taps; ++j) {
      const double t =
          (static_cast<double>(j - reach) - static_cast<double>(phase) / up) / from_rate;
      h[j] = f.at(t);
      sum += h[j];
    }
    // Exact unit DC gain per phase: otherwise the window's ripple shows up as a tone at the
    // phase-cycle rate.
    if (sum != 0.0)
      for (std::int64_t j = 0; j < taps; ++j) h[j] /= sum;
  };

  const bool use_table = up <= max_table_phases;
  std::vector<double> table;
  if (use_table) {
    table.resize(static_cast<std::size_t>(up * taps));
    for (std::int64_t p = 0; p < up; ++p) coefficients(p, table.data() + p * taps);
  }
  std::vector<double> scratch(use_table ? 0 : static_cast<std::size_t>(taps));

  const auto n_in = static_cast<std::int64_t>(in.size());
  const std::int64_t n_out = (n_in * up + down - 1) / down;
  std::vector<std::int16_t> out(static_cast<std::size_t>(n_out));
  for (std::int64_t n = 0; n < n_out; ++n) {
    const std::int64_t pos = n * down;
    const std::int64_t base = pos / up;
    const std::int64_t phase = pos % up;
    const double* h;
    if (use_table) {
      h = table.data() + phase * taps;
    } else {
      coefficients(phase, scratch.data());
      h = scratch.data();
    }
    const std::int64_t first = base - reach;
    const std::int64_t j0 = std::max<std::int64_t>(0, -first);
    const std::int64_t j1 = std::min<std::int64_t>(taps, n_in - first);
    double acc = 0.0;
    for (std::int64_t j = j0; j < j1; ++j) acc += h[j] * in[static_cast<std::size_t>(first + j)];
    out[static_cast<std::size_t>(n)] = to_int16(acc);
  }
  return out;
}

}  // namespace otpd::prompts
