#include "voice/prompts/wav.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <system_error>

namespace otpd::prompts {
namespace {

std::uint16_t le16(const unsigned char* p) noexcept {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
std::uint32_t le32(const unsigned char* p) noexcept {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

void put16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v & 0xFF));
  out.push_back(static_cast<char>(v >> 8));
}
void put32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// KSDATAFORMAT_SUBTYPE_* GUIDs are {tag-0000-0010-8000-00AA00389B71}: the last 14 octets as
// stored (mmreg.h / ksmedia.h).
constexpr unsigned char ks_guid_tail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                            0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};

constexpr std::uint32_t unknown_size = 0xFFFFFFFF;

// One sample as a value on the int16 scale (not yet rounded), or NaN-free float.
double sample_at(const unsigned char* p, std::uint16_t tag, std::uint16_t bits) noexcept {
  if (tag == wave_format_ieee_float) {
    double v = 0;
    if (bits == 32) {
      float f;
      std::uint32_t u = le32(p);
      std::memcpy(&f, &u, sizeof f);
      v = f;
    } else {
      double d;
      std::uint64_t u = le32(p) | (static_cast<std::uint64_t>(le32(p + 4)) << 32);
      std::memcpy(&d, &u, sizeof d);
      v = d;
    }
    if (!std::isfinite(v)) return 0;  // garbage in a float file is silence, not UB
    return std::clamp(v, -1.0, 1.0) * 32768.0;
  }
  switch (bits) {
    case 8:
      return (static_cast<int>(p[0]) - 128) * 256.0;  // 8-bit WAV is unsigned, offset 128
    case 16:
      return static_cast<std::int16_t>(le16(p));
    case 24: {
      std::int32_t v = static_cast<std::int32_t>(static_cast<std::uint32_t>(p[0]) << 8 |
                                                 static_cast<std::uint32_t>(p[1]) << 16 |
                                                 static_cast<std::uint32_t>(p[2]) << 24);
      return v / 65536.0;
    }
    default:
      return static_cast<std::int32_t>(le32(p)) / 65536.0;
  }
}

std::int16_t to_int16(double v) noexcept {
  v = std::round(v);
  return static_cast<std::int16_t>(std::clamp(v, -32768.0, 32767.0));
}

// The fmt chunk's `size` bytes at `f`: WAVEFORMAT, or WAVEFORMATEXTENSIBLE (its sub-format's
// tag then stands for the format), checked for what read_wav decodes.
boost::system::error_code parse_fmt(const unsigned char* f, std::uint32_t size, wav_format& fmt) {
  if (size < 16) return errc::invalid_format;
  fmt.format_tag = le16(f);
  fmt.channels = le16(f + 2);
  fmt.sample_rate = le32(f + 4);
  const std::uint16_t block_align = le16(f + 12);
  fmt.bits_per_sample = le16(f + 14);
  if (fmt.format_tag == wave_format_extensible) {
    // WAVEFORMATEXTENSIBLE: cbSize 22, wValidBitsPerSample, dwChannelMask, SubFormat.
    if (size < 40 || le16(f + 16) < 22) return errc::invalid_format;
    if (std::memcmp(f + 26, ks_guid_tail, sizeof ks_guid_tail) != 0)
      return errc::unsupported_format;
    fmt.extensible = true;
    fmt.format_tag = le16(f + 24);
    const std::uint16_t valid_bits = le16(f + 18);
    if (valid_bits > fmt.bits_per_sample) return errc::invalid_format;
  }
  if (fmt.channels == 0 || fmt.sample_rate == 0 || fmt.sample_rate > 1'000'000)
    return errc::invalid_format;
  const std::uint16_t b = fmt.bits_per_sample;
  const bool pcm_ok =
      fmt.format_tag == wave_format_pcm && (b == 8 || b == 16 || b == 24 || b == 32);
  const bool float_ok = fmt.format_tag == wave_format_ieee_float && (b == 32 || b == 64);
  if (!pcm_ok && !float_ok) return errc::unsupported_format;
  if (block_align != static_cast<std::uint32_t>(fmt.channels) * (b / 8))
    return errc::invalid_format;
  return {};
}

