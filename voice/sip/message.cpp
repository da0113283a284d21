#include "voice/sip/message.hpp"

#include <algorithm>

#include "voice/sip/detail/head.hpp"
#include "voice/sip/detail/syntax.hpp"
#include "voice/sip/headers.hpp"
#include "voice/sip/status.hpp"

namespace otpd::sip {
namespace {

using boost::system::error_code;

struct name_entry {
  std::string_view compact;  // RFC 3261 §7.3.3 and later RFCs; empty when none
  std::string_view full;
};

// Compact forms (RFC 3261 §7.3.3, RFC 3265, 3515, 3841, 3892, 4028, 4474) and the usual
// spelling of the headers whose case is not simply "Word-Word".
constexpr name_entry name_table[] = {
    {"i", "Call-ID"},
    {"m", "Contact"},
    {"e", "Content-Encoding"},
    {"l", "Content-Length"},
    {"c", "Content-Type"},
    {"f", "From"},
    {"s", "Subject"},
    {"k", "Supported"},
    {"t", "To"},
    {"v", "Via"},
    {"o", "Event"},
    {"u", "Allow-Events"},
    {"r", "Refer-To"},
    {"b", "Referred-By"},
    {"x", "Session-Expires"},
    {"a", "Accept-Contact"},
    {"j", "Reject-Contact"},
    {"d", "Request-Disposition"},
    {"y", "Identity"},
    {"n", "Identity-Info"},
    {"", "CSeq"},
    {"", "WWW-Authenticate"},
    {"", "MIME-Version"},
    {"", "RAck"},
    {"", "RSeq"},
    {"", "SIP-ETag"},
    {"", "SIP-If-Match"},
};

// RFC 3261 §7.3.1: headers whose value is a comma-separated list and that may be split into
// one line per element. Only those the UAC inspects element by element.
bool is_split_list(std::string_view full) noexcept {
  using detail::iequals;
  return iequals(full, "Via") || iequals(full, "Route") || iequals(full, "Record-Route") ||
         iequals(full, "Contact") || iequals(full, "Path");
}

// True when `name` (full or compact) designates the header `full`.
bool same_header(std::string_view stored_full, std::string_view name) noexcept {
  if (detail::iequals(stored_full, name)) return true;
  if (name.size() == 1) {
    for (const name_entry& e : name_table) {
      if (e.compact.size() == 1 && ascii::to_lower(name[0]) == e.compact[0]) {
        return detail::iequals(stored_full, e.full);
      }
    }
  }
  return false;
}

bool is_version(std::string_view v) noexcept { return detail::iequals(v, "SIP/2.0"); }

error_code check_version(std::string_view v) noexcept {
  if (is_version(v)) return {};
  // "SIP/x.y": a well-formed but unsupported version (RFC 4475 §3.1.2.17 answers 505).
  if (v.size() > 4 && detail::iequals(v.substr(0, 4), "SIP/")) return errc::unsupported_version;
  return errc::malformed_start_line;
}

error_code parse_start_line(std::string_view line, message& out) {
  using namespace detail;
  if (line.size() >= 4 && iequals(line.substr(0, 4), "SIP/")) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (§7.2)
    const std::size_t sp = line.find(' ');
    if (sp == std::string_view::npos) return errc::malformed_start_line;
    if (const error_code ec = check_version(line.substr(0, sp))) return ec;
    const std::string_view rest = line.substr(sp + 1);
    std::uint64_t code = 0;
    if (rest.size() < 3 || !parse_uint(rest.substr(0, 3), 699, code) || code < 100) {
      return errc::malformed_start_line;
    }
    // An empty reason phrase with or without its SP is tolerated.
    if (rest.size() > 3 && rest[3] != ' ') return errc::malformed_start_line;
    status_line s;
    s.code = static_cast<int>(code);
    if (rest.size() > 4) s.reason.assign(rest.substr(4));
    out.start = std::move(s);
    return {};
  }
  // Request-Line = Method SP Request-URI SP SIP-Version (§7.1): single spaces, no LWS inside
  // the URI (RFC 4475 §3.1.2.11 / §3.1.2.12).
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp1 == sp2) return errc::malformed_start_line;
  const std::string_view method = line.substr(0, sp1);
  const std::string_view uri = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (!is_token(method) || uri.empty()) return errc::malformed_start_line;
  for (const char c : uri) {
    if (static_cast<unsigned char>(c) < 0x21 || c == '<' || c == '>' || c == '"') {
      return errc::malformed_start_line;
    }
  }
  if (uri.find(':') == std::string_view::npos) return errc::malformed_start_line;
  if (const error_code ec = check_version(line.substr(sp2 + 1))) return ec;
  out.start = request_line{std::string(method), std::string(uri)};
  return {};
}

