// Helpers shared by the prompt-layer tests: tones, tone measurement, WAV files in any format.
#pragma once

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <cstring>
#include <numbers>
#include <span>
#include <string>
#include <vector>

namespace otpd::prompts::test {

inline std::vector<std::int16_t> sine(double freq, int rate, double seconds, double amplitude) {
  std::vector<std::int16_t> s(static_cast<std::size_t>(seconds * rate));
  for (std::size_t i = 0; i < s.size(); ++i)
    s[i] = static_cast<std::int16_t>(
        std::lround(amplitude * std::sin(2 * std::numbers::pi * freq * double(i) / rate)));
  return s;
}

// Amplitude of the freq component of s[from, from + n) (single-bin DFT, Goertzel-equivalent).
inline double tone_amplitude(std::span<const std::int16_t> s, double freq, int rate,
                             std::size_t from, std::size_t n) {
  std::complex<double> acc = 0;
  for (std::size_t i = 0; i < n; ++i)
    acc += double(s[from + i]) *
           std::polar(1.0, -2 * std::numbers::pi * freq * double(from + i) / rate);
  return 2.0 * std::abs(acc) / double(n);
}

inline double rms(std::span<const std::int16_t> s, std::size_t from, std::size_t n) {
  double e = 0;
  for (std::size_t i = 0; i < n; ++i) e += double(s[from + i]) * s[from + i];
  return std::sqrt(e / double(n));
}

inline double db(double ratio) { return 20.0 * std::log10(ratio); }

inline void put16(std::string& out, unsigned v) {
  out.push_back(char(v & 0xFF));
  out.push_back(char((v >> 8) & 0xFF));
}
inline void put32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(char((v >> (8 * i)) & 0xFF));
}
inline std::string chunk(const std::string& id, const std::string& body, bool pad = true) {
  std::string c = id;
  put32(c, std::uint32_t(body.size()));
  c += body;
  if (pad && body.size() % 2) c.push_back('\0');
  return c;
}
inline std::string riff(const std::string& chunks) {
  std::string r = "RIFF";
  put32(r, std::uint32_t(4 + chunks.size()));
  return r + "WAVE" + chunks;
}

// A fmt chunk body; extensible wraps tag in WAVEFORMATEXTENSIBLE.
inline std::string fmt_body(unsigned tag, unsigned channels, std::uint32_t rate, unsigned bits,
                            bool extensible = false) {
  std::string f;
  put16(f, extensible ? 0xFFFE : tag);
  put16(f, channels);
  put32(f, rate);
  put32(f, rate * channels * bits / 8);
  put16(f, channels * bits / 8);
  put16(f, bits);
  if (extensible) {
    put16(f, 22);
    put16(f, bits);
    put32(f, channels == 1 ? 0x4 : 0x3);
    put16(f, tag);
    const unsigned char tail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                    0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};
    f.append(reinterpret_cast<const char*>(tail), sizeof tail);
  }
  return f;
}

// One sample (int16 scale) in a given encoding.
inline void put_sample(std::string& out, unsigned tag, unsigned bits, double v) {
  if (tag == 3) {
    if (bits == 32) {
      const float f = float(v / 32768.0);
      std::uint32_t u;
      std::memcpy(&u, &f, 4);
      put32(out, u);
    } else {
      const double d = v / 32768.0;
      std::uint64_t u;
      std::memcpy(&u, &d, 8);
      put32(out, std::uint32_t(u));
      put32(out, std::uint32_t(u >> 32));
    }
    return;
  }
  switch (bits) {
    case 8:
      out.push_back(char(std::min(255L, std::lround(v / 256.0) + 128)));
      break;
    case 16:
      put16(out, unsigned(std::int16_t(std::lround(v))));
      break;
    case 24: {
      const auto x = std::int32_t(std::lround(v * 256.0));
      for (int i = 0; i < 3; ++i) out.push_back(char((x >> (8 * i)) & 0xFF));
      break;
    }
    default:
      put32(out, std::uint32_t(std::int32_t(std::lround(v * 65536.0))));
  }
}

}  // namespace otpd::prompts::test
