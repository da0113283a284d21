// Digest challenge parser (voice/sip/digest, RFC 7616 / RFC 2617 WWW-Authenticate and
// Proxy-Authenticate values): any value parses or is refused without a crash; a challenge
// that parses can be answered or refused with an error, and an answer never holds a line break
// (it goes into a header: a CR or LF there would be header injection).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_check.hpp"
#include "voice/sip/digest.hpp"

namespace sip = otpd::sip;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view value(reinterpret_cast<const char*>(data), size);
  sip::digest_challenge c;
  if (sip::parse_challenge(value, c)) return 0;

  const sip::digest_credentials creds{"alice", "secret"};
  sip::digest_request req;
  req.method = "INVITE";
  req.digest_uri = "sip:+15551234567@trunk.example.com";
  req.cnonce = "0a4f113b";
  std::string out;
  if (!sip::make_authorization(c, creds, req, out)) {
    FUZZ_CHECK(out.starts_with("Digest "));
    // What we send must itself read as a digest value (the same quoting rules), but with
    // username/response in place of the challenge parameters it is not a challenge.
    FUZZ_CHECK(out.find('\r') == std::string::npos && out.find('\n') == std::string::npos);
  }
  return 0;
}
