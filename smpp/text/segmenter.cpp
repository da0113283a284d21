#include "smpp/text/segmenter.hpp"

#include "smpp/proto/tlv.hpp"
#include "smpp/text/detail/scan.hpp"
#include "smpp/text/gsm7.hpp"
#include "smpp/text/ucs2.hpp"

namespace otpd::smpp::text {
namespace {

// TS 23.040 §9.2.3.24: TP-User-Data holds at most 140 octets, UDH included.
constexpr std::size_t tp_ud_octets = 140;
// TS 23.040 §9.2.3.24.1 / .8: UDHL + IEI + IEDL + IE data.
constexpr std::size_t udh8_octets = 6;
constexpr std::size_t udh16_octets = 7;
constexpr std::size_t max_parts_limit = 255;

// The largest text max_parts allows is 255 * 153 septets (or 255 * 134 octets): well inside
// the 16-bit length of message_payload (SMPP 3.4 §5.3.2.32), so payload never overflows.
static_assert(max_parts_limit * 67 * 2 <= 0xFFFF && max_parts_limit * 134 <= 0xFFFF);

unsigned unit_bits(coding c) noexcept {
  switch (c) {
    case coding::gsm7:
      return 7;
    case coding::latin1:
      return 8;
    case coding::ucs2:
      return 16;
  }
  return 8;
}

// Greedy filling of parts with atoms (a character's units, which must stay together). Run
// once over the whole text: the single-part decision needs the total, which is only known at
// the end, so the multi-part count is kept alongside.
class part_counter {
 public:
  explicit part_counter(std::size_t multi) : multi_(multi) {}

  // Returns true when the atom starts a new part.
  bool add(std::size_t width) noexcept {
    units_ += width;
    bool fresh = false;
    if (fill_ + width > multi_) {
      ++parts_;
      fill_ = 0;
      fresh = true;
    }
    fill_ += width;
    return fresh;
  }
  std::size_t units() const noexcept { return units_; }
  std::size_t segments(std::size_t single) const noexcept { return units_ <= single ? 1 : parts_; }

