#include "daemon/routing/number.hpp"

#include "common/ascii.hpp"

namespace otpd::routing {
namespace {

using ascii::is_digit;

// E.123 §7 lets a number be grouped with spaces; people also use '-', '.', '/' and brackets.
bool is_separator(char c) noexcept {
  switch (c) {
    case ' ':
    case '\t':
    case '-':
    case '.':
    case '/':
    case '(':
    case ')':
      return true;
    default:
      return false;
  }
}

bool starts_with(std::string_view s, std::string_view p) noexcept {
  return !p.empty() && s.substr(0, p.size()) == p;
}

normalised_number fail(number_error e, std::size_t position = 0) {
  normalised_number r;
  r.error = e;
  r.position = position;
  return r;
}

normalised_number ok(std::string_view digits) {
  normalised_number r;
  r.e164.reserve(digits.size() + 1);
  r.e164.push_back('+');
  r.e164.append(digits);
  return r;
}

// cc + NSN for the default country code: NSN length from the plan, total from E.164.
normalised_number with_default_country(std::string_view nsn, const config::number_plan& plan) {
  if (starts_with(nsn, plan.national_prefix)) nsn.remove_prefix(plan.national_prefix.size());
  const auto min = static_cast<std::size_t>(plan.min_digits < 1 ? 1 : plan.min_digits);
  const auto max = static_cast<std::size_t>(plan.max_digits < 1 ? 1 : plan.max_digits);
  if (nsn.size() < min) return fail(number_error::too_short);
  if (nsn.size() > max || plan.default_country_code.size() + nsn.size() > e164_max_digits) {
    return fail(number_error::too_long);
  }
  std::string digits = plan.default_country_code;
  digits.append(nsn);
  return ok(digits);
}

normalised_number international(std::string_view digits, const config::number_plan& plan) {
  if (digits.empty()) return fail(number_error::too_short);
  if (digits.front() == '0') return fail(number_error::invalid_country_code);
  if (starts_with(digits, plan.default_country_code)) {
    return with_default_country(digits.substr(plan.default_country_code.size()), plan);
  }
  if (digits.size() < foreign_min_digits) return fail(number_error::too_short);
  if (digits.size() > e164_max_digits) return fail(number_error::too_long);
  return ok(digits);
}

}  // namespace

const char* to_string(number_error e) noexcept {
  switch (e) {
    case number_error::empty:
      return "empty";
    case number_error::invalid_character:
      return "invalid_character";
    case number_error::misplaced_plus:
      return "misplaced_plus";
    case number_error::invalid_country_code:
      return "invalid_country_code";
    case number_error::too_short:
      return "too_short";
    case number_error::too_long:
      return "too_long";
  }
  return "invalid";
}

const char* describe(number_error e) noexcept {
  switch (e) {
    case number_error::empty:
      return "the number is empty";
    case number_error::invalid_character:
      return "the number holds a character that is neither a digit nor a separator";
    case number_error::misplaced_plus:
      return "'+' may only come once, before the first digit";
    case number_error::invalid_country_code:
      return "a country code never starts with 0";
    case number_error::too_short:
      return "the number has too few digits";
    case number_error::too_long:
      return "the number has too many digits";
  }
  return "the number is not valid";
}

normalised_number normalise_number(std::string_view input, const config::number_plan& plan) {
  if (input.size() > max_input_length) return fail(number_error::too_long);
  std::string digits;
  digits.reserve(input.size());
  bool plus = false;
  for (std::size_t i = 0; i < input.size(); ++i) {
    const char c = input[i];
    if (is_digit(c)) {
      digits.push_back(c);
    } else if (c == '+') {
      if (plus || !digits.empty()) return fail(number_error::misplaced_plus, i);
      plus = true;
    } else if (!is_separator(c)) {
      return fail(number_error::invalid_character, i);
    }
  }
  if (digits.empty()) return fail(plus ? number_error::too_short : number_error::empty);

  const std::string_view d = digits;
  if (plus) return international(d, plan);
  if (starts_with(d, "00")) return international(d.substr(2), plan);
  if (starts_with(d, plan.national_prefix)) {
    return with_default_country(d.substr(plan.national_prefix.size()), plan);
  }
  if (starts_with(d, plan.default_country_code)) {
    const std::size_t nsn = d.size() - plan.default_country_code.size();
    if (nsn >= static_cast<std::size_t>(plan.min_digits) &&
        nsn <= static_cast<std::size_t>(plan.max_digits)) {
      return with_default_country(d.substr(plan.default_country_code.size()), plan);
    }
  }
  return with_default_country(d, plan);
}

}  // namespace otpd::routing
