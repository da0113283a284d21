#include "voice/prompts/prompt_match.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <memory>
#include <random>
#include <vector>

#include "test_util.hpp"

namespace otpd::prompts {
namespace {

using namespace test;

// ITU-T G.711 mu-law (the classic Sun reference algorithm), local to this test: the real codec
// lives in voice/media.
std::uint8_t mulaw_encode(std::int16_t pcm) {
  constexpr int bias = 0x84, clip_level = 32635;
  int s = pcm;
  const int sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  s = std::min(s, clip_level) + bias;
  int exponent = 7;
  for (int mask = 0x4000; (s & mask) == 0 && exponent > 0; mask >>= 1) --exponent;
  const int mantissa = (s >> (exponent + 3)) & 0x0F;
  return static_cast<std::uint8_t>(~(sign | (exponent << 4) | mantissa));
}
std::int16_t mulaw_decode(std::uint8_t u) {
  u = static_cast<std::uint8_t>(~u);
  const int exponent = (u >> 4) & 0x07;
  const int mantissa = u & 0x0F;
  const int magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return static_cast<std::int16_t>(u & 0x80 ? -magnitude : magnitude);
}

TEST(mulaw_helper, round_trip_is_close) {
  for (int v = -32768; v <= 32767; v += 7) {
    const int back = mulaw_decode(mulaw_encode(static_cast<std::int16_t>(v)));
    EXPECT_LE(std::abs(back - std::clamp(v, -32635, 32635)), std::max(8, std::abs(v) / 16)) << v;
  }
}

// What a phone call does to a prompt: a random answering delay of noise, mu-law, a short gap
// (a lost packet concealed as silence) before the second reading, background noise.
struct channel_result {
  std::vector<std::int16_t> samples;
  std::size_t delay = 0;
  std::size_t gap_at = 0;
  std::size_t gap = 0;
};
channel_result through_a_call(const prompt& p, std::mt19937& rng) {
  channel_result r;
  r.delay = std::uniform_int_distribution<std::size_t>(2000, 24000)(rng);
  r.gap = 160;  // 20 ms: one RTP packet
  // Just before "I repeat".
  for (const auto& s : p.segments)
    if (s.id == clip::repeat) r.gap_at = s.start - 400;
  std::normal_distribution<double> noise(0.0, 300.0);  // about -40 dBFS
  auto push = [&](double v) {
    v += noise(rng);
    r.samples.push_back(
        mulaw_decode(mulaw_encode(static_cast<std::int16_t>(std::clamp(v, -32768.0, 32767.0)))));
  };
  for (std::size_t i = 0; i < r.delay; ++i) push(0);
  for (std::size_t i = 0; i < p.samples.size(); ++i) {
    if (i == r.gap_at)
      for (std::size_t k = 0; k < r.gap; ++k) push(0);
    push(p.samples[i] * 0.7);  // the far end is a little quieter
  }
  for (std::size_t i = 0; i < 4000; ++i) push(0);
  return r;
}

class prompt_matching : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tts_ = std::make_unique<synthesizer>();
    ASSERT_FALSE(prompt_set::build("en", {}, *tts_, en_));
    ASSERT_FALSE(prompt_set::build("vi", {}, *tts_, vi_));
  }
  static void TearDownTestSuite() { tts_.reset(); }
  static std::unique_ptr<synthesizer> tts_;
  static prompt_set en_, vi_;
};
std::unique_ptr<synthesizer> prompt_matching::tts_;
prompt_set prompt_matching::en_;
prompt_set prompt_matching::vi_;

