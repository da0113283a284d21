#include "golden.hpp"

#include "voice/sip/status.hpp"

namespace otpd::sip::test {
namespace {

// The test texts are written with "\n" line ends for legibility; the wire uses CRLF.
std::string crlf(std::string_view text) {
  std::string r;
  for (const char c : text) {
    if (c == '\n') r += '\r';
    r += c;
  }
  return r;
}

}  // namespace

const std::vector<golden>& valid_messages() {
  using namespace std::string_literals;
  static const std::vector<golden> v = {
      // RFC 3261 §24.2 F1 (with a body: the RFC does not show Alice's SDP).
      {"rfc3261_f1_invite", crlf(R"(INVITE sip:bob@biloxi.com SIP/2.0
Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8
Max-Forwards: 70
To: Bob <sip:bob@biloxi.com>
From: Alice <sip:alice@atlanta.com>;tag=1928301774
Call-ID: a84b4c76e66710
CSeq: 314159 INVITE
Contact: <sip:alice@pc33.atlanta.com>
Content-Type: application/sdp
Content-Length: 146

v=0
o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.com
s=-
c=IN IP4 pc33.atlanta.com
t=0 0
m=audio 49172 RTP/AVP 0
a=rtpmap:0 PCMU/8000
)")},
      // RFC 3261 §24.2 F7 (180 Ringing through two proxies).
      {"rfc3261_f7_ringing", crlf(R"(SIP/2.0 180 Ringing
Via: SIP/2.0/UDP server10.biloxi.com;branch=z9hG4bK4b43c2ff8.1;received=192.0.2.3
Via: SIP/2.0/UDP bigbox3.site3.atlanta.com;branch=z9hG4bK77ef4c2312983.1;received=192.0.2.2
Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8;received=192.0.2.1
To: Bob <sip:bob@biloxi.com>;tag=a6c85cf
From: Alice <sip:alice@atlanta.com>;tag=1928301774
Call-ID: a84b4c76e66710
Contact: <sip:bob@192.0.2.4>
CSeq: 314159 INVITE
Content-Length: 0

)")},
      // RFC 3261 §24.2 F11 BYE, with a Route set.
      {"rfc3261_bye", crlf(R"(BYE sip:alice@pc33.atlanta.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKnashds10
Max-Forwards: 70
Route: <sip:ss1.atlanta.example.com;lr>, <sip:ss2.biloxi.example.com;lr>
From: Bob <sip:bob@biloxi.com>;tag=a6c85cf
To: Alice <sip:alice@atlanta.com>;tag=1928301774
Call-ID: a84b4c76e66710
CSeq: 231 BYE
Content-Length: 0

)")},
      // RFC 4475 §3.1.1.1 wsinv: whitespace, folding, case, compact forms.
      {"rfc4475_wsinv", crlf(R"(INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0
TO :
 sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n
from   : "J Rosenberg \\\""       <sip:jdrosen@example.com>
  ;
  tag = 98asjd8
MaX-fOrWaRdS: 0068
Call-ID: wsinv.ndaksdj@192.0.2.1
Content-Length   : 150
cseq: 0009
  INVITE
Via  : SIP  /   2.0
 /UDP
    192.0.2.2;branch=390skdjuw
s :
NewFangledHeader:   newfangled value
 continued newfangled value
UnknownHeaderWithUnusualValue: ;;,,;;,;
Content-Type: application/sdp
Route:
 <sip:services.example.com;lr;unknownwith=value;unknown-no-value>
v:  SIP  / 2.0  / TCP     spindle.example.com   ;
  branch  =   z9hG4bK9ikj8  ,
 SIP  /    2.0   / UDP  192.168.255.111   ; branch=
 z9hG4bK30239
m:"Quoted string \"\"" <sip:jdrosen@example.com> ; newparam =
      newvalue ;
  secondparam ; q = 0.33

v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.3
s=-
c=IN IP4 192.0.2.4
t=0 0
m=audio 49217 RTP/AVP 0 12
m=video 3227 RTP/AVP 31
a=rtpmap:31 LPC
)")},
      // RFC 4475 §3.1.1.2 intmeth: an unknown method made of every token character, and a
      // display name with escaped control characters (BEL, NUL, DEL).
      {"rfc4475_intmeth",
       crlf("!interesting-Method0123456789_*+`.%indeed'~ "
            "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too."
            "(doesn't-it)@example.com SIP/2.0\n"
            "Via: SIP/2.0/TOAST client.intmeth.example.com;branch=z9hG4bK-.!%66*_+`'~\n"
            "To: \"BEL:\\\x07 NUL:\\"s +
            std::string(1, '\0') +
            " DEL:\\\x7f\" <sip:1_unusual.URI~(to-be!sure)&isn't+it$/"
            "crazy?,/;;*@example.com>\n"
            "From: token1~` token2'+_ token3*%!.- "
            "<sip:mundane@example.com>;fromParam''~+*_!.-%="
            "\"\\\"\\\"ʻ\";tag=_token~1'+`*%!-.\n"
            "Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{\n"
            "CSeq: 139122385 !interesting-Method0123456789_*+`.%indeed'~\n"
            "Max-Forwards: 255\n"
            "extensionHeader-!.%*+_`'~:\xef\xbb\xbf"
            "\xe5\xa4\xa7\xe5\x81\x9c\xe9\x9b\xbb\n"
            "Content-Length: 0\n\n")},
      // RFC 4475 §3.1.1.5 lwsdisp: no whitespace between display name and '<'.
      {"rfc4475_lwsdisp", crlf(R"(OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: caller<sip:caller@example.com>;tag=323
Max-Forwards: 70
Call-ID: lwsdisp.1234abcd@funky.example.com
CSeq: 60 OPTIONS
Via: SIP/2.0/UDP funky.example.com;branch=z9hG4bKkdjuw
l: 0

)")},
      // RFC 4475 §3.1.1.8 semiuri: ';' and an escaped '@' in the user part.
      {"rfc4475_semiuri", crlf(R"(OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0
To: sip:j_user@example.com
From: sip:caller@example.org;tag=33242
Max-Forwards: 3
Call-ID: semiuri.0ha0isndaksdj
CSeq: 8 OPTIONS
Accept: application/sdp, application/pkcs7-mime,
        multipart/mixed, multipart/signed,
        message/sipfrag
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw
l: 0

)")},
      // RFC 4475 §3.1.1.12 unreason: a UTF-8 reason phrase.
      {"rfc4475_unreason",
       crlf("SIP/2.0 200 = 2**3 * 5**2 \xd0\xbd\xd0\xbe \xd1\x81\xd1\x82\xd0\xbe "
            "\xd0\xb4\xd0\xb5\xd0\xb2\xd1\x8f\xd0\xbd\xd0\xbe\xd1\x81\xd1\x82\xd0\xbe "
            "\xd0\xb4\xd0\xb5\xd0\xb2\xd1\x8f\xd1\x82\xd1\x8c - \xd0\xbf\xd1\x80\xd0\xbe\xd1\x81"
            "\xd1\x82\xd0\xbe\xd0\xb5\n"
            "Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923\n"
            "Call-ID: unreason.1234ksdfak3j2erwedfsASdf\n"
            "CSeq: 35 INVITE\n"
            "From: sip:user@example.com;tag=11141343\n"
            "To: sip:user@example.edu;tag=2229\n"
            "Content-Length: 0\n"
            "\n")},
      // RFC 4475 §3.1.1.13 noreason: an empty reason phrase.
      {"rfc4475_noreason", crlf(R"(SIP/2.0 100 
Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe
Call-ID: noreason.asndj203insdf99223ndf
CSeq: 35 INVITE
From: <sip:user@example.com>;tag=39ansfi3
To: <sip:user@example.edu>;tag=902jndnke3
Content-Length: 0
Contact: <sip:user@host.example.net>

)")},
      // A 407 from kamailio, compact forms and an IPv6 Via.
      {"kamailio_407", crlf(R"(SIP/2.0 407 Proxy Authentication Required
v: SIP/2.0/UDP [2001:db8::10]:5062;rport=5062;branch=z9hG4bK776asdhds;received=2001:db8::10
f: <sip:otpd@example.org>;tag=e1f2
t: <sip:0912345678@example.org>;tag=b27e1a1d33761e85846fc98f5f3a7e58.7a1c
i: 3848276298220188511@otpd.example.org
CSeq: 1 INVITE
Proxy-Authenticate: Digest realm="example.org", nonce="Z3Bx0mdwb9Dnj4Tl0cSd7Xzj5aQ5", qop="auth"
Server: kamailio (5.6.3 (x86_64/linux))
l: 0

)")},
  };
  return v;
}

const std::vector<bad_golden>& invalid_messages() {
  static const std::vector<bad_golden> v = {
      // RFC 4475 §3.1.2.2 clerr: Content-Length larger than the body.
      {"rfc4475_clerr", crlf(R"(INVITE sip:user@example.com SIP/2.0
Max-Forwards: 80
To: sip:j.user@example.com
From: sip:caller@example.net;tag=93942939o2
Contact: <sip:caller@hungry.example.net>
Call-ID: clerr.0ha0isndaksdjweiafasdk3
CSeq: 8 INVITE
Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bK-39234-23523
Content-Type: application/sdp
Content-Length: 9999

v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.155
s=-
c=IN IP4 192.0.2.155
t=0 0
m=audio 49217 RTP/AVP 0
)"),
       errc::truncated},
      // RFC 4475 §3.1.2.3 scalar02: a Content-Length beyond 64 bits.
      {"rfc4475_scalar02", crlf(R"(REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bK342sdfoi3
To: <sip:user@example.com>
From: <sip:user@example.com>;tag=239232jh3
CSeq: 36893488147419103232 REGISTER
Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32
Max-Forwards: 300
Expires: 1<repeat count=100>0
Contact: <sip:user@host129.example.com>
  ;expires=280297596632815
Content-Length: 18446744073709551616

)"),
       errc::invalid_content_length},
      // A negative Content-Length (RFC 4475 §3.1.2.x ncl).
      {"rfc4475_ncl", crlf(R"(INVITE sip:user@example.com SIP/2.0
Max-Forwards: 254
To: sip:j.user@example.com
From: sip:caller@example.net;tag=32394234
Call-ID: ncl.0ha0isndaksdj2193423r542w35
CSeq: 0 INVITE
Via: SIP/2.0/UDP 192.0.2.53;branch=z9hG4bKkdjuw
Contact: <sip:caller@example53.example.net>
Content-Type: application/sdp
Content-Length: -999

v=0
)"),
       errc::invalid_content_length},
      // RFC 4475 §3.1.2.5 quotbal: an unterminated quoted display name.
      {"rfc4475_quotbal", crlf(R"(INVITE sip:user@example.com SIP/2.0
To: "Mr. J. User <sip:j.user@example.com>
From: sip:caller@example.net;tag=93334
Max-Forwards: 10
Call-ID: quotbal.aksdj
Contact: <sip:caller@host59.example.net>
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.59:5050;branch=z9hG4bKkdjuw39234
Content-Length: 0

)"),
       errc::malformed_name_addr},
      // RFC 4475 §3.1.2.6 ltgtruri: angle brackets around the Request-URI.
      {"rfc4475_ltgtruri", crlf(R"(INVITE <sip:user@example.com> SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=39291
Max-Forwards: 23
Call-ID: ltgtruri.1@192.0.2.5
CSeq: 1 INVITE
Via: SIP/2.0/UDP 192.0.2.5
Content-Length: 0

)"),
       errc::malformed_start_line},
      // RFC 4475 §3.1.2.7 lwsruri: whitespace inside the Request-URI.
      {"rfc4475_lwsruri", crlf(R"(INVITE sip:user@example.com; lr SIP/2.0
To: sip:user@example.com;tag=3xfe-9921883-z9f
From: sip:caller@example.net;tag=231413434
Max-Forwards: 5
Call-ID: lwsruri.asdfasdoeoi2323-asdfwrn23-asd834rk423
CSeq: 2130706432 INVITE
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKkdjuw2395
Content-Length: 0

)"),
       errc::malformed_start_line},
      // RFC 4475 §3.1.2.8 lwsstart: several spaces between the Request-Line elements.
      {"rfc4475_lwsstart", crlf(R"(INVITE  sip:user@example.com  SIP/2.0
Max-Forwards: 8
To: sip:user@example.com
From: sip:caller@example.net;tag=8814
Call-ID: lwsstart.dfknq234oi243099adsdfnawe3@example.com
CSeq: 1893884 INVITE
Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bKkdjuw3923
Content-Length: 0

)"),
       errc::malformed_start_line},
      // RFC 4475 §3.1.2.9 trws: trailing whitespace after SIP-Version.
      {"rfc4475_trws",
       crlf("OPTIONS sip:remote-target@example.com SIP/2.0  \n"
            "Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK299342093\n"
            "To: <sip:remote-target@example.com>\n"
            "From: <sip:local-resource@example.com>;tag=329429089\n"
            "Call-ID: trws.oicu34958239neffasdhr2345r\n"
            "Accept: application/sdp\n"
            "CSeq: 238923 OPTIONS\n"
            "Max-Forwards: 70\n"
            "Content-Length: 0\n\n"),
       errc::malformed_start_line},
      // RFC 4475 §3.1.2.14 baddn: an unquoted display name with a comma.
      {"rfc4475_baddn", crlf(R"(OPTIONS sip:t.watson@example.org SIP/2.0
Via:     SIP/2.0/UDP c.example.com:5060;branch=z9hG4bKkdjuw
Max-Forwards:      70
From:    Bell, Alexander <sip:a.g.bell@example.com>;tag=43
To:      Watson, Thomas <sip:t.watson@example.org>
Call-ID: baddn.31415@c.example.com
Accept: application/sdp
CSeq:    3923239 OPTIONS
l: 0

)"),
       errc::malformed_name_addr},
      // RFC 4475 §3.1.2.15 badvers: SIP/7.0.
      {"rfc4475_badvers", crlf(R"(OPTIONS sip:t.watson@example.org SIP/7.0
Via:     SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw
Max-Forwards:     70
From:    A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe
To:      T. Watson <sip:t.watson@example.org>
Call-ID: badvers.31417@c.example.com
CSeq:    1 OPTIONS
l: 0

)"),
       errc::unsupported_version},
      // RFC 4475 §3.1.2.16 mismatch01: CSeq method differs from the request method.
      {"rfc4475_mismatch01", crlf(R"(OPTIONS sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=34525
Max-Forwards: 6
Call-ID: mismatch01.dj0234sxdfl3
CSeq: 8 INVITE
Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw
l: 0

)"),
       errc::malformed_cseq},
      // RFC 4475 §3.1.2.19 bigcode: a status code of 10 digits.
      {"rfc4475_bigcode", crlf(R"(SIP/2.0 4294967301 better not break the receiver
Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe
Call-ID: bigcode.asdof3uj203asdnf3429uasdhfas3
CSeq: 3882340 INVITE
From: <sip:user@example.edu>;tag=39ansfi3
To: <sip:user@example.com>;tag=902jndnke3
Content-Length: 0
Contact: <sip:user@host.example.net>

)"),
       errc::malformed_start_line},
      // RFC 4475 §3.1.2.1 badinv01: empty Via parameters.
      {"rfc4475_badinv01", crlf(R"(INVITE sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=134161461246
Max-Forwards: 7
Call-ID: badinv01.0ha0isndaksdjasdf3234nas
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.15;;,;,,
Contact: "Joe" <sip:joe@example.org>;;;;
Content-Length: 0

)"),
       errc::malformed_via},
      // RFC 4475 §3.1.2.18 insuf: no Call-ID, From or To.
      {"rfc4475_insuf", crlf(R"(INVITE sip:user@example.com SIP/2.0
CSeq: 193942 INVITE
Via: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf
Content-Type: application/sdp
l: 0

)"),
       errc::missing_header},
      {"no_colon", crlf("SIP/2.0 200 OK\nVia SIP/2.0/UDP a.example.com\n\n"),
       errc::malformed_header},
      {"fold_first", crlf("SIP/2.0 200 OK\n folded\n\n"), errc::malformed_header},
      {"no_blank_line", crlf("SIP/2.0 200 OK\nVia: SIP/2.0/UDP a.example.com\n"), errc::truncated},
      {"garbage", "\x16\x03\x01\x02\x05\x01\x04\x01\xfc\x03\x03\r\n\r\n",
       errc::malformed_start_line},
  };
  return v;
}

}  // namespace otpd::sip::test
