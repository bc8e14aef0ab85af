#include "core/host.hpp"

#include "core/auth.hpp"
#include "core/log.hpp"
#include "ctl/admin_server.hpp"
#include "ext/pools_ext.hpp"
#include "ext/stanza_ext.hpp"
#include "net/listeners.hpp"
#include "net/router.hpp"
#include "net/session_manager.hpp"
#include "net/sessions_ext.hpp"

#include <cstring>
#include <filesystem>

#ifndef AVIARY_DEFAULT_MODULE_DIR
#define AVIARY_DEFAULT_MODULE_DIR "/usr/local/lib/aviary/modules"
#endif

namespace aviary {

namespace {
Host* g_host = nullptr;
}

Host& Host::get() { return *g_host; }
Host* Host::instance() { return g_host; }

Host::Host(Config cfg) : cfg_(std::move(cfg)) {
  g_host = this;
  vhosts_ = std::make_unique<Vhosts>(cfg_.hosts);
  rt_ = std::make_unique<Runtime>(cfg_.threads, cfg_.worker_threads);
  timers_ = std::make_unique<Timers>(*rt_);
  hooks_ = std::make_unique<HookRegistry>(
      vhosts_->size(), [](const std::string& m) { log::warning(m); },
      [](av_module* m) { return m ? HookRegistry::OwnerInfo{m->load_order, m->id} : HookRegistry::OwnerInfo{}; });
  auto decl = [&](const char* name, av_hook_kind kind) {
    av_hook_id id = -1;
    hooks_->declare(name, kind, &id);
    return id;
  };
  core_.user_send_packet = decl(AV_HOOK_USER_SEND_PACKET, AV_HOOK_KIND_FOLD);
  core_.user_send_message = decl(AV_HOOK_USER_SEND_MESSAGE, AV_HOOK_KIND_FOLD);
  core_.user_send_presence = decl(AV_HOOK_USER_SEND_PRESENCE, AV_HOOK_KIND_FOLD);
  core_.user_send_iq = decl(AV_HOOK_USER_SEND_IQ, AV_HOOK_KIND_FOLD);
  core_.user_receive_packet = decl(AV_HOOK_USER_RECEIVE_PACKET, AV_HOOK_KIND_FOLD);
  core_.filter_local_packet = decl(AV_HOOK_FILTER_LOCAL_PACKET, AV_HOOK_KIND_FOLD);
  core_.offline_message = decl(AV_HOOK_OFFLINE_MESSAGE, AV_HOOK_KIND_FOLD);
  core_.session_opened = decl(AV_HOOK_SESSION_OPENED, AV_HOOK_KIND_NOTIFY);
  core_.session_closed = decl(AV_HOOK_SESSION_CLOSED, AV_HOOK_KIND_NOTIFY);
  core_.session_available = decl(AV_HOOK_SESSION_AVAILABLE, AV_HOOK_KIND_NOTIFY);
  core_.session_unavailable = decl(AV_HOOK_SESSION_UNAVAILABLE, AV_HOOK_KIND_NOTIFY);
  core_.account_registered = decl(AV_HOOK_ACCOUNT_REGISTERED, AV_HOOK_KIND_NOTIFY);
  core_.account_removed = decl(AV_HOOK_ACCOUNT_REMOVED, AV_HOOK_KIND_NOTIFY);
  core_.stream_features = decl(AV_HOOK_STREAM_FEATURES, AV_HOOK_KIND_FOLD);
  core_.pre_auth_features = decl(AV_HOOK_PRE_AUTH_FEATURES, AV_HOOK_KIND_FOLD);
  core_.pre_auth_iq = decl(AV_HOOK_PRE_AUTH_IQ, AV_HOOK_KIND_FOLD);
  core_.c2s_nonza = decl(AV_HOOK_C2S_NONZA, AV_HOOK_KIND_FOLD);
  core_.iq_response = decl(AV_HOOK_IQ_RESPONSE, AV_HOOK_KIND_FOLD);

  std::vector<std::string> path = cfg_.module_path;
  if (const char* env = std::getenv("AVIARY_MODULE_PATH")) {
    std::string s = env;
    size_t start = 0;
    while (start <= s.size()) {
      size_t colon = s.find(':', start);
      std::string part = s.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
      if (!part.empty()) path.push_back(part);
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
  }
  path.push_back(AVIARY_DEFAULT_MODULE_DIR);
  loader_ = std::make_unique<ModuleLoader>(path);
  sql_ = std::make_unique<SqlPools>(*rt_);
  commands_ = std::make_unique<CommandRegistry>(*rt_);
  sm_ = std::make_unique<SessionManager>(vhosts_->size());
  router_ = std::make_unique<Router>(*this);
  auth_ = std::make_unique<AuthService>(cfg_.scram_iterations);
  started_at_ = std::chrono::steady_clock::now();
}

Host::~Host() {
  stop();
  rt_->stop_io();
  if (modules_started_) {
    settle();
    loader_->stop_all([this](av_module* m) { cleanup_module(m); });
  }
  sql_->shutdown();
  if (g_host == this) g_host = nullptr;
}

// Before the modules stop: finish the SQL queries still queued and run the completions
// (and other handlers) they left on the now idle executors. A completion left there is
// destroyed with its io_context without being called, although storage_sql.h promises done
// exactly once: the module's callback state leaked (LeakSanitizer, a client that quit just
// before SIGTERM). Completions may queue more queries, hence the loop; bounded, so that a
// hung database or a busy client cannot hold up the exit.
void Host::settle() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    bool idle = sql_->wait_idle(deadline);
    if (rt_->run_ready() == 0 && idle) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      log::warning("shutdown: work still pending after 5 s; dropping it");
      break;
    }
  }
}

