// What the server answers a request on its header section alone, before it reads the body:
// the version, Host, Transfer-Encoding and request-target rules, and the Expect field (routing
// and authentication come between them: route_request.hpp). Pure functions of the request: no
// I/O, no Beast. server.cpp reads the bytes and carries the verdicts out; parse_request()
// (request_reader.hpp) applies check_head() to bytes in memory, and so does the fuzz target.
#pragma once

#include <optional>

#include "daemon/http/message.hpp"

namespace otpd::http {

// What the header section alone decides, before routing.
struct head_verdict {
  std::optional<response> early;  // set: answer this without routing
  bool close = false;             // the connection cannot carry another request
};

// RFC 9112 §2.3 version (505), §3.2 exactly one Host in HTTP/1.1, §6.3 a Transfer-Encoding we
// read (else 400: smuggling), §3.2 the request-target's form (origin-form, absolute-form, "*"
// for OPTIONS, which is answered 204 here); fills req.path, req.query_string and req.query
// (400 on a malformed escape in the query).
head_verdict check_head(request& req);

// RFC 9110 §10.1.1: a client that sent Expect: 100-continue waits for an interim 100 before the
// body; the field is ignored in HTTP/1.0. Any other expectation is 417.
struct expect_verdict {
  bool send_continue = false;     // write "100 Continue" before reading the body
  std::optional<response> early;  // set: answer this without reading the body
};
expect_verdict check_expectation(const request& req);

}  // namespace otpd::http
