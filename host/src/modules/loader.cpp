#include "modules/loader.hpp"

#include "core/yaml_json.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>
#include <sstream>

namespace aviary {

namespace fs = std::filesystem;

namespace {

std::string version_of(uint16_t major, uint16_t minor) { return std::to_string(major) + "." + std::to_string(minor); }

std::string status_text(av_status st) {
  switch (st) {
    case AV_E_INVALID_ARG: return "invalid argument";
    case AV_E_NOMEM: return "out of memory";
    case AV_E_NOT_FOUND: return "not found";
    case AV_E_UNSUPPORTED: return "unsupported";
    case AV_E_ABI_MISMATCH: return "ABI mismatch";
    case AV_E_BUSY: return "busy";
    case AV_E_TIMEOUT: return "timeout";
    case AV_E_IO: return "I/O error";
    case AV_E_EXCEPTION: return "exception";
    case AV_E_EXISTS: return "already exists";
    case AV_E_DENIED: return "denied";
    default: return "internal error";
  }
}

bool valid_id(const std::string& id) {
  if (id.rfind("mod_", 0) != 0 || id.size() <= 4 || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

Spec::Kind kind_of(av_option_type t) {
  switch (t) {
    case AV_OPT_BOOL: return Spec::Bool;
    case AV_OPT_INT: return Spec::Int;
    case AV_OPT_STRING: return Spec::String;
    case AV_OPT_ENUM: return Spec::Enum;
    case AV_OPT_STRING_LIST: return Spec::StringList;
    case AV_OPT_DOUBLE: return Spec::Double;
    default: return Spec::Any;
  }
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, sep)) out.push_back(part);
  return out;
}

YAML::Node lookup(YAML::Node n, const std::string& dotted) {
  for (auto& part : split(dotted, '.')) {
    if (!n || !n.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    // Not `n = n[part]`: Node::operator= writes through into the config tree, and the
    // non-const [] inserts missing keys. Const [] and reset() only move the handle.
    YAML::Node next = static_cast<const YAML::Node&>(n)[part];
    if (!next) return YAML::Node(YAML::NodeType::Undefined);
    n.reset(next);
  }
  return n;
}

}  // namespace

Spec spec_from_options(const av_option_spec* opts) {
  Spec root = Spec::map({});
  for (const av_option_spec* o = opts; o && o->key; ++o) {
    Spec leaf;
    leaf.kind = kind_of(o->type);
    leaf.required = o->required;
    leaf.min = o->min;
    leaf.max = o->max;
    leaf.description = o->description ? o->description : "";
    if (o->type == AV_OPT_ENUM && o->enum_values) leaf.values = split(o->enum_values, '|');
    // "a.b" declares b inside map a; "list[].b" declares b inside the maps of list `list`.
    auto parts = split(o->key, '.');
    Spec* at = &root;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      const std::string& part = parts[i];
      const bool list = part.size() > 2 && part.compare(part.size() - 2, 2, "[]") == 0;
      Spec& next = at->fields[list ? part.substr(0, part.size() - 2) : part];
      if (list) {
        if (next.kind != Spec::List) next = Spec::list_of(Spec::map({}));
        at = next.element.get();
      } else {
        if (next.kind != Spec::Map) next = Spec::map({});
        at = &next;
      }
    }
    // A map or list already made by a deeper key keeps its fields (e.g. "x" of type ANY
    // declared after "x.y": x stays a map that checks y).
    Spec& slot = at->fields[parts.back()];
    if (leaf.kind != Spec::Any || (slot.kind != Spec::Map && slot.kind != Spec::List)) slot = leaf;
  }
  return root;
}

ModuleLoader::ModuleLoader(std::vector<std::string> search_path) : path_(std::move(search_path)) {}

// Modules stay mapped until process exit (DESIGN.md B1.5): the dlopen() handles of
// load_file are never closed, so dropping the av_module records unloads nothing.
ModuleLoader::~ModuleLoader() = default;

bool ModuleLoader::load_file(const std::string& path, std::string* err) {
  auto fail = [&](const std::string& msg) {
    if (err) *err = "module file " + path + ": " + msg;
    return false;
  };
  auto m = std::make_unique<av_module>();
  m->path = path;
  // A failure reports dlerror()'s text (missing symbol, bad ELF...). The handle is never
  // closed, not even for a refused file: modules stay mapped (DESIGN.md B1.5).
  m->handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!m->handle) {
    const char* dl = dlerror();
    return fail("cannot be loaded: " + std::string(dl ? dl : "unknown dlopen error"));
  }
  void* sym = dlsym(m->handle, AV_MODULE_ENTRY_SYMBOL);
  if (!sym)
    return fail("no entry symbol 'av_module_entry' (not an Aviary module, or built without AV_MODULE)");
  auto entry = reinterpret_cast<const av_module_desc* (*)()>(sym);
  const av_module_desc* d = entry();
  if (!d) return fail("av_module_entry() returned NULL");
  if (d->struct_size < sizeof(uint32_t) + 4 * sizeof(uint16_t))
    return fail("descriptor struct_size " + std::to_string(d->struct_size) + " is too small to hold a version");
  if (d->abi_major != AV_ABI_MAJOR)
    return fail("built for Aviary ABI " + version_of(d->abi_major, d->abi_minor) + ", this host implements ABI " +
                version_of(AV_ABI_MAJOR, AV_ABI_MINOR) + " (the major version must match)");
  if (d->min_host_minor > AV_ABI_MINOR)
    return fail("needs a host with ABI " + version_of(AV_ABI_MAJOR, d->min_host_minor) + " or newer, this host implements ABI " +
                version_of(AV_ABI_MAJOR, AV_ABI_MINOR));
  if (d->struct_size < kMinDescriptorSize)
    return fail("descriptor struct_size " + std::to_string(d->struct_size) + " is smaller than the ABI " +
                version_of(AV_ABI_MAJOR, 0) + " minimum " + std::to_string(kMinDescriptorSize));
  std::memcpy(&m->desc, d, std::min<size_t>(d->struct_size, sizeof(av_module_desc)));
  m->desc.struct_size = sizeof(av_module_desc);
  std::string id = m->desc.id ? m->desc.id : "";
  std::string base = fs::path(path).stem().string();
  if (!valid_id(id)) return fail("descriptor id '" + id + "' is not a valid module id (mod_[a-z0-9_]+)");
  if (id != base) return fail("descriptor id '" + id + "' does not match the file name '" + base + "'");
  if (!m->desc.start) return fail("descriptor has no start function");
  if (auto* other = find(id)) {
    if (err) *err = "module " + id + ": already loaded from " + other->path + " (refusing " + path + ")";
    return false;
  }
  m->id = id;
  mods_.push_back(std::move(m));
  return true;
}

