// The av_host_api table: C trampolines into the Host. None of them may throw.
#include "core/host.hpp"
#include "core/log.hpp"

#include <cstdlib>
#include <cstring>

namespace aviary {

namespace {

std::string_view sv(av_str s) { return s.ptr ? std::string_view(s.ptr, s.len) : std::string_view(); }

template <class F>
auto safe(F f, decltype(f()) on_error) noexcept -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    log::error(std::string("host API: ") + e.what());
  } catch (...) {
    log::error("host API: unknown exception");
  }
  return on_error;
}

void api_log(av_module* m, av_log_level lvl, av_str msg) {
  safe([&] {
    log::Level l = lvl <= AV_LOG_DEBUG ? log::Level::debug
                   : lvl == AV_LOG_INFO ? log::Level::info
                   : lvl == AV_LOG_WARNING ? log::Level::warning
                                           : log::Level::error;
    if (log::enabled(l)) log::write(l, m ? m->id : std::string("?"), sv(msg));
    return 0;
  }, 0);
}

av_status api_set_error(av_module* m, const char* msg) {
  if (!m) return AV_E_INVALID_ARG;
  return safe([&] {
    m->error = msg ? msg : "";
    return AV_OK;
  }, AV_E_INTERNAL);
}

av_status api_get_option(av_module* m, av_vhost*, const char* key, av_option_type type, av_value* out) {
  if (!m || !key || !out) return AV_E_INVALID_ARG;
  auto it = m->options.find(key);
  if (it == m->options.end()) return AV_E_NOT_FOUND;
  if (it->second->v.type != type) return AV_E_INVALID_ARG;
  *out = it->second->v;
  return AV_OK;
}

av_status api_hook_resolve(const char* name, av_hook_id* out) {
  return safe([&] { return Host::get().hooks().resolve(name, out); }, AV_E_INTERNAL);
}

av_status api_hook_declare(av_module*, const char* name, av_hook_kind kind, av_hook_id* out) {
  return safe([&] { return Host::get().hooks().declare(name, kind, out); }, AV_E_INTERNAL);
}

av_status api_hook_add(av_module* m, av_hook_id h, av_vhost* scope, int32_t prio, av_hook_fn fn, void* user,
                       av_hook_reg* out) {
  return safe([&] { return Host::get().hooks().add(m, h, scope, prio, fn, user, out); }, AV_E_INTERNAL);
}

av_status api_hook_remove(av_module* m, av_hook_reg reg) {
  return safe([&] { return Host::get().hooks().remove(m, reg); }, AV_E_INTERNAL);
}

av_status api_hook_run(av_hook_id h, av_vhost* vh, const void* params, void* acc, av_hook_action* out_last) {
  return safe([&] {
    auto& host = Host::get();
    return host.hooks().run(h, vh, params, acc, out_last, host.runtime().current());
  }, AV_E_INTERNAL);
}

const void* api_get_extension(av_module*, const char* id) {
  if (!id) return nullptr;
  return safe([&] { return Host::get().extension(id); }, static_cast<const void*>(nullptr));
}

av_status api_post(av_executor ex, void (*fn)(void*), void* arg) {
  if (!fn) return AV_E_INVALID_ARG;
  return safe([&] { return Host::get().runtime().post(ex, [fn, arg] { fn(arg); }); }, AV_E_INTERNAL);
}

void* api_mem_alloc(size_t n) { return std::malloc(n ? n : 1); }
void api_mem_free(void* p) { std::free(p); }

av_vhost* api_vhost_find(av_str name) {
  return safe([&] { return Host::get().vhosts().find(sv(name)); }, static_cast<av_vhost*>(nullptr));
}

av_str api_vhost_name(const av_vhost* vh) {
  if (!vh) return av_strn(nullptr, 0);
  return av_strn(vh->name.data(), vh->name.size());
}

size_t api_vhost_list(av_vhost* const** out) {
  auto& v = Host::get().vhosts();
  if (out) *out = v.data();
  return v.size();
}

av_executor api_current_executor() { return Host::get().runtime().current(); }

const av_host_api kApi = {
    sizeof(av_host_api), AV_ABI_MAJOR, AV_ABI_MINOR,
    api_log, api_set_error, api_get_option, api_hook_resolve, api_hook_declare, api_hook_add,
    api_hook_remove, api_hook_run, api_get_extension, api_post, api_mem_alloc, api_mem_free,
    api_vhost_find, api_vhost_name, api_vhost_list, api_current_executor};

}  // namespace

const av_host_api* Host::api() const { return &kApi; }

}  // namespace aviary
