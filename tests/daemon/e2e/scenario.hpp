// Helpers shared by the end-to-end tests: one SMSC stand-in with otpd in front of it, and the
// steps every scenario repeats (create, read the code from the SMS, check).
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/daemon/e2e/harness.hpp"
#include "tests/support/smsc_process.hpp"

namespace otpd::test::e2e {

// One SMSC stand-in and otpd routing every +84 number to it, ready (GET /readyz is 200).
struct single_world {
  explicit single_world(otpd_options opts = {}, std::vector<std::string> smsc_extra = {})
      : smsc(smsc_flags(std::move(smsc_extra))) {
    opts.carriers = {vietnam_carrier(smsc.port())};
    options = opts;
    otpd = std::make_unique<otpd_process>(opts, dir.path());
    if (!otpd->wait_ready()) {
      throw std::runtime_error("otpd did not become ready; its output:\n" + otpd->output());
    }
  }

  temp_dir dir;
  smsc_process smsc;
  otpd_options options;
  std::unique_ptr<otpd_process> otpd;
};

inline std::string str(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

inline std::int64_t num(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v) return -1;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  return -1;
}

// attempts[i] of a verification body (an empty object when absent).
inline boost::json::object attempt(const boost::json::object& v, std::size_t i) {
  const auto* a = v.if_contains("attempts");
  if (!a || !a->is_array() || a->get_array().size() <= i || !a->get_array()[i].is_object()) {
    return {};
  }
  return a->get_array()[i].get_object();
}

inline std::size_t attempt_count(const boost::json::object& v) {
  const auto* a = v.if_contains("attempts");
  return a && a->is_array() ? a->get_array().size() : 0;
}

// POST /v1/verifications; the id, or "" (with a test failure) unless it answers 201.
inline std::string create(otpd_process& o, boost::json::object body,
                          std::vector<std::pair<std::string, std::string>> headers = {}) {
  http_response r = o.post("/v1/verifications", body, std::move(headers));
  EXPECT_EQ(r.status, 201) << r.body;
  return r.status == 201 ? str(r.obj(), "id") : std::string();
}

// The code in the first "submit" event from index `from` on ("" with a failure when none
// comes); `dest`, when given, is the destination it must have.
inline std::string next_code(smsc_process& smsc, std::size_t from, std::size_t digits = 6,
                             std::string_view dest = {}) {
  auto ev = smsc.wait_for_event("submit", std::chrono::seconds(15), from);
  if (!ev) {
    ADD_FAILURE() << "no submit_sm reached the SMSC";
    return {};
  }
  if (!dest.empty()) {
    EXPECT_EQ(dest_of(*ev), dest);
  }
  std::string code = code_in(sms_text(*ev), digits);
  EXPECT_EQ(code.size(), digits) << "SMS text: " << sms_text(*ev);
  return code;
}

// The code of every SMS the SMSC has taken so far, by destination (the last one per
// destination when it took several).
inline std::map<std::string, std::string> codes_by_destination(smsc_process& smsc) {
  std::map<std::string, std::string> codes;
  smsc.sync();
  for (const auto& ev : smsc.events()) {
    if (str(ev, "event") == "submit") codes[dest_of(ev)] = code_in(sms_text(ev));
  }
  return codes;
}

// A code of the same length that is not `code`.
inline std::string wrong_code(const std::string& code) {
  std::string w = code;
  if (!w.empty()) w.back() = w.back() == '9' ? '0' : static_cast<char>(w.back() + 1);
  return w;
}

inline http_response check(otpd_process& o, const std::string& id, const std::string& code) {
  return o.post("/v1/verifications/" + id + "/check", boost::json::object{{"code", code}});
}

inline bool attempt_status_is(const boost::json::object& v, std::size_t i, std::string_view s) {
  return str(attempt(v, i), "status") == s;
}

}  // namespace otpd::test::e2e
