// Why a text cannot go out with a bind's settings, in words an operator or an API client can act
// on: "character not representable in gsm7: 'ệ' (U+1EC7)", "text needs 3 parts, max_parts is 2".
// The same words at start-up (a configuration check renders every template) and at send time
// (the reason an attempt failed). Never quotes the text itself: it holds a code.
#pragma once

#include <string>
#include <string_view>

#include "smpp/text/encoder.hpp"
#include "smpp/text/segmenter.hpp"

namespace otpd::smpp::text {

// "gsm7", "latin1", "ucs2" or "auto": as the configuration spells the policy.
std::string_view name_of(coding_policy p) noexcept;

// Encodes and counts the parts of `utf8` as a bind would before sending it. Empty when it can be
// sent; otherwise the reason, naming the offending character (a template's, never a code digit:
// every coding carries digits) or the parts needed.
std::string why_unsendable(std::string_view utf8, const encode_options& eopts,
                           const split_options& sopts);

}  // namespace otpd::smpp::text
