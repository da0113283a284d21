// WAV reader (voice/prompts/wav: RIFF chunks, PCM / float / A-law / mu-law / extensible fmt):
// any file content decodes or is refused without a crash, and what decodes is mono samples at
// a positive rate.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tests/fuzz/fuzz_check.hpp"
#include "voice/prompts/wav.hpp"

namespace prompts = otpd::prompts;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  prompts::pcm_audio audio;
  prompts::wav_format fmt;
  if (prompts::read_wav(bytes, audio, &fmt)) return 0;
  FUZZ_CHECK(audio.sample_rate > 0);
  FUZZ_CHECK(fmt.channels >= 1);
  FUZZ_CHECK(audio.samples.size() <= size);  // never more samples than input bytes
  return 0;
}
