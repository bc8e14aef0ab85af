#include "core/yaml_json.hpp"

namespace aviary {

nlohmann::json yaml_to_json(const YAML::Node& n) {
  if (n.IsMap()) {
    auto o = nlohmann::json::object();
    for (auto it = n.begin(); it != n.end(); ++it) o[it->first.Scalar()] = yaml_to_json(it->second);
    return o;
  }
  if (n.IsSequence()) {
    auto a = nlohmann::json::array();
    for (auto e : n) a.push_back(yaml_to_json(e));
    return a;
  }
  if (!n || n.IsNull()) return nullptr;
  const std::string& t = n.Scalar();
  if (n.Tag() == "!") return t;  // quoted scalar stays a string
  if (t == "true") return true;
  if (t == "false") return false;
  try {
    size_t used = 0;
    long long v = std::stoll(t, &used);
    if (used == t.size()) return v;
    double d = std::stod(t, &used);
    if (used == t.size()) return d;
  } catch (...) {
  }
  return t;
}

namespace {

// A scalar typed by the spec (the text was validated against it, or is a declared default).
nlohmann::json typed_scalar(const std::string& t, const Spec& s) {
  switch (s.kind) {
    case Spec::Bool: return t == "true";
    case Spec::Int: return std::stoll(t);
    case Spec::Double: return std::stod(t);
    case Spec::String:
    case Spec::Enum: return t;
    default: return yaml_to_json(YAML::Load(t));
  }
}

bool has_defaults(const Spec& s) {
  if (!s.dflt.empty()) return true;
  if (s.kind != Spec::Map) return false;
  for (auto& [_, f] : s.fields)
    if (has_defaults(f)) return true;
  return false;
}

}  // namespace

nlohmann::json json_with_defaults(const YAML::Node& n, const Spec& s) {
  const bool absent = !n || n.IsNull();
  switch (s.kind) {
    case Spec::Map: {
      auto o = nlohmann::json::object();
      if (!absent && n.IsMap())
        for (auto it = n.begin(); it != n.end(); ++it) {
          const std::string key = it->first.Scalar();
          auto f = s.fields.find(key);
          const Spec* sub = f != s.fields.end() ? &f->second : (s.element ? s.element.get() : nullptr);
          o[key] = sub ? json_with_defaults(it->second, *sub) : yaml_to_json(it->second);
        }
      for (auto& [key, f] : s.fields)
        if (!o.contains(key) && has_defaults(f)) o[key] = json_with_defaults(YAML::Node(), f);
      return o;
    }
    case Spec::List: {
      auto a = nlohmann::json::array();
      if (!absent)
        for (auto e : n) a.push_back(s.element ? json_with_defaults(e, *s.element) : yaml_to_json(e));
      return a;
    }
    case Spec::StringList: {
      auto a = nlohmann::json::array();
      if (!absent)
        for (auto e : n) a.push_back(e.Scalar());
      else if (!s.dflt.empty())
        return yaml_to_json(YAML::Load(s.dflt));
      return a;
    }
    case Spec::Any:
      return absent && !s.dflt.empty() ? yaml_to_json(YAML::Load(s.dflt)) : yaml_to_json(n);
    default:
      if (absent) return s.dflt.empty() ? nlohmann::json(nullptr) : typed_scalar(s.dflt, s);
      return typed_scalar(n.Scalar(), s);
  }
}

}  // namespace aviary
