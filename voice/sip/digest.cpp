#include "voice/sip/digest.hpp"

#include <cstdio>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "voice/sip/detail/syntax.hpp"
#include "voice/sip/status.hpp"

namespace otpd::sip {
namespace {

using boost::system::error_code;

bool is_sha256(digest_algorithm a) noexcept {
  return a == digest_algorithm::sha256 || a == digest_algorithm::sha256_sess;
}

bool is_sess(digest_algorithm a) noexcept {
  return a == digest_algorithm::md5_sess || a == digest_algorithm::sha256_sess;
}

// Lower-case hex of MD5 or SHA-256 of `data` (RFC 7616 §3.4: H(data)).
std::string hash_hex(digest_algorithm a, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const EVP_MD* type = is_sha256(a) ? EVP_sha256() : EVP_md5();
  if (EVP_Digest(data.data(), data.size(), md, &len, type, nullptr) != 1) return {};
  static constexpr char digits[] = "0123456789abcdef";
  std::string r;
  r.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    r.push_back(digits[md[i] >> 4]);
    r.push_back(digits[md[i] & 0xF]);
  }
  return r;
}

std::string join(std::initializer_list<std::string_view> parts) {
  std::string r;
  bool first = true;
  for (const std::string_view p : parts) {
    if (!first) r += ':';
    first = false;
    r += p;
  }
  return r;
}

bool parse_algorithm(std::string_view v, digest_algorithm& a) noexcept {
  using detail::iequals;
  if (iequals(v, "MD5")) {
    a = digest_algorithm::md5;
  } else if (iequals(v, "MD5-sess")) {
    a = digest_algorithm::md5_sess;
  } else if (iequals(v, "SHA-256")) {
    a = digest_algorithm::sha256;
  } else if (iequals(v, "SHA-256-sess")) {
    a = digest_algorithm::sha256_sess;
  } else {
    return false;
  }
  return true;
}

}  // namespace

const char* to_string(digest_algorithm a) noexcept {
  switch (a) {
    case digest_algorithm::md5:
      return "MD5";
    case digest_algorithm::md5_sess:
      return "MD5-sess";
    case digest_algorithm::sha256:
      return "SHA-256";
    case digest_algorithm::sha256_sess:
      return "SHA-256-sess";
  }
  return "MD5";
}

namespace {

// RFC 3261 §25.1: neither qdtext nor a quoted-pair may hold CR or LF (folding is undone by the
// message parser), and no parameter value holds a control character. A bare CR that got this
// far would otherwise be echoed into our Authorization header (header injection).
bool has_control_char(std::string_view v) noexcept {
  for (const char ch : v) {
    const auto u = static_cast<unsigned char>(ch);
    if ((u < 0x20 && ch != '\t') || u == 0x7F) return true;
  }
  return false;
}

// Reads one auth-param from the front of `s` and the comma after it (RFC 7616 §3.3: auth-param
// = token BWS "=" BWS ( token / quoted-string ), comma separated). False when malformed.
bool next_auth_param(std::string_view& s, std::string_view& name, std::string& value) {
  using namespace detail;
  std::size_t k = 0;
  while (k < s.size() && is_token_char(s[k])) ++k;
  if (k == 0) return false;
  name = s.substr(0, k);
  s = trim_left(s.substr(k));
  if (s.empty() || s.front() != '=') return false;
  s = trim_left(s.substr(1));
  if (!s.empty() && s.front() == '"') {
    const std::size_t q = quoted_length(s);
    if (q == std::string_view::npos) return false;
    value = unquote(s.substr(0, q));
    s = s.substr(q);
  } else {
    std::size_t e = 0;
    while (e < s.size() && is_token_char(s[e])) ++e;
    // Some servers send an unquoted nonce or opaque with '/' or '=' (base64): be lenient.
    while (e < s.size() && s[e] != ',' && !is_ws(s[e]) && s[e] != '"') ++e;
    if (e == 0) return false;
    value.assign(s.substr(0, e));
    s = s.substr(e);
  }
  if (has_control_char(value)) return false;
  s = trim_left(s);
  if (s.empty()) return true;
  if (s.front() != ',') return false;
  s = trim_left(s.substr(1));
  return !s.empty();  // a trailing comma
}

// qop-options: a quoted, comma-separated list of tokens, lower-cased.
std::vector<std::string> qop_options(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view item = detail::trim(list.substr(0, comma));
    if (!item.empty()) out.push_back(detail::to_lower(item));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
  }
  return out;
}

// The parameters of one challenge as they are read: each known one at most once.
struct challenge_reader {
  digest_challenge c;
  bool seen_realm = false, seen_nonce = false, seen_qop = false, seen_stale = false,
       seen_domain = false;
  std::string algorithm;

  static bool once(bool& seen) noexcept {
    const bool dup = seen;
    seen = true;
    return !dup;
  }