TEST_F(prompt_matching, the_right_code_scores_clearly_higher_than_a_wrong_one) {
  std::mt19937 rng(2024);
  for (const auto* set : {&en_, &vi_}) {
    prompt sent, right, wrong;
    ASSERT_FALSE(set->compose("4821", 2, {}, sent));
    right = sent;
    ASSERT_FALSE(set->compose("4822", 2, {}, wrong));
    const auto call = through_a_call(sent, rng);

    const auto good = match_prompt(call.samples, right);
    const auto bad = match_prompt(call.samples, wrong);
    std::cout << "[ info     ] " << set->locale() << ": right min " << good.min_score << " mean "
              << good.mean_score << ", wrong min " << bad.min_score << " mean " << bad.mean_score
              << "\n";
    EXPECT_NEAR(double(good.offset), double(call.delay), 2.0);
    EXPECT_GT(good.min_score, 0.85) << set->locale();
    EXPECT_LT(bad.min_score, good.min_score - 0.3) << set->locale();
    // Segment by segment: found where they were put, the gap included.
    ASSERT_EQ(good.segments.size(), sent.segments.size());
    for (const auto& m : good.segments) {
      const std::size_t shift = call.delay + (m.expected.start > call.gap_at ? call.gap : 0);
      EXPECT_NEAR(double(m.at), double(m.expected.start + shift), 2.0) << m.expected.name();
    }
    // The wrong code differs in its two last digits only (one per reading): those score low.
    ASSERT_EQ(bad.segments.size(), 11u);
    EXPECT_LT(bad.segments[4].score, 0.6);
    EXPECT_LT(bad.segments[9].score, 0.6);
    EXPECT_GT(bad.segments[3].score, 0.85);
  }
}

TEST_F(prompt_matching, another_locale_does_not_match) {
  std::mt19937 rng(7);
  prompt vi_p, en_p;
  ASSERT_FALSE(vi_.compose("4821", 2, {}, vi_p));
  ASSERT_FALSE(en_.compose("4821", 2, {}, en_p));
  const auto call = through_a_call(vi_p, rng);
  EXPECT_LT(match_prompt(call.samples, en_p).min_score, 0.5);
}

TEST_F(prompt_matching, silence_and_empty_input_score_zero) {
  prompt p;
  ASSERT_FALSE(en_.compose("12", 1, {}, p));
  const auto none = match_prompt({}, p);
  EXPECT_EQ(none.min_score, 0.0);
  EXPECT_EQ(none.segments.size(), p.segments.size());
  const std::vector<std::int16_t> quiet(50000, 0);
  EXPECT_EQ(match_prompt(quiet, p).min_score, 0.0);
  EXPECT_EQ(match_prompt(quiet, prompt{}).segments.size(), 0u);
}

TEST(prompt_start, finds_a_burst_pattern_to_the_frame) {
  // Bursts of tone and silence of different lengths (an envelope with a shape), placed 1234
  // samples into a recording: found at the frame that holds it.
  std::vector<std::int16_t> pattern;
  for (const std::size_t burst : {800u, 240u, 1600u, 400u}) {
    const auto tone = sine(440, 8000, static_cast<double>(burst) / 8000, 10000);
    pattern.insert(pattern.end(), tone.begin(), tone.end());
    pattern.insert(pattern.end(), 480, 0);
  }
  std::vector<std::int16_t> recording(1234, 0);
  recording.insert(recording.end(), pattern.begin(), pattern.end());
  recording.insert(recording.end(), 4000, 0);
  const std::ptrdiff_t at = find_prompt_start(recording, pattern);
  EXPECT_EQ(at % 80, 0);
  EXPECT_NEAR(double(at), 1234.0, 80.0);
  // Not further than max_delay, and 0 for input shorter than a frame.
  match_options near;
  near.max_delay = 800;
  EXPECT_LE(find_prompt_start(recording, pattern, near), 800);
  EXPECT_EQ(find_prompt_start(std::vector<std::int16_t>(79, 1), pattern), 0);
  EXPECT_EQ(find_prompt_start(recording, std::vector<std::int16_t>(79, 1)), 0);
}

TEST(normalised_correlation, finds_the_lag) {
  const auto a = sine(317, 8000, 0.1, 10000);
  std::vector<std::int16_t> b(a.begin() + 37, a.begin() + 437);
  std::ptrdiff_t lag = 0;
  EXPECT_NEAR(max_normalised_correlation(a, b, 0, 200, &lag), 1.0, 1e-6);
  EXPECT_EQ(lag, 37);
  EXPECT_EQ(max_normalised_correlation(a, std::vector<std::int16_t>(10, 0), 0, 10), 0.0);
  EXPECT_EQ(max_normalised_correlation({}, b, 0, 10), 0.0);
  // b cut off by the end of a: penalised, not inflated.
  EXPECT_LT(max_normalised_correlation(std::span(a).first(100), b, 63, 63), 0.5);
}

}  // namespace
}  // namespace otpd::prompts
