// The RFC 3261 message model (§7), its parser and its serializer. Pure: no I/O, no clock, and
// parse() never throws on bad input (only std::bad_alloc can escape).
//
// Header names: compact forms (RFC 3261 §7.3.3) are expanded and well-known names are written
// in their usual spelling ("CALL-ID" -> "Call-ID"); lookups ignore case. Header folding
// (§7.3.1) is undone. The list headers Via, Route, Record-Route, Contact and Path are split at
// their top-level commas into one entry per value (§7.3.1 says both forms are equivalent), so
// that values(…) and the transaction layer see each hop in order.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/system/error_code.hpp>

namespace otpd::sip {

struct request_line {
  std::string method;  // case-sensitive token (RFC 3261 §7.1): "INVITE", "ACK", ...
  std::string uri;     // the Request-URI as written; parse_uri() reads it
  friend bool operator==(const request_line&, const request_line&) = default;
};

struct status_line {
  int code = 0;        // 100..699
  std::string reason;  // may be empty
  friend bool operator==(const status_line&, const status_line&) = default;
};

struct header {
  std::string name;  // full form, canonical spelling for well-known names
  std::string value;
  friend bool operator==(const header&, const header&) = default;
};

struct message {
  std::variant<request_line, status_line> start;
  std::vector<header> headers;  // in wire order (Content-Length included when parsed)
  std::string body;

  bool is_request() const noexcept { return start.index() == 0; }
  // Null when the message is of the other kind.
  const request_line* request() const noexcept { return std::get_if<request_line>(&start); }
  const status_line* response() const noexcept { return std::get_if<status_line>(&start); }
  // The status code of a response, 0 for a request.
  int code() const noexcept;
  // The method of a request; for a response the method of its CSeq (may be empty).
  std::string method() const;

  // The first value of the header `name` (full or compact form, any case), or nullptr.
  const std::string* find(std::string_view name) const noexcept;
  // Every value of `name`, in order.
  std::vector<std::string_view> values(std::string_view name) const;
  // Appends a header (name normalised as in parsing; the value is stored as given).
  void add(std::string_view name, std::string_view value);
  // Replaces every header `name` with one (appended when absent).
  void set(std::string_view name, std::string_view value);
  // Removes every header `name`; returns how many were removed.
  std::size_t remove(std::string_view name);

  friend bool operator==(const message&, const message&) = default;
};

// Limits on what the peer controls (docs/architecture.md §8: every limit explicit and
// configurable).
struct limits {
  std::size_t max_header_bytes = 16 * 1024;  // start line + headers + the empty line
  std::size_t max_body_bytes = 64 * 1024;
  std::size_t max_headers = 128;  // header lines after unfolding, before list splitting
};

// The full name of a header in its usual spelling: "i" -> "Call-ID", "via" -> "Via"; unknown
// names are returned unchanged.
std::string canonical_header_name(std::string_view name);

// Parses one datagram (UDP, RFC 3261 §18.3): when Content-Length is present the body is that
// many bytes and extra bytes are dropped; fewer is errc::truncated. Without Content-Length the
// body runs to the end of the datagram. Leading CRLFs are skipped (§7.5). Lines may end in
// CRLF or a bare LF.
boost::system::error_code parse(std::string_view datagram, message& out, const limits& lim = {});

// The wire form, with exactly one Content-Length equal to body.size() (any Content-Length in
// `m.headers` is replaced in place; appended when absent).
std::string serialize(const message& m);

// A request or response with the usual reason phrase: helpers for tests and the call layer.
message make_request(std::string_view method, std::string_view uri);
message make_response(int code, std::string_view reason = {});

}  // namespace otpd::sip
