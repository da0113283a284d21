#include "smpp/proto/codec.hpp"

#include <cstring>
#include <limits>
#include <string_view>
#include <type_traits>

#include "smpp/proto/detail/fields.hpp"
#include "smpp/proto/status.hpp"
#include "smpp/proto/tlv.hpp"

namespace otpd::smpp {
namespace detail {
namespace {

inline constexpr errc no_error{};

inline std::uint32_t load32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}
inline std::uint16_t load16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint8_t* store32(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
  return p + 4;
}
inline std::uint8_t* store16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
  return p + 2;
}

// Responses whose body may be missing or unreadable when command_status != 0. SMPP 3.4
// §4.1.2 and §4.4.2 say the body "is not returned" on error; many SMSCs (and node-smpp) do the
// same for data_sm_resp and query_sm_resp, others send a body with an empty message_id. The
// status is what matters then, so the body is dropped rather than the whole response.
template <class T>
inline constexpr bool body_optional_on_error =
    std::is_base_of_v<bind_resp_fields, T> || std::is_same_v<T, submit_sm_resp> ||
    std::is_same_v<T, data_sm_resp> || std::is_same_v<T, query_sm_resp> ||
    std::is_same_v<T, deliver_sm_resp>;

// On encode, an error response of these types carries no body when its fields are empty
// (SMPP 3.4 §4.1.2, §4.4.2).
template <class T>
bool omit_body([[maybe_unused]] const T& b, std::uint32_t status) noexcept {
  if (status == 0) return false;
  if constexpr (std::is_base_of_v<bind_resp_fields, T>) {
    return b.system_id.empty() && b.tlvs.empty();
  } else if constexpr (std::is_same_v<T, submit_sm_resp>) {
    return b.message_id.empty();
  } else {
    return false;
  }
}

// Three visitors over walk() (detail/fields.hpp): the reader (decode), the sizer (validation and
// encoded_size) and the writer (encode). They see wire types only, so they ignore field names.

// --- decode ----------------------------------------------------------------------------------

struct reader {
  const std::uint8_t* p;
  const std::uint8_t* end;
  errc err = no_error;

  std::size_t left() const noexcept { return static_cast<std::size_t>(end - p); }

  void u8(std::string_view, std::uint8_t& v) noexcept {
    if (err != no_error) return;
    if (p == end) {
      err = errc::truncated_body;
      return;
    }
    v = *p++;
  }

  void cstr(std::string_view, std::string& s, std::size_t max) {
    if (err != no_error) return;
    const std::size_t avail = left();
    if (avail == 0) {
      err = errc::truncated_body;
      return;
    }
    const std::size_t limit = avail < max ? avail : max;
    const void* nul = std::memchr(p, 0, limit);
    if (nul == nullptr) {
      // Within the PDU but no NUL by the maximum size: too long. Otherwise the string ran
      // into the end of the PDU.
      err = avail < max ? errc::c_string_unterminated : errc::c_string_too_long;
      return;
    }
    const auto n = static_cast<std::size_t>(static_cast<const std::uint8_t*>(nul) - p);
    s.assign(reinterpret_cast<const char*>(p), n);  // reuses s's capacity
    p += n + 1;
  }

  // SMPP 3.4 §7.1: a time is NULL or exactly 16 characters. Decoding accepts any length up to
  // that (some SMSCs send odd final_date values); what the time means is the caller's call.
  void time(std::string_view n, std::string& s) { cstr(n, s, time_length); }

  void sm(std::string_view, std::string& s) {
    if (err != no_error) return;
    if (p == end) {
      err = errc::truncated_body;
      return;
    }
    const std::size_t n = *p++;
    if (n > max_sm_length || n > left()) {  // §5.2.21: 0..254, and within the PDU
      err = errc::sm_length_mismatch;
      return;
    }
    s.assign(reinterpret_cast<const char*>(p), n);
    p += n;
  }

