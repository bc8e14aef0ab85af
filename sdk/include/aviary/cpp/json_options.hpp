// Aviary C++ layer: reading option values that arrive as JSON text (an AV_OPT_ANY option read
// with av::Context::option_json, a pool from av.pools/1) with defaults, and errors that name
// the key. Needs nlohmann-json (Debian: nlohmann-json3-dev). Header-only.
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace av {

// `text` parsed. Throws std::runtime_error "not valid JSON", or "<what>: not valid JSON" when
// `what` is given.
inline nlohmann::json json_parse(const std::string& text, const std::string& what = std::string()) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) throw std::runtime_error(what.empty() ? "not valid JSON" : what + ": not valid JSON");
  return j;
}

// o[key] as a T; `dflt` when o is not an object, has no `key`, or its value is null. A value of
// another type throws std::runtime_error "'<key>' has the wrong type", or
// "<where>.<key> has the wrong type" when `where` (the path of o) is given.
template <class T>
T json_get_or(const nlohmann::json& o, const char* key, T dflt, const std::string& where = std::string()) {
  if (!o.is_object() || !o.contains(key) || o[key].is_null()) return dflt;
  try {
    return o[key].get<T>();
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error(where.empty() ? std::string("'") + key + "' has the wrong type"
                                           : where + "." + key + " has the wrong type");
  }
}

}  // namespace av
