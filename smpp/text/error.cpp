#include "smpp/text/error.hpp"

#include <string>

namespace otpd::smpp::text {
namespace {

// boost::system::error_category has a protected non-virtual destructor by design (categories
// are never deleted through a base pointer); -Wnon-virtual-dtor cannot tell.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "otpd.smpp.text"; }

  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::invalid_utf8:
        return "invalid UTF-8";
      case errc::unencodable_character:
        return "character not representable in the selected coding";
      case errc::too_many_parts:
        return "text needs more parts than allowed";
      case errc::invalid_options:
        return "invalid text options";
      case errc::invalid_gsm7:
        return "invalid GSM 7-bit data";
      case errc::invalid_ucs2:
        return "invalid UCS2 data";
      case errc::invalid_udh:
        return "invalid user data header";
      case errc::unsupported_data_coding:
        return "unsupported data_coding";
    }
    return "unknown text error";
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace otpd::smpp::text
