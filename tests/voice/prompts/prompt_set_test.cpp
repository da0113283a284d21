#include "voice/prompts/prompt_set.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "voice/prompts/prompt_match.hpp"
#include "voice/prompts/wav.hpp"

namespace otpd::prompts {
namespace {

using namespace test;

// The en and vi sets, built once for the suite (as the daemon does at start-up).
class prompt_sets : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tts_ = std::make_unique<synthesizer>();
    for (const auto& [locale, set] : {std::pair{"en", &en_}, std::pair{"vi", &vi_}}) {
      const auto t0 = std::chrono::steady_clock::now();
      build_error where;
      const auto ec = prompt_set::build(locale, {}, *tts_, *set, &where);
      const auto ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0);
      ASSERT_FALSE(ec) << locale << ": " << ec.message() << " at " << clip_name(where.which);
      std::cout << "[ timing   ] prompt_set::build(\"" << locale << "\"): " << ms.count()
                << " ms\n";
    }
  }
  static void TearDownTestSuite() { tts_.reset(); }

  static std::unique_ptr<synthesizer> tts_;
  static prompt_set en_, vi_;
};
std::unique_ptr<synthesizer> prompt_sets::tts_;
prompt_set prompt_sets::en_;
prompt_set prompt_sets::vi_;

constexpr double target_peak = 32767.0 * 0.70794578;  // -3 dBFS

double peak(std::span<const std::int16_t> s) {
  int p = 0;
  for (const auto v : s) p = std::max(p, std::abs(int(v)));
  return p;
}

TEST_F(prompt_sets, every_clip_is_synthesised_trimmed_and_normalised) {
  EXPECT_EQ(tts_->synthesis_count(), 2 * clip_count);
  for (const auto* set : {&en_, &vi_}) {
    for (std::size_t i = 0; i < clip_count; ++i) {
      const auto c = static_cast<clip>(i);
      const auto s = set->samples(c);
      EXPECT_EQ(set->origin(c), clip_origin::synthesised);
      EXPECT_NEAR(peak(s), target_peak, 1.0) << set->locale() << " " << clip_name(c);
      EXPECT_GT(s.size(), 1200u) << set->locale() << " " << clip_name(c);  // > 150 ms
      EXPECT_LT(s.size(), 5u * 8000) << set->locale() << " " << clip_name(c);
      // Trimmed: within the 30 ms margin plus one 5 ms frame, there is sound.
      const auto [first, last] = sound_bounds(s, -40.0, 0);
      EXPECT_LE(first, 280u) << set->locale() << " " << clip_name(c);
      EXPECT_GE(last + 280u, s.size()) << set->locale() << " " << clip_name(c);
      EXPECT_GT(rms(s, 0, s.size()), 1000.0);
    }
  }
  EXPECT_EQ(en_.locale(), "en");
}

TEST_F(prompt_sets, compose_4821_lays_out_the_segments) {
  prompt p;
  const compose_options o;
  const std::size_t before = tts_->synthesis_count();
  ASSERT_FALSE(en_.compose("4821", 2, o, p));
  EXPECT_EQ(tts_->synthesis_count(), before);  // cached: composing never synthesises

  const std::vector<clip> order = {clip::intro,   clip::digit_4, clip::digit_8, clip::digit_2,
                                   clip::digit_1, clip::repeat,  clip::digit_4, clip::digit_8,
                                   clip::digit_2, clip::digit_1, clip::goodbye};
  // The silence before each clip, in ms.
  const std::vector<int> gap_before = {300, 700, 600, 600, 600, 1000, 500, 600, 600, 600, 1000};
  ASSERT_EQ(p.segments.size(), order.size());
  EXPECT_EQ(p.sample_rate, 8000);
  std::size_t at = 0;
  for (std::size_t i = 0; i < order.size(); ++i) {
    at += static_cast<std::size_t>(gap_before[i]) * 8;
    const auto s = en_.samples(order[i]);
    EXPECT_EQ(p.segments[i], (segment{order[i], at, s.size()})) << i;
    EXPECT_EQ(p.segments[i].name(), clip_name(order[i]));
    ASSERT_TRUE(std::equal(s.begin(), s.end(), p.samples.begin() + std::ptrdiff_t(at))) << i;
    // Silence before the clip.
    const std::size_t gap_start = at - static_cast<std::size_t>(gap_before[i]) * 8;
    for (std::size_t k = gap_start; k < at; ++k) ASSERT_EQ(p.samples[k], 0) << i;
    at += s.size();
  }
  EXPECT_EQ(p.samples.size(), at + 300 * 8);
  EXPECT_EQ(p.segments[1].name(), "digit_4");
  EXPECT_EQ(p.segments.back().name(), "goodbye");
}