bool ModuleLoader::load_named(const std::string& name, std::string* err) {
  for (auto& dir : path_) {
    fs::path p = fs::path(dir) / (name + ".so");
    std::error_code ec;
    if (fs::exists(p, ec)) return load_file(p.string(), err);
  }
  std::string dirs;
  for (auto& d : path_) dirs += (dirs.empty() ? "" : ", ") + d;
  if (err) *err = "module " + name + ": no file " + name + ".so in the module path (" + dirs + ")";
  return false;
}

namespace {
// Whether a module declares `key` itself, or a key inside it.
bool declares(const av_option_spec* opts, const std::string& key) {
  for (const av_option_spec* o = opts; o && o->key; ++o) {
    std::string k = o->key;
    if (k == key || k.rfind(key + ".", 0) == 0 || k.rfind(key + "[]", 0) == 0) return true;
  }
  return false;
}
}  // namespace

bool ModuleLoader::has_file(const std::string& name) const {
  for (auto& dir : path_) {
    std::error_code ec;
    if (fs::exists(fs::path(dir) / (name + ".so"), ec)) return true;
  }
  return false;
}

void ModuleLoader::load_backend(av_module& m, const ModuleSection& sec, const std::string& file,
                                std::vector<std::string>& errors) {
  const av_option_spec* spec = nullptr;
  for (const av_option_spec* o = m.desc.options; o && o->key; ++o)
    if (std::strcmp(o->key, "backend") == 0 && o->type == AV_OPT_STRING) spec = o;
  if (!spec) return;
  std::string value = spec->default_value ? spec->default_value : "";
  int line = sec.line;
  if (sec.node.IsMap()) {
    YAML::Node v = static_cast<const YAML::Node&>(sec.node)["backend"];
    if (v && v.IsScalar()) {
      value = v.Scalar();
      line = line_of(v);
    }
  }
  if (value.empty()) return;
  const std::string sub = m.id + "_" + value;
  const std::string at = file + ":" + std::to_string(line) + ": ";
  if (!valid_id(sub)) {
    errors.push_back(at + "modules." + m.id + ".backend: '" + value + "' is not a backend name ([a-z0-9_]+)");
    return;
  }
  m.backend_deps.push_back(sub);
  if (find(sub)) return;  // also configured in its own section
  if (!has_file(sub)) {
    std::string dirs;
    for (auto& d : path_) dirs += (dirs.empty() ? "" : ", ") + d;
    errors.push_back(at + "modules." + m.id + ".backend: " + value + ": no module file " + sub +
                     ".so is in the module path (" + dirs + ")");
    return;
  }
  std::string err;
  if (!load_named(sub, &err)) errors.push_back(at + err);
}

