// RIFF/WAVE in and out: recorded prompt clips come in as WAV files in whatever format the
// studio or a user's editor produced; everything past this file is mono 16-bit PCM.
//
// Read: PCM 8-bit unsigned, 16/24/32-bit signed, IEEE float 32/64-bit, each also inside
// WAVE_FORMAT_EXTENSIBLE; any channel count, mixed down to mono by averaging. Unknown chunks
// (LIST, fact, cue, bext, ...) are skipped with their pad byte (RIFF chunks are word aligned).
// Write: mono 16-bit PCM, the canonical 44-byte header.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/error_code.hpp>

#include "voice/prompts/error.hpp"

namespace otpd::prompts {

// Microsoft format tags (mmreg.h) that read_wav decodes.
inline constexpr std::uint16_t wave_format_pcm = 0x0001;
inline constexpr std::uint16_t wave_format_ieee_float = 0x0003;
inline constexpr std::uint16_t wave_format_extensible = 0xFFFE;

// What the fmt chunk said (for the extensible format: the tag of its sub-format GUID).
struct wav_format {
  std::uint16_t format_tag = wave_format_pcm;
  std::uint16_t channels = 1;
  std::uint32_t sample_rate = 0;
  std::uint16_t bits_per_sample = 16;
  bool extensible = false;
};

// Mono 16-bit samples at a rate.
struct pcm_audio {
  int sample_rate = 0;
  std::vector<std::int16_t> samples;
};

// Limits for read_wav_file: a prompt clip is seconds long, a test recording a minute.
inline constexpr std::uintmax_t max_wav_file_bytes = 256u << 20;

// Decodes a WAV file held in memory. A data chunk size of 0xFFFFFFFF (written by streaming
// recorders that never seek back) means "up to the end of the file"; a final chunk without its
// pad byte is accepted. A trailing partial sample frame is dropped. Errors: errc::truncated,
// errc::not_riff, errc::missing_fmt_chunk, errc::missing_data_chunk, errc::unsupported_format,
// errc::invalid_format. out is replaced on success; fmt, when given, receives the fmt chunk.
boost::system::error_code read_wav(std::string_view bytes, pcm_audio& out,
                                   wav_format* fmt = nullptr);

// A mono 16-bit PCM WAV file. Precondition: sample_rate > 0 and the data fits a RIFF size
// field (under 2 GiB of samples).
std::string write_wav(std::span<const std::int16_t> samples, int sample_rate);

// The same through the file system. Errors: those of read_wav, and errc::file_unreadable
// (missing, unreadable, or larger than max_wav_file_bytes).
boost::system::error_code read_wav_file(const std::filesystem::path& path, pcm_audio& out,
                                        wav_format* fmt = nullptr);
boost::system::error_code write_wav_file(const std::filesystem::path& path,
                                         std::span<const std::int16_t> samples, int sample_rate);

}  // namespace otpd::prompts
