#include "voice/prompts/synth.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

namespace otpd::prompts {
namespace {

using namespace test;

TEST(synth, speaks_english_and_vietnamese_at_8k) {
  synthesizer s;
  for (const auto& [text, voice] :
       {std::pair{"Your verification code is", "en"}, std::pair{"Mã xác thực của bạn là", "vi"}}) {
    std::vector<std::int16_t> out;
    ASSERT_FALSE(s.speak(text, voice, out)) << voice;
    const double seconds = double(out.size()) / 8000;
    EXPECT_GT(seconds, 0.8) << voice;
    EXPECT_LT(seconds, 6.0) << voice;
    EXPECT_GT(rms(out, 0, out.size()), 500.0) << voice;
  }
  EXPECT_EQ(s.synthesis_count(), 2u);
}

TEST(synth, slower_rate_is_longer) {
  synth_options slow_opts;
  slow_opts.words_per_minute = 100;
  synth_options fast_opts;
  fast_opts.words_per_minute = 300;
  synthesizer slow(slow_opts), fast(fast_opts);
  std::vector<std::int16_t> a, b;
  ASSERT_FALSE(slow.speak("one two three four five", "en", a));
  ASSERT_FALSE(fast.speak("one two three four five", "en", b));
  EXPECT_GT(double(a.size()), 1.8 * double(b.size()));
}

TEST(synth, other_output_rate) {
  synth_options o;
  o.sample_rate = 16000;
  synthesizer s(o);
  std::vector<std::int16_t> out;
  ASSERT_FALSE(s.speak("seven", "en", out));
  EXPECT_GT(out.size(), 16000u / 4);
}

TEST(synth, errors_are_codes) {
  synthesizer s;
  std::vector<std::int16_t> out;
  EXPECT_EQ(s.speak("hello", "xx-no-such-voice", out), errc::unknown_voice);
  EXPECT_EQ(s.speak("hello", "../../etc/passwd", out), errc::unknown_voice);
  EXPECT_EQ(s.speak("hello", "", out), errc::unknown_voice);
  EXPECT_EQ(s.speak("", "en", out), errc::invalid_argument);
  EXPECT_EQ(s.speak(std::string_view("a\0b", 3), "en", out), errc::invalid_argument);
  synth_options bad;
  bad.words_per_minute = 20;
  synthesizer b(bad);
  EXPECT_EQ(b.speak("hello", "en", out), errc::invalid_argument);
  // The engine still works after the errors.
  EXPECT_FALSE(s.speak("hello", "en", out));
}

TEST(synth, a_second_data_path_is_refused_once_started) {
  synthesizer s;
  std::vector<std::int16_t> out;
  ASSERT_FALSE(s.speak("hello", "en", out));
  synth_options other;
  other.data_path = "/nonexistent/espeak-ng-data";
  synthesizer t(other);
  EXPECT_EQ(t.speak("hello", "en", out), errc::tts_init_failed);
}

// Each in a fresh process, so that the engine is not yet started with the default data.
void expect_init_failure(const std::string& path) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        synth_options o;
        o.data_path = path;
        synthesizer s(o);
        std::vector<std::int16_t> out;
        const auto first = s.speak("hello", "en", out);
        const auto again = s.speak("hello", "en", out);
        std::exit(first == errc::tts_init_failed && again == errc::tts_init_failed ? 42 : 1);
      },
      ::testing::ExitedWithCode(42), "");
}

TEST(synth_death, missing_data_folder_is_an_error) {
  expect_init_failure("/nonexistent/espeak-ng-data");
}

TEST(synth_death, folder_without_data_is_an_error_not_an_exit) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("otpd_espeak_empty_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  expect_init_failure(dir.string());
  std::filesystem::remove_all(dir);
}

TEST(synth, concurrent_callers_are_serialised) {
  synthesizer s;
  std::vector<std::int16_t> reference;
  ASSERT_FALSE(s.speak("three", "en", reference));
  std::vector<std::vector<std::int16_t>> results(4);
  std::vector<boost::system::error_code> codes(4);
  {
    std::vector<std::jthread> threads;
    for (std::size_t i = 0; i < 4; ++i)
      threads.emplace_back([&, i] {
        synthesizer own;  // separate objects share the one engine
        codes[i] = own.speak("three", "en", results[i]);
      });
  }
  // espeak-ng adds a little randomness (pitch flutter), so runs are alike, not identical.
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_FALSE(codes[i]);
    EXPECT_NEAR(double(results[i].size()), double(reference.size()), 0.05 * reference.size());
    EXPECT_GT(rms(results[i], 0, results[i].size()), 0.5 * rms(reference, 0, reference.size()));
  }
}

}  // namespace
}  // namespace otpd::prompts
