// Aviary C++ layer: string helpers and the exception guard used by every trampoline.
// Header-only, compiled into each module; nothing here crosses the C ABI.
#pragma once

#include <aviary/aviary.h>

#include <exception>
#include <string>
#include <string_view>

namespace av {

inline std::string_view sv(av_str s) { return s.ptr ? std::string_view(s.ptr, s.len) : std::string_view(); }
inline av_str str(std::string_view s) { return av_strn(s.data(), s.size()); }
inline av_str str(const std::string& s) { return av_strn(s.data(), s.size()); }
inline av_str str(const char* s) { return av_cstr(s); }  // NULL stays absent
inline av_str str_absent() { return av_strn(nullptr, 0); }

namespace detail {

// Per-module globals: each .so gets its own copy (hidden visibility, RTLD_LOCAL).
struct Globals {
  const av_host_api* host = nullptr;
  av_module* self = nullptr;
};
inline Globals& globals() {
  static Globals g;
  return g;
}

inline void log_line(av_log_level lvl, std::string_view msg) noexcept {
  auto& g = globals();
  if (g.host && g.host->log) g.host->log(g.self, lvl, str(msg));
}

// Runs f() and turns any exception into `on_error`, logging where it happened.
template <class R, class F>
R guard(const char* where, R on_error, F&& f) noexcept {
  try {
    return f();
  } catch (const std::exception& e) {
    log_line(AV_LOG_ERROR, std::string("exception in ") + where + ": " + e.what());
  } catch (...) {
    log_line(AV_LOG_ERROR, std::string("unknown exception in ") + where);
  }
  return on_error;
}

}  // namespace detail

// The host table and module handle of the running module (set before start()).
inline const av_host_api& host() { return *detail::globals().host; }
inline av_module* self() { return detail::globals().self; }

inline void log_debug(std::string_view m) { detail::log_line(AV_LOG_DEBUG, m); }
inline void log_info(std::string_view m) { detail::log_line(AV_LOG_INFO, m); }
inline void log_warning(std::string_view m) { detail::log_line(AV_LOG_WARNING, m); }
inline void log_error(std::string_view m) { detail::log_line(AV_LOG_ERROR, m); }

// Thrown by helpers; the start trampoline turns it into set_error + a failing status.
struct Error : std::exception {
  av_status status;
  std::string text;
  Error(av_status st, std::string t) : status(st), text(std::move(t)) {}
  const char* what() const noexcept override { return text.c_str(); }
};

// Fetches a required extension or throws Error.
template <class Ext>
const Ext* require_extension(const char* id) {
  auto* e = static_cast<const Ext*>(host().get_extension(self(), id));
  if (!e) throw Error(AV_E_NOT_FOUND, std::string("required extension '") + id + "' is not available");
  if (e->struct_size < sizeof(uint32_t)) throw Error(AV_E_ABI_MISMATCH, std::string("extension '") + id + "' is malformed");
  return e;
}

}  // namespace av