void append_header(message& out, std::string name, std::string_view value) {
  if (is_split_list(name)) {
    std::vector<std::string_view> parts;
    if (detail::split_list(value, parts) && !parts.empty()) {
      for (const std::string_view p : parts) out.headers.push_back({name, std::string(p)});
      return;
    }
  }
  out.headers.push_back({std::move(name), std::string(value)});
}

// The mandatory headers of every request and response (RFC 3261 §8.1.1, §20) in a form the
// transaction and dialog layers can read: every Via, From, To, and a CSeq that agrees with
// the request method (§8.2 / RFC 4475 §3.1.2.16).
error_code check_mandatory(const message& m) {
  for (const std::string_view h : {"Via", "From", "To", "Call-ID", "CSeq"}) {
    if (!m.find(h)) return errc::missing_header;
  }
  error_code ec;
  for (const std::string_view v : m.values("Via")) {
    via parsed;
    if ((ec = parse_via(v, parsed))) return ec;
  }
  name_addr na;
  if ((ec = parse_name_addr(*m.find("From"), na))) return ec;
  if ((ec = parse_name_addr(*m.find("To"), na))) return ec;
  cseq c;
  if ((ec = parse_cseq(*m.find("CSeq"), c))) return ec;
  if (const request_line* r = m.request(); r && r->method != c.method) {
    return errc::malformed_cseq;
  }
  return {};
}

}  // namespace

std::string canonical_header_name(std::string_view name) {
  for (const name_entry& e : name_table) {
    if ((!e.compact.empty() && detail::iequals(name, e.compact)) || detail::iequals(name, e.full))
      return std::string(e.full);
  }
  // "content-type" -> "Content-Type": capitalise each dash-separated word.
  std::string r(name);
  bool start = true;
  for (char& c : r) {
    c = start && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A')
        : !start                      ? ascii::to_lower(c)
                                      : c;
    start = c == '-';
  }
  return r;
}

int message::code() const noexcept {
  const status_line* s = response();
  return s ? s->code : 0;
}

std::string message::method() const {
  if (const request_line* r = request()) return r->method;
  cseq c;
  if (const std::string* v = find("CSeq"); v && !parse_cseq(*v, c)) return c.method;
  return {};
}

const std::string* message::find(std::string_view name) const noexcept {
  for (const header& h : headers) {
    if (same_header(h.name, name)) return &h.value;
  }
  return nullptr;
}

std::vector<std::string_view> message::values(std::string_view name) const {
  std::vector<std::string_view> r;
  for (const header& h : headers) {
    if (same_header(h.name, name)) r.emplace_back(h.value);
  }
  return r;
}

void message::add(std::string_view name, std::string_view value) {
  headers.push_back({canonical_header_name(name), std::string(value)});
}

void message::set(std::string_view name, std::string_view value) {
  auto it = std::find_if(headers.begin(), headers.end(),
                         [&](const header& h) { return same_header(h.name, name); });
  if (it == headers.end()) {
    add(name, value);
    return;
  }
  it->value.assign(value);
  headers.erase(std::remove_if(std::next(it), headers.end(),
                               [&](const header& h) { return same_header(h.name, name); }),
                headers.end());
}

std::size_t message::remove(std::string_view name) {
  return std::erase_if(headers, [&](const header& h) { return same_header(h.name, name); });
}

namespace detail {

std::size_t skip_leading_crlf(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size() && (s[i] == '\r' || s[i] == '\n')) ++i;
  return i;
}

head_end find_head_end(std::string_view s, std::size_t from) noexcept {
  // The header section ends with an empty line: "\n\r\n" or "\n\n" (bare LF tolerated).
  for (std::size_t i = from; i < s.size(); ++i) {
    if (s[i] != '\n') continue;
    if (i + 1 < s.size() && s[i + 1] == '\n') return {i + 1, i + 2};
    if (i + 2 < s.size() && s[i + 1] == '\r' && s[i + 2] == '\n') return {i + 1, i + 3};
  }
  return {};
}

