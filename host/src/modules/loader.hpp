// Finds, loads, checks, orders, starts and stops modules (DESIGN.md B1).
// Modules are loaded with RTLD_NOW | RTLD_LOCAL and never unloaded while running.
#pragma once

#include "core/config.hpp"
#include "core/schema.hpp"

#include <aviary/host.h>

#include <functional>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <vector>

// The opaque SDK handle, defined by the host.
struct av_module {
  std::string id;
  std::string path;
  av_module_desc desc{};                 // zero-extended copy of the module's descriptor
  void* handle = nullptr;                // dlopen() handle, never dlclose()d: mapped until exit
  uint32_t load_order = 0;               // 1-based start order (0 = host)
  void* state = nullptr;
  bool started = false;
  std::string error;                     // set_error text during start
  YAML::Node options_node;               // its config section
  std::set<std::string> submodule_keys;  // keys of its section that configure a sub-module
  std::vector<std::string> backend_deps; // backend modules it starts after (option `backend`)
  std::string config_file;
  int config_line = 0;
  struct Value {                         // resolved option values (backing av_value)
    av_value v{};
    std::string s;
    std::vector<std::string> items;
    std::vector<av_str> views;
  };
  std::map<std::string, std::unique_ptr<Value>> options;
};

namespace aviary {

class ModuleLoader {
 public:
  explicit ModuleLoader(std::vector<std::string> search_path);
  ~ModuleLoader();

  // Load a module file and check its descriptor. Messages name the file, symbol and versions.
  bool load_file(const std::string& path, std::string* err);
  // Find mod_<name>.so in the search path and load it.
  bool load_named(const std::string& name, std::string* err);
  // A map under modules.mod_x whose key K mod_x does not declare, with a file mod_x_K.so in
  // the module path, loads mod_x_K with that map as its options (modules.mod_event_pusher.rabbit
  // loads mod_event_pusher_rabbit). Appends their sections; FILE:LINE errors.
  // A module that declares `backend` as an AV_OPT_STRING option gets mod_<id>_<value> loaded
  // (value from its section, else the declared default; modules.mod_mam.backend: rdbms loads
  // mod_mam_rdbms) and started before it; its own section, if any, is modules.mod_<id>_<value>.
  // A `backend` of type AV_OPT_ENUM lists storage the module has built in and loads nothing.
  bool load_submodules(std::vector<ModuleSection>& sections, const std::string& file,
                       std::vector<std::string>& errors);
  // Hard deps present, no cycles; fixes the start order.
  bool resolve(std::string* err);
  // Check every module's config section against its declared options (FILE:LINE errors)
  // and resolve values (defaults included).
  bool configure(const std::vector<ModuleSection>& sections, const std::string& file,
                 std::vector<std::string>& errors);
  // Start in dependency order; on a failure, stop those already started (via stop_one).
  bool start_all(const av_host_api* api, std::string* err, const std::function<void(av_module*)>& cleanup);
  // Stop in reverse order. cleanup(m) runs before m's stop() (removes hooks, commands...).
  void stop_all(const std::function<void(av_module*)>& cleanup);

  av_module* find(const std::string& id) const;
  bool has_file(const std::string& name) const;  // mod_<name>.so is in the search path
  const std::vector<av_module*>& ordered() const { return ordered_; }
  const std::vector<std::string>& search_path() const { return path_; }

 private:
  void load_backend(av_module& m, const ModuleSection& sec, const std::string& file, std::vector<std::string>& errors);
  std::vector<std::string> path_;
  std::vector<std::unique_ptr<av_module>> mods_;
  std::vector<av_module*> ordered_;
};

Spec spec_from_options(const av_option_spec* opts);
// Minimum descriptor size accepted for ABI 1.0 (up to and including get_extension).
constexpr uint32_t kMinDescriptorSize = sizeof(av_module_desc);

}  // namespace aviary
