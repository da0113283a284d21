// HTTP Digest authentication for SIP (RFC 3261 §22.4, RFC 7616, RFC 2617): reading a
// WWW-Authenticate / Proxy-Authenticate challenge and computing the Authorization /
// Proxy-Authorization value. Pure: the caller supplies the cnonce and the nonce count.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/error_code.hpp>

namespace otpd::sip {

enum class digest_algorithm { md5, md5_sess, sha256, sha256_sess };

// "MD5", "MD5-sess", "SHA-256", "SHA-256-sess".
const char* to_string(digest_algorithm a) noexcept;

struct digest_challenge {
  std::string realm;
  std::string nonce;
  std::string opaque;  // echoed back unchanged when present
  bool has_opaque = false;
  digest_algorithm algorithm = digest_algorithm::md5;  // RFC 7616 §3.3: MD5 when absent
  bool has_algorithm = false;    // echo "algorithm=" only when the server named one
  std::vector<std::string> qop;  // qop-options, e.g. {"auth", "auth-int"}; empty: RFC 2069
  bool stale = false;            // RFC 7616 §3.3: the nonce expired, the credentials are fine
  std::string domain;
};

// Reads one challenge value: `Digest realm="...", nonce="...", ...`. Quoted strings may hold
// quoted-pairs; unknown parameters are ignored. A missing realm or nonce, a duplicate
// parameter or unbalanced quotes is errc::malformed_challenge; another scheme
// errc::unsupported_scheme; an unknown algorithm errc::unsupported_algorithm.
boost::system::error_code parse_challenge(std::string_view value, digest_challenge& out);

struct digest_credentials {
  std::string username;
  // A view of the trunk's password, which the caller keeps for as long as its calls: the
  // password is held once, in memory kept out of core dumps (common/secret.hpp).
  std::string_view password;
};

struct digest_request {
  std::string_view method;      // "INVITE"; for ACK/CANCEL, the INVITE's (RFC 3261 §22.1)
  std::string_view digest_uri;  // the Request-URI
  std::uint32_t nc = 1;         // nonce count: 1 for the first use of a nonce
  std::string_view cnonce;      // client nonce (make_cnonce()); used only with qop
};

// The Authorization / Proxy-Authorization header value. Uses qop=auth when the challenge
// offers it (RFC 7616 §3.4), none when the challenge has no qop (RFC 2069 compatibility);
// a challenge that offers only auth-int gives errc::unsupported_qop. A -sess algorithm needs
// a cnonce.
boost::system::error_code make_authorization(const digest_challenge& challenge,
                                             const digest_credentials& credentials,
                                             const digest_request& request, std::string& out);

// The bare response hash (RFC 7616 §3.4.1), for tests and diagnostics; qop is "" or "auth".
std::string digest_response(digest_algorithm a, std::string_view username, std::string_view realm,
                            std::string_view password, std::string_view method,
                            std::string_view uri, std::string_view nonce, std::string_view nc,
                            std::string_view cnonce, std::string_view qop);

}  // namespace otpd::sip