  // §3.2.4.1: TLVs run to the end of the PDU. Entries of `list` are reused in place.
  void tlvs(std::string_view, tlv_list& list) {
    if (err != no_error) return;
    std::size_t i = 0;
    while (p != end) {
      if (left() < 4) {
        err = errc::invalid_tlv;
        break;
      }
      const std::uint16_t tag = load16(p);
      const std::size_t len = load16(p + 2);
      if (len > left() - 4) {
        err = errc::invalid_tlv;
        break;
      }
      if (!tlv_length_valid(tag, len)) {
        err = errc::invalid_tlv_length;
        break;
      }
      p += 4;
      const char* v = reinterpret_cast<const char*>(p);
      if (i < list.size()) {
        list[i].tag = tag;
        list[i].value.assign(v, len);
      } else {
        list.push_back(tlv{tag, std::string(v, len)});
      }
      ++i;
      p += len;
    }
    list.resize(i);
  }
};

// Resets a reused body when its fields are absent (lenient error responses).
struct clearer {
  void u8(std::string_view, std::uint8_t& v) noexcept { v = 0; }
  void cstr(std::string_view, std::string& s, std::size_t) noexcept { s.clear(); }
  void time(std::string_view, std::string& s) noexcept { s.clear(); }
  void sm(std::string_view, std::string& s) noexcept { s.clear(); }
  void tlvs(std::string_view, tlv_list& l) noexcept { l.clear(); }
};

template <class T>
T& reuse(pdu_body& body) {
  // Keeping the alternative keeps its strings' capacity: a session decoding submit_sm_resp
  // after submit_sm_resp does not allocate.
  if (T* b = std::get_if<T>(&body)) return *b;
  return body.emplace<T>();
}

template <class T>
errc decode_body(const std::uint8_t* begin, const std::uint8_t* end, pdu_body& body,
                 std::uint32_t status) {
  T& b = reuse<T>(body);
  // A local reader whose address never escapes stays in registers across the field reads.
  reader r{begin, end};
  if constexpr (body_optional_on_error<T>) {
    // deliver_sm_resp's message_id is unused (§4.6.2): its absence is harmless even on success.
    if (r.p == r.end && (status != 0 || std::is_same_v<T, deliver_sm_resp>)) {
      clearer c;
      walk(c, b);
      return no_error;
    }
  }
  walk(r, b);
  if (r.err == no_error && r.p != r.end) {
    // SMPP 5.0 §4.2.2 lets submit_sm_resp carry TLVs; 3.4 has nowhere to keep them. Losing a
    // message_id over them would turn an accepted OTP into an unknown outcome, so skip them.
    if constexpr (!std::is_same_v<T, submit_sm_resp>) r.err = errc::trailing_bytes;
  }
  if constexpr (body_optional_on_error<T>) {
    if (r.err != no_error && status != 0) {
      clearer c;
      walk(c, b);
      return no_error;
    }
  }
  return r.err;
}

errc decode_by_id(std::uint32_t id, const std::uint8_t* begin, const std::uint8_t* end,
                  pdu_body& body, std::uint32_t status) {
  switch (static_cast<command_id>(id)) {
    case command_id::generic_nack:
      return decode_body<generic_nack>(begin, end, body, status);
    case command_id::bind_receiver:
      return decode_body<bind_receiver>(begin, end, body, status);
    case command_id::bind_receiver_resp:
      return decode_body<bind_receiver_resp>(begin, end, body, status);
    case command_id::bind_transmitter:
      return decode_body<bind_transmitter>(begin, end, body, status);
    case command_id::bind_transmitter_resp:
      return decode_body<bind_transmitter_resp>(begin, end, body, status);
    case command_id::bind_transceiver:
      return decode_body<bind_transceiver>(begin, end, body, status);
    case command_id::bind_transceiver_resp:
      return decode_body<bind_transceiver_resp>(begin, end, body, status);
    case command_id::outbind:
      return decode_body<outbind>(begin, end, body, status);
    case command_id::unbind:
      return decode_body<unbind>(begin, end, body, status);
    case command_id::unbind_resp:
      return decode_body<unbind_resp>(begin, end, body, status);
    case command_id::enquire_link:
      return decode_body<enquire_link>(begin, end, body, status);
    case command_id::enquire_link_resp:
      return decode_body<enquire_link_resp>(begin, end, body, status);
    case command_id::submit_sm:
      return decode_body<submit_sm>(begin, end, body, status);
    case command_id::submit_sm_resp:
      return decode_body<submit_sm_resp>(begin, end, body, status);
    case command_id::deliver_sm:
      return decode_body<deliver_sm>(begin, end, body, status);
    case command_id::deliver_sm_resp:
      return decode_body<deliver_sm_resp>(begin, end, body, status);
    case command_id::data_sm:
      return decode_body<data_sm>(begin, end, body, status);
    case command_id::data_sm_resp:
      return decode_body<data_sm_resp>(begin, end, body, status);
    case command_id::query_sm:
      return decode_body<query_sm>(begin, end, body, status);
    case command_id::query_sm_resp:
      return decode_body<query_sm_resp>(begin, end, body, status);
    case command_id::cancel_sm:
      return decode_body<cancel_sm>(begin, end, body, status);
    case command_id::cancel_sm_resp:
      return decode_body<cancel_sm_resp>(begin, end, body, status);
    case command_id::replace_sm:
      return decode_body<replace_sm>(begin, end, body, status);
    case command_id::replace_sm_resp:
      return decode_body<replace_sm_resp>(begin, end, body, status);
    case command_id::alert_notification:
      return decode_body<alert_notification>(begin, end, body, status);
  }
  return errc::unknown_command_id;
}

// --- encode ----------------------------------------------------------------------------------

// Validates against the spec's limits and counts the bytes.
struct sizer {
  std::size_t n = 0;
  errc err = no_error;

