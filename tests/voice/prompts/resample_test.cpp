#include "voice/prompts/resample.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "test_util.hpp"

namespace otpd::prompts {
namespace {

using namespace test;

class resample_to_8k : public ::testing::TestWithParam<int> {};

TEST_P(resample_to_8k, keeps_1khz_and_rejects_6khz) {
  const int rate = GetParam();
  const double amplitude = 20000;
  const auto in = sine(1000, rate, 1.5, amplitude);
  const auto out = resample(in, rate, 8000);
  ASSERT_EQ(out.size(), (in.size() * 8000 + rate - 1) / rate);
  // Measure over 1 s in the middle (8000 samples = 1000 whole cycles), away from the edges.
  const double a = tone_amplitude(out, 1000, 8000, 2000, 8000);
  EXPECT_NEAR(db(a / amplitude), 0.0, 0.1) << rate;
  // All the energy is at 1 kHz: the residue (noise, aliases, other tones) is tiny.
  const double total = rms(out, 2000, 8000);
  EXPECT_NEAR(total, a / std::sqrt(2.0), amplitude * 1e-3);
  // Phase: zero-phase filter, so the output at t matches the input at t.
  const std::size_t n = 3200;  // an instant on both sample grids for every rate here
  EXPECT_NEAR(out[n], in[n * static_cast<std::size_t>(rate) / 8000], amplitude * 0.01);

  const auto hf = sine(6000, rate, 1.5, amplitude);
  const auto hf_out = resample(hf, rate, 8000);
  EXPECT_LT(db(rms(hf_out, 2000, 8000) / (amplitude / std::sqrt(2.0))), -40.0) << rate;
  // Just above the new Nyquist frequency is rejected too; the telephone band passes.
  const auto edge = resample(sine(4300, rate, 1.5, amplitude), rate, 8000);
  EXPECT_LT(db(rms(edge, 2000, 8000) / (amplitude / std::sqrt(2.0))), -40.0) << rate;
  const auto band = resample(sine(3300, rate, 1.5, amplitude), rate, 8000);
  EXPECT_NEAR(db(tone_amplitude(band, 3300, 8000, 2000, 8000) / amplitude), 0.0, 0.5) << rate;
}

INSTANTIATE_TEST_SUITE_P(rates, resample_to_8k,
                         ::testing::Values(48000, 44100, 22050, 16000, 11025));

TEST(resample, upsampling_keeps_the_tone) {
  const auto in = sine(1000, 8000, 1.0, 10000);
  const auto out = resample(in, 8000, 48000);
  ASSERT_EQ(out.size(), in.size() * 6);
  EXPECT_NEAR(db(tone_amplitude(out, 1000, 48000, 12000, 24000) / 10000), 0.0, 0.1);
}

TEST(resample, odd_rate_pairs_without_a_table) {
  // 44 101 / 8 000 share no factor: 8 000 phases, computed per sample.
  const auto in = sine(1000, 44101, 0.5, 10000);
  const auto out = resample(in, 44101, 8000);
  EXPECT_NEAR(db(tone_amplitude(out, 1000, 8000, 1000, 2000) / 10000), 0.0, 0.1);
}

TEST(resample, impulse_stays_in_place) {
  std::vector<std::int16_t> in(48000, 0);
  in[24000] = 30000;
  const auto out = resample(in, 48000, 8000);
  std::size_t peak = 0;
  for (std::size_t i = 0; i < out.size(); ++i)
    if (std::abs(out[i]) > std::abs(out[peak])) peak = i;
  EXPECT_EQ(peak, 4000u);
}

TEST(resample, edges_and_bad_rates) {
  const std::vector<std::int16_t> in = {1, 2, 3};
  EXPECT_EQ(resample(in, 8000, 8000), in);
  EXPECT_TRUE(resample({}, 48000, 8000).empty());
  EXPECT_TRUE(resample(in, 0, 8000).empty());
  EXPECT_TRUE(resample(in, 8000, -1).empty());
  EXPECT_TRUE(resample(in, 999, 8000).empty());
  EXPECT_TRUE(resample(in, 8000, 400000).empty());
  // Full-scale square waves overshoot after filtering (Gibbs): clipped, not wrapped.
  std::vector<std::int16_t> square(4800);
  for (std::size_t i = 0; i < square.size(); ++i) square[i] = (i / 24) % 2 ? 32767 : -32768;
  const auto sq = resample(square, 48000, 8000);
  // Mid-way through each half period (input 12 + 24 k = output 2 + 4 k) the sign is kept.
  for (std::size_t k = 10; k + 10 < 200; ++k) {
    EXPECT_EQ(sq[2 + 4 * k] > 0, square[12 + 24 * k] > 0) << k;
  }
  EXPECT_EQ(sq.size(), 800u);
}

}  // namespace
}  // namespace otpd::prompts