TEST_F(prompt_sets, repeats_and_custom_gaps) {
  compose_options o;
  o.digit_gap_ms = 1000;
  o.lead_in_ms = 0;
  prompt once, thrice;
  ASSERT_FALSE(vi_.compose("09", 1, o, once));
  ASSERT_EQ(once.segments.size(), 4u);
  EXPECT_EQ(once.segments[0].start, 0u);
  EXPECT_EQ(once.segments[2].start,
            once.segments[1].start + once.segments[1].length + 8000);  // 1 s between digits
  EXPECT_EQ(once.segments[3].id, clip::goodbye);
  ASSERT_FALSE(vi_.compose("09", 3, o, thrice));
  std::size_t repeats = 0;
  for (const auto& s : thrice.segments) repeats += s.id == clip::repeat;
  EXPECT_EQ(repeats, 2u);
  EXPECT_EQ(thrice.segments.size(), 10u);
}

TEST_F(prompt_sets, compose_rejects_bad_input) {
  prompt p;
  p.samples = {1, 2, 3};
  const compose_options o;
  EXPECT_EQ(en_.compose("48a1", 2, o, p), errc::invalid_digit);
  EXPECT_EQ(en_.compose("48 21", 2, o, p), errc::invalid_digit);
  EXPECT_EQ(en_.compose("\xEF\xBC\x94", 2, o, p), errc::invalid_digit);  // fullwidth 4
  EXPECT_EQ(en_.compose("-1", 2, o, p), errc::invalid_digit);
  EXPECT_EQ(en_.compose("", 2, o, p), errc::invalid_argument);
  EXPECT_EQ(en_.compose("1234567890123", 2, o, p), errc::invalid_argument);
  EXPECT_EQ(en_.compose("1234", 0, o, p), errc::invalid_argument);
  EXPECT_EQ(en_.compose("1234", 6, o, p), errc::invalid_argument);
  compose_options bad;
  bad.digit_gap_ms = -1;
  EXPECT_EQ(en_.compose("1234", 2, bad, p), errc::invalid_argument);
  EXPECT_EQ(p.samples, (std::vector<std::int16_t>{1, 2, 3}));  // untouched on error
}

TEST_F(prompt_sets, digits_are_distinct_from_each_other) {
  for (const auto* set : {&en_, &vi_}) {
    double worst_other = 0;
    for (int a = 0; a < 10; ++a) {
      const auto sa = set->samples(digit_clip(a));
      EXPECT_NEAR(max_normalised_correlation(sa, sa, -200, 200), 1.0, 1e-9);
      for (int b = a + 1; b < 10; ++b) {
        const auto sb = set->samples(digit_clip(b));
        const double c = max_normalised_correlation(sa, sb, -400, 400);
        worst_other = std::max(worst_other, c);
        // Same vowel, same voice (vi "hai" / "ba") correlate up to ~0.75; a clip with itself is 1.
        EXPECT_LT(c, 0.85) << set->locale() << " digits " << a << " and " << b;
      }
    }
    std::cout << "[ info     ] " << set->locale()
              << ": highest correlation between different digits " << worst_other << "\n";
  }
}

TEST_F(prompt_sets, english_and_vietnamese_differ) {
  for (int d = 0; d < 10; ++d)
    EXPECT_LT(max_normalised_correlation(en_.samples(digit_clip(d)), vi_.samples(digit_clip(d)),
                                         -400, 400),
              0.6)
        << d;
}

