#include "daemon/store/message_ids.hpp"

#include <cstdint>

namespace otpd::service::detail {

std::string encode_message_ids(const std::vector<std::string>& ids) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "[";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i != 0) out += ',';
    out += '"';
    for (char c : ids[i]) {
      auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (u < 0x20) {
        out += "\\u00";
        out += hex[u >> 4];
        out += hex[u & 0xF];
      } else {
        out += c;
      }
    }
    out += '"';
  }
  out += ']';
  return out;
}

namespace {

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

bool decode_message_ids(std::string_view in, std::vector<std::string>& out) {
  out.clear();
  std::size_t i = 0;
  auto skip_ws = [&] {
    while (i < in.size() && (in[i] == ' ' || in[i] == '\t' || in[i] == '\n' || in[i] == '\r')) {
      ++i;
    }
  };
  auto hex4 = [&](std::uint32_t& v) {
    if (in.size() - i < 4) return false;
    v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = in[i++];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<std::uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        return false;
      }
    }
    return true;
  };
  skip_ws();
  if (i >= in.size() || in[i++] != '[') return false;
  skip_ws();
  if (i < in.size() && in[i] == ']') {
    ++i;
    skip_ws();
    return i == in.size();
  }
  while (true) {
    skip_ws();
    if (i >= in.size() || in[i++] != '"') return false;
    std::string s;
    while (true) {
      if (i >= in.size()) return false;
      char c = in[i++];
      if (c == '"') break;
      if (c != '\\') {
        s += c;
        continue;
      }
      if (i >= in.size()) return false;
      char e = in[i++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          s += e;
          break;
        case 'b':
          s += '\b';
          break;
        case 'f':
          s += '\f';
          break;
        case 'n':
          s += '\n';
          break;
        case 'r':
          s += '\r';
          break;
        case 't':
          s += '\t';
          break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!hex4(cp)) return false;
          // RFC 8259 §7: a character outside the BMP is a surrogate pair.
          if (cp >= 0xD800 && cp < 0xDC00) {
            std::uint32_t low = 0;
            if (in.substr(i, 2) != "\\u") return false;
            i += 2;
            if (!hex4(low) || low < 0xDC00 || low >= 0xE000) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            return false;
          }
          append_utf8(s, cp);
          break;
        }
        default:
          return false;
      }
    }
    out.push_back(std::move(s));
    skip_ws();
    if (i >= in.size()) return false;
    char sep = in[i++];
    if (sep == ']') break;
    if (sep != ',') return false;
  }
  skip_ws();
  return i == in.size();
}

}  // namespace otpd::service::detail