error_code parse_head(std::string_view head, message& out, const limits& lim,
                      std::optional<std::size_t>& content_length) {
  message m;
  content_length.reset();
  std::size_t count = 0;
  bool first = true;
  std::string name;  // the header being unfolded
  std::string value;
  bool pending = false;
  error_code ec;
  auto flush = [&]() -> error_code {
    if (!pending) return {};
    pending = false;
    if (++count > lim.max_headers) return errc::too_many_headers;
    const std::string_view v = trim(value);
    if (iequals(name, "Content-Length")) {
      std::uint64_t n = 0;
      if (!parse_uint(v, 0xFFFFFFFFu, n)) return errc::invalid_content_length;
      if (content_length && *content_length != n) return errc::invalid_content_length;
      content_length = static_cast<std::size_t>(n);
    }
    append_header(m, std::move(name), v);
    return {};
  };
  while (!head.empty()) {
    std::size_t nl = head.find('\n');
    std::string_view line = head.substr(0, nl);
    head = nl == std::string_view::npos ? std::string_view() : head.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (first) {
      first = false;
      if ((ec = parse_start_line(line, m))) return ec;
      continue;
    }
    if (line.empty()) continue;  // only at the very end: callers cut the head there
    if (line.front() == ' ' || line.front() == '\t') {
      // §7.3.1 folding: a continuation line joins the previous header with one space.
      if (!pending) return errc::malformed_header;
      value += ' ';
      value += trim(line);
      continue;
    }
    if ((ec = flush())) return ec;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return errc::malformed_header;
    // HCOLON = *( SP / HTAB ) ":" SWS
    std::string_view n = line.substr(0, colon);
    while (!n.empty() && (n.back() == ' ' || n.back() == '\t')) n.remove_suffix(1);
    if (!is_token(n)) return errc::malformed_header;
    name = canonical_header_name(n);
    value.assign(line.substr(colon + 1));
    pending = true;
  }
  if (first) return errc::malformed_start_line;
  if ((ec = flush())) return ec;
  if (content_length && *content_length > lim.max_body_bytes) return errc::body_too_large;
  if ((ec = check_mandatory(m))) return ec;
  out = std::move(m);
  return {};
}

}  // namespace detail

error_code parse(std::string_view datagram, message& out, const limits& lim) {
  datagram.remove_prefix(detail::skip_leading_crlf(datagram));
  const detail::head_end end = detail::find_head_end(datagram, 0);
  if (end.body_start == 0) {
    return datagram.size() > lim.max_header_bytes ? errc::headers_too_large : errc::truncated;
  }
  if (end.body_start > lim.max_header_bytes) return errc::headers_too_large;
  std::optional<std::size_t> cl;
  message m;
  if (const error_code ec = detail::parse_head(datagram.substr(0, end.head_size), m, lim, cl)) {
    return ec;
  }
  std::string_view body = datagram.substr(end.body_start);
  if (cl) {
    // RFC 3261 §18.3: extra bytes after Content-Length are discarded; fewer is an error.
    if (body.size() < *cl) return errc::truncated;
    body = body.substr(0, *cl);
  } else if (body.size() > lim.max_body_bytes) {
    return errc::body_too_large;
  }
  m.body.assign(body);
  out = std::move(m);
  return {};
}

std::string serialize(const message& m) {
  std::string r;
  std::size_t size = m.body.size() + 64;
  for (const header& h : m.headers) size += h.name.size() + h.value.size() + 4;
  r.reserve(size);
  if (const request_line* rl = m.request()) {
    r += rl->method + " " + rl->uri + " SIP/2.0\r\n";
  } else {
    const status_line& s = *m.response();
    r += "SIP/2.0 " + std::to_string(s.code) + " " + s.reason + "\r\n";
  }
  const std::string length = std::to_string(m.body.size());
  bool wrote_length = false;
  for (const header& h : m.headers) {
    if (same_header(h.name, "Content-Length")) {
      if (wrote_length) continue;
      wrote_length = true;
      r += "Content-Length: " + length + "\r\n";
      continue;
    }
    r += h.name + ": " + h.value + "\r\n";
  }
  if (!wrote_length) r += "Content-Length: " + length + "\r\n";
  r += "\r\n";
  r += m.body;
  return r;
}

message make_request(std::string_view method, std::string_view uri) {
  message m;
  m.start = request_line{std::string(method), std::string(uri)};
  return m;
}

message make_response(int code, std::string_view reason) {
  message m;
  m.start =
      status_line{code, reason.empty() ? std::string(reason_phrase(code)) : std::string(reason)};
  return m;
}

}  // namespace otpd::sip
