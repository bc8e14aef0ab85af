// Aviary C++ layer: the module base class and the AV_MODULE macro.
//
//   class Echo final : public av::Module {
//    public:
//     static const av_option_spec* options();           // optional
//     static const av_dep* deps();                      // optional
//     av_status start(av::Context& cx) override { ... return AV_OK; }
//     void stop() override { ... }                       // optional
//   };
//   AV_MODULE(Echo, "mod_echo", "0.1.0", "What it does")
#pragma once

#include <aviary/cpp/guard.hpp>
#include <aviary/cpp/hook.hpp>
#include <aviary/cpp/stanza.hpp>

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace av {

// Typed access to the module's declared options and to host services.
class Context {
 public:
  // Options (declared in options()). Throw Error on a wrong type or undeclared key.
  bool option_bool(const char* key, av_vhost* vh = nullptr) const { return get(key, AV_OPT_BOOL, vh).b; }
  int64_t option_int(const char* key, av_vhost* vh = nullptr) const { return get(key, AV_OPT_INT, vh).i; }
  double option_double(const char* key, av_vhost* vh = nullptr) const { return get(key, AV_OPT_DOUBLE, vh).d; }
  std::string option_string(const char* key, av_vhost* vh = nullptr) const {
    auto v = get(key, AV_OPT_STRING, vh);
    return std::string(sv(v.s));
  }
  std::string option_enum(const char* key, av_vhost* vh = nullptr) const {
    auto v = get(key, AV_OPT_ENUM, vh);
    return std::string(sv(v.s));
  }
  std::vector<std::string> option_list(const char* key, av_vhost* vh = nullptr) const {
    auto v = get(key, AV_OPT_STRING_LIST, vh);
    std::vector<std::string> out;
    for (size_t i = 0; i < v.count; ++i) out.emplace_back(sv(v.items[i]));
    return out;
  }
  // JSON text of an AV_OPT_ANY option ("" when absent).
  std::string option_json(const char* key, av_vhost* vh = nullptr) const {
    auto v = get(key, AV_OPT_ANY, vh);
    return v.present ? std::string(sv(v.s)) : std::string();
  }
  bool has_option(const char* key, av_option_type t, av_vhost* vh = nullptr) const { return get(key, t, vh).present; }

  std::vector<av_vhost*> vhosts() const {
    av_vhost* const* list = nullptr;
    size_t n = host().vhost_list(&list);
    return std::vector<av_vhost*>(list, list + n);
  }
  static std::string_view vhost_name(const av_vhost* vh) { return sv(host().vhost_name(vh)); }

  template <class Ext>
  const Ext* extension(const char* id) const { return static_cast<const Ext*>(host().get_extension(self(), id)); }
  template <class Ext>
  const Ext* require(const char* id) const { return require_extension<Ext>(id); }

 private:
  av_value get(const char* key, av_option_type t, av_vhost* vh) const {
    av_value v{};
    av_status st = host().get_option(self(), vh, key, t, &v);
    if (st != AV_OK) throw Error(st, std::string("option '") + key + "' cannot be read as requested");
    return v;
  }
};

class Module {
 public:
  virtual ~Module() = default;
  virtual av_status start(Context& cx) = 0;
  virtual void stop() {}
  // Extensions this module offers (see av_module_desc.get_extension).
  virtual const void* extension(const char* /*id*/) { return nullptr; }
};

namespace detail {

template <class M, class = void>
struct options_of { static const av_option_spec* get() { return nullptr; } };
template <class M>
struct options_of<M, std::void_t<decltype(M::options())>> { static const av_option_spec* get() { return M::options(); } };
template <class M, class = void>
struct deps_of { static const av_dep* get() { return nullptr; } };
template <class M>
struct deps_of<M, std::void_t<decltype(M::deps())>> { static const av_dep* get() { return M::deps(); } };

template <class M>
struct Instance {
  Context cx;
  M mod;
};

template <class M>
av_status start_trampoline(const av_host_api* host, av_module* self, void** out) noexcept {
  globals().host = host;
  globals().self = self;
  stanza_ext_slot() = static_cast<const av_ext_stanza_v1*>(host->get_extension(self, AV_EXT_STANZA));
  try {
    auto inst = std::make_unique<Instance<M>>();
    av_status st = inst->mod.start(inst->cx);
    if (st != AV_OK) return st;
    *out = inst.release();
    return AV_OK;
  } catch (const Error& e) {
    host->set_error(self, e.text.c_str());
    return e.status < 0 ? e.status : AV_E_INTERNAL;
  } catch (const std::exception& e) {
    host->set_error(self, e.what());
  } catch (...) {
    host->set_error(self, "unknown exception in start()");
  }
  return AV_E_EXCEPTION;
}

template <class M>
void stop_trampoline(void* state) noexcept {
  auto* inst = static_cast<Instance<M>*>(state);
  guard<int>("stop()", 0, [&] { inst->mod.stop(); return 0; });
  guard<int>("module destructor", 0, [&] { delete inst; return 0; });
}

template <class M>
const void* extension_trampoline(void* state, const char* id) noexcept {
  auto* inst = static_cast<Instance<M>*>(state);
  return guard<const void*>("get_extension()", nullptr, [&] { return inst->mod.extension(id); });
}

template <class M>
const av_module_desc* descriptor(const char* id, const char* version, const char* description) noexcept {
  // Function-local static: one per module .so, no ODR clash between modules.
  static const av_module_desc d = {
      sizeof(av_module_desc), AV_ABI_MAJOR, AV_ABI_MINOR, 0, 0, id, version, description,
      deps_of<M>::get(), options_of<M>::get(), &start_trampoline<M>, &stop_trampoline<M>,
      &extension_trampoline<M>};
  return &d;
}

}  // namespace detail
}  // namespace av

// Defines the module's one exported symbol.
#define AV_MODULE(Class, id, version, description)                                  \
  extern "C" AV_EXPORT const av_module_desc* av_module_entry(void);                 \
  extern "C" AV_EXPORT const av_module_desc* av_module_entry(void) {                \
    return ::av::detail::descriptor<Class>(id, version, description);              \
  }
