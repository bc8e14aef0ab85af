#include "core/schema.hpp"

#include <algorithm>

namespace aviary {

int line_of(const YAML::Node& n) {
  auto m = n.Mark();
  return m.line >= 0 ? m.line + 1 : 0;
}

std::string describe_expected(const Spec& s) {
  switch (s.kind) {
    case Spec::Bool: return "true or false";
    case Spec::Int:
      if (s.min <= s.max) return "an integer from " + std::to_string(s.min) + " to " + std::to_string(s.max);
      return "an integer";
    case Spec::Double: return "a number";
    case Spec::String: return "a string";
    case Spec::Enum: {
      std::string r = "one of ";
      for (size_t i = 0; i < s.values.size(); ++i) r += (i ? ", " : "") + s.values[i];
      return r;
    }
    case Spec::StringList: return "a list of strings";
    case Spec::Map: return "a map";
    case Spec::List: return "a list";
    case Spec::Any: return "a value";
  }
  return "a value";
}

namespace {

void err(std::vector<std::string>& errors, const std::string& file, const YAML::Node& n,
         const std::string& path, const std::string& msg) {
  errors.push_back(file + ":" + std::to_string(line_of(n)) + ": " + (path.empty() ? "top level" : path) + ": " + msg);
}

std::string scalar_text(const YAML::Node& n) { return n.IsScalar() ? n.Scalar() : std::string(); }

bool is_int(const std::string& t, int64_t* v) {
  if (t.empty()) return false;
  size_t i = (t[0] == '-' || t[0] == '+') ? 1 : 0;
  if (i == t.size()) return false;
  for (size_t j = i; j < t.size(); ++j)
    if (t[j] < '0' || t[j] > '9') return false;
  try {
    *v = std::stoll(t);
  } catch (...) {
    return false;
  }
  return true;
}

}  // namespace

void validate(const YAML::Node& n, const Spec& s, const std::string& file, const std::string& path,
              std::vector<std::string>& errors) {
  const std::string got = n.IsMap() ? "a map" : n.IsSequence() ? "a list" : n.IsNull() ? "nothing" : "'" + scalar_text(n) + "'";
  auto expected = [&] { err(errors, file, n, path, "expected " + describe_expected(s) + ", got " + got); };
  switch (s.kind) {
    case Spec::Any: return;
    case Spec::Bool: {
      auto t = scalar_text(n);
      if (!n.IsScalar() || (t != "true" && t != "false")) expected();
      return;
    }
    case Spec::Int: {
      int64_t v = 0;
      if (!n.IsScalar() || !is_int(scalar_text(n), &v)) return expected();
      if (s.min <= s.max && (v < s.min || v > s.max)) expected();
      return;
    }
    case Spec::Double: {
      if (!n.IsScalar()) return expected();
      try {
        size_t used = 0;
        std::stod(scalar_text(n), &used);
        if (used != scalar_text(n).size()) expected();
      } catch (...) {
        expected();
      }
      return;
    }
    case Spec::String:
      if (!n.IsScalar()) expected();
      return;
    case Spec::Enum:
      if (!n.IsScalar() || std::find(s.values.begin(), s.values.end(), scalar_text(n)) == s.values.end()) expected();
      return;
    case Spec::StringList:
      if (!n.IsSequence()) return expected();
      for (size_t i = 0; i < n.size(); ++i)
        if (!n[i].IsScalar())
          err(errors, file, n[i], path + "[" + std::to_string(i) + "]", "expected a string");
      return;
    case Spec::List:
      if (!n.IsSequence()) return expected();
      for (size_t i = 0; i < n.size(); ++i) validate(n[i], *s.element, file, path + "[" + std::to_string(i) + "]", errors);
      return;
    case Spec::Map: {
      if (n.IsNull()) {  // `key:` with nothing = empty map
        for (auto& [k, f] : s.fields)
          if (f.required) err(errors, file, n, path, "missing required key '" + k + "'");
        return;
      }
      if (!n.IsMap()) return expected();
      for (auto it = n.begin(); it != n.end(); ++it) {
        std::string key = it->first.IsScalar() ? it->first.Scalar() : std::string("?");
        std::string sub = path.empty() ? key : path + "." + key;
        auto f = s.fields.find(key);
        if (f != s.fields.end()) {
          validate(it->second, f->second, file, sub, errors);
        } else if (s.open_keys && s.element) {
          validate(it->second, *s.element, file, sub, errors);
        } else {
          std::string known;
          for (auto& [k, _] : s.fields) known += (known.empty() ? "" : ", ") + k;
          err(errors, file, it->first, sub, "unknown key" + (known.empty() ? std::string(" (this section takes no keys)") : " (expected one of: " + known + ")"));
        }
      }
      for (auto& [k, f] : s.fields)
        if (f.required && !n[k]) err(errors, file, n, path, "missing required key '" + k + "'");
      return;
    }
  }
}

}  // namespace aviary
