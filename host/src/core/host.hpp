// The host process: owns config, threads, hooks, modules, storage, sessions and routing.
// One Host per process; the C ABI trampolines (host_api.cpp) reach it through Host::get().
#pragma once

#include "core/config.hpp"
#include "core/runtime.hpp"
#include "core/vhosts.hpp"
#include "ext/commands.hpp"
#include "ext/sql_pool.hpp"
#include "ext/timers.hpp"
#include "hooks/hook_registry.hpp"
#include "modules/loader.hpp"

#include <aviary/aviary.h>

#include <chrono>
#include <memory>
#include <string>

namespace aviary {

class SessionManager;
class Router;
class AuthService;
class Listeners;
class AdminServer;

// Core hook ids, resolved once at start-up.
struct CoreHooks {
  av_hook_id user_send_packet, user_send_message, user_send_presence, user_send_iq;
  av_hook_id user_receive_packet, filter_local_packet, offline_message;
  av_hook_id session_opened, session_closed, session_available, session_unavailable;
  av_hook_id account_registered, account_removed, stream_features;
  av_hook_id pre_auth_features, pre_auth_iq, c2s_nonza, iq_response;
};

class Host {
 public:
  explicit Host(Config cfg);
  ~Host();
  static Host& get();
  static Host* instance();

  // Load modules, validate their options, open storage, start modules. On failure
  // returns false with a message for the operator.
  bool prepare(std::vector<std::string>& errors);
  // Start listeners and the admin socket; returns false with a message on failure.
  bool open_network(std::string* err);
  // Run the main loop until stop() (SIGINT/SIGTERM in main.cpp).
  void run();
  void stop();

  const Config& config() const { return cfg_; }
  Vhosts& vhosts() { return *vhosts_; }
  Runtime& runtime() { return *rt_; }
  HookRegistry& hooks() { return *hooks_; }
  const CoreHooks& core_hooks() const { return core_; }
  ModuleLoader& modules() { return *loader_; }
  SqlPools& sql() { return *sql_; }
  CommandRegistry& commands() { return *commands_; }
  SessionManager& sessions() { return *sm_; }
  Router& router() { return *router_; }
  AuthService& auth() { return *auth_; }
  const av_host_api* api() const;
  std::chrono::steady_clock::time_point started_at() const { return started_at_; }

  // Run a core hook on the calling thread; after_each (with after_ctx) is called after each
  // handler (HookRegistry::run), e.g. StanzaReplace::adopt.
  av_hook_action run_hook(av_hook_id h, av_vhost* vh, const void* params, void* acc,
                          HookRegistry::AfterEach after_each = nullptr, void* after_ctx = nullptr);
  const void* extension(const char* id);

 private:
  void cleanup_module(av_module* m);
  void settle();
  void register_host_commands();

  Config cfg_;
  std::unique_ptr<Vhosts> vhosts_;
  std::unique_ptr<Runtime> rt_;
  std::unique_ptr<Timers> timers_;
  std::unique_ptr<HookRegistry> hooks_;
  CoreHooks core_{};
  std::unique_ptr<ModuleLoader> loader_;
  std::unique_ptr<SqlPools> sql_;
  std::unique_ptr<CommandRegistry> commands_;
  std::unique_ptr<SessionManager> sm_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<AuthService> auth_;
  std::unique_ptr<Listeners> listeners_;
  std::unique_ptr<AdminServer> admin_;
  bool modules_started_ = false;
  std::chrono::steady_clock::time_point started_at_;
};

}  // namespace aviary
