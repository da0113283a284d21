// Encoding and decoding of whole SMPP 3.4 PDUs. Pure functions: no I/O, no clock, never throw
// on bad input (only std::bad_alloc can escape encode()).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include <boost/system/error_code.hpp>

#include "smpp/proto/pdu.hpp"

namespace otpd::smpp {

// Decodes exactly one PDU from `bytes`, which must hold the whole PDU and nothing more
// (command_length == bytes.size(); the framer guarantees it). On error `out.sequence_number`
// and `out.command_status` still carry the header values when the header was readable, so
// that the caller can answer with the right generic_nack or response (status_for(ec)), and
// `id` carries the raw command_id.
struct decode_info {
  std::uint32_t raw_command_id = 0;  // as read from the header, known or not
  bool header_valid = false;         // the 16 header bytes were read
};
boost::system::error_code decode(std::span<const std::uint8_t> bytes, pdu& out,
                                 decode_info* info = nullptr) noexcept;

// The exact number of bytes encode() will append.
std::size_t encoded_size(const pdu& p) noexcept;

// Appends the PDU to `out` (command_length computed). Fields longer than the spec allows are
// an error (errc::c_string_too_long / sm_length_mismatch / invalid_tlv_length), as are values
// the wire cannot carry (errc::invalid_field: a NUL inside a C-Octet String, a time that is
// neither empty nor 16 characters), and nothing is appended. An error response whose fields
// are all empty (bind_*_resp, submit_sm_resp) is sent without a body (SMPP 3.4 §4.1.2, §4.4.2).
//
// Decoding is lenient where real SMSCs deviate harmlessly: error responses without a body (or
// with an unreadable one), deliver_sm_resp without its NULL message_id, TLVs after a
// submit_sm_resp's message_id (SMPP 5.0), time fields that are not 16 characters.
boost::system::error_code encode(const pdu& p, std::string& out);

}  // namespace otpd::smpp