bool ModuleLoader::load_submodules(std::vector<ModuleSection>& sections, const std::string& file,
                                   std::vector<std::string>& errors) {
  const size_t before = errors.size();
  for (size_t i = 0; i < sections.size(); ++i) {  // grows while we go: sub-sections of sub-modules too
    const ModuleSection sec = sections[i];          // a copy: push_back below may reallocate
    av_module* m = find(sec.name);
    if (m) load_backend(*m, sec, file, errors);
    if (!m || !sec.node.IsMap()) continue;
    for (auto it = sec.node.begin(); it != sec.node.end(); ++it) {
      const std::string key = it->first.Scalar();
      const std::string sub = m->id + "_" + key;
      if (declares(m->desc.options, key) || !(it->second.IsMap() || it->second.IsNull()) || !valid_id(sub))
        continue;  // an ordinary key: configure() checks it against the module's options
      const std::string at = file + ":" + std::to_string(line_of(it->first)) + ": ";
      if (!has_file(sub)) {
        std::string dirs;
        for (auto& d : path_) dirs += (dirs.empty() ? "" : ", ") + d;
        errors.push_back(at + "modules." + m->id + "." + key + ": unknown key: " + m->id + " has no option '" + key +
                         "' and no module file " + sub + ".so is in the module path (" + dirs + ")");
        m->submodule_keys.insert(key);  // reported here, not again by configure()
        continue;
      }
      if (std::any_of(sections.begin(), sections.end(), [&](const ModuleSection& s) { return s.name == sub; })) {
        errors.push_back(at + "modules." + m->id + "." + key + " configures module " + sub +
                         ", which modules." + sub + " configures as well: keep one of them");
        continue;
      }
      std::string err;
      if (!load_named(sub, &err)) {
        errors.push_back(at + err);
        continue;
      }
      m->submodule_keys.insert(key);
      sections.push_back(ModuleSection{sub, it->second, line_of(it->first)});
    }
  }
  return errors.size() == before;
}

bool ModuleLoader::resolve(std::string* err) {
  for (auto& m : mods_)
    for (const av_dep* d = m->desc.deps; d && d->id; ++d)
      if (d->kind == AV_DEP_HARD && !find(d->id)) {
        if (err) *err = "module " + m->id + ": needs module " + d->id + " (hard dependency), which is not enabled in the config";
        return false;
      }
  // Depth-first topological order, keeping config order where dependencies allow.
  ordered_.clear();
  std::map<av_module*, int> mark;  // 1 visiting, 2 done
  std::function<bool(av_module*, std::vector<std::string>&)> visit = [&](av_module* m, std::vector<std::string>& stack) {
    if (mark[m] == 2) return true;
    if (mark[m] == 1) {
      std::string cyc;
      for (auto& s : stack) cyc += s + " -> ";
      if (err) *err = "modules: dependency cycle " + cyc + m->id;
      return false;
    }
    mark[m] = 1;
    stack.push_back(m->id);
    for (const av_dep* d = m->desc.deps; d && d->id; ++d)
      if (av_module* dep = find(d->id))
        if (!visit(dep, stack)) return false;
    for (auto& b : m->backend_deps)
      if (av_module* dep = find(b))
        if (!visit(dep, stack)) return false;
    stack.pop_back();
    mark[m] = 2;
    m->load_order = static_cast<uint32_t>(ordered_.size() + 1);
    ordered_.push_back(m);
    return true;
  };
  for (auto& m : mods_) {
    std::vector<std::string> stack;
    if (!visit(m.get(), stack)) return false;
  }
  return true;
}

