// Delivery receipt parser (smpp/dlr/receipt, SMPP 3.4 Appendix B text and the receipt TLVs).
// The input is the receipt text; the first byte picks the esm_class of a deliver_sm carrying
// it. A receipt that parses always has an id, and a final one has a final state.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "smpp/dlr/receipt.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace smpp = otpd::smpp;
namespace dlr = otpd::smpp::dlr;

namespace {

void check(const dlr::receipt& r) {
  FUZZ_CHECK(!r.id.empty());
  if (r.is_final) FUZZ_CHECK(r.state && dlr::is_final(*r.state));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t esm_class = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  dlr::receipt r;
  if (!dlr::parse_receipt_text(text, r)) check(r);

  smpp::deliver_sm sm;
  sm.esm_class = esm_class;
  sm.short_message = std::string(text);
  if (!dlr::parse_receipt(sm, r)) check(r);

  // The same text in message_payload (short_message empty), as data_sm carries it.
  smpp::data_sm ds;
  ds.esm_class = esm_class;
  ds.tlvs.push_back({0x0424, std::string(text)});  // message_payload, SMPP 3.4 §5.3.2.32
  if (!dlr::parse_receipt(ds, r)) check(r);

  (void)dlr::parse_receipt_date(text);
  (void)dlr::parse_stat(text);
  return 0;
}