class temp_dir {
 public:
  temp_dir() {
    static int n = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("otpd_prompts_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

TEST(prompt_set, a_recording_overrides_the_synthesised_clip) {
  temp_dir dir;
  std::filesystem::create_directories(dir.path() / "en");
  // 0.3 s of 440 Hz at 44.1 kHz, quiet: resampled to 8 kHz and normalised.
  const auto tone = sine(440, 44100, 0.3, 3000);
  ASSERT_FALSE(write_wav_file(dir.path() / "en" / "digit_5.wav", tone, 44100));
  synthesizer tts;
  prompt_set_options o;
  o.recordings = dir.path();
  prompt_set set;
  ASSERT_FALSE(prompt_set::build("en", o, tts, set));
  EXPECT_EQ(tts.synthesis_count(), clip_count - 1);
  EXPECT_EQ(set.origin(clip::digit_5), clip_origin::recorded);
  EXPECT_EQ(set.origin(clip::digit_4), clip_origin::synthesised);
  const auto s = set.samples(clip::digit_5);
  EXPECT_EQ(s.size(), 2400u);  // not trimmed
  EXPECT_NEAR(peak(s), target_peak, 40.0);
  EXPECT_NEAR(tone_amplitude(s, 440, 8000, 400, 1600), target_peak, 0.03 * target_peak);

  prompt p;
  ASSERT_FALSE(set.compose("55", 1, {}, p));
  EXPECT_EQ(p.segments[1].length, 2400u);
  EXPECT_TRUE(
      std::equal(s.begin(), s.end(), p.samples.begin() + std::ptrdiff_t(p.segments[1].start)));

  // The other locale has no folder: all synthesised.
  prompt_set vi;
  ASSERT_FALSE(prompt_set::build("vi", o, tts, vi));
  EXPECT_EQ(vi.origin(clip::digit_5), clip_origin::synthesised);
}

TEST(prompt_set, recordings_can_keep_their_level_and_be_trimmed) {
  temp_dir dir;
  std::filesystem::create_directories(dir.path() / "en");
  std::vector<std::int16_t> s(8000, 0);
  const auto tone = sine(440, 8000, 0.25, 3000);
  std::copy(tone.begin(), tone.end(), s.begin() + 4000);
  ASSERT_FALSE(write_wav_file(dir.path() / "en" / "goodbye.wav", s, 8000));
  synthesizer tts;
  prompt_set_options o;
  o.recordings = dir.path();
  o.normalise_recordings = false;
  o.trim_recordings = true;
  prompt_set set;
  ASSERT_FALSE(prompt_set::build("en", o, tts, set));
  EXPECT_NEAR(peak(set.samples(clip::goodbye)), 3000, 1);
  EXPECT_EQ(set.samples(clip::goodbye).size(), 2000u + 2 * 240u);  // tone + 30 ms each side
}

TEST(prompt_set, a_locale_without_texts_needs_every_recording) {
  temp_dir dir;
  std::filesystem::create_directories(dir.path() / "xx");
  synthesizer tts;
  prompt_set_options o;
  o.recordings = dir.path();
  prompt_set set;
  build_error where;
  EXPECT_EQ(prompt_set::build("xx", o, tts, set, &where), errc::unknown_locale);
  EXPECT_EQ(where.which, clip::intro);
  for (std::size_t i = 0; i < clip_count; ++i)
    ASSERT_FALSE(write_wav_file(dir.path() / "xx" / (std::string(clip_name(clip(i))) + ".wav"),
                                sine(300.0 + 50.0 * double(i), 16000, 0.2, 8000), 16000));
  ASSERT_FALSE(prompt_set::build("xx", o, tts, set, &where));
  EXPECT_EQ(tts.synthesis_count(), 0u);
  prompt p;
  EXPECT_FALSE(set.compose("123", 2, {}, p));
}

TEST(prompt_set, build_errors_name_the_clip) {
  temp_dir dir;
  std::filesystem::create_directories(dir.path() / "en");
  { std::ofstream(dir.path() / "en" / "repeat.wav") << "not a wav file"; }
  synthesizer tts;
  prompt_set_options o;
  o.recordings = dir.path();
  prompt_set set;
  build_error where;
  EXPECT_EQ(prompt_set::build("en", o, tts, set, &where), errc::not_riff);
  EXPECT_EQ(where.which, clip::repeat);
  EXPECT_EQ(where.file, dir.path() / "en" / "repeat.wav");

  // A silent recording.
  std::filesystem::remove(dir.path() / "en" / "repeat.wav");
  ASSERT_FALSE(
      write_wav_file(dir.path() / "en" / "intro.wav", std::vector<std::int16_t>(800, 0), 8000));
  EXPECT_EQ(prompt_set::build("en", o, tts, set, &where), errc::empty_clip);
  EXPECT_EQ(where.which, clip::intro);

  EXPECT_EQ(prompt_set::build("../en", {}, tts, set), errc::invalid_argument);
  EXPECT_EQ(prompt_set::build("", {}, tts, set), errc::invalid_argument);
  prompt_set_options loud;
  loud.peak_dbfs = 3;
  EXPECT_EQ(prompt_set::build("en", loud, tts, set), errc::invalid_argument);
  prompt_set_options bad_voice;
  bad_voice.voice = "no-such-voice";
  EXPECT_EQ(prompt_set::build("en", bad_voice, tts, set, &where), errc::unknown_voice);
  synth_options wideband;
  wideband.sample_rate = 16000;
  synthesizer tts16(wideband);
  EXPECT_EQ(prompt_set::build("en", {}, tts16, set), errc::invalid_argument);
}

TEST(clip_processing, sound_bounds_and_normalise) {
  std::vector<std::int16_t> s(800, 0);
  s[400] = 1000;
  s[3] = 10;  // below -40 dBFS (328)
  const auto [first, last] = sound_bounds(s, -40.0, 8);
  EXPECT_EQ(first, 400u - 8);
  EXPECT_EQ(last, 440u + 8);
  EXPECT_EQ(sound_bounds(std::vector<std::int16_t>(100, 5), -40.0, 8),
            (std::pair<std::size_t, std::size_t>{0, 0}));
  EXPECT_EQ(sound_bounds({}, -40.0, 8), (std::pair<std::size_t, std::size_t>{0, 0}));
  normalise_peak(s, -6.0);
  EXPECT_NEAR(s[400], 32767 * 0.501187, 1);
  EXPECT_NEAR(s[3], 32767 * 0.501187 / 100, 1);
  std::vector<std::int16_t> quiet(10, 0);
  normalise_peak(quiet, -3.0);
  EXPECT_EQ(quiet, std::vector<std::int16_t>(10, 0));
  EXPECT_EQ(clip_text("vi", clip::digit_4), "bốn");
  EXPECT_EQ(clip_text("en", clip::repeat), "I repeat");
  EXPECT_EQ(clip_text("fr", clip::intro), "");
}

}  // namespace
}  // namespace otpd::prompts
