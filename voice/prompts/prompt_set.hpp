// The clips a call plays, per locale, and the sample sequence for one code.
//
// A prompt_set is built once at start-up (docs/architecture.md §6): for each clip, a recorded WAV
// from <recordings>/<locale>/<clip>.wav when present (any format and rate read_wav takes, resampled
// to 8 kHz), otherwise espeak-ng speaking the locale's text. Synthesised clips have their leading
// and trailing silence trimmed; clips are normalised to one peak level so that recorded and
// synthesised ones sound equally loud. After build() a set is immutable: compose() is const,
// allocation-only and safe from any thread.
//
//   synthesizer tts;                       // shared by all locales
//   prompt_set vi;
//   if (auto ec = prompt_set::build("vi", opts, tts, vi)) ...;   // start-up error
//   prompt p;
//   if (auto ec = vi.compose("4821", 2, {}, p)) ...;            // errc::invalid_digit
//   // p.samples: 8 kHz mono, ready for G.711 (voice/media)
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/system/error_code.hpp>

#include "voice/prompts/error.hpp"
#include "voice/prompts/synth.hpp"

namespace otpd::prompts {

// The rate of every clip and prompt: G.711's (ITU-T G.711 §1).
inline constexpr int prompt_rate = 8000;

enum class clip : std::uint8_t {
  intro,  // "Your verification code is"
  digit_0,
  digit_1,
  digit_2,
  digit_3,
  digit_4,
  digit_5,
  digit_6,
  digit_7,
  digit_8,
  digit_9,
  repeat,   // "I repeat"
  goodbye,  // "Goodbye"
};
inline constexpr std::size_t clip_count = 13;

// "intro", "digit_0".."digit_9", "repeat", "goodbye": also the recording's file stem.
std::string_view clip_name(clip c) noexcept;

constexpr clip digit_clip(int d) noexcept {
  return static_cast<clip>(static_cast<int>(clip::digit_0) + d);
}

// The built-in text of a clip in a locale ("en", "vi"), or "" when there is none.
std::string_view clip_text(std::string_view locale, clip c) noexcept;

enum class clip_origin : std::uint8_t { recorded, synthesised };

struct prompt_set_options {
  std::filesystem::path recordings;  // folder with <locale>/<clip>.wav; empty = synthesise all
  std::string voice;                 // espeak-ng voice; empty = the locale name
  double peak_dbfs = -3.0;           // every clip's peak after normalisation, -40..0
  double silence_dbfs = -40.0;       // trimming threshold for synthesised clips, -90..-6
  int trim_margin_ms = 30;           // kept on each side of the sound when trimming, 0..500
  bool normalise_recordings = true;  // false: recordings play at the level they were made
  bool trim_recordings = false;      // true: trim recordings like synthesised clips
};

// Silences around the clips in a composed prompt, in milliseconds (0..10 000 each).
struct compose_options {
  int lead_in_ms = 300;          // before the intro: the callee's phone settles after answering
  int after_intro_ms = 700;      // intro -> first digit
  int digit_gap_ms = 600;        // between digits: slow enough to write down
  int before_repeat_ms = 1000;   // last digit -> "I repeat"
  int after_repeat_ms = 500;     // "I repeat" -> first digit again
  int before_goodbye_ms = 1000;  // last digit -> "Goodbye"
  int tail_ms = 300;             // after the goodbye, before BYE
  std::size_t max_digits = 12;   // longer codes are refused (errc::invalid_argument)
};

// One clip's place in a prompt.
struct segment {
  clip id = clip::intro;
  std::size_t start = 0;   // first sample
  std::size_t length = 0;  // samples
  std::string_view name() const noexcept { return clip_name(id); }
  friend bool operator==(const segment&, const segment&) = default;
};

struct prompt {
  int sample_rate = prompt_rate;
  std::vector<std::int16_t> samples;
  std::vector<segment> segments;  // in playing order; the gaps between them are silence
};

// Where build() failed.
struct build_error {
  clip which = clip::intro;
  std::filesystem::path file;  // the recording, when a recording was at fault
};

class prompt_set {
 public:
  // Loads or synthesises every clip of a locale (a name of letters, digits, '-' and '_').
  // Errors: errc::invalid_argument (options out of range, bad locale name, tts not at
  // prompt_rate), errc::unknown_locale (no built-in texts and a clip not recorded), the
  // read_wav_file errors of a recording that exists, the synthesizer's errors,
  // errc::empty_clip (silence). where, when given, names the clip. out is replaced on success.
  static boost::system::error_code build(std::string_view locale, const prompt_set_options& opts,
                                         synthesizer& tts, prompt_set& out,
                                         build_error* where = nullptr);

  const std::string& locale() const noexcept { return locale_; }
  std::span<const std::int16_t> samples(clip c) const noexcept {
    return clips_[static_cast<std::size_t>(c)];
  }
  clip_origin origin(clip c) const noexcept { return origins_[static_cast<std::size_t>(c)]; }

  // The prompt for a code: lead-in, intro, the digits, then (repeats - 1) times "I repeat" and
  // the digits again, then goodbye. repeats counts readings of the code: 2 reads it twice.
  // Errors: errc::invalid_digit (anything but '0'..'9'), errc::invalid_argument (empty or
  // longer than max_digits, repeats outside 1..5, silences out of range). out is replaced.
  boost::system::error_code compose(std::string_view digits, int repeats,
                                    const compose_options& opts, prompt& out) const;

 private:
  std::string locale_;
  std::array<std::vector<std::int16_t>, clip_count> clips_;
  std::array<clip_origin, clip_count> origins_{};
};

// Clip processing, exposed for tests and for tools that prepare recordings.
// The range [first, last) of s outside which every 5 ms frame peaks below threshold_dbfs,
// widened by margin samples; an empty range (0, 0) when nothing reaches the threshold.
std::pair<std::size_t, std::size_t> sound_bounds(std::span<const std::int16_t> s,
                                                 double threshold_dbfs, std::size_t margin);
// Scales s so that its peak is at peak_dbfs (no-op on silence).
void normalise_peak(std::vector<std::int16_t>& s, double peak_dbfs);

}  // namespace otpd::prompts
