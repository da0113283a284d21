// One bind of a carrier as configured: its session options and how it turns text into
// submit_sm parts. Plain values, without Asio (see session_options.hpp): the bind pool
// (smpp/net/bind_pool.hpp) runs them, the configuration only names them.
#pragma once

#include "smpp/net/session_options.hpp"
#include "smpp/text/encoder.hpp"
#include "smpp/text/segmenter.hpp"

namespace otpd::smpp {

// How one bind turns text into submit_sm parts.
struct text_profile {
  text::encode_options encoding;
  text::split_options split;  // concatenation method, GSM packing, maximum parts
  friend bool operator==(const text_profile&, const text_profile&) = default;
};

struct bind_config {
  session_options session;
  text_profile text;
  friend bool operator==(const bind_config&, const bind_config&) = default;
};

}  // namespace otpd::smpp
