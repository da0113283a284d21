#include "config/yaml_json.hpp"

#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>

#include <charconv>

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

}  // namespace

std::optional<boost::json::value> yaml_to_json(std::string_view yaml, std::string* error) {
  try {
    return convert(YAML::Load(std::string(yaml)));
  } catch (const YAML::Exception& e) {
    if (error) {
      *error =
          std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) + ": " + e.msg;
    }
    return std::nullopt;
  }
}

}  // namespace otpd::config
