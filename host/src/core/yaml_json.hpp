// YAML config subtrees as JSON: what modules read for AV_OPT_ANY options and what
// av.pools/1 hands out for an outgoing pool (with the spec's defaults filled in).
#pragma once

#include "core/schema.hpp"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

namespace aviary {

// Scalars become numbers/booleans when they read as such, unless quoted in the YAML.
nlohmann::json yaml_to_json(const YAML::Node& n);

// A validated node as JSON typed by `spec`, with absent keys that have a default (Spec::dflt)
// filled in, recursively (an absent map whose fields have defaults appears with them).
nlohmann::json json_with_defaults(const YAML::Node& n, const Spec& spec);

}  // namespace aviary
