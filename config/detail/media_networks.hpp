// voice.trunks[].media_networks: the networks a trunk's SDP answers may send our RTP to. Each
// entry is checked with the parser the caller uses (media::parse_network), so what loads is
// what is enforced. Internal to config/.
#pragma once

#include <string>
#include <vector>

#include "config/detail/yaml_reader.hpp"

namespace otpd::config::detail {

// The CIDRs of `f` (a list; [] is refused: a trunk whose audio may go nowhere cannot call),
// each refused with its own position when it is not one.
std::vector<std::string> read_media_networks(yaml_reader& r, const field& f,
                                             const std::string& path);

}  // namespace otpd::config::detail
