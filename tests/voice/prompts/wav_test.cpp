#include "voice/prompts/wav.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace otpd::prompts {
namespace {

using namespace test;

std::vector<std::int16_t> ramp_signal() {
  // Full-scale-ish, both signs, plus the extremes a converter might clip wrongly.
  std::vector<std::int16_t> s = sine(440, 8000, 0.05, 30000);
  s.push_back(32767);
  s.push_back(-32768);
  s.push_back(0);
  return s;
}

TEST(wav, write_then_read_round_trips) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> d(-32768, 32767);
  std::vector<std::int16_t> s(1001);
  for (auto& x : s) x = static_cast<std::int16_t>(d(rng));
  const std::string bytes = write_wav(s, 22050);
  EXPECT_EQ(bytes.size(), 44u + 2 * s.size());
  pcm_audio a;
  wav_format f;
  ASSERT_FALSE(read_wav(bytes, a, &f));
  EXPECT_EQ(a.sample_rate, 22050);
  EXPECT_EQ(a.samples, s);
  EXPECT_EQ(f.channels, 1);
  EXPECT_EQ(f.bits_per_sample, 16);
  EXPECT_EQ(f.format_tag, wave_format_pcm);
}

TEST(wav, empty_data_is_valid) {
  pcm_audio a;
  ASSERT_FALSE(read_wav(write_wav({}, 8000), a));
  EXPECT_TRUE(a.samples.empty());
}

struct format_case {
  unsigned tag;
  unsigned bits;
  bool extensible;
  double tolerance;  // on the int16 scale
};

class wav_formats : public ::testing::TestWithParam<format_case> {};

