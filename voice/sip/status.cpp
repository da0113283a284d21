#include "voice/sip/status.hpp"

#include <string>

namespace otpd::sip {
namespace {

struct phrase_entry {
  int code;
  const char* phrase;
};

// RFC 3261 §21 plus the codes of RFC 3262, 3265, 3329, 4412, 5079 seen in the wild.
constexpr phrase_entry phrase_table[] = {
    {100, "Trying"},
    {180, "Ringing"},
    {181, "Call Is Being Forwarded"},
    {182, "Queued"},
    {183, "Session Progress"},
    {199, "Early Dialog Terminated"},
    {200, "OK"},
    {202, "Accepted"},
    {204, "No Notification"},
    {300, "Multiple Choices"},
    {301, "Moved Permanently"},
    {302, "Moved Temporarily"},
    {305, "Use Proxy"},
    {380, "Alternative Service"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {402, "Payment Required"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {407, "Proxy Authentication Required"},
    {408, "Request Timeout"},
    {410, "Gone"},
    {413, "Request Entity Too Large"},
    {414, "Request-URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Unsupported URI Scheme"},
    {420, "Bad Extension"},
    {421, "Extension Required"},
    {422, "Session Interval Too Small"},
    {423, "Interval Too Brief"},
    {480, "Temporarily Unavailable"},
    {481, "Call/Transaction Does Not Exist"},
    {482, "Loop Detected"},
    {483, "Too Many Hops"},
    {484, "Address Incomplete"},
    {485, "Ambiguous"},
    {486, "Busy Here"},
    {487, "Request Terminated"},
    {488, "Not Acceptable Here"},
    {491, "Request Pending"},
    {493, "Undecipherable"},
    {494, "Security Agreement Required"},
    {500, "Server Internal Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Server Time-out"},
    {505, "Version Not Supported"},
    {513, "Message Too Large"},
    {580, "Precondition Failure"},
    {600, "Busy Everywhere"},
    {603, "Decline"},
    {604, "Does Not Exist Anywhere"},
    {606, "Not Acceptable"},
};

// boost::system::error_category has a non-virtual destructor by design (categories are
// function-local statics, never deleted through a base pointer).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class status_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "sip.status"; }
  std::string message(int ev) const override {
    return std::to_string(ev) + " " + reason_phrase(ev);
  }
  // A 2xx is not an error: only a final non-2xx is reported through this category, but a
  // caller that stores a 200 should still see "success".
  bool failed(int ev) const noexcept override { return ev < 200 || ev >= 300; }
};

class error_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "sip"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::malformed_start_line:
        return "malformed SIP start line";
      case errc::unsupported_version:
        return "SIP version not supported";
      case errc::malformed_header:
        return "malformed SIP header line";
      case errc::invalid_content_length:
        return "invalid Content-Length";
      case errc::missing_content_length:
        return "Content-Length required on a stream transport";
      case errc::truncated:
        return "SIP message truncated";
      case errc::headers_too_large:
        return "SIP headers too large";
      case errc::too_many_headers:
        return "too many SIP headers";
      case errc::body_too_large:
        return "SIP body too large";
      case errc::missing_header:
        return "mandatory SIP header missing";
      case errc::malformed_uri:
        return "malformed SIP URI";
      case errc::malformed_via:
        return "malformed Via";
      case errc::malformed_name_addr:
        return "malformed name-addr";
      case errc::malformed_cseq:
        return "malformed CSeq";
      case errc::malformed_challenge:
        return "malformed digest challenge";
      case errc::unsupported_scheme:
        return "authentication scheme not supported";
      case errc::unsupported_algorithm:
        return "digest algorithm not supported";
      case errc::unsupported_qop:
        return "digest qop not supported";
      case errc::transaction_timeout:
        return "no final response within the transaction timeout";
      case errc::transport_error:
        return "transport error";
    }
    return "unknown sip error " + std::to_string(ev);
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const error_category_impl instance;
  return instance;
}

const boost::system::error_category& status_category() noexcept {
  static const status_category_impl instance;
  return instance;
}

const char* reason_phrase(int code) noexcept {
  for (const phrase_entry& e : phrase_table) {
    if (e.code == code) return e.phrase;
  }
  // RFC 3261 §21: an unknown code is treated as x00 of its class.
  switch (code / 100) {
    case 1:
      return "Provisional";
    case 2:
      return "Success";
    case 3:
      return "Redirection";
    case 4:
      return "Client Error";
    case 5:
      return "Server Error";
    case 6:
      return "Global Failure";
    default:
      return "Unknown Status";
  }
}

call_outcome outcome_for(const boost::system::error_code& ec) noexcept {
  if (ec.category() == status_category()) {
    const int code = ec.value();
    if (code >= 200 && code < 300) return call_outcome::answered;
    switch (code) {
      case 486:
      case 600:
        return call_outcome::busy;
      case 408:
      case 480:
      case 487:
        return call_outcome::no_answer;
      case 603:
        return call_outcome::rejected;
      default:
        return call_outcome::failed;
    }
  }
  if (!ec) return call_outcome::answered;
  if (ec == errc::transaction_timeout) return call_outcome::no_answer;
  return call_outcome::failed;
}

bool is_auth_challenge(const boost::system::error_code& ec) noexcept {
  return ec.category() == status_category() && (ec.value() == 401 || ec.value() == 407);
}

}  // namespace otpd::sip
