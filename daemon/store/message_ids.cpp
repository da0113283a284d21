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

// The decoder's position in the text. Never past its end: every read checks first.
struct json_reader {
  std::string_view in;
  std::size_t i = 0;

  bool at_end() const { return i >= in.size(); }
  // The next character, consumed; false at the end.
  bool next(char& c) {
    if (at_end()) return false;
    c = in[i++];
    return true;
  }
  void skip_ws() {
    while (i < in.size() && (in[i] == ' ' || in[i] == '\t' || in[i] == '\n' || in[i] == '\r')) {
      ++i;
    }
  }
  bool hex4(std::uint32_t& v) {
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
  }
  // After "\u": the character, appended as UTF-8.
  bool unicode(std::string& s) {
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
    return true;
  }
  // After a backslash: the escaped character, appended.
  bool escape(std::string& s) {
    char e = 0;
    if (!next(e)) return false;
    switch (e) {
      case '"':
      case '\\':
      case '/':
        s += e;
        return true;
      case 'b':
        s += '\b';
        return true;
      case 'f':
        s += '\f';
        return true;
      case 'n':
        s += '\n';
        return true;
      case 'r':
        s += '\r';
        return true;
      case 't':
        s += '\t';
        return true;
      case 'u':
        return unicode(s);
      default:
        return false;
    }
  }
  // A string, quotes included.
  bool string(std::string& s) {
    char c = 0;
    if (!next(c) || c != '"') return false;
    while (next(c)) {
      if (c == '"') return true;
      if (c != '\\') {
        s += c;
      } else if (!escape(s)) {
        return false;
      }
    }
    return false;  // no closing quote
  }
};

}  // namespace

bool decode_message_ids(std::string_view in, std::vector<std::string>& out) {
  out.clear();
  json_reader r{in};
  char c = 0;
  r.skip_ws();
  if (!r.next(c) || c != '[') return false;
  r.skip_ws();
  if (!r.at_end() && r.in[r.i] == ']') {
    ++r.i;
    r.skip_ws();
    return r.at_end();
  }
  while (true) {
    r.skip_ws();
    std::string s;
    if (!r.string(s)) return false;
    out.push_back(std::move(s));
    r.skip_ws();
    if (!r.next(c)) return false;
    if (c == ']') break;
    if (c != ',') return false;
  }
  r.skip_ws();
  return r.at_end();
}

}  // namespace otpd::service::detail
