#include "voice/call/call_outcome.hpp"

#include <algorithm>

namespace otpd::voice {

const char* to_string(call_state s) noexcept {
  switch (s) {
    case call_state::trying:
      return "trying";
    case call_state::ringing:
      return "ringing";
    case call_state::answered:
      return "answered";
    case call_state::completed:
      return "completed";
    case call_state::hung_up_early:
      return "hung_up_early";
    case call_state::busy:
      return "busy";
    case call_state::no_answer:
      return "no_answer";
    case call_state::rejected:
      return "rejected";
    case call_state::failed:
      return "failed";
  }
  return "?";
}

bool is_final(call_state s) noexcept {
  return s != call_state::trying && s != call_state::ringing && s != call_state::answered;
}

bool code_read_in_full(std::uint64_t packets_sent, std::size_t code_end,
                       std::size_t audio_samples) noexcept {
  if (audio_samples == 0) return false;
  const std::size_t needed = code_end == 0 ? audio_samples : std::min(code_end, audio_samples);
  const std::uint64_t packets_needed =
      (static_cast<std::uint64_t>(needed) + prompt_samples_per_packet - 1) /
      prompt_samples_per_packet;
  return packets_sent >= packets_needed;
}

call_state final_state(sip::call_end end, bool answered, bool read_in_full) noexcept {
  if (answered) {
    if (read_in_full) return call_state::completed;
    return end == sip::call_end::remote_hangup ? call_state::hung_up_early : call_state::failed;
  }
  switch (end) {
    case sip::call_end::busy:
      return call_state::busy;
    case sip::call_end::no_answer:
      return call_state::no_answer;
    case sip::call_end::rejected:
      return call_state::rejected;
    case sip::call_end::completed:
    case sip::call_end::remote_hangup:
    case sip::call_end::failed:
    case sip::call_end::cancelled:
      return call_state::failed;
  }
  return call_state::failed;
}

}  // namespace otpd::voice
