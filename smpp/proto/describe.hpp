// One-line, human-readable rendering of a PDU for tools that print what goes over the wire
// (an integrator's trace, a debug log). Never prints the bind password.
#pragma once

#include <string>

#include "smpp/proto/pdu.hpp"

namespace otpd::smpp {

// e.g. `submit_sm seq=7 status=ESME_ROK service_type="" source=5/0:"MyBank" ...
// short_message=[40] 596f7572... "Your code is 123456" tlvs={sar_msg_ref_num=1}`.
// Strings are quoted with non-printable bytes escaped as \xHH; short_message and
// message_payload are shown as length and hex, plus the text when it is printable ASCII;
// unknown TLVs as their tag in hex and their value in hex.
std::string describe(const pdu& p);

}  // namespace otpd::smpp
