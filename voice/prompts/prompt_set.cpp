#include "voice/prompts/prompt_set.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <system_error>

#include "voice/prompts/resample.hpp"
#include "voice/prompts/wav.hpp"

namespace otpd::prompts {
namespace {

constexpr std::array<std::string_view, clip_count> names = {
    "intro",   "digit_0", "digit_1", "digit_2", "digit_3", "digit_4", "digit_5",
    "digit_6", "digit_7", "digit_8", "digit_9", "repeat",  "goodbye"};

struct locale_texts {
  std::string_view locale;
  std::array<std::string_view, clip_count> texts;
};

// Digits as words, not as numerals: espeak-ng reads "4" fine, but a word pins the reading
// (no "four thousand ..." grouping) and lets a translator see what is said.
constexpr std::array<locale_texts, 2> builtin = {{
    {"en",
     {"Your verification code is", "zero", "one", "two", "three", "four", "five", "six", "seven",
      "eight", "nine", "I repeat", "Goodbye"}},
    {"vi",
     {"Mã xác thực của bạn là", "không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám",
      "chín", "Xin nhắc lại", "Xin cảm ơn, tạm biệt"}},
}};

bool plausible_name(std::string_view v) {
  if (v.empty() || v.size() > 32) return false;
  return std::all_of(v.begin(), v.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

double peak_of(std::span<const std::int16_t> s) {
  int p = 0;
  for (const auto v : s) p = std::max(p, std::abs(static_cast<int>(v)));
  return p;
}

std::size_t ms_to_samples(int ms) {
  return static_cast<std::size_t>(ms) * static_cast<std::size_t>(prompt_rate) / 1000;
}

bool valid_ms(int ms) { return ms >= 0 && ms <= 10'000; }

}  // namespace

std::string_view clip_name(clip c) noexcept {
  const auto i = static_cast<std::size_t>(c);
  return i < clip_count ? names[i] : std::string_view("unknown");
}

std::string_view clip_text(std::string_view locale, clip c) noexcept {
  const auto i = static_cast<std::size_t>(c);
  if (i >= clip_count) return {};
  for (const auto& l : builtin)
    if (l.locale == locale) return l.texts[i];
  return {};
}

std::pair<std::size_t, std::size_t> sound_bounds(std::span<const std::int16_t> s,
                                                 double threshold_dbfs, std::size_t margin) {
  const double threshold = 32768.0 * std::pow(10.0, threshold_dbfs / 20.0);
  constexpr std::size_t frame = prompt_rate / 200;  // 5 ms at 8 kHz; any rate works
  std::size_t first = s.size();
  std::size_t last = 0;
  for (std::size_t f = 0; f < s.size(); f += frame) {
    const std::size_t end = std::min(s.size(), f + frame);
    if (peak_of(s.subspan(f, end - f)) >= threshold) {
      first = std::min(first, f);
      last = end;
    }
  }
  if (first >= last) return {0, 0};
  return {first > margin ? first - margin : 0, std::min(s.size(), last + margin)};
}

void normalise_peak(std::vector<std::int16_t>& s, double peak_dbfs) {
  const double peak = peak_of(s);
  if (peak == 0) return;
  const double gain = 32767.0 * std::pow(10.0, peak_dbfs / 20.0) / peak;
  for (auto& v : s)
    v = static_cast<std::int16_t>(std::clamp(std::round(v * gain), -32768.0, 32767.0));
}

boost::system::error_code prompt_set::build(std::string_view locale, const prompt_set_options& opts,
                                            synthesizer& tts, prompt_set& out, build_error* where) {
  if (!plausible_name(locale) || opts.peak_dbfs < -40 || opts.peak_dbfs > 0 ||
      opts.silence_dbfs < -90 || opts.silence_dbfs > -6 || opts.trim_margin_ms < 0 ||
      opts.trim_margin_ms > 500 || tts.options().sample_rate != prompt_rate)
    return errc::invalid_argument;
  const std::string voice = opts.voice.empty() ? std::string(locale) : opts.voice;
  const std::size_t margin = ms_to_samples(opts.trim_margin_ms);

  prompt_set set;
  set.locale_ = std::string(locale);
  for (std::size_t i = 0; i < clip_count; ++i) {
    const auto c = static_cast<clip>(i);
    if (where) *where = build_error{c, {}};
    std::vector<std::int16_t> samples;
    bool recorded = false;
    if (!opts.recordings.empty()) {
      auto file = opts.recordings / std::string(locale) / (std::string(names[i]) + ".wav");
      std::error_code fs_ec;
      if (std::filesystem::exists(file, fs_ec)) {
        if (where) where->file = file;
        pcm_audio audio;
        if (auto ec = read_wav_file(file, audio)) return ec;
        if (audio.sample_rate < min_sample_rate || audio.sample_rate > max_sample_rate)
          return errc::unsupported_format;
        samples = resample(audio.samples, audio.sample_rate, prompt_rate);
        recorded = true;
      } else if (fs_ec) {
        if (where) where->file = file;
        return errc::file_unreadable;
      }
    }
    if (!recorded) {
      const std::string_view text = clip_text(locale, c);
      if (text.empty()) return errc::unknown_locale;
      if (auto ec = tts.speak(text, voice, samples)) return ec;
    }
    if (!recorded || opts.trim_recordings) {
      const auto [first, last] = sound_bounds(samples, opts.silence_dbfs, margin);
      samples.erase(samples.begin() + static_cast<std::ptrdiff_t>(last), samples.end());
      samples.erase(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(first));
    }
    if (peak_of(samples) == 0) return errc::empty_clip;
    if (!recorded || opts.normalise_recordings) normalise_peak(samples, opts.peak_dbfs);
    set.clips_[i] = std::move(samples);
    set.origins_[i] = recorded ? clip_origin::recorded : clip_origin::synthesised;
  }
  out = std::move(set);
  return {};
}

boost::system::error_code prompt_set::compose(std::string_view digits, int repeats,
                                              const compose_options& opts, prompt& out) const {
  if (digits.empty() || digits.size() > opts.max_digits || repeats < 1 || repeats > 5)
    return errc::invalid_argument;
  for (const int ms :
       {opts.lead_in_ms, opts.after_intro_ms, opts.digit_gap_ms, opts.before_repeat_ms,
        opts.after_repeat_ms, opts.before_goodbye_ms, opts.tail_ms})
    if (!valid_ms(ms)) return errc::invalid_argument;
  for (const char ch : digits)
    if (ch < '0' || ch > '9') return errc::invalid_digit;

  prompt p;
  auto silence = [&](int ms) { p.samples.resize(p.samples.size() + ms_to_samples(ms), 0); };
  auto play = [&](clip c) {
    const auto s = samples(c);
    p.segments.push_back(segment{c, p.samples.size(), s.size()});
    p.samples.insert(p.samples.end(), s.begin(), s.end());
  };
  auto read_code = [&] {
    for (std::size_t i = 0; i < digits.size(); ++i) {
      if (i > 0) silence(opts.digit_gap_ms);
      play(digit_clip(digits[i] - '0'));
    }
  };

  silence(opts.lead_in_ms);
  play(clip::intro);
  silence(opts.after_intro_ms);
  read_code();
  for (int r = 1; r < repeats; ++r) {
    silence(opts.before_repeat_ms);
    play(clip::repeat);
    silence(opts.after_repeat_ms);
    read_code();
  }
  silence(opts.before_goodbye_ms);
  play(clip::goodbye);
  silence(opts.tail_ms);
  out = std::move(p);
  return {};
}

}  // namespace otpd::prompts