// The whole frames of `pcm` decoded and mixed down to mono by averaging the channels.
void mix_down(const unsigned char* pcm, std::size_t pcm_bytes, const wav_format& fmt,
              pcm_audio& out) {
  const std::size_t sample_bytes = fmt.bits_per_sample / 8;
  const std::size_t frame_bytes = sample_bytes * fmt.channels;
  const std::size_t frames = pcm_bytes / frame_bytes;
  out.sample_rate = static_cast<int>(fmt.sample_rate);
  out.samples.resize(frames);
  for (std::size_t i = 0; i < frames; ++i) {
    const unsigned char* frame = pcm + i * frame_bytes;
    double sum = 0;
    for (std::size_t c = 0; c < fmt.channels; ++c)
      sum += sample_at(frame + c * sample_bytes, fmt.format_tag, fmt.bits_per_sample);
    out.samples[i] = to_int16(sum / fmt.channels);
  }
}

}  // namespace

boost::system::error_code read_wav(std::string_view bytes, pcm_audio& out, wav_format* fmt_out) {
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t size = bytes.size();
  if (size < 12) {
    // Too short to tell; say "not RIFF" only when what is there already disagrees.
    if (size >= 4 && std::memcmp(data, "RIFF", 4) != 0) return errc::not_riff;
    return errc::truncated;
  }
  if (std::memcmp(data, "RIFF", 4) != 0 || std::memcmp(data + 8, "WAVE", 4) != 0)
    return errc::not_riff;
  // The RIFF size field is not trusted: streaming writers leave it 0 or 0xFFFFFFFF. Chunks are
  // read up to the end of the bytes instead.

  bool have_fmt = false;
  wav_format fmt;
  const unsigned char* pcm = nullptr;
  std::size_t pcm_bytes = 0;

  std::size_t pos = 12;
  while (pos < size) {
    if (size - pos < 8) return errc::truncated;
    const unsigned char* id = data + pos;
    std::uint32_t chunk = le32(data + pos + 4);
    pos += 8;
    const std::size_t left = size - pos;
    const bool is_data = std::memcmp(id, "data", 4) == 0;
    if (is_data && chunk == unknown_size && pcm == nullptr)
      chunk = static_cast<std::uint32_t>(std::min<std::size_t>(left, unknown_size - 1));
    if (chunk > left) return errc::truncated;

    if (std::memcmp(id, "fmt ", 4) == 0 && !have_fmt) {
      if (auto ec = parse_fmt(data + pos, chunk, fmt)) return ec;
      have_fmt = true;
    } else if (is_data && pcm == nullptr) {
      pcm = data + pos;
      pcm_bytes = chunk;
    }
    pos += chunk;
    if (chunk % 2 == 1 && pos < size) ++pos;  // pad byte; may be missing on the last chunk
  }
  if (pcm == nullptr) return have_fmt ? errc::missing_data_chunk : errc::missing_fmt_chunk;
  if (!have_fmt) return errc::missing_fmt_chunk;
  mix_down(pcm, pcm_bytes, fmt, out);
  if (fmt_out) *fmt_out = fmt;
  return {};
}

std::string write_wav(std::span<const std::int16_t> samples, int sample_rate) {
  const auto data_bytes = static_cast<std::uint32_t>(samples.size() * 2);
  const auto rate = static_cast<std::uint32_t>(sample_rate);
  std::string out;
  out.reserve(44 + data_bytes);
  out.append("RIFF");
  put32(out, 36 + data_bytes);
  out.append("WAVEfmt ");
  put32(out, 16);
  put16(out, wave_format_pcm);
  put16(out, 1);         // channels
  put32(out, rate);      // sample rate
  put32(out, rate * 2);  // byte rate
  put16(out, 2);         // block align
  put16(out, 16);        // bits per sample
  out.append("data");
  put32(out, data_bytes);
  for (const std::int16_t s : samples) put16(out, static_cast<std::uint16_t>(s));
  return out;
}

boost::system::error_code read_wav_file(const std::filesystem::path& path, pcm_audio& out,
                                        wav_format* fmt) {
  std::error_code fs_ec;
  const auto size = std::filesystem::file_size(path, fs_ec);
  if (fs_ec || size > max_wav_file_bytes) return errc::file_unreadable;
  std::ifstream in(path, std::ios::binary);
  if (!in) return errc::file_unreadable;
  std::string bytes(static_cast<std::size_t>(size), '\0');
  if (!in.read(bytes.data(), static_cast<std::streamsize>(size))) return errc::file_unreadable;
  return read_wav(bytes, out, fmt);
}

boost::system::error_code write_wav_file(const std::filesystem::path& path,
                                         std::span<const std::int16_t> samples, int sample_rate) {
  const std::string bytes = write_wav(samples, sample_rate);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return errc::file_unreadable;
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.flush();
  return out ? boost::system::error_code{} : make_error_code(errc::file_unreadable);
}

}  // namespace otpd::prompts
