#include "common/secret.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

namespace otpd {
namespace {

// The VmFlags of the mapping holding `p`, from /proc/self/smaps ("rd wr mr mw me dd lo ...").
std::string vm_flags_of(const void* p) {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    std::uintptr_t lo = 0;
    std::uintptr_t hi = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> lo >> dash >> hi && dash == '-') {
      inside = a >= lo && a < hi;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line.substr(8) + " ";
    }
  }
  return {};
}

TEST(secret, holds_the_bytes_in_pages_left_out_of_core_dumps) {
  const secret s(std::string("0123456789abcdef0123456789abcdef", 32));
  EXPECT_EQ(s.view(), "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(s.size(), 32u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(s.view().data()) %
                static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE)),
            0u);
  const std::string flags = vm_flags_of(s.view().data());
  ASSERT_FALSE(flags.empty());
  // dd: VM_DONTDUMP, what the kernel and gcore leave out of a core.
  EXPECT_NE(flags.find(" dd "), std::string::npos) << flags;
}

TEST(secret, is_locked_or_counted_as_not_locked) {
  const secret_counts before = count_secrets();
  const secret s("a password");
  const secret_counts with = count_secrets();
  EXPECT_EQ(with.held, before.held + 1);
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer intercepts mlock and answers success without locking anything (its shadow
  // memory could not be locked): the count follows mlock's answer, so nothing is counted.
  EXPECT_EQ(with.unlocked, before.unlocked);
#else
  const bool locked = vm_flags_of(s.view().data()).find(" lo ") != std::string::npos;
  EXPECT_EQ(with.unlocked, before.unlocked + (locked ? 0 : 1));
#endif
}

TEST(secret, copies_share_one_buffer_that_goes_with_the_last_one) {
  const std::size_t before = count_secrets().held;
  {
    secret a("shared");
    const secret b = a;  // NOLINT: the copy is the point
    EXPECT_EQ(a.view().data(), b.view().data());
    EXPECT_EQ(count_secrets().held, before + 1);
    a = secret();
    EXPECT_EQ(b.view(), "shared");
  }
  EXPECT_EQ(count_secrets().held, before);
}

TEST(secret, take_wipes_the_source) {
  std::string text = "from a file";
  const char* where = text.data();
  const std::size_t n = text.size();
  const secret s = secret::take(text);
  EXPECT_EQ(s.view(), "from a file");
  EXPECT_TRUE(text.empty());
  EXPECT_EQ(std::string(where, n), std::string(n, '\0'));  // SSO: the same storage, wiped
}

TEST(secret, compares_by_content) {
  EXPECT_EQ(secret("abc"), secret("abc"));
  EXPECT_FALSE(secret("abc") == secret("abd"));
  EXPECT_FALSE(secret("abc") == std::string_view("abcd"));
  EXPECT_EQ(secret(), std::string_view());
  EXPECT_TRUE(secret().empty());
}

TEST(wipe, zeroes_the_buffer) {
  std::string code = "482917";
  wipe(code);
  EXPECT_EQ(code, std::string(6, '\0'));
}

}  // namespace
}  // namespace otpd
