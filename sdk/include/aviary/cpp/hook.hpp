// Aviary C++ layer: typed hooks with RAII registration.
#pragma once

#include <aviary/cpp/guard.hpp>

#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace av {

// A hook name with its params and accumulator types (Acc = void for notify hooks), so a
// handler of the wrong shape fails to compile.
template <class Params, class Acc>
struct HookDef {
  const char* name;
};

namespace hooks {
inline constexpr HookDef<av_stanza_params, av_stanza_acc> user_send_packet{AV_HOOK_USER_SEND_PACKET};
inline constexpr HookDef<av_stanza_params, av_stanza_acc> user_send_message{AV_HOOK_USER_SEND_MESSAGE};
inline constexpr HookDef<av_stanza_params, av_stanza_acc> user_send_presence{AV_HOOK_USER_SEND_PRESENCE};
inline constexpr HookDef<av_stanza_params, av_stanza_acc> user_send_iq{AV_HOOK_USER_SEND_IQ};
inline constexpr HookDef<av_stanza_params, av_stanza_acc> user_receive_packet{AV_HOOK_USER_RECEIVE_PACKET};
inline constexpr HookDef<av_stanza_params, av_stanza_acc> filter_local_packet{AV_HOOK_FILTER_LOCAL_PACKET};
inline constexpr HookDef<av_stanza_params, av_offline_acc> offline_message{AV_HOOK_OFFLINE_MESSAGE};
inline constexpr HookDef<av_session_params, void> session_opened{AV_HOOK_SESSION_OPENED};
inline constexpr HookDef<av_session_params, void> session_closed{AV_HOOK_SESSION_CLOSED};
inline constexpr HookDef<av_session_params, void> session_available{AV_HOOK_SESSION_AVAILABLE};
inline constexpr HookDef<av_session_params, void> session_unavailable{AV_HOOK_SESSION_UNAVAILABLE};
inline constexpr HookDef<av_session_params, void> account_registered{AV_HOOK_ACCOUNT_REGISTERED};
inline constexpr HookDef<av_session_params, void> account_removed{AV_HOOK_ACCOUNT_REMOVED};
inline constexpr HookDef<av_session_params, av_features_acc> stream_features{AV_HOOK_STREAM_FEATURES};
inline constexpr HookDef<av_session_params, av_features_acc> pre_auth_features{AV_HOOK_PRE_AUTH_FEATURES};
inline constexpr HookDef<av_stanza_params, av_iq_acc> pre_auth_iq{AV_HOOK_PRE_AUTH_IQ};
inline constexpr HookDef<av_stanza_params, av_stanza_acc> c2s_nonza{AV_HOOK_C2S_NONZA};
inline constexpr HookDef<av_stanza_params, av_iq_acc> iq_response{AV_HOOK_IQ_RESPONSE};
}  // namespace hooks

// What a handler returns.
enum class Next : av_hook_action { proceed = AV_HOOK_CONTINUE, stop = AV_HOOK_STOP };
inline constexpr Next next = Next::proceed;
inline constexpr Next stop = Next::stop;

// Owns registrations; removing them on destruction (the host also removes them all when
// the module stops, so forgetting one is harmless).
class HookSet {
 public:
  HookSet() = default;
  HookSet(const HookSet&) = delete;
  HookSet& operator=(const HookSet&) = delete;
  ~HookSet() { clear(); }

  // Register `fn` for `def`. Handler shapes:
  //   fold/verdict: Next fn(const Params&, Acc&)     notify: void fn(const Params&)
  // or the same with the run's context first, for a handler that needs the vhost the hook
  // runs for (the host has already looked it up) or the executor:
  //   Next fn(const av_hook_ctx&, const Params&, Acc&)     void fn(const av_hook_ctx&, const Params&)
  // scope: nullptr = all vhosts. Throws Error when the host refuses.
  template <class Params, class Acc, class F>
  void add(HookDef<Params, Acc> def, int32_t prio, F fn, av_vhost* scope = nullptr) {
    add_named<Params, Acc>(def.name, prio, std::move(fn), scope);
  }

  // Same, for a hook known only by name at run time (e.g. "iq/server/urn:xmpp:ping").
  template <class Params, class Acc, class F>
  void add_named(const std::string& name, int32_t prio, F fn, av_vhost* scope = nullptr) {
    av_hook_id id = -1;
    av_status st = host().hook_resolve(name.c_str(), &id);
    if (st != AV_OK) throw Error(st, "cannot resolve hook " + name);
    auto h = std::make_unique<Handler<Params, Acc, F>>(std::move(fn), name);
    av_hook_reg reg = 0;
    st = host().hook_add(self(), id, scope, prio, &Handler<Params, Acc, F>::call, h.get(), &reg);
    if (st != AV_OK) throw Error(st, "cannot register a handler on " + name);
    regs_.push_back(reg);
    handlers_.push_back(std::move(h));
  }

  void clear() {
    for (auto r : regs_) (void)host().hook_remove(self(), r);
    regs_.clear();
    handlers_.clear();
  }

 private:
  struct Base {
    virtual ~Base() = default;
  };
  template <class Params, class Acc, class F>
  struct Handler : Base {
    F fn;
    std::string name;
    Handler(F f, std::string n) : fn(std::move(f)), name(std::move(n)) {}
    static av_hook_action call(void* user, const av_hook_ctx* cx, const void* params, void* acc) noexcept {
      auto* self = static_cast<Handler*>(user);
      return detail::guard<av_hook_action>(self->name.c_str(), AV_HOOK_ERROR, [&]() -> av_hook_action {
        const auto& p = *static_cast<const Params*>(params);
        if constexpr (std::is_void_v<Acc>) {
          if constexpr (std::is_invocable_v<F&, const av_hook_ctx&, const Params&>)
            self->fn(*cx, p);
          else
            self->fn(p);
          return AV_HOOK_CONTINUE;
        } else {
          auto& a = *static_cast<Acc*>(acc);
          if constexpr (std::is_invocable_v<F&, const av_hook_ctx&, const Params&, Acc&>)
            return static_cast<av_hook_action>(self->fn(*cx, p, a));
          else
            return static_cast<av_hook_action>(self->fn(p, a));
        }
      });
    }
  };
  std::vector<av_hook_reg> regs_;
  std::vector<std::unique_ptr<Base>> handlers_;
};

// Runs a hook from module code (for hooks a module owns and declares).
template <class Params, class Acc>
av_hook_action run_hook(av_hook_id id, av_vhost* vh, const Params& p, Acc* acc) {
  av_hook_action last = AV_HOOK_CONTINUE;
  (void)host().hook_run(id, vh, &p, acc, &last);
  return last;
}

}  // namespace av
