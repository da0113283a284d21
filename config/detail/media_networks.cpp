#include "config/detail/media_networks.hpp"

#include "voice/media/media_policy.hpp"

namespace otpd::config::detail {

std::vector<std::string> read_media_networks(yaml_reader& r, const field& f,
                                             const std::string& path) {
  std::vector<std::string> out;
  auto list = r.items(f, path, "a list of networks such as [203.0.113.0/24, 2001:db8::/48]");
  if (!list) return out;
  if (list->empty()) {
    r.error(yaml_reader::mark_of(f), path +
                                         ": expected at least one network (leave the key out for "
                                         "the next hop's address)");
    return out;
  }
  for (std::size_t i = 0; i < list->size(); ++i) {
    const field& item = (*list)[i];
    const std::string p = item_path(path, i);
    auto s = r.get_string(item, p, {.max_length = 64, .allow_empty = false});
    if (!s) continue;
    std::string why;
    if (!media::parse_network(*s, why)) {
      r.error(yaml_reader::mark_of(item),
              p + ": expected a network such as 203.0.113.0/24 or 2001:db8::/48, got '" + *s +
                  "': " + why);
      continue;
    }
    out.push_back(*s);
  }
  return out;
}

}  // namespace otpd::config::detail