bool ModuleLoader::configure(const std::vector<ModuleSection>& sections, const std::string& file,
                             std::vector<std::string>& errors) {
  size_t before = errors.size();
  for (auto& m : mods_) {
    auto sec = std::find_if(sections.begin(), sections.end(), [&](const ModuleSection& s) { return s.name == m->id; });
    YAML::Node node = sec != sections.end() ? sec->node : YAML::Node();
    m->options_node = node;
    m->config_file = file;
    m->config_line = sec != sections.end() ? sec->line : 0;
    Spec spec = spec_from_options(m->desc.options);
    for (auto& key : m->submodule_keys) spec.fields[key] = Spec::any();  // the sub-module checks it
    const size_t mod_before = errors.size();
    validate(node, spec, file, "modules." + m->id, errors);
    // yaml-cpp marks an empty section's null value at the next token (the following line):
    // report what it lacks at the section's own line.
    if (node.IsNull() && sec != sections.end())
      for (size_t i = mod_before; i < errors.size(); ++i)
        errors[i] = file + ":" + std::to_string(sec->line) + errors[i].substr(errors[i].find(':', file.size() + 1));
    if (errors.size() != mod_before) continue;  // already reported with FILE:LINE; no values to resolve
    for (const av_option_spec* o = m->desc.options; o && o->key; ++o) {
      auto val = std::make_unique<av_module::Value>();
      val->v.type = o->type;
      YAML::Node n = lookup(node, o->key);
      const bool from_default = !n && o->default_value;
      try {
        if (from_default) n = YAML::Load(o->default_value);
        // An ANY option written as `key:` with nothing is present (an empty section that
        // turns a feature on, e.g. mod_event_pusher.rabbit.presence_exchange).
        if (n && (!n.IsNull() || (o->type == AV_OPT_ANY && !from_default))) {
          val->v.present = true;
          switch (o->type) {
            case AV_OPT_BOOL: val->v.b = n.as<std::string>() == "true"; break;
            case AV_OPT_INT: val->v.i = n.as<int64_t>(); break;
            case AV_OPT_DOUBLE: val->v.d = n.as<double>(); break;
            case AV_OPT_STRING:
            case AV_OPT_ENUM: val->s = n.as<std::string>(); break;
            case AV_OPT_STRING_LIST:
              for (auto e : n) val->items.push_back(e.as<std::string>());
              break;
            default: val->s = yaml_to_json(n).dump(); break;
          }
        }
      } catch (const std::exception&) {
        // Values were validated above, so this is the module's own declared default.
        if (from_default)
          errors.push_back("module " + m->id + ": option " + o->key + ": the module declares an invalid default '" +
                           o->default_value + "'");
        else
          errors.push_back(file + ":" + std::to_string(line_of(n)) + ": modules." + m->id + "." + o->key +
                           ": bad value");
      }
      val->v.s = av_strn(val->s.data(), val->s.size());
      for (auto& i : val->items) val->views.push_back(av_strn(i.data(), i.size()));
      val->v.items = val->views.data();
      val->v.count = val->views.size();
      m->options[o->key] = std::move(val);
    }
  }
  return errors.size() == before;
}

bool ModuleLoader::start_all(const av_host_api* api, std::string* err, const std::function<void(av_module*)>& cleanup) {
  for (av_module* m : ordered_) {
    void* state = nullptr;
    av_status st = m->desc.start(api, m, &state);
    if (st != AV_OK) {
      if (err)
        *err = "module " + m->id + ": start failed (status " + std::to_string(st) + ", " + status_text(st) + ")" +
               (m->error.empty() ? std::string() : ": " + m->error);
      cleanup(m);  // drop whatever it registered before failing; stop() is not called
      stop_all(cleanup);
      return false;
    }
    m->state = state;
    m->started = true;
  }
  return true;
}

void ModuleLoader::stop_all(const std::function<void(av_module*)>& cleanup) {
  for (auto it = ordered_.rbegin(); it != ordered_.rend(); ++it) {
    av_module* m = *it;
    if (!m->started) continue;
    cleanup(m);
    if (m->desc.stop) m->desc.stop(m->state);
    m->started = false;
    m->state = nullptr;
  }
}

av_module* ModuleLoader::find(const std::string& id) const {
  for (auto& m : mods_)
    if (m->id == id) return m.get();
  return nullptr;
}

}  // namespace aviary
