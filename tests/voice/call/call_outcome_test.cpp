#include "voice/call/call_outcome.hpp"

#include <gtest/gtest.h>

namespace otpd::voice {
namespace {

using sip::call_end;

TEST(call_outcome, the_code_is_read_in_full_once_its_last_sample_left) {
  // 8000 samples of audio, the code read once by sample 3200 (20 packets of 160).
  EXPECT_FALSE(code_read_in_full(0, 3200, 8000));
  EXPECT_FALSE(code_read_in_full(19, 3200, 8000));
  EXPECT_TRUE(code_read_in_full(20, 3200, 8000));
  EXPECT_TRUE(code_read_in_full(50, 3200, 8000));
  // A partial last packet still has to go out.
  EXPECT_FALSE(code_read_in_full(20, 3201, 8000));
  EXPECT_TRUE(code_read_in_full(21, 3201, 8000));
  // 0, or past the audio: the whole audio.
  EXPECT_FALSE(code_read_in_full(49, 0, 8000));
  EXPECT_TRUE(code_read_in_full(50, 0, 8000));
  EXPECT_TRUE(code_read_in_full(50, 1'000'000, 8000));
  // Nothing is read of no audio.
  EXPECT_FALSE(code_read_in_full(100, 0, 0));
}

TEST(call_outcome, answered_calls_are_completed_only_when_the_code_was_read) {
  for (const call_end e :
       {call_end::completed, call_end::remote_hangup, call_end::failed, call_end::cancelled}) {
    EXPECT_EQ(final_state(e, true, true), call_state::completed) << sip::to_string(e);
  }
  EXPECT_EQ(final_state(call_end::remote_hangup, true, false), call_state::hung_up_early);
  EXPECT_EQ(final_state(call_end::completed, true, false), call_state::failed);
  EXPECT_EQ(final_state(call_end::failed, true, false), call_state::failed);
  EXPECT_EQ(final_state(call_end::cancelled, true, false), call_state::failed);
}

TEST(call_outcome, before_the_answer_the_final_response_decides) {
  EXPECT_EQ(final_state(call_end::busy, false, false), call_state::busy);
  EXPECT_EQ(final_state(call_end::no_answer, false, false), call_state::no_answer);
  EXPECT_EQ(final_state(call_end::rejected, false, false), call_state::rejected);
  EXPECT_EQ(final_state(call_end::failed, false, false), call_state::failed);
  EXPECT_EQ(final_state(call_end::cancelled, false, false), call_state::failed);
  // Never completed without an answer, whatever is claimed to have played.
  EXPECT_EQ(final_state(call_end::completed, false, true), call_state::failed);
  EXPECT_EQ(final_state(call_end::remote_hangup, false, true), call_state::failed);
}

TEST(call_outcome, names) {
  EXPECT_STREQ(to_string(call_state::hung_up_early), "hung_up_early");
  EXPECT_TRUE(is_final(call_state::hung_up_early));
  EXPECT_FALSE(is_final(call_state::answered));
}

}  // namespace
}  // namespace otpd::voice
