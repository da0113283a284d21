// How a call ended, as the voice channel reports it: the SIP dialog's end (sip::call_end) and
// how much of the prompt reached the callee decide it together, so that `completed` always means
// the code was read in full at least once. Pure: no clock, no socket.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "voice/sip/uac_call_fsm.hpp"

namespace otpd::voice {

enum class call_state {
  trying,         // INVITE sent
  ringing,        // 18x received
  answered,       // 2xx: the prompt is playing
  completed,      // answered, and the code was read in full at least once
  hung_up_early,  // answered, and the callee hung up before the code was read in full once
  busy,           // 486, 600
  no_answer,      // 408, 480, 487, the ring timeout
  rejected,       // 603
  failed,  // anything else: no route, auth failure, timeout, transport error, bad SDP, a call
           // cut short on our side before the code was read in full
};
const char* to_string(call_state s) noexcept;
bool is_final(call_state s) noexcept;

// RTP carries the prompt in packets of 20 ms, 160 samples at 8 kHz (RFC 3551 §4.5.14).
inline constexpr std::size_t prompt_samples_per_packet = 160;
inline constexpr std::chrono::milliseconds prompt_packet_time{20};

// Whether `packets_sent` packets of one play of an `audio_samples` long prompt carried its first
// `code_end` samples (where the code has been read once: the end of its last digit). code_end 0
// or beyond the audio: the whole audio. Nothing was read of an empty prompt.
bool code_read_in_full(std::uint64_t packets_sent, std::size_t code_end,
                       std::size_t audio_samples) noexcept;

// The final state of a call that ended with `end`. `answered`: a 2xx confirmed the dialog and
// the prompt started. Once answered, a call whose code was read in full is `completed` however
// it ended (the callee's BYE during the goodbye, a shutdown after the last digit); otherwise it
// is `hung_up_early` when the callee hung up, `failed` when we ended it (cancelled, transport
// error, a play cut short). Before the answer: the final response decides (busy, no_answer,
// rejected, failed; cancelled is failed).
call_state final_state(sip::call_end end, bool answered, bool read_in_full) noexcept;

}  // namespace otpd::voice
