// Reading a file that holds a secret, or names one: otpd.yaml, a bind snippet, a ${file:}
// reference. Internal to config/.
//
// A file its group or others may write is refused: whoever can write it can swap a key or
// point a reference elsewhere (the configuration decides where codes go). The mode is taken
// from the opened descriptor (fstat), so a rename between the check and the read changes
// nothing. The bytes go straight from read(2) into the result, with no stream buffer left
// behind holding a copy; on failure the partial content is wiped.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

namespace otpd::config::detail {

// The content of `p`, at most `limit` bytes; nullopt and `why` otherwise ("writable by its
// group or by others (mode 0664); chmod go-w it", "larger than ...", strerror).
std::optional<std::string> read_private_file(const std::filesystem::path& p, std::size_t limit,
                                             std::string& why);

}  // namespace otpd::config::detail
