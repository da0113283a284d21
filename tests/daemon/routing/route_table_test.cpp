#include "daemon/routing/route_table.hpp"

#include <string>

#include <gtest/gtest.h>

namespace otpd::routing {
namespace {

using names = std::vector<std::string>;

config::carrier make(std::string name, std::vector<std::string> prefixes,
                     std::vector<std::string> failover = {}) {
  config::carrier c;
  c.name = std::move(name);
  c.prefixes = std::move(prefixes);
  c.failover = std::move(failover);
  return c;
}

// Vietnam's mobile prefixes (a sample), plus a narrower and a wider carrier to show the
// longest match.
std::vector<config::carrier> vietnam() {
  return {
      make("viettel", {"8486", "8496", "8497", "8498", "8432", "8433"}, {"mobifone", "vinaphone"}),
      make("vinaphone", {"8491", "8494", "8488"}, {"viettel"}),
      make("mobifone", {"8490", "8493", "8489"}, {"vinaphone"}),
      make("special", {"849123"}),
      make("vn_any", {"+84"}),
  };
}

route_table build_ok(const std::vector<config::carrier>& carriers) {
  std::vector<std::string> errors;
  auto t = route_table::build(carriers, errors);
  EXPECT_TRUE(errors.empty()) << errors.front();
  if (!t) throw std::runtime_error("build failed");
  return std::move(*t);
}

TEST(route_table, longest_prefix_wins) {
  const auto t = build_ok(vietnam());
  EXPECT_EQ(t.route("+84961234567").front(), "viettel");
  EXPECT_EQ(t.route("+84911234567").front(), "vinaphone");
  EXPECT_EQ(t.route("+84901234567").front(), "mobifone");
  EXPECT_EQ(t.route("+84912345678").front(), "special");  // 849123 over 8491
  EXPECT_EQ(t.route("+84912245678").front(), "vinaphone");
  EXPECT_EQ(t.route("+84281234567").front(), "vn_any");  // only "84" matches
  EXPECT_EQ(*t.primary("+84961234567"), "viettel");
}

TEST(route_table, plus_is_optional) {
  const auto t = build_ok(vietnam());
  EXPECT_EQ(t.route("84961234567"), t.route("+84961234567"));
}

TEST(route_table, no_route_is_empty) {
  const auto t = build_ok(vietnam());
  EXPECT_TRUE(t.route("+16502530000").empty());
  EXPECT_EQ(t.primary("+16502530000"), nullptr);
  EXPECT_TRUE(t.route("").empty());
  EXPECT_TRUE(t.route("+").empty());
  EXPECT_TRUE(t.route("+84 961234567").empty());      // not normalised: refused, not guessed
  EXPECT_TRUE(t.route("+8496123456789012").empty());  // over 15 digits
}

TEST(route_table, prefix_equal_to_the_whole_number) {
  const auto t = build_ok({make("exact", {"84961234567"}), make("wide", {"8496"})});
  EXPECT_EQ(t.route("+84961234567"), names{"exact"});
  EXPECT_EQ(t.route("+84961234568"), names{"wide"});
  EXPECT_EQ(t.route("+8496123456"), names{"wide"});
}

TEST(route_table, failover_order_is_the_primarys_list_without_duplicates) {
  const auto t = build_ok(
      {make("a", {"841"}, {"c", "a", "b", "c"}), make("b", {"842"}, {"c"}), make("c", {"843"})});
  EXPECT_EQ(t.route("+841000000"), (names{"a", "c", "b"}));
  // Not transitive: b's list is b's own.
  EXPECT_EQ(t.route("+842000000"), (names{"b", "c"}));
  EXPECT_EQ(t.route("+843000000"), names{"c"});
}

TEST(route_table, vietnam_failover) {
  const auto t = build_ok(vietnam());
  EXPECT_EQ(t.route("+84961234567"), (names{"viettel", "mobifone", "vinaphone"}));
  EXPECT_EQ(t.route("+84911234567"), (names{"vinaphone", "viettel"}));
}

TEST(route_table, all_build_errors_at_once) {
  std::vector<std::string> errors;
  const auto t = route_table::build(
      {
          make("a", {"841", "84x", "", "1234567890123456"}, {"nobody"}),
          make("a", {"849"}),
          make("b", {"841"}),
          make("", {"842"}),
      },
      errors);
  EXPECT_FALSE(t.has_value());
  ASSERT_EQ(errors.size(), 7u);
  const auto has = [&](std::string_view needle) {
    for (const auto& e : errors) {
      if (e.find(needle) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(has("\"a\" is defined twice"));
  EXPECT_TRUE(has("a carrier has no name"));
  EXPECT_TRUE(has("prefix \"84x\""));
  EXPECT_TRUE(has("prefix \"\""));
  EXPECT_TRUE(has("prefix \"1234567890123456\""));
  EXPECT_TRUE(has("prefix \"841\" is claimed by carriers \"a\" and \"b\""));
  EXPECT_TRUE(has("failover \"nobody\""));
}

TEST(route_table, same_prefix_twice_in_one_carrier_is_fine) {
  const auto t = build_ok({make("a", {"841", "+841"})});
  EXPECT_EQ(t.route("+84100000"), names{"a"});
}

TEST(route_table, ported_number_overrides_the_prefix) {
  auto t = build_ok(vietnam());
  std::vector<ported_error> errors;
  ASSERT_TRUE(t.load_ported("84961234567,mobifone\n+84911234567,viettel\n", errors));
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(t.ported_count(), 2u);
  EXPECT_EQ(t.route("+84961234567"), (names{"mobifone", "vinaphone"}));  // mobifone's failover
  EXPECT_EQ(t.route("+84911234567"), (names{"viettel", "mobifone", "vinaphone"}));
  EXPECT_EQ(t.route("+84961234568").front(), "viettel");  // the neighbour is not ported
  // A ported number may even lie outside every prefix.
  ASSERT_TRUE(t.load_ported("16502530000,viettel\n", errors));
  EXPECT_EQ(t.route("+16502530000").front(), "viettel");
  EXPECT_EQ(t.route("+84961234567").front(), "viettel");  // the previous file is gone
}

TEST(route_table, bad_ported_file_changes_nothing) {
  auto t = build_ok(vietnam());
  std::vector<ported_error> errors;
  ASSERT_TRUE(t.load_ported("84961234567,mobifone\n", errors));
  EXPECT_FALSE(t.load_ported("84961234567,vinaphone\n84911234567,nobody\n", errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].line, 2u);
  EXPECT_EQ(t.route("+84961234567").front(), "mobifone");
}

// --- the ported-numbers file -----------------------------------------------------------------

const std::vector<std::string> carriers = {"viettel", "vinaphone", "mobifone"};

TEST(ported_numbers, comments_blank_lines_header_quotes_and_crlf) {
  const std::string text =
      "# exported 2024-05-01\r\n"
      "number,carrier\r\n"
      "\r\n"
      "84961234567,mobifone\r\n"
      "   # indented comment\n"
      "+84911234567 , viettel\n"
      "\"84901234567\",\"vinaphone\"\n"
      "   \t\n"
      "84931234567,viettel";  // no final newline
  ported_map out;
  std::vector<ported_error> errors;
  ASSERT_TRUE(parse_ported_numbers(text, carriers, out, errors));
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(out, (ported_map{{"84961234567", "mobifone"},
                             {"84911234567", "viettel"},
                             {"84901234567", "vinaphone"},
                             {"84931234567", "viettel"}}));
}

TEST(ported_numbers, every_error_with_its_line_and_without_the_number) {
  const std::string text =
      "84961234567,mobifone\n"   // 1 ok
      "84961234568\n"            // 2 no comma
      "84961234569,viettel,x\n"  // 3 three fields
      "8496123456a,viettel\n"    // 4 not digits
      "849612,viettel\n"         // 5 too short
      "84961234570,\n"           // 6 no carrier
      "84961234571,Viettel\n"    // 7 unknown (case matters)
      "# fine\n"                 // 8
      "+84961234567,viettel\n"   // 9 duplicate of line 1
      "number,carrier\n"         // 10 not a header any more
      "0961234567,viettel\n";    // 11 national form
  ported_map out;
  std::vector<ported_error> errors;
  EXPECT_FALSE(parse_ported_numbers(text, carriers, out, errors));
  EXPECT_TRUE(out.empty());
  std::vector<std::size_t> lines;
  for (const auto& e : errors) {
    lines.push_back(e.line);
    EXPECT_EQ(e.message.find("8496123"), std::string::npos) << e.message;
  }
  EXPECT_EQ(lines, (std::vector<std::size_t>{2, 3, 4, 5, 6, 7, 9, 10, 11}));
  EXPECT_EQ(errors[5].message, "unknown carrier \"Viettel\"");
  EXPECT_EQ(errors[6].message, "the number is already listed on line 1");
}

TEST(ported_numbers, empty_file_is_an_empty_map) {
  ported_map out{{"1", "x"}};
  std::vector<ported_error> errors;
  EXPECT_TRUE(parse_ported_numbers("", carriers, out, errors));
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(parse_ported_numbers("# nothing\n\n", carriers, out, errors));
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(errors.empty());
}

}  // namespace
}  // namespace otpd::routing
