// Encoded text -> the short_message / TLVs of each submit_sm, for one concatenation method.
//
// Sizes (TP-UD is at most 140 octets, 3GPP TS 23.040 §9.2.3.24):
//   single part:            160 septets / 140 Latin-1 octets / 70 UCS2 units
//   8-bit-ref UDH, SAR,
//   payload (as delivered): 153 / 134 / 67   (UDH 05 00 03 ref total seq, 6 octets)
//   16-bit-ref UDH:         152 / 133 / 66   (UDH 06 08 04 ref ref total seq, 7 octets)
// SAR carries no UDH itself, but the SMSC adds one on delivery, so it gets the 8-bit sizes.
// An ESC pair and a UTF-16 surrogate pair are never split across parts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/error_code.hpp>

#include "smpp/proto/pdu.hpp"
#include "smpp/text/coding.hpp"
#include "smpp/text/encoder.hpp"
#include "smpp/text/error.hpp"

namespace otpd::smpp::text {

// How a bind concatenates long messages.
enum class concat_method : std::uint8_t {
  udh8,     // UDH IEI 0x00, 8-bit reference (TS 23.040 §9.2.3.24.1)
  udh16,    // UDH IEI 0x08, 16-bit reference (TS 23.040 §9.2.3.24.8)
  sar,      // sar_msg_ref_num / sar_total_segments / sar_segment_seqnum (SMPP 3.4 §5.3.2.22-24)
  payload,  // the whole text in one message_payload TLV, short_message empty (SMPP 3.4
            // §5.3.2.32); used for every text, short or long, so a bind behaves uniformly
};

struct split_options {
  concat_method method = concat_method::udh8;
  gsm7_packing packing = gsm7_packing::unpacked;
  std::size_t max_parts = 10;  // 1..255: the UDH and SAR counters are one octet
  friend bool operator==(const split_options&, const split_options&) = default;
};

// SMPP 3.4 §5.2.12: esm_class bit 6, "UDH Indicator".
inline constexpr std::uint8_t esm_class_udhi = 0x40;

// One submit_sm's worth of a message.
struct message_part {
  std::uint8_t seqnum = 1;  // 1..total, in sending order
  std::uint8_t total = 1;
  std::string short_message;  // UDH first when udhi; empty with concat_method::payload
  bool udhi = false;          // esm_class must carry esm_class_udhi
  std::uint8_t data_coding = 0;
  tlv_list tlvs;  // SAR TLVs or message_payload, in that order; empty otherwise
  friend bool operator==(const message_part&, const message_part&) = default;
};

// Copies a part into a submit_sm / deliver_sm: short_message, data_coding, the UDHI bit of
// esm_class (other bits kept) and the TLVs (appended after any already there).
void apply_to(const message_part& part, sm_fields& sm);

struct part_limits {
  std::size_t single = 0;  // units that fit one unconcatenated message
  std::size_t multi = 0;   // units per part once concatenated
};
part_limits limits_for(coding c, concat_method method) noexcept;

struct segment_count {
  text::coding coding = text::coding::gsm7;
  std::size_t units = 0;     // septets / octets / UTF-16 units of the whole text
  std::size_t parts = 0;     // submit_sm PDUs split() builds (1 with concat_method::payload)
  std::size_t segments = 0;  // SMS the handset receives: what carriers bill and TPS counts
};

// Splits text into parts numbered 1..N. reference identifies the message to the handset
// (callers keep a counter per destination); udh8 uses its low octet. Errors:
// errc::invalid_options, errc::too_many_parts (segments > max_parts). out is replaced.
boost::system::error_code split(const encoded_text& text, const split_options& opts,
                                std::uint16_t reference, std::vector<message_part>& out);

// How many parts split() would build, without building them. out is filled also when the
// result is errc::too_many_parts, so the caller can report how many it would take.
boost::system::error_code count_segments(const encoded_text& text, const split_options& opts,
                                         segment_count& out) noexcept;

// The same straight from UTF-8, without encoding the text into a buffer (pricing, TPS).
// Errors as encode(), plus those of the overload above.
boost::system::error_code count_segments(std::string_view utf8, const encode_options& eopts,
                                         const split_options& opts, segment_count& out,
                                         error_info& info);

}  // namespace otpd::smpp::text
