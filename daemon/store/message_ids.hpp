// An attempt's message ids (one per part) as the JSON array text kept in attempts.message_ids.
// Written by hand rather than with a JSON library because an SMSC's id is bytes, not
// necessarily UTF-8: bytes >= 0x80 go through unchanged and read back unchanged; quotes,
// backslashes and control characters are escaped (RFC 8259 §7).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace otpd::service::detail {

std::string encode_message_ids(const std::vector<std::string>& ids);

// Reads what encode_message_ids writes, and any JSON array of strings (an operator may have
// edited the row). False on anything else.
bool decode_message_ids(std::string_view in, std::vector<std::string>& out);

}  // namespace otpd::service::detail
