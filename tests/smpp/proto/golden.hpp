// Golden SMPP 3.4 PDUs built by hand from the specification, shared by the codec, framer and
// robustness tests.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "smpp/proto/pdu.hpp"

namespace otpd::smpp::test {

using bytes = std::vector<std::uint8_t>;

// The characters of `s`, without a terminating NUL (write the NUL explicitly).
inline bytes str(std::string_view s) { return bytes(s.begin(), s.end()); }

inline bytes cat(std::initializer_list<bytes> parts) {
  bytes out;
  for (const bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

inline std::string as_string(const bytes& b) { return std::string(b.begin(), b.end()); }
inline bytes as_bytes(std::string_view s) { return bytes(s.begin(), s.end()); }

struct golden {
  std::string name;
  bytes wire;
  pdu value;
};

// One entry per PDU type of the variant (submit_sm twice: plain and with TLVs).
const std::vector<golden>& goldens();

// The 40-character OTP text of the submit_sm golden.
inline constexpr std::string_view otp_text = "Your MyBank code is 482913. Valid 5 min.";
// The delivery receipt text (SMPP 3.4 Appendix B) of the deliver_sm golden.
inline constexpr std::string_view receipt_text =
    "id:5f3a9c sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD "
    "err:000 text:";
static_assert(otp_text.size() == 40);
static_assert(receipt_text.size() == 98);

}  // namespace otpd::smpp::test