  // False for a duplicate. Unknown auth-params (charset, userhash, ...) are ignored (RFC 7616
  // §3.3).
  bool take(std::string_view name, std::string v) {
    using detail::iequals;
    if (iequals(name, "realm")) {
      if (!once(seen_realm)) return false;
      c.realm = std::move(v);
    } else if (iequals(name, "nonce")) {
      if (!once(seen_nonce)) return false;
      c.nonce = std::move(v);
    } else if (iequals(name, "opaque")) {
      if (!once(c.has_opaque)) return false;
      c.opaque = std::move(v);
    } else if (iequals(name, "algorithm")) {
      if (!once(c.has_algorithm)) return false;
      algorithm = std::move(v);
    } else if (iequals(name, "qop")) {
      if (!once(seen_qop)) return false;
      c.qop = qop_options(v);
    } else if (iequals(name, "stale")) {
      if (!once(seen_stale)) return false;
      c.stale = iequals(v, "true");
    } else if (iequals(name, "domain")) {
      if (!once(seen_domain)) return false;
      c.domain = std::move(v);
    }
    return true;
  }
};

}  // namespace

error_code parse_challenge(std::string_view value, digest_challenge& out) {
  using namespace detail;
  const error_code bad = errc::malformed_challenge;
  std::string_view s = trim(value);
  std::size_t n = 0;
  while (n < s.size() && is_token_char(s[n])) ++n;
  if (n == 0) return bad;
  if (!iequals(s.substr(0, n), "Digest")) return errc::unsupported_scheme;
  s = s.substr(n);
  if (s.empty() || !is_ws(s.front())) return bad;
  s = trim_left(s);

  challenge_reader r;
  while (!s.empty()) {
    std::string_view name;
    std::string v;
    if (!next_auth_param(s, name, v) || !r.take(name, std::move(v))) return bad;
  }
  if (!r.seen_realm || !r.seen_nonce || r.c.nonce.empty()) return bad;
  if (r.c.has_algorithm && !parse_algorithm(r.algorithm, r.c.algorithm)) {
    return errc::unsupported_algorithm;
  }
  out = std::move(r.c);
  return {};
}

std::string digest_response(digest_algorithm a, std::string_view username, std::string_view realm,
                            std::string_view password, std::string_view method,
                            std::string_view uri, std::string_view nonce, std::string_view nc,
                            std::string_view cnonce, std::string_view qop) {
  // RFC 7616 §3.4.2: A1 = username:realm:password, and for -sess H(A1):nonce:cnonce.
  // A1 holds the password and H(A1) stands for it at this realm: both are wiped after use.
  std::string a1 = join({username, realm, password});
  std::string ha1 = hash_hex(a, a1);
  OPENSSL_cleanse(a1.data(), a1.size());
  if (is_sess(a)) {
    std::string sess = join({ha1, nonce, cnonce});
    OPENSSL_cleanse(ha1.data(), ha1.size());
    ha1 = hash_hex(a, sess);
    OPENSSL_cleanse(sess.data(), sess.size());
  }
  // RFC 7616 §3.4.3: A2 = method:uri for qop=auth or no qop.
  const std::string ha2 = hash_hex(a, join({method, uri}));
  std::string kd = qop.empty() ? join({ha1, nonce, ha2})  // RFC 2069 / 2617 §3.2.2.1
                               : join({ha1, nonce, nc, cnonce, qop, ha2});
  OPENSSL_cleanse(ha1.data(), ha1.size());
  std::string response = hash_hex(a, kd);
  OPENSSL_cleanse(kd.data(), kd.size());
  return response;
}

error_code make_authorization(const digest_challenge& challenge,
                              const digest_credentials& credentials, const digest_request& request,
                              std::string& out) {
  using detail::quote;
  bool use_qop = false;
  if (!challenge.qop.empty()) {
    for (const std::string& q : challenge.qop) use_qop = use_qop || q == "auth";
    if (!use_qop) return errc::unsupported_qop;  // auth-int only: not implemented
  }
  if ((use_qop || is_sess(challenge.algorithm)) && request.cnonce.empty()) {
    return errc::malformed_challenge;  // a cnonce is needed and none was given
  }
  char nc[9];
  std::snprintf(nc, sizeof nc, "%08x", static_cast<unsigned>(request.nc));
  const std::string response =
      digest_response(challenge.algorithm, credentials.username, challenge.realm,
                      credentials.password, request.method, request.digest_uri, challenge.nonce, nc,
                      request.cnonce, use_qop ? "auth" : "");
  if (response.empty()) return errc::unsupported_algorithm;  // the crypto library refused
  // RFC 7616 §3.4: username, realm, nonce, uri, response, cnonce and opaque are quoted;
  // algorithm, qop and nc are not.
  std::string r = "Digest username=" + quote(credentials.username) +
                  ", realm=" + quote(challenge.realm) + ", nonce=" + quote(challenge.nonce) +
                  ", uri=" + quote(request.digest_uri) + ", response=\"" + response + "\"";
  if (challenge.has_algorithm) r += ", algorithm=" + std::string(to_string(challenge.algorithm));
  if (use_qop || is_sess(challenge.algorithm)) r += ", cnonce=" + quote(request.cnonce);
  if (challenge.has_opaque) r += ", opaque=" + quote(challenge.opaque);
  if (use_qop) r += ", qop=auth, nc=" + std::string(nc);
  out = std::move(r);
  return {};
}

}  // namespace otpd::sip
