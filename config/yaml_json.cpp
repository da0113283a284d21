#include "config/yaml_json.hpp"

#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>

#include "config/detail/yaml_reader.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <stdexcept>

namespace otpd::config {
namespace {

boost::json::value convert(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      boost::json::object o;
      for (const auto& kv : n) o[kv.first.Scalar()] = convert(kv.second);
      return o;
    }
    case YAML::NodeType::Sequence: {
      boost::json::array a;
      for (const auto& item : n) a.push_back(convert(item));
      return a;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "?") {  // plain scalar: YAML 1.2 core schema for the common types
        std::int64_t i = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
        if (ec == std::errc() && p == s.data() + s.size() && !s.empty()) return i;
        if (s == "true") return true;
        if (s == "false") return false;
        if (s == "null" || s == "~") return nullptr;
      }
      return boost::json::string(s);
    }
    default:
      return nullptr;
  }
}

std::string fingerprint(std::string_view text) {
  static const std::array<unsigned char, 32> key = [] {
    std::array<unsigned char, 32> k{};
    if (RAND_bytes(k.data(), static_cast<int>(k.size())) != 1) {
      throw std::runtime_error("the CSPRNG failed");
    }
    return k;
  }();
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), md, &len);
  static constexpr char digits[] = "0123456789abcdef";
  std::string out = "hmac:";
  for (unsigned int i = 0; i < len; ++i) {
    out += digits[md[i] >> 4];
    out += digits[md[i] & 0x0f];
  }
  return out;
}

}  // namespace

std::optional<boost::json::value> yaml_to_json(std::string_view yaml, std::string* error) {
  try {
    const YAML::Node root = detail::load_in_place(yaml);
    boost::json::value out = convert(root);
    detail::wipe_scalars(root);
    return out;
  } catch (const YAML::Exception& e) {
    if (error) {
      *error =
          std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) + ": " + e.msg;
    }
    return std::nullopt;
  }
}

void fingerprint_values(boost::json::value& v, std::initializer_list<std::string_view> keys) {
  if (boost::json::array* a = v.if_array()) {
    for (boost::json::value& item : *a) fingerprint_values(item, keys);
    return;
  }
  boost::json::object* o = v.if_object();
  if (o == nullptr) return;
  for (auto& kv : *o) {
    if (std::find(keys.begin(), keys.end(), kv.key()) == keys.end()) {
      fingerprint_values(kv.value(), keys);
      continue;
    }
    std::string text = boost::json::serialize(kv.value());
    if (boost::json::string* s = kv.value().if_string()) OPENSSL_cleanse(s->data(), s->size());
    kv.value() = boost::json::string(fingerprint(text));
    OPENSSL_cleanse(text.data(), text.capacity());
  }
}

}  // namespace otpd::config