 private:
  std::size_t multi_;
  std::size_t units_ = 0;
  std::size_t parts_ = 1;
  std::size_t fill_ = 0;
};

// The limits that decide the over-the-air segments: message_payload is split by the SMSC,
// which adds an 8-bit-reference UDH like SAR.
part_limits air_limits(coding c, concat_method m) noexcept {
  return limits_for(c, m == concat_method::payload ? concat_method::udh8 : m);
}

struct atom {
  std::size_t bytes;
  std::size_t units;
};

// The indivisible piece of encoded text at byte pos: an ESC pair, a surrogate pair, or one
// unit. Malformed hand-built input (a final lone ESC, a lone surrogate, an odd UCS2 byte)
// degrades to single units rather than failing.
atom atom_at(const encoded_text& t, std::size_t pos) noexcept {
  const std::string& u = t.units;
  switch (t.coding) {
    case coding::gsm7:
      // TS 23.038 §6.2.1.1: ESC and its code are one character.
      if (static_cast<std::uint8_t>(u[pos]) == gsm7_escape && pos + 1 < u.size()) return {2, 2};
      return {1, 1};
    case coding::latin1:
      return {1, 1};
    case coding::ucs2: {
      if (pos + 2 > u.size()) return {u.size() - pos, 1};
      const auto unit_at = [&](std::size_t i) {
        return (static_cast<unsigned>(static_cast<std::uint8_t>(u[i])) << 8) |
               static_cast<std::uint8_t>(u[i + 1]);
      };
      if (is_high_surrogate(unit_at(pos)) && pos + 4 <= u.size() &&
          is_low_surrogate(unit_at(pos + 2))) {
        return {4, 2};
      }
      return {2, 1};
    }
  }
  return {1, 1};
}

boost::system::error_code check(const split_options& opts) noexcept {
  if (opts.max_parts < 1 || opts.max_parts > max_parts_limit) return errc::invalid_options;
  return {};
}

boost::system::error_code finish(const part_counter& counter, coding c, const split_options& opts,
                                 segment_count& out) noexcept {
  out.coding = c;
  out.units = counter.units();
  out.segments = counter.segments(air_limits(c, opts.method).single);
  out.parts = opts.method == concat_method::payload ? 1 : out.segments;
  if (out.segments > opts.max_parts) return errc::too_many_parts;
  return {};
}

// Appends the text bytes of one part (or of the whole payload) after udh_octets of UDH.
void append_body(const encoded_text& t, std::string_view chunk, const split_options& opts,
                 std::size_t udh_octets, std::string& out) {
  if (t.coding == coding::gsm7 && opts.packing == gsm7_packing::packed) {
    gsm7_pack(chunk, gsm7_fill_bits(udh_octets), out);
  } else {
    out.append(chunk);
  }
}

tlv make_tlv(tlv_tag tag, std::string value) {
  return tlv{static_cast<std::uint16_t>(tag), std::move(value)};
}

std::string be16(std::uint16_t v) {
  return {static_cast<char>(v >> 8), static_cast<char>(v & 0xFF)};
}

}  // namespace

void apply_to(const message_part& part, sm_fields& sm) {
  sm.short_message = part.short_message;
  sm.data_coding = part.data_coding;
  if (part.udhi) {
    sm.esm_class |= esm_class_udhi;
  } else {
    sm.esm_class &= static_cast<std::uint8_t>(~esm_class_udhi);
  }
  sm.tlvs.insert(sm.tlvs.end(), part.tlvs.begin(), part.tlvs.end());
}

part_limits limits_for(coding c, concat_method method) noexcept {
  const std::size_t bits = unit_bits(c);
  const std::size_t udh = method == concat_method::udh16 ? udh16_octets : udh8_octets;
  // For GSM 7-bit the rounding down absorbs the fill bits: (140 - 6) * 8 = 1072 bits is one
  // fill bit plus 153 septets; (140 - 7) * 8 = 1064 bits is 152 septets.
  return {tp_ud_octets * 8 / bits, (tp_ud_octets - udh) * 8 / bits};
}

boost::system::error_code count_segments(const encoded_text& text, const split_options& opts,
                                         segment_count& out) noexcept {
  if (auto ec = check(opts)) return ec;
  part_counter counter(air_limits(text.coding, opts.method).multi);
  for (std::size_t pos = 0; pos < text.units.size();) {
    const atom a = atom_at(text, pos);
    counter.add(a.units);
    pos += a.bytes;
  }
  return finish(counter, text.coding, opts, out);
}

boost::system::error_code count_segments(std::string_view utf8, const encode_options& eopts,
                                         const split_options& opts, segment_count& out,
                                         error_info& info) {
  if (auto ec = check(opts)) return ec;
  const bool replace = eopts.on_unencodable == unencodable_policy::replace;
  part_counter gsm(air_limits(coding::gsm7, opts.method).multi);
  part_counter latin(air_limits(coding::latin1, opts.method).multi);
  part_counter ucs(air_limits(coding::ucs2, opts.method).multi);
  const coding_policy policy = eopts.policy;
  bool gsm_fits = true;
  // Mirrors encode(): widths per character, '?' (one unit) for replaced characters.
  auto ec = detail::scan(utf8, eopts.transliterate, info,
                         [&](char32_t cp, std::size_t offset) -> boost::system::error_code {
                           switch (policy) {
                             case coding_policy::auto_select:
                               ucs.add(utf16_units(cp));
                               if (gsm_fits) {
                                 const auto len = gsm7_encode_char(cp).length;
                                 gsm_fits = len != 0;
                                 gsm.add(len);
                               }
                               return {};
                             case coding_policy::gsm7: {
                               const auto len = gsm7_encode_char(cp).length;
                               if (len == 0 && !replace) {
                                 info = {offset, cp};
                                 return errc::unencodable_character;
                               }
                               gsm.add(len == 0 ? 1 : len);
                               return {};
                             }
                             case coding_policy::latin1:
                               if (cp > 0xFF && !replace) {
                                 info = {offset, cp};
                                 return errc::unencodable_character;
                               }
                               latin.add(1);
                               return {};
                             case coding_policy::ucs2:
                               ucs.add(utf16_units(cp));
                               return {};
                           }
                           return {};
                         });
  if (ec) return ec;
  switch (policy) {
    case coding_policy::auto_select:
      return gsm_fits ? finish(gsm, coding::gsm7, opts, out) : finish(ucs, coding::ucs2, opts, out);
    case coding_policy::gsm7:
      return finish(gsm, coding::gsm7, opts, out);
    case coding_policy::latin1:
      return finish(latin, coding::latin1, opts, out);
    case coding_policy::ucs2:
      return finish(ucs, coding::ucs2, opts, out);
  }
  return {};
}

boost::system::error_code split(const encoded_text& text, const split_options& opts,
                                std::uint16_t reference, std::vector<message_part>& out) {
  out.clear();
  segment_count count;
  if (auto ec = count_segments(text, opts, count)) return ec;
  const std::uint8_t dc = text.data_coding();

  if (opts.method == concat_method::payload) {
    message_part part;
    part.data_coding = dc;
    std::string body;
    append_body(text, text.units, opts, 0, body);
    part.tlvs.push_back(make_tlv(tlv_tag::message_payload, std::move(body)));
    out.push_back(std::move(part));
    return {};
  }
  if (count.segments == 1) {
    message_part part;
    part.data_coding = dc;
    append_body(text, text.units, opts, 0, part.short_message);
    out.push_back(std::move(part));
    return {};
  }

  // Part boundaries (byte offsets into text.units), by the same greedy rule as the count.
  std::vector<std::size_t> starts;
  part_counter counter(air_limits(text.coding, opts.method).multi);
  for (std::size_t pos = 0; pos < text.units.size();) {
    const atom a = atom_at(text, pos);
    if (counter.add(a.units) || pos == 0) starts.push_back(pos);
    pos += a.bytes;
  }
  const auto total = static_cast<std::uint8_t>(starts.size());
  out.reserve(starts.size());
  for (std::size_t i = 0; i < starts.size(); ++i) {
    const std::size_t end = i + 1 < starts.size() ? starts[i + 1] : text.units.size();
    const std::string_view chunk = std::string_view(text.units).substr(starts[i], end - starts[i]);
    message_part part;
    part.seqnum = static_cast<std::uint8_t>(i + 1);
    part.total = total;
    part.data_coding = dc;
    std::string& sm = part.short_message;
    switch (opts.method) {
      case concat_method::udh8:
        // TS 23.040 §9.2.3.24.1: UDHL 05, IEI 00, IEDL 03, reference, total, sequence.
        sm = {0x05,
              0x00,
              0x03,
              static_cast<char>(reference & 0xFF),
              static_cast<char>(total),
              static_cast<char>(part.seqnum)};
        part.udhi = true;
        break;
      case concat_method::udh16:
        // TS 23.040 §9.2.3.24.8: UDHL 06, IEI 08, IEDL 04, reference (big-endian), total, seq.
        sm = {0x06,
              0x08,
              0x04,
              static_cast<char>(reference >> 8),
              static_cast<char>(reference & 0xFF),
              static_cast<char>(total),
              static_cast<char>(part.seqnum)};
        part.udhi = true;
        break;
      case concat_method::sar:
        // SMPP 3.4 §5.3.2.22-24: Integer TLVs, big-endian.
        part.tlvs.push_back(make_tlv(tlv_tag::sar_msg_ref_num, be16(reference)));
        part.tlvs.push_back(
            make_tlv(tlv_tag::sar_total_segments, std::string(1, static_cast<char>(total))));
        part.tlvs.push_back(
            make_tlv(tlv_tag::sar_segment_seqnum, std::string(1, static_cast<char>(part.seqnum))));
        break;
      case concat_method::payload:
        break;
    }
    append_body(text, chunk, opts, sm.size(), sm);
    out.push_back(std::move(part));
  }
  return {};
}

}  // namespace otpd::smpp::text
