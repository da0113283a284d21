// UTF-8 -> SMS coding -> submit_sm parts (smpp/text/encoder, segmenter), and back through the
// decoder. Byte 0 picks the options (bits 0-1 coding policy, 2-3 concatenation method, 4
// packed GSM 7-bit, 5 transliterate, 6 replace unencodable characters), byte 1 max_parts,
// bytes 2-3 the reference; the rest is the text. Properties: count_segments agrees with
// split; parts are numbered 1..N and fit the size limits; without transliteration or
// replacement, decoding the parts and joining them gives the text back.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "smpp/proto/tlv.hpp"
#include "smpp/text/decoder.hpp"
#include "smpp/text/encoder.hpp"
#include "smpp/text/segmenter.hpp"
#include "tests/fuzz/fuzz_check.hpp"
#include "tests/fuzz/text_util.hpp"

namespace smpp = otpd::smpp;
namespace text = otpd::smpp::text;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  const std::uint8_t o = data[0];
  text::encode_options eopts;
  eopts.policy = static_cast<text::coding_policy>(o & 3);
  eopts.transliterate = o & 0x20;
  eopts.on_unencodable =
      o & 0x40 ? text::unencodable_policy::replace : text::unencodable_policy::fail;
  text::split_options sopts;
  sopts.method = static_cast<text::concat_method>((o >> 2) & 3);
  sopts.packing = o & 0x10 ? text::gsm7_packing::packed : text::gsm7_packing::unpacked;
  sopts.max_parts = data[1];
  const auto reference = static_cast<std::uint16_t>(data[2] << 8 | data[3]);
  const std::string_view utf8(reinterpret_cast<const char*>(data + 4), size - 4);

  text::encoded_text enc;
  text::error_info info;
  const auto eec = text::encode(utf8, eopts, enc, info);
  text::segment_count direct;
  text::error_info cinfo;
  const auto cec = text::count_segments(utf8, eopts, sopts, direct, cinfo);
  if (eec) {
    FUZZ_CHECK(cec);  // the same error, or invalid_options (checked first)
    FUZZ_CHECK(info.offset < utf8.size());
    return 0;
  }
  text::segment_count count;
  const auto count_ec = text::count_segments(enc, sopts, count);
  FUZZ_CHECK(count_ec == cec);
  std::vector<text::message_part> parts;
  const auto sec = text::split(enc, sopts, reference, parts);
  FUZZ_CHECK(sec == count_ec);
  if (sec) return 0;
  FUZZ_CHECK(count.parts == parts.size());
  FUZZ_CHECK(direct.parts == count.parts && direct.units == count.units &&
             direct.segments == count.segments && direct.coding == count.coding);
  FUZZ_CHECK(count.coding == enc.coding);

  std::string joined;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const text::message_part& p = parts[i];
    FUZZ_CHECK(p.seqnum == i + 1 && p.total == parts.size());
    // TP-UD is 140 octets (TS 23.040 §9.2.3.24); unpacked GSM 7-bit spends an octet per
    // septet, so its short_message holds up to 160 (UDH included).
    const bool unpacked7 =
        enc.coding == text::coding::gsm7 && sopts.packing == text::gsm7_packing::unpacked;
    FUZZ_CHECK(p.short_message.size() <= (unpacked7 ? 160u : 140u));
    FUZZ_CHECK(p.data_coding == enc.data_coding());

    std::string_view octets = p.short_message;
    if (sopts.method == text::concat_method::payload) {
      FUZZ_CHECK(p.short_message.empty());
      const smpp::tlv* payload = nullptr;
      for (const smpp::tlv& t : p.tlvs) {
        if (t.tag == 0x0424) payload = &t;  // message_payload, SMPP 3.4 §5.3.2.32
      }
      FUZZ_CHECK(payload != nullptr);
      octets = payload->value;
    }
    text::decode_options dopts;
    dopts.packing = sopts.packing;
    dopts.hex_for_unsupported = false;
    text::decoded_text dec;
    text::error_info dinfo;
    FUZZ_CHECK(!text::decode(octets, p.data_coding, p.udhi, dopts, dec, dinfo));
    FUZZ_CHECK(otpd::fuzz::valid_utf8(dec.utf8));
    if (p.udhi && sopts.method != text::concat_method::payload && parts.size() > 1) {
      FUZZ_CHECK(dec.concat.has_value());
      FUZZ_CHECK(dec.concat->seqnum == p.seqnum && dec.concat->total == p.total);
    }
    joined += dec.utf8;
  }
  // The one ambiguity of packed GSM 7-bit: a final <CR> that fills the last octet reads as
  // padding (TS 23.038 §6.1.2.3.1), so packed text is compared only when it has no CR.
  const bool exact = !eopts.transliterate && enc.replaced.empty() &&
                     (sopts.packing == text::gsm7_packing::unpacked ||
                      enc.coding != text::coding::gsm7 || utf8.find('\r') == utf8.npos);
  if (exact) FUZZ_CHECK(joined == utf8);
  return 0;
}