TEST_P(wav_formats, decodes_mono_and_mixes_down_channels) {
  const auto [tag, bits, extensible, tolerance] = GetParam();
  const auto s = ramp_signal();
  for (unsigned channels : {1u, 2u, 3u, 6u}) {
    std::string data;
    for (const auto v : s)
      for (unsigned c = 0; c < channels; ++c) {
        // 1: s; 2: (s, s); 3: (1.5 s, 1.5 s, 0); 6: (2 s, 0, 2 s, 0, 2 s, 0), clipped.
        double x = v;
        if (channels == 3) x = c == 2 ? 0.0 : v * 1.5;
        if (channels == 6) x = c % 2 == 0 ? v * 2.0 : 0.0;
        x = std::clamp(x, -32768.0, 32767.0);
        put_sample(data, tag, bits, x);
      }
    const std::string file =
        riff(chunk("fmt ", fmt_body(tag, channels, 44100, bits, extensible)) + chunk("data", data));
    pcm_audio a;
    wav_format f;
    ASSERT_FALSE(read_wav(file, a, &f)) << channels;
    EXPECT_EQ(f.channels, channels);
    EXPECT_EQ(f.format_tag, tag);
    EXPECT_EQ(f.extensible, extensible);
    EXPECT_EQ(a.sample_rate, 44100);
    ASSERT_EQ(a.samples.size(), s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
      double want = s[i];
      // Mixed channels were clipped before averaging where 1.5 x / 2 x overflowed.
      if (channels == 3) want = std::clamp(s[i] * 1.5, -32768.0, 32767.0) * 2 / 3;
      if (channels == 6) want = std::clamp(s[i] * 2.0, -32768.0, 32767.0) / 2;
      ASSERT_NEAR(a.samples[i], want, tolerance + (channels > 2 ? 1.0 : 0.0))
          << "channels " << channels << " sample " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    all, wav_formats,
    ::testing::Values(format_case{1, 8, false, 256}, format_case{1, 16, false, 0},
                      format_case{1, 24, false, 0.5}, format_case{1, 32, false, 0.5},
                      format_case{3, 32, false, 1}, format_case{3, 64, false, 1},
                      format_case{1, 16, true, 0}, format_case{1, 24, true, 0.5},
                      format_case{1, 32, true, 0.5}, format_case{3, 32, true, 1}));

TEST(wav, float_out_of_range_and_nan_do_not_overflow) {
  std::string data;
  for (const float f : {2.0f, -2.0f, std::nanf(""), 1.0f, -1.0f}) {
    std::uint32_t u;
    std::memcpy(&u, &f, 4);
    put32(data, u);
  }
  pcm_audio a;
  ASSERT_FALSE(read_wav(riff(chunk("fmt ", fmt_body(3, 1, 8000, 32)) + chunk("data", data)), a));
  EXPECT_EQ(a.samples, (std::vector<std::int16_t>{32767, -32768, 0, 32767, -32768}));
}

TEST(wav, skips_unknown_chunks_and_odd_padding) {
  const std::vector<std::int16_t> s = {1, -2, 3, -4, 5};
  std::string data;
  for (const auto v : s) put_sample(data, 1, 16, v);
  const std::string file = riff(chunk("LIST", "abc") + chunk("fmt ", fmt_body(1, 1, 16000, 16)) +
                                chunk("fact", "x") + chunk("data", data) + chunk("junk", "12345"));
  pcm_audio a;
  ASSERT_FALSE(read_wav(file, a));
  EXPECT_EQ(a.samples, s);
  EXPECT_EQ(a.sample_rate, 16000);
  // The final chunk's pad byte is often missing: accepted.
  ASSERT_FALSE(read_wav(file.substr(0, file.size() - 1), a));
  EXPECT_EQ(a.samples, s);
}

TEST(wav, eight_bit_odd_data_chunk_is_padded) {
  std::string data = {char(0x80), char(0xFF), char(0x00)};
  const std::string file =
      riff(chunk("fmt ", fmt_body(1, 1, 8000, 8)) + chunk("data", data) + chunk("LIST", "ab"));
  pcm_audio a;
  ASSERT_FALSE(read_wav(file, a));
  EXPECT_EQ(a.samples, (std::vector<std::int16_t>{0, 127 * 256, -128 * 256}));
}

TEST(wav, streaming_data_size_means_rest_of_file) {
  std::string file = write_wav(std::vector<std::int16_t>{10, 20, 30}, 8000);
  for (int i = 40; i < 44; ++i) file[static_cast<std::size_t>(i)] = char(0xFF);
  pcm_audio a;
  ASSERT_FALSE(read_wav(file, a));
  EXPECT_EQ(a.samples, (std::vector<std::int16_t>{10, 20, 30}));
}

TEST(wav, partial_last_frame_is_dropped) {
  std::string data;
  for (const int v : {100, 200, 300}) put_sample(data, 1, 16, v);
  pcm_audio a;
  ASSERT_FALSE(read_wav(riff(chunk("fmt ", fmt_body(1, 2, 8000, 16)) + chunk("data", data)), a));
  EXPECT_EQ(a.samples, (std::vector<std::int16_t>{150}));
}

TEST(wav, named_errors) {
  pcm_audio a;
  const std::string ok_data = chunk("data", std::string(4, '\0'));
  EXPECT_EQ(read_wav("", a), errc::truncated);
  EXPECT_EQ(read_wav("RIFF", a), errc::truncated);
  EXPECT_EQ(read_wav("RIFX\0\0\0\0WAVE", a), errc::not_riff);
  EXPECT_EQ(read_wav(std::string("RIFF\0\0\0\0AVI ", 12), a), errc::not_riff);
  EXPECT_EQ(read_wav("<html>hello</html>", a), errc::not_riff);
  EXPECT_EQ(read_wav(riff(ok_data), a), errc::missing_fmt_chunk);
  EXPECT_EQ(read_wav(riff(chunk("fmt ", fmt_body(1, 1, 8000, 16))), a), errc::missing_data_chunk);
  EXPECT_EQ(read_wav(riff(chunk("fmt ", fmt_body(2, 1, 8000, 4)) + ok_data), a),
            errc::unsupported_format);  // MS ADPCM
  EXPECT_EQ(read_wav(riff(chunk("fmt ", fmt_body(6, 1, 8000, 8)) + ok_data), a),
            errc::unsupported_format);  // A-law
  EXPECT_EQ(read_wav(riff(chunk("fmt ", fmt_body(1, 1, 8000, 12)) + ok_data), a),
            errc::unsupported_format);
  EXPECT_EQ(read_wav(riff(chunk("fmt ", fmt_body(3, 1, 8000, 16)) + ok_data), a),
            errc::unsupported_format);
  EXPECT_EQ(read_wav(riff(chunk("fmt ", fmt_body(1, 0, 8000, 16)) + ok_data), a),
            errc::invalid_format);
  EXPECT_EQ(read_wav(riff(chunk("fmt ", fmt_body(1, 1, 0, 16)) + ok_data), a),
            errc::invalid_format);
  std::string bad_align = fmt_body(1, 2, 8000, 16);
  bad_align[12] = 3;
  EXPECT_EQ(read_wav(riff(chunk("fmt ", bad_align) + ok_data), a), errc::invalid_format);
  EXPECT_EQ(read_wav(riff(chunk("fmt ", fmt_body(1, 1, 8000, 16).substr(0, 14)) + ok_data), a),
            errc::invalid_format);
  std::string bad_guid = fmt_body(1, 1, 8000, 16, true);
  bad_guid.back() = 0;
  EXPECT_EQ(read_wav(riff(chunk("fmt ", bad_guid) + ok_data), a), errc::unsupported_format);
  EXPECT_EQ(
      read_wav(riff(chunk("fmt ", fmt_body(1, 1, 8000, 16, true).substr(0, 30)) + ok_data), a),
      errc::invalid_format);
  EXPECT_EQ(make_error_code(errc::truncated).category().name(), std::string("otpd.voice.prompts"));
  EXPECT_FALSE(make_error_code(errc::unsupported_format).message().empty());
}

TEST(wav, every_truncation_is_an_error) {
  std::string data;
  for (const auto v : ramp_signal()) put_sample(data, 1, 24, v);
  for (const bool extensible : {false, true}) {
    const std::string file =
        riff(chunk("LIST", "odd") + chunk("fmt ", fmt_body(1, 1, 8000, 24, extensible)) +
             chunk("data", data.substr(0, 60)));
    pcm_audio a;
    ASSERT_FALSE(read_wav(file, a));
    for (std::size_t n = 0; n < file.size(); ++n) {
      const auto ec = read_wav(std::string_view(file).substr(0, n), a);
      EXPECT_TRUE(ec) << "prefix of " << n << " bytes decoded";
    }
  }
}

TEST(wav, garbage_never_crashes) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> byte(0, 255);
  const std::string good =
      riff(chunk("fmt ", fmt_body(3, 2, 48000, 32, true)) + chunk("data", std::string(64, '\x11')));
  pcm_audio a;
  for (int round = 0; round < 20000; ++round) {
    std::string s = good;
    // Flip a few bytes in the headers (where the parser makes decisions).
    const int flips = 1 + byte(rng) % 4;
    for (int i = 0; i < flips; ++i) s[static_cast<std::size_t>(byte(rng) % 80)] = char(byte(rng));
    s.resize(static_cast<std::size_t>(byte(rng)) % (s.size() + 1));
    (void)read_wav(s, a);
  }
  for (int round = 0; round < 2000; ++round) {
    std::string s(static_cast<std::size_t>(byte(rng)), '\0');
    for (auto& c : s) c = char(byte(rng));
    if (s.size() >= 12 && round % 2) s.replace(0, 4, "RIFF"), s.replace(8, 4, "WAVE");
    (void)read_wav(s, a);
  }
  SUCCEED();
}

TEST(wav, file_round_trip_and_missing_file) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("otpd_wav_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto s = ramp_signal();
  ASSERT_FALSE(write_wav_file(dir / "a.wav", s, 48000));
  pcm_audio a;
  ASSERT_FALSE(read_wav_file(dir / "a.wav", a));
  EXPECT_EQ(a.samples, s);
  EXPECT_EQ(a.sample_rate, 48000);
  EXPECT_EQ(read_wav_file(dir / "missing.wav", a), errc::file_unreadable);
  EXPECT_EQ(write_wav_file(dir / "no" / "such" / "dir.wav", s, 8000), errc::file_unreadable);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace otpd::prompts
