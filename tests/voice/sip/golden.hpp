// SIP messages for the tests: RFC 3261 §24 call flow messages and RFC 4475 torture tests
// (transcribed with CRLF line ends; section numbers in the names).
#pragma once

#include <string>
#include <vector>

#include <boost/system/error_code.hpp>

namespace otpd::sip::test {

struct golden {
  const char* name;
  std::string wire;
};

// Well-formed messages, each with a Content-Length that matches its body.
const std::vector<golden>& valid_messages();

struct bad_golden {
  const char* name;
  std::string wire;
  boost::system::error_code expected;  // what parse() reports
};

// Messages every receiver must reject.
const std::vector<bad_golden>& invalid_messages();

}  // namespace otpd::sip::test
