// Declarative validation of YAML config trees with FILE:LINE messages.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace aviary {

struct Spec {
  enum Kind { Bool, Int, Double, String, Enum, StringList, Map, List, Any };
  Kind kind = Any;
  bool required = false;
  int64_t min = 1, max = 0;                   // Int range, used when min <= max
  std::vector<std::string> values;            // Enum
  std::map<std::string, Spec> fields;         // Map: declared keys
  std::shared_ptr<Spec> element;              // List: element spec; Map with open keys: value spec
  bool open_keys = false;                     // Map: any key allowed (value per `element`)
  std::string description;
  std::string dflt;                           // default as YAML text ("" = none); see yaml_json.hpp

  static Spec boolean() { return of(Bool); }
  static Spec integer(int64_t lo = 1, int64_t hi = 0) { Spec s = of(Int); s.min = lo; s.max = hi; return s; }
  static Spec number() { return of(Double); }
  static Spec string() { return of(String); }
  static Spec enumeration(std::vector<std::string> v) { Spec s = of(Enum); s.values = std::move(v); return s; }
  static Spec string_list() { return of(StringList); }
  static Spec any() { return of(Any); }
  static Spec map(std::map<std::string, Spec> f) { Spec s = of(Map); s.fields = std::move(f); return s; }
  static Spec map_of(Spec value) { Spec s = of(Map); s.open_keys = true; s.element = std::make_shared<Spec>(std::move(value)); return s; }
  static Spec list_of(Spec e) { Spec s = of(List); s.element = std::make_shared<Spec>(std::move(e)); return s; }
  Spec req() const { Spec s = *this; s.required = true; return s; }
  Spec def(std::string v) const { Spec s = *this; s.dflt = std::move(v); return s; }

 private:
  static Spec of(Kind k) { Spec s; s.kind = k; return s; }
};

// Appends "FILE:LINE: PATH: message" lines to errors for every problem under `node`.
void validate(const YAML::Node& node, const Spec& spec, const std::string& file,
              const std::string& path, std::vector<std::string>& errors);

std::string describe_expected(const Spec& spec);
int line_of(const YAML::Node& n);  // 1-based, 0 when unknown

}  // namespace aviary