  void fail(errc e) noexcept {
    if (err == no_error) err = e;
  }
  static bool has_nul(const std::string& s) noexcept {
    return !s.empty() && std::memchr(s.data(), 0, s.size()) != nullptr;
  }
  void u8(std::string_view, std::uint8_t) noexcept { n += 1; }
  void cstr(std::string_view, const std::string& s, std::size_t max) noexcept {
    // A NUL inside would end the string early on the wire and shift every later field.
    if (s.size() >= max) {
      fail(errc::c_string_too_long);
    } else if (has_nul(s)) {
      fail(errc::invalid_field);
    }
    n += s.size() + 1;
  }
  void time(std::string_view, const std::string& s) noexcept {
    // §7.1: NULL or exactly 16 characters ("YYMMDDhhmmsstnnp").
    if (s.size() >= time_length) {
      fail(errc::c_string_too_long);
    } else if ((!s.empty() && s.size() != time_length - 1) || has_nul(s)) {
      fail(errc::invalid_field);
    }
    n += s.size() + 1;
  }
  void sm(std::string_view, const std::string& s) noexcept {
    if (s.size() > max_sm_length) fail(errc::sm_length_mismatch);
    n += 1 + s.size();
  }
  void tlvs(std::string_view, const tlv_list& list) noexcept {
    for (const tlv& t : list) {
      if (t.value.size() > max_tlv_value || !tlv_length_valid(t.tag, t.value.size())) {
        fail(errc::invalid_tlv_length);
      }
      n += 4 + t.value.size();
    }
  }
};

// Writes into memory the sizer has measured: no bounds checks here.
struct writer {
  std::uint8_t* p;

  void bytes(const std::string& s) noexcept {
    if (!s.empty()) std::memcpy(p, s.data(), s.size());
    p += s.size();
  }
  void u8(std::string_view, std::uint8_t v) noexcept { *p++ = v; }
  void cstr(std::string_view, const std::string& s, std::size_t) noexcept {
    bytes(s);
    *p++ = 0;
  }
  void time(std::string_view n, const std::string& s) noexcept { cstr(n, s, 0); }
  void sm(std::string_view, const std::string& s) noexcept {
    *p++ = static_cast<std::uint8_t>(s.size());
    bytes(s);
  }
  void tlvs(std::string_view, const tlv_list& list) noexcept {
    for (const tlv& t : list) {
      p = store16(p, t.tag);
      p = store16(p, static_cast<std::uint16_t>(t.value.size()));
      bytes(t.value);
    }
  }
};

// Total encoded size of `p`, or an error.
errc measure(const pdu& p, std::size_t& total) noexcept {
  // The visitor objects are local to each alternative's code so that they live in registers
  // (a pointer to them escaping into std::visit's table would force every byte store through
  // memory: stores via uint8_t* may alias anything).
  const sizer s = std::visit(
      [status = p.command_status](const auto& b) noexcept {
        sizer v;
        if (!omit_body(b, status)) walk(v, b);
        return v;
      },
      p.body);
  total = header_length + s.n;
  if (s.err == no_error && total > std::numeric_limits<std::uint32_t>::max()) {
    return errc::invalid_command_length;
  }
  return s.err;
}

}  // namespace
}  // namespace detail

boost::system::error_code decode(std::span<const std::uint8_t> bytes, pdu& out,
                                 decode_info* info) noexcept {
  using namespace detail;
  if (info != nullptr) *info = decode_info{};
  if (bytes.size() < header_length) return errc::invalid_command_length;

  const std::uint8_t* p = bytes.data();
  const std::uint32_t length = load32(p);  // SMPP 3.4 §3.2: length, id, status, sequence
  const std::uint32_t id = load32(p + 4);
  out.command_status = load32(p + 8);
  out.sequence_number = load32(p + 12);
  if (info != nullptr) {
    info->raw_command_id = id;
    info->header_valid = true;
  }
  if (length != bytes.size()) return errc::invalid_command_length;

  const errc e =
      decode_by_id(id, p + header_length, p + bytes.size(), out.body, out.command_status);
  if (e == no_error) return {};
  return e;
}

std::size_t encoded_size(const pdu& p) noexcept {
  std::size_t n = 0;
  return detail::measure(p, n) == detail::no_error ? n : 0;
}

boost::system::error_code encode(const pdu& p, std::string& out) {
  using namespace detail;
  std::size_t n = 0;
  if (const errc e = measure(p, n); e != no_error) return e;

  const std::size_t old = out.size();
  out.resize(old + n);
  auto* w = reinterpret_cast<std::uint8_t*>(out.data() + old);
  w = store32(w, static_cast<std::uint32_t>(n));
  w = store32(w, static_cast<std::uint32_t>(command_id_of(p.body)));
  w = store32(w, p.command_status);
  w = store32(w, p.sequence_number);
  std::visit(
      [w, status = p.command_status](const auto& b) noexcept {
        writer v{w};
        if (!omit_body(b, status)) walk(v, b);
      },
      p.body);
  return {};
}

}  // namespace otpd::smpp