av_hook_action Host::run_hook(av_hook_id h, av_vhost* vh, const void* params, void* acc,
                              HookRegistry::AfterEach after_each, void* after_ctx) {
  av_hook_action last = AV_HOOK_CONTINUE;
  hooks_->run(h, vh, params, acc, &last, rt_->current(), after_each, after_ctx);
  return last;
}

const void* Host::extension(const char* id) {
  if (!std::strcmp(id, AV_EXT_STANZA)) return stanza_ext();
  if (!std::strcmp(id, AV_EXT_ROUTER)) return router_->ext();
  if (!std::strcmp(id, AV_EXT_STORAGE_SQL)) return sql_->ext();
  if (!std::strcmp(id, AV_EXT_COMMANDS)) return commands_->ext();
  if (!std::strcmp(id, AV_EXT_AUTH)) return auth_->ext();
  if (!std::strcmp(id, AV_EXT_TIMER)) return timers_->ext();
  if (!std::strcmp(id, AV_EXT_SESSIONS)) return sessions_ext();
  if (!std::strcmp(id, AV_EXT_POOLS)) return pools_ext();
  // Extensions offered by started modules.
  for (av_module* m : loader_->ordered()) {
    if (!m->started || !m->desc.get_extension) continue;
    if (const void* e = m->desc.get_extension(m->state, id)) return e;
  }
  return nullptr;
}

void Host::cleanup_module(av_module* m) {
  commands_->remove_owner(m);
  hooks_->remove_owner(m);  // waits until no handler of m is running
}

bool Host::prepare(std::vector<std::string>& errors) {
  std::error_code fec;
  std::filesystem::create_directories(cfg_.data_dir, fec);
  for (auto& sec : cfg_.modules) {
    std::string err;
    if (!loader_->load_named(sec.name, &err)) errors.push_back(cfg_.file + ":" + std::to_string(sec.line) + ": " + err);
  }
  if (!errors.empty() || !loader_->load_submodules(cfg_.modules, cfg_.file, errors)) return false;
  std::string err;
  if (!loader_->resolve(&err)) {
    errors.push_back(cfg_.file + ": " + err);
    return false;
  }
  if (!loader_->configure(cfg_.modules, cfg_.file, errors)) return false;
  if (!sql_->open(cfg_.rdbms, &err)) {
    errors.push_back(err);
    return false;
  }
  rt_->start_io();
  register_host_commands();
  if (!loader_->start_all(api(), &err, [this](av_module* m) { cleanup_module(m); })) {
    errors.push_back(err);
    return false;
  }
  modules_started_ = true;
  hooks_->synchronize();
  if (!auth_->bind_providers(cfg_.auth_methods, &err)) {
    errors.push_back(cfg_.file + ": " + err);
    return false;
  }
  for (av_module* m : loader_->ordered()) log::info("module " + m->id + " " + (m->desc.version ? m->desc.version : "") + " started");
  return true;
}

bool Host::open_network(std::string* err) {
  admin_ = std::make_unique<AdminServer>(rt_->main(), *commands_);
  if (!admin_->listen(cfg_.ctl_socket, err)) return false;
  listeners_ = std::make_unique<Listeners>(*this);
  return listeners_->open(err);
}

void Host::run() {
  auto guard = boost::asio::make_work_guard(rt_->main());
  rt_->main().run();
}

void Host::stop() {
  if (listeners_) listeners_->close();
  if (admin_) admin_->stop();
  rt_->main().stop();
}

}  // namespace aviary
