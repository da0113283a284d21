#include "voice/prompts/prompt_match.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numeric>

namespace otpd::prompts {
namespace {

// Mean |x| over frames of n samples.
std::vector<double> envelope(std::span<const std::int16_t> s, std::size_t n) {
  std::vector<double> e(s.size() / n);
  for (std::size_t f = 0; f < e.size(); ++f) {
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) sum += std::abs(static_cast<double>(s[f * n + i]));
    e[f] = sum / static_cast<double>(n);
  }
  return e;
}

// Pearson correlation of x and y (equal length); 0 when either is flat.
double pearson(std::span<const double> x, std::span<const double> y) {
  const auto n = static_cast<double>(x.size());
  if (x.empty()) return 0;
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : 0.0;
}

}  // namespace

double max_normalised_correlation(std::span<const std::int16_t> a, std::span<const std::int16_t> b,
                                  std::ptrdiff_t min_lag, std::ptrdiff_t max_lag,
                                  std::ptrdiff_t* best_lag) {
  double eb = 0;
  for (const auto v : b) eb += static_cast<double>(v) * v;
  std::vector<double> prefix(a.size() + 1, 0.0);  // energy of a[0, i)
  for (std::size_t i = 0; i < a.size(); ++i)
    prefix[i + 1] = prefix[i] + static_cast<double>(a[i]) * a[i];
  const auto na = static_cast<std::ptrdiff_t>(a.size());
  const auto nb = static_cast<std::ptrdiff_t>(b.size());
  double best = 0.0;
  if (best_lag) *best_lag = min_lag;
  if (eb == 0) return 0.0;
  for (std::ptrdiff_t lag = min_lag; lag <= max_lag; ++lag) {
    const std::ptrdiff_t lo = std::max<std::ptrdiff_t>(0, lag);
    const std::ptrdiff_t hi = std::min(na, nb + lag);
    if (lo >= hi) continue;
    const double ea = prefix[static_cast<std::size_t>(hi)] - prefix[static_cast<std::size_t>(lo)];
    if (ea == 0) continue;
    double cross = 0;
    for (std::ptrdiff_t i = lo; i < hi; ++i)
      cross += static_cast<double>(a[static_cast<std::size_t>(i)]) *
               b[static_cast<std::size_t>(i - lag)];
    // b's whole energy, not the overlap's: a segment cut off by the end of the recording
    // scores lower instead of higher.
    const double score = cross / std::sqrt(ea * eb);
    if (score > best) {
      best = score;
      if (best_lag) *best_lag = lag;
    }
  }
  return best;
}

namespace {

// Removes the mean of `v`; its energy afterwards.
double centre(std::vector<double>& v) {
  const double m = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  double e = 0;
  for (auto& x : v) {
    x -= m;
    e += x * x;
  }
  return e;
}

// The recording's envelope (mean |x| over a frame) at any sample position, from a running sum
// of |x|; 0 where the frame is not all inside the recording.
class running_envelope {
 public:
  running_envelope(std::span<const std::int16_t> recording, std::size_t frame)
      : frame_(frame), abs_prefix_(recording.size() + 1, 0.0) {
    for (std::size_t i = 0; i < recording.size(); ++i)
      abs_prefix_[i + 1] = abs_prefix_[i] + std::abs(static_cast<double>(recording[i]));
  }
  double at(std::ptrdiff_t pos) const {
    const auto n = static_cast<std::ptrdiff_t>(abs_prefix_.size() - 1);
    if (pos < 0 || pos + static_cast<std::ptrdiff_t>(frame_) > n) return 0.0;
    const auto u = static_cast<std::size_t>(pos);
    return (abs_prefix_[u + frame_] - abs_prefix_[u]) / static_cast<double>(frame_);
  }

