// What a reload may change while otpd runs: the configuration file as it is running and as it
// is now, compared section by section (each a JSON value, secrets as fingerprints), give a plan
// that names what applies at once and what waits for the next restart. Pure: no I/O, no clock;
// daemon/app/reloader.cpp carries the plan out.
#pragma once

#include <string>
#include <vector>

#include <boost/json/object.hpp>

namespace otpd::app {

// How a changed top-level section is handled.
enum class section_change {
  live,  // api_keys, policy, rate_limits, number_plan, templates, logging: at once
  diff,  // routing, and voice when only its trunks changed: what changed is restarted
  // Anything else (listeners, http, store, cluster, secrets, webhooks, ...): next restart.
  // store: its connections and threads are opened at start; cluster: the node's name is on
  // the leases it holds and the attempts it sent, and the lease period is what the other
  // nodes count on (docs/scale-out.md).
  restart_needed
};

struct changed_section {
  std::string name;
  section_change change = section_change::restart_needed;
  bool operator==(const changed_section&) const = default;
};

struct reload_plan {
  // Every section that differs (added, removed or changed), in name order.
  std::vector<changed_section> changed;
  // voice.trunks are reconfigured live: otpd has a dialer, both files have a voice section
  // and nothing in it but the trunks changed (prompts are built at start-up).
  bool apply_trunks = false;

  // The names of the sections that take effect at the next restart, in name order.
  std::vector<std::string> restart_needed() const;
};

// running: the sections otpd runs with; next: the file as it is now. has_dialer: otpd runs
// with voice trunks (it built a dialer at start).
reload_plan plan_reload(const boost::json::object& running, const boost::json::object& next,
                        bool has_dialer);

// The running sections once the plan is applied: each section applied (live or as a diff)
// takes its new value (null when it was removed); one that needs a restart keeps the value
// otpd runs with, so that the next reload names it again.
void adopt_applied(const reload_plan& plan, const boost::json::object& next,
                   boost::json::object& running);

}  // namespace otpd::app
