// The configuration checks that need the SMS text as the engine renders it: a configuration
// whose template a carrier could never send is refused at start-up, by --check-config and by a
// reload, rather than failing every SMS at run time. Pure: no I/O.
#pragma once

#include <vector>

#include "config/config.hpp"
#include "config/load_options.hpp"

namespace otpd::engine {

// Every template of c.text, rendered as render_sms() does with the worst case a send can meet
// (a code of policy.code_length digits and the {minutes} of policy.max_ttl, the most digits
// either can take), encoded and split with the text settings of every bind of every carrier
// that can send (routing picks the carrier by number and the request the locale, so any
// carrier may carry any template). One error per carrier, locale and reason, at the template's
// position (the carrier's when the template is a default), in the form config/ reports, naming
// the carrier, the bind when the carrier has several, the locale and why
// (smpp::text::why_unsendable). Empty when every template can be sent.
std::vector<config::config_error> check_templates(const config::config& c);

}  // namespace otpd::engine
