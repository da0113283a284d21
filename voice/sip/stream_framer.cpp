#include "voice/sip/stream_framer.hpp"

#include "voice/sip/detail/head.hpp"
#include "voice/sip/status.hpp"

namespace otpd::sip {

void stream_framer::put(std::string_view bytes) {
  if (bytes.empty()) return;
  // Drop what has been consumed before growing: what moves is at most one partial message.
  if (begin_ > 0 && (begin_ == buf_.size() || begin_ >= buf_.size() / 2)) {
    buf_.erase(0, begin_);
    begin_ = 0;
  }
  buf_.append(bytes);
}

bool stream_framer::next(message& out, boost::system::error_code& ec) {
  ec = error_;
  if (error_) return false;
  std::string_view s(buf_);
  s.remove_prefix(begin_);
  // RFC 5626 §4.4.1: CRLF keep-alives between messages; a bare LF counts too.
  if (scan_ == 0) {
    const std::size_t skip = detail::skip_leading_crlf(s);
    for (std::size_t i = 0; i < skip; ++i) keepalives_ += s[i] == '\n';
    begin_ += skip;
    s.remove_prefix(skip);
  }
  if (s.empty()) return false;
  const detail::head_end end = detail::find_head_end(s, scan_);
  if (end.body_start == 0) {
    // Bounded before the end of headers has arrived: a peer that never sends the empty line
    // cannot make us buffer more than the limit.
    if (s.size() > limits_.max_header_bytes) {
      ec = error_ = errc::headers_too_large;
      return false;
    }
    // The empty line may straddle this read and the next: look again from two bytes back.
    scan_ = s.size() > 2 ? s.size() - 2 : 0;
    // scan_ == 0 would make the next call skip leading CRLF again: harmless, s starts with a
    // start line by now, which holds no CR or LF at its front.
    return false;
  }
  if (end.body_start > limits_.max_header_bytes) {
    ec = error_ = errc::headers_too_large;
    return false;
  }
  std::optional<std::size_t> cl;
  message m;
  if (const boost::system::error_code e =
          detail::parse_head(s.substr(0, end.head_size), m, limits_, cl)) {
    ec = error_ = e;
    return false;
  }
  // RFC 3261 §18.3: on a stream transport Content-Length is the only way to find the end.
  if (!cl) {
    ec = error_ = errc::missing_content_length;
    return false;
  }
  if (s.size() - end.body_start < *cl) {
    // Look for the same empty line next time (from the LF that ends the last header line);
    // the head is parsed again then, which is cheap next to the body wait.
    scan_ = end.head_size - 1;
    return false;
  }
  m.body.assign(s.substr(end.body_start, *cl));
  begin_ += end.body_start + *cl;
  scan_ = 0;
  out = std::move(m);
  return true;
}

}  // namespace otpd::sip