 private:
  std::size_t frame_;
  std::vector<double> abs_prefix_;
};

// Where within `drift` of `guess` the envelope of `clip` fits the recording's best (Pearson
// over frames, every quarter frame).
std::ptrdiff_t envelope_fit(const running_envelope& rec, std::span<const std::int16_t> clip,
                            std::ptrdiff_t guess, std::size_t frame, std::ptrdiff_t drift) {
  const auto seg_env = envelope(clip, frame);
  const auto step = static_cast<std::ptrdiff_t>(std::max<std::size_t>(frame / 4, 1));
  std::vector<double> window(seg_env.size());
  double best = -2.0;
  std::ptrdiff_t best_at = guess;
  for (std::ptrdiff_t d = -drift; d <= drift; d += step) {
    const std::ptrdiff_t pos = guess + d;
    for (std::size_t k = 0; k < window.size(); ++k)
      window[k] = rec.at(pos + static_cast<std::ptrdiff_t>(k * frame));
    const double c = pearson(seg_env, window);
    if (c > best) {
      best = c;
      best_at = pos;
    }
  }
  return best_at;
}

}  // namespace

std::ptrdiff_t find_prompt_start(std::span<const std::int16_t> recording,
                                 std::span<const std::int16_t> prompt_samples,
                                 const match_options& opts) {
  const std::size_t frame = std::max<std::size_t>(opts.frame, 1);
  if (recording.size() < frame || prompt_samples.size() < frame) return 0;
  // Envelopes with their mean removed, so that level and noise floor do not count; normalised
  // by the whole envelopes' energies, so that a short overlap at the end cannot win.
  auto er = envelope(recording, frame);
  auto ep = envelope(prompt_samples, frame);
  const std::size_t max_lag = std::min(opts.max_delay / frame, er.size());
  const double e_rec = centre(er);
  const double e_pro = centre(ep);
  double best = -2.0;
  std::size_t best_lag = 0;
  for (std::size_t lag = 0; lag <= max_lag; ++lag) {
    double c = 0;
    for (std::size_t k = 0; k < ep.size() && lag + k < er.size(); ++k) c += ep[k] * er[lag + k];
    const double score = e_rec > 0 && e_pro > 0 ? c / std::sqrt(e_rec * e_pro) : 0.0;
    if (score > best) {
      best = score;
      best_lag = lag;
    }
  }
  return static_cast<std::ptrdiff_t>(best_lag * frame);
}

match_result match_prompt(std::span<const std::int16_t> recording, const prompt& expected,
                          const match_options& opts) {
  match_result r;
  const std::size_t frame = std::max<std::size_t>(opts.frame, 1);
  const std::span<const std::int16_t> p(expected.samples);
  if (recording.size() < frame || p.size() < frame) {
    for (const auto& s : expected.segments) r.segments.push_back({s, 0, 0.0});
    return r;
  }
  // Pass 1: where the prompt starts, to the frame, from envelopes.
  r.offset = find_prompt_start(recording, p, opts);

  // Pass 2: each segment near where the previous one placed the prompt: its envelope placed
  // within the drift, then its waveform within a frame of that.
  const running_envelope rec_env(recording, frame);
  std::ptrdiff_t base = r.offset;
  const auto drift = static_cast<std::ptrdiff_t>(opts.max_drift);
  const auto f = static_cast<std::ptrdiff_t>(frame);
  double sum = 0;
  bool refined = false;
  r.min_score = 1.0;
  for (const auto& seg : expected.segments) {
    segment_match m{seg, base + static_cast<std::ptrdiff_t>(seg.start), 0.0};
    if (seg.start >= p.size() || seg.length == 0) {  // not a segment of these samples
      r.min_score = 0.0;
      r.segments.push_back(m);
      continue;
    }
    const auto clip_samples = p.subspan(seg.start, std::min(seg.length, p.size() - seg.start));
    const std::ptrdiff_t env_at = envelope_fit(rec_env, clip_samples, m.at, frame, drift);
    std::ptrdiff_t at = env_at;
    m.score = max_normalised_correlation(recording, clip_samples, env_at - f, env_at + f, &at);
    m.at = at;
    // Follow the drift only on a confident match: a wrong word must not drag the rest along.
    if (m.score >= 0.5) {
      base = at - static_cast<std::ptrdiff_t>(seg.start);
      if (!refined) r.offset = base;  // the first sure segment pins the start to the sample
      refined = true;
    }
    sum += m.score;
    r.min_score = std::min(r.min_score, m.score);
    r.segments.push_back(m);
  }
  if (r.segments.empty()) r.min_score = 0.0;
  r.mean_score = r.segments.empty() ? 0.0 : sum / static_cast<double>(r.segments.size());
  return r;
}

}  // namespace otpd::prompts
