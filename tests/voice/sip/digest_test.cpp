#include "voice/sip/digest.hpp"

#include <gtest/gtest.h>

#include "voice/sip/status.hpp"

namespace otpd::sip {
namespace {

using boost::system::error_code;

// RFC 2617 §3.5.
constexpr std::string_view rfc2617_challenge =
    "Digest\r\n realm=\"testrealm@host.com\",\r\n qop=\"auth,auth-int\",\r\n"
    " nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n"
    " opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";

// RFC 7616 §3.9.1 (the server offers SHA-256 and MD5 in two headers).
std::string rfc7616_challenge(std::string_view algorithm) {
  return "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=" +
         std::string(algorithm) +
         ", nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
         "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
}

const digest_credentials mufasa_2617{"Mufasa", "Circle Of Life"};
const digest_credentials mufasa_7616{"Mufasa", "Circle of Life"};

TEST(sip_digest, rfc2617_vector) {
  digest_challenge c;
  ASSERT_FALSE(parse_challenge(rfc2617_challenge, c));
  EXPECT_EQ(c.realm, "testrealm@host.com");
  EXPECT_EQ(c.nonce, "dcd98b7102dd2f0e8b11d0f600bfb0c093");
  EXPECT_EQ(c.opaque, "5ccc069c403ebaf9f0171e9517f40e41");
  EXPECT_EQ(c.qop, (std::vector<std::string>{"auth", "auth-int"}));
  EXPECT_EQ(c.algorithm, digest_algorithm::md5);
  EXPECT_FALSE(c.has_algorithm);
  std::string out;
  ASSERT_FALSE(make_authorization(c, mufasa_2617, {"GET", "/dir/index.html", 1, "0a4f113b"}, out));
  EXPECT_EQ(out,
            "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
            "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", "
            "response=\"6629fae49393a05397450978507c4ef1\", cnonce=\"0a4f113b\", "
            "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\", qop=auth, nc=00000001");
}

TEST(sip_digest, rfc7616_md5_vector) {
  digest_challenge c;
  ASSERT_FALSE(parse_challenge(rfc7616_challenge("MD5"), c));
  EXPECT_EQ(c.algorithm, digest_algorithm::md5);
  std::string out;
  ASSERT_FALSE(make_authorization(
      c, mufasa_7616, {"GET", "/dir/index.html", 1, "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"},
      out));
  EXPECT_NE(out.find("response=\"8ca523f5e9506fed4657c9700eebdbec\""), std::string::npos) << out;
  EXPECT_NE(out.find(", algorithm=MD5,"), std::string::npos) << out;
}

TEST(sip_digest, rfc7616_sha256_vector) {
  digest_challenge c;
  ASSERT_FALSE(parse_challenge(rfc7616_challenge("SHA-256"), c));
  EXPECT_EQ(c.algorithm, digest_algorithm::sha256);
  std::string out;
  ASSERT_FALSE(make_authorization(
      c, mufasa_7616, {"GET", "/dir/index.html", 1, "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"},
      out));
  EXPECT_EQ(out,
            "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", "
            "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", uri=\"/dir/index.html\", "
            "response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\", "
            "algorithm=SHA-256, cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", "
            "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\", qop=auth, nc=00000001");
}

TEST(sip_digest, without_qop_rfc2069_form) {
  digest_challenge c;
  ASSERT_FALSE(parse_challenge(
      R"(Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093")", c));
  std::string out;
  ASSERT_FALSE(make_authorization(c, mufasa_2617, {"GET", "/dir/index.html", 1, ""}, out));
  // RFC 2069: response = H(H(A1):nonce:H(A2)); no cnonce, qop or nc written.
  EXPECT_EQ(out,
            "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
            "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", "
            "response=\"670fd8c2df070c60b045671b8b24ff02\"");
}

TEST(sip_digest, kamailio_proxy_challenge_and_sip_invite) {
  digest_challenge c;
  ASSERT_FALSE(parse_challenge(
      R"(Digest realm="example.org", nonce="Z3Bx0mdwb9Dnj4Tl0cSd7Xzj5aQ5", qop="auth")", c));
  std::string out;
  ASSERT_FALSE(make_authorization(c, {"otpd", "s3cr\"et"},
                                  {"INVITE", "sip:0912345678@example.org", 2, "abcdef01"}, out));
  EXPECT_NE(out.find("uri=\"sip:0912345678@example.org\""), std::string::npos);
  EXPECT_NE(out.find("nc=00000002"), std::string::npos);
  EXPECT_EQ(out.find("opaque"), std::string::npos);
  EXPECT_EQ(out.find("algorithm"), std::string::npos);
  // Cross-checked with Python's hashlib.
  EXPECT_NE(out.find("response=\"c036ba34803e4d4b714ec67421677f87\""), std::string::npos) << out;
}

TEST(sip_digest, sess_algorithms_and_stale) {
  digest_challenge c;
  ASSERT_FALSE(parse_challenge(
      R"(DIGEST realm="r", nonce="n", algorithm=MD5-sess, stale=TRUE, charset=UTF-8)", c));
  EXPECT_EQ(c.algorithm, digest_algorithm::md5_sess);
  EXPECT_TRUE(c.stale);
  EXPECT_TRUE(c.qop.empty());
  std::string out;
  ASSERT_FALSE(make_authorization(c, {"u", "p"}, {"BYE", "sip:a@b", 1, "cn"}, out));
  // -sess: H(A1) = H(H(u:r:p):n:cn)
  EXPECT_NE(out.find("response=\"" +
                     digest_response(digest_algorithm::md5_sess, "u", "r", "p", "BYE", "sip:a@b",
                                     "n", "", "cn", "") +
                     "\""),
            std::string::npos);
  EXPECT_NE(out.find("cnonce=\"cn\""), std::string::npos);
  ASSERT_FALSE(parse_challenge(R"(Digest realm="r", nonce="n", algorithm=SHA-256-sess)", c));
  EXPECT_EQ(c.algorithm, digest_algorithm::sha256_sess);
}

TEST(sip_digest, quoted_pairs_in_challenge_and_username) {
  digest_challenge c;
  ASSERT_FALSE(parse_challenge(R"(Digest realm="a \"quoted\" \\ realm", nonce="x")", c));
  EXPECT_EQ(c.realm, R"(a "quoted" \ realm)");
  std::string out;
  ASSERT_FALSE(make_authorization(c, {"j\"o", "p"}, {"INVITE", "sip:a@b", 1, ""}, out));
  EXPECT_EQ(out.substr(0, 53), R"(Digest username="j\"o", realm="a \"quoted\" \\ realm")");
}

TEST(sip_digest, errors) {
  digest_challenge c;
  EXPECT_EQ(parse_challenge(R"(Basic realm="x")", c), errc::unsupported_scheme);
  EXPECT_EQ(parse_challenge(R"(Digestrealm="x")", c), errc::unsupported_scheme);
  EXPECT_EQ(parse_challenge(R"(Digest realm="x", nonce="n", algorithm=SHA-512-256)", c),
            errc::unsupported_algorithm);
  for (const char* bad :
       {"", "Digest", "Digest realm=\"x\"", "Digest nonce=\"n\"", "Digest realm=\"x, nonce=\"n\"",
        "Digest realm=\"x\" nonce=\"n\"", "Digest realm=\"x\", nonce=\"n\",",
        "Digest realm=, nonce=\"n\"", "Digest realm=\"x\", realm=\"y\", nonce=\"n\"",
        "Digest =\"x\", nonce=\"n\""}) {
    EXPECT_EQ(parse_challenge(bad, c), errc::malformed_challenge) << bad;
  }
  ASSERT_FALSE(parse_challenge(R"(Digest realm="x", nonce="n", qop="auth-int")", c));
  std::string out;
  EXPECT_EQ(make_authorization(c, {"u", "p"}, {"INVITE", "sip:a@b", 1, "cn"}, out),
            errc::unsupported_qop);
  ASSERT_FALSE(parse_challenge(R"(Digest realm="x", nonce="n", qop="auth")", c));
  EXPECT_EQ(make_authorization(c, {"u", "p"}, {"INVITE", "sip:a@b", 1, ""}, out),
            errc::malformed_challenge);
}

TEST(sip_digest, qop_options_base64_nonces_and_duplicates) {
  digest_challenge c;
  // qop-options trimmed and lower-cased, empty items dropped; an unquoted base64 nonce and
  // opaque kept whole; unknown parameters ignored.
  ASSERT_FALSE(parse_challenge(
      "Digest realm=\"r\",nonce=ab/c+d==, qop=\" Auth , ,auth-INT\", opaque=x=y, userhash=true",
      c));
  EXPECT_EQ(c.qop, (std::vector<std::string>{"auth", "auth-int"}));
  EXPECT_EQ(c.nonce, "ab/c+d==");
  EXPECT_TRUE(c.has_opaque);
  EXPECT_EQ(c.opaque, "x=y");
  EXPECT_FALSE(c.has_algorithm);
  // Every known parameter at most once; a refused challenge leaves `out` as it was.
  for (const char* dup :
       {"opaque=\"a\", opaque=\"b\"", "qop=\"auth\", qop=\"auth\"", "stale=true, stale=false",
        "domain=\"a\", domain=\"b\"", "algorithm=MD5, algorithm=MD5", "nonce=\"m\""}) {
    EXPECT_EQ(parse_challenge(std::string("Digest realm=\"q\", nonce=\"n\", ") + dup, c),
              errc::malformed_challenge)
        << dup;
    EXPECT_EQ(c.realm, "r") << dup;
  }
  // An empty nonce is no nonce.
  EXPECT_EQ(parse_challenge("Digest realm=\"r\", nonce=\"\"", c), errc::malformed_challenge);
}

// A control character in a challenge value would be copied into the Authorization header we
// send (a CR starts a new header line): such a challenge is refused (found by fuzzing).
TEST(sip_digest, control_characters_in_a_challenge_are_refused) {
  digest_challenge c;
  for (const char* bad :
       {"Digest realm=\"x\", nonce=\"n\", opaque=\"a\rVia: evil\"",
        "Digest realm=\"x\nX\", nonce=\"n\"", "Digest realm=\"x\", nonce=\"n\x01\""}) {
    EXPECT_EQ(parse_challenge(bad, c), errc::malformed_challenge) << bad;
  }
  // A tab is allowed (linear white space).
  EXPECT_FALSE(parse_challenge("Digest realm=\"x\ty\", nonce=\"n\"", c));
}

}  // namespace
}  // namespace otpd::sip
