// mod_event_pusher_push: XEP-0357 push notifications (MongooseIM 6.5's mod_event_pusher_push),
// a transport of the event pusher configured as modules.mod_event_pusher.push.
// - iq/bare/urn:xmpp:push:0 and iq/server/urn:xmpp:push:0: <enable/> and <disable/> of the
//   user's registrations (PubSub JID, node, publish-options), stored in SQL table
//   event_pusher_push_subscription.
// - event-pusher/push (AV_PUSH_PRIO_TRANSPORT): a chat/groupchat message received for an
//   existing user without any session notifies each of the user's registrations with the
//   urn:xmpp:push:summary form: either through the hook push/notifications (ext/draft/push.h)
//   when the PubSub JID is one of virtual_pubsub_hosts (a push service module answers, maybe
//   later; device_not_registered disables the registration), or with an IQ publish from the
//   user's domain to the PubSub JID (an error reply of type cancel disables it). With
//   plugin_module enhanced, a message a lost XEP-0198 session never acknowledged also
//   notifies the registration that session enabled. Nothing here waits: SQL is asynchronous
//   and the registrations are cached in memory.
// - iq/response: the answers to the publish IQs.
// - account/removed: the user's registrations are deleted.
// - disco/user-info, disco/server-info: feature urn:xmpp:push:0.
// - aviaryctl event_pusher pushStats: counters.
#include <aviary/aviary.hpp>
#include <aviary/cpp/event_pusher.hpp>
#include <aviary/cpp/event_pusher_json.hpp>  // av::lower_jid
#include <aviary/ext/auth_provider.h>
#include <aviary/ext/draft/disco.h>
#include <aviary/ext/draft/push.h>
#include <aviary/ext/router.h>
#include <aviary/ext/sessions.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <unordered_map>

#include "push_logic.hpp"
#include "reg_cache.hpp"

namespace {

using namespace push;

constexpr size_t kCacheEntries = 100000;       // users whose registrations are cached
constexpr uint64_t kSeenTtlMs = 60000;         // a notified (message, service) is remembered
constexpr size_t kSeenEntries = 100000;
constexpr uint64_t kIqTimeoutMs = 32000;       // a publish IQ without answer is forgotten
constexpr size_t kPendingIqs = 100000;
constexpr uint64_t kClosedSessionKeepMs = 3600 * 1000;  // enhanced: services of lost sessions

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
uint64_t now_ms() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

// A JID as the module keys it (localpart and domain lowercased, resource kept).
std::string normalized(std::string_view jid) {
  auto j = av::parse_jid(jid);
  return j ? j->full() : std::string(jid);
}

struct Stats {
  std::atomic<uint64_t> enabled{0}, disabled{0}, notifications{0}, via_hook{0}, via_pubsub{0};
  std::atomic<uint64_t> hook_ok{0}, hook_gone{0}, hook_failed{0}, hook_unhandled{0};
  std::atomic<uint64_t> pubsub_result{0}, pubsub_error{0}, pubsub_cancel{0}, pubsub_timeout{0};
  std::atomic<uint64_t> deactivated{0}, lookup_failed{0}, duplicates{0};
};

// One notification to make, for every (or one) registration of `owner`.
struct Notification {
  std::string owner, domain, message_key;
  av_vhost* vhost = nullptr;
  KeyValues summary;
};

struct PendingIq {
  std::string owner, pubsub, node;
  uint64_t deadline = 0;
};

struct SessionService {
  Registration reg;
  uint64_t closed_at = 0;  // 0 while the session is open
};

struct Core;
using CorePtr = std::shared_ptr<Core>;

// State shared with asynchronous completions (they keep it alive).
struct Core {
  av::SqlPool db;
  int dialect = AV_SQL_SQLITE;
  const av_ext_router_v1* router = nullptr;
  const av_ext_sessions_v1* sessions = nullptr;
  std::vector<std::string> virtual_hosts;
  bool enhanced = false;
  av_hook_id notify_hook = -1;
  RegCache cache{kCacheEntries};
  std::mutex mu;  // seen, pending, pending_order, session_services
  Seen seen{kSeenTtlMs, kSeenEntries};
  std::unordered_map<std::string, PendingIq> pending;
  std::deque<std::pair<uint64_t, std::string>> pending_order;
  std::unordered_map<std::string, SessionService> session_services;  // full JID -> what it enabled
  std::atomic<uint64_t> iq_seq{0};
  std::string iq_prefix;
  std::atomic<bool> stopped{false};
  Stats stats;
};

// ---- registrations: load and disable ----

struct ExistsCx {
  CorePtr core;
  std::string owner;
  uint64_t gen;
  Registrations regs;
};

void on_exists(void* cx, av_status st, bool exists) {
  std::unique_ptr<ExistsCx> c(static_cast<ExistsCx*>(cx));
  av::detail::guard<int>("push user_exists callback", 0, [&] {
    if (st != AV_OK) {
      c->core->stats.lookup_failed.fetch_add(1, std::memory_order_relaxed);
      av::log_error("cannot check that " + c->owner + " exists");
      c->core->cache.loaded(c->owner, c->gen, false, {});
    } else {
      // Registrations left by an account removed while this module was not running
      // notify nobody.
      c->core->cache.loaded(c->owner, c->gen, true, exists ? std::move(c->regs) : Registrations{});
    }
    return 0;
  });
}

void start_load(const CorePtr& core, const std::string& owner, uint64_t gen) {
  av_status st = core->db.query(kSelectSql, {owner}, AV_EXEC_IO_ANY, [core, owner, gen](av_status st, const av::SqlResult& r) {
    if (st != AV_OK) {
      core->stats.lookup_failed.fetch_add(1, std::memory_order_relaxed);
      av::log_error("cannot read the push registrations of " + owner + ": " + std::string(r.error()));
      core->cache.loaded(owner, gen, false, {});
      return;
    }
    Registrations regs;
    for (size_t i = 0; i < r.rows(); ++i) {
      auto form = decode_form(r.value(i, 2));
      if (!form) {
        av::log_warning("ignoring a push registration of " + owner + " with a malformed form: " +
                        std::string(r.value(i, 2)));
        continue;
      }
      regs.push_back(Registration{std::string(r.value(i, 1)), std::string(r.value(i, 0)), std::move(*form)});
    }
    auto* auth =
        static_cast<const av_auth_provider_v1*>(av::host().get_extension(av::self(), AV_EXT_AUTH_PROVIDER));
    if (regs.empty() || !auth || !auth->user_exists) {
      core->cache.loaded(owner, gen, true, std::move(regs));
      return;
    }
    auto* cx = new ExistsCx{core, owner, gen, std::move(regs)};
    const std::string_view user = av::jid_local_part(owner), server = av::jid_domain_part(owner);
    if (auth->user_exists(auth->self, av::str(user), av::str(server), &on_exists, cx) != AV_OK) {
      delete cx;
      core->stats.lookup_failed.fetch_add(1, std::memory_order_relaxed);
      core->cache.loaded(owner, gen, false, {});
    }
  });
  if (st != AV_OK) {
    core->stats.lookup_failed.fetch_add(1, std::memory_order_relaxed);
    av::log_warning("cannot read the push registrations of " + owner + ": the SQL pool is busy");
    core->cache.loaded(owner, gen, false, {});
  }
}

// Runs `then` with the owner's registrations (now, or when they are loaded).
void with_registrations(const CorePtr& core, const std::string& owner, RegCache::Waiter then) {
  auto b = core->cache.begin(owner, then);
  switch (b.what) {
    case RegCache::Begin::What::hit: then(true, b.regs); break;
    case RegCache::Begin::What::wait: break;
    case RegCache::Begin::What::load: start_load(core, owner, b.gen); break;
  }
}

void forget_session_services(Core& core, const std::string& owner, std::string_view pubsub,
                             const std::optional<std::string>& node) {
  std::lock_guard<std::mutex> lk(core.mu);
  for (auto it = core.session_services.begin(); it != core.session_services.end();) {
    const bool mine = av::jid_bare_part(it->first) == owner;
    if (mine && (pubsub.empty() || matches(it->second.reg, pubsub, node)))
      it = core.session_services.erase(it);
    else
      ++it;
  }
}

// Deletes registrations of `owner` (node absent: every node of that PubSub JID); `done`
// (may be empty) gets the outcome.
void disable(const CorePtr& core, const std::string& owner, const std::string& pubsub,
             const std::optional<std::string>& node, std::function<void(bool)> done) {
  core->cache.remove(owner, pubsub, node);  // no more notifications from now on
  forget_session_services(*core, owner, pubsub, node);
  std::vector<av::SqlParam> params;
  const char* sql = kDeleteServiceSql;
  if (node) {
    sql = kDeleteNodeSql;
    params = {owner, *node, pubsub};
  } else {
    params = {owner, pubsub};
  }
  av_status st = core->db.query(sql, params, AV_EXEC_IO_ANY, [core, owner, done](av_status st, const av::SqlResult& r) {
    core->cache.invalidate(owner);
    if (st != AV_OK) av::log_error("cannot delete a push registration of " + owner + ": " + std::string(r.error()));
    if (done) done(st == AV_OK);
  });
  if (st != AV_OK) {
    core->cache.invalidate(owner);
    av::log_error("cannot delete a push registration of " + owner + ": the SQL pool is busy");
    if (done) done(false);
  }
}

// A service said the registration is gone (device_not_registered, or an IQ error of type
// cancel): MongooseIM disables that node.
void deactivate(const CorePtr& core, const std::string& owner, const std::string& pubsub, const std::string& node,
                const std::string& why) {
  if (core->stopped) return;
  disable(core, owner, pubsub, node, [core, owner, pubsub, node, why](bool ok) {
    if (!ok) return;
    core->stats.deactivated.fetch_add(1, std::memory_order_relaxed);
    av::log_info("push registration of " + owner + " (" + pubsub + ", node " + node + ") disabled: " + why);
  });
}

// ---- publishing ----

struct HookCx {
  CorePtr core;
  std::string owner, pubsub, node;
};

void hook_finish(HookCx& cx, av_push_result r) {
  Stats& s = cx.core->stats;
  switch (r) {
    case AV_PUSH_RESULT_OK: s.hook_ok.fetch_add(1, std::memory_order_relaxed); break;
    case AV_PUSH_RESULT_DEVICE_NOT_REGISTERED:
      s.hook_gone.fetch_add(1, std::memory_order_relaxed);
      deactivate(cx.core, cx.owner, cx.pubsub, cx.node, "the push service answered device_not_registered");
      break;
    default: s.hook_failed.fetch_add(1, std::memory_order_relaxed); break;
  }
}

void hook_done(void* user, av_push_result r) noexcept {
  std::unique_ptr<HookCx> cx(static_cast<HookCx*>(user));
  av::detail::guard<int>("push/notifications completion", 0, [&] {
    hook_finish(*cx, r);
    return 0;
  });
}

void publish_via_hook(const CorePtr& core, const Notification& n, const Registration& reg) {
  core->stats.via_hook.fetch_add(1, std::memory_order_relaxed);
  std::vector<av_push_kv> fields, options;
  for (auto& [k, v] : n.summary) fields.push_back(av_push_kv{av::str(k), av::str(v)});
  for (auto& [k, v] : reg.options) options.push_back(av_push_kv{av::str(k), av::str(v)});
  av_push_notification_params p{};
  p.struct_size = sizeof p;
  p.vhost = n.vhost;
  p.owner_jid = av::str(n.owner);
  p.pubsub_jid = av::str(reg.pubsub_jid);
  p.node = av::str(reg.node);
  p.fields = fields.data();
  p.field_count = fields.size();
  p.options = options.data();
  p.option_count = options.size();
  auto cx = std::make_unique<HookCx>(HookCx{core, n.owner, reg.pubsub_jid, reg.node});
  av_push_notification_acc acc{};
  acc.struct_size = sizeof acc;
  acc.result = AV_PUSH_RESULT_OK;
  acc.done = &hook_done;
  acc.done_user = cx.get();
  (void)av::host().hook_run(core->notify_hook, n.vhost, &p, &acc, nullptr);
  if (!acc.handled) {
    if (core->stats.hook_unhandled.fetch_add(1, std::memory_order_relaxed) == 0)
      av::log_warning("no push service handled a notification for " + reg.pubsub_jid +
                      " (is mod_push_service_mongoosepush enabled, and does the registration have a device_id?)");
    return;
  }
  if (acc.pending) {
    (void)cx.release();  // hook_done owns it now (it may even have run already)
    return;
  }
  hook_finish(*cx, acc.result);
}

void sweep_pending_locked(Core& core, uint64_t now) {
  while (!core.pending_order.empty() &&
         (core.pending_order.front().first <= now || core.pending.size() > kPendingIqs)) {
    auto it = core.pending.find(core.pending_order.front().second);
    if (it != core.pending.end()) {
      core.pending.erase(it);
      core.stats.pubsub_timeout.fetch_add(1, std::memory_order_relaxed);
    }
    core.pending_order.pop_front();
  }
}

void publish_via_pubsub(const CorePtr& core, const Notification& n, const Registration& reg) {
  core->stats.via_pubsub.fetch_add(1, std::memory_order_relaxed);
  const std::string id = core->iq_prefix + std::to_string(core->iq_seq.fetch_add(1) + 1);
  av::StanzaRef iq = av::StanzaRef::parse(publish_iq_xml(id, n.domain, reg.pubsub_jid, reg.node, n.summary, reg.options));
  {
    std::lock_guard<std::mutex> lk(core->mu);
    const uint64_t now = now_ms();
    sweep_pending_locked(*core, now);
    core->pending[id] = PendingIq{n.owner, reg.pubsub_jid, reg.node, now + kIqTimeoutMs};
    core->pending_order.emplace_back(now + kIqTimeoutMs, id);
  }
  // From the recipient's domain (XEP-0357 section 7), so the answer comes back to iq/response.
  if (core->router->route(iq.get()) != AV_OK) av::log_warning("cannot route a push publish IQ to " + reg.pubsub_jid);
}

void publish(const CorePtr& core, const Notification& n, const Registration& reg) {
  if (is_virtual_pubsub_host(core->virtual_hosts, n.domain, av::jid_domain_part(reg.pubsub_jid)))
    publish_via_hook(core, n, reg);
  else
    publish_via_pubsub(core, n, reg);
}

std::string seen_key(const Notification& n, const Registration& reg) {
  return n.message_key + '\0' + reg.pubsub_jid + '\0' + reg.node;
}

bool has_sessions(const Core& core, const std::string& bare) {
  size_t count = 0;
  core.sessions->list(
      av::str(bare), [](void* user, const av_session_info*, size_t n) { *static_cast<size_t*>(user) = n; }, &count);
  return count > 0;
}

// event-pusher/push
void on_event(const CorePtr& core, const av_push_event& e) {
  if (e.kind == AV_PUSH_CHAT) {
    if (e.direction != AV_PUSH_DIR_RECEIVED) return;
  } else if (e.kind != AV_PUSH_UNACK || !core->enhanced) {
    return;
  }
  const std::string_view body = av::sv(e.body);
  if (body.empty() || !e.vhost) return;  // MongooseIM: no notification without a body
  const std::string to(av::sv(e.to));
  Notification n;
  n.owner = av::lower_jid(av::jid_bare_part(to));
  if (av::jid_local_part(n.owner).empty()) return;  // not a user
  n.domain = std::string(av::jid_domain_part(n.owner));
  n.vhost = e.vhost;
  const std::string_view from = av::sv(e.from);
  n.summary = summary_fields(1, sender_id(e.chat_type == AV_PUSH_TYPE_GROUPCHAT, from), body);  // no inbox: 1
  std::string_view id;
  if (e.stanza) id = av::ElementView(av::stanza_api().root(e.stanza)).attr("id");
  n.message_key = message_key(n.owner, from, id, body);

  if (e.kind == AV_PUSH_UNACK) {
    // Enhanced plugin: the registration the lost session enabled, whoever else is online.
    std::optional<Registration> reg;
    {
      std::lock_guard<std::mutex> lk(core->mu);
      auto it = core->session_services.find(normalized(to));
      if (it != core->session_services.end() && core->seen.first(seen_key(n, it->second.reg), now_ms()))
        reg = it->second.reg;
    }
    if (!reg) return;
    core->stats.notifications.fetch_add(1, std::memory_order_relaxed);
    publish(core, n, *reg);
    return;
  }
  if (has_sessions(*core, n.owner)) return;  // only users without any session
  with_registrations(core, n.owner, [core, n](bool ok, const Registrations& regs) {
    if (!ok || regs.empty() || core->stopped) return;
    core->stats.notifications.fetch_add(1, std::memory_order_relaxed);
    for (const auto& reg : regs) {
      bool dup;
      {
        std::lock_guard<std::mutex> lk(core->mu);
        dup = core->seen.contains(seen_key(n, reg), now_ms());
      }
      if (dup) {
        core->stats.duplicates.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      publish(core, n, reg);
    }
  });
}

// iq/response: the answer to a publish IQ.
av::Next on_iq_response(const CorePtr& core, const av_stanza_params& p, av_iq_acc& acc) {
  if (acc.handled || !p.stanza) return av::next;
  av::StanzaView v(p.stanza);
  const std::string id(v.id());
  PendingIq pend;
  {
    std::lock_guard<std::mutex> lk(core->mu);
    auto it = core->pending.find(id);
    if (it == core->pending.end()) return av::next;
    // The answer must come from the service asked (its bare JID: a user account answers
    // for its resources).
    if (av::lower_jid(av::jid_bare_part(av::sv(p.from))) != av::lower_jid(av::jid_bare_part(it->second.pubsub)))
      return av::next;
    pend = std::move(it->second);
    core->pending.erase(it);
  }
  acc.handled = true;
  if (v.type() == "result") {
    core->stats.pubsub_result.fetch_add(1, std::memory_order_relaxed);
    return av::stop;
  }
  av::ElementView err = v.child("error");
  if (err.attr("type") == "cancel") {
    core->stats.pubsub_cancel.fetch_add(1, std::memory_order_relaxed);
    std::string cond;
    if (err.child_count() > 0) cond = std::string(err.child_at(0).name());
    deactivate(core, pend.owner, pend.pubsub, pend.node, "the PubSub service answered an error of type cancel (" + cond + ")");
  } else {
    core->stats.pubsub_error.fetch_add(1, std::memory_order_relaxed);
  }
  return av::stop;
}

// ---- the IQ handler ----

av::StanzaRef fix_from(av::StanzaRef r, const std::string& from) {
  if (r && !r.root().has_attr("from"))
    if (av_xml_el* root = av::stanza_api().mut_root(r.get()))
      av::stanza_api().set_attr(root, av_cstr("from"), av::str(from));
  return r;
}
av::StanzaRef iq_error(const av_stanza* req, const std::string& from, std::string_view type, std::string_view cond,
                       std::string_view text = {}) {
  return fix_from(av::StanzaRef::adopt(av::stanza_api().make_error(
                      req, av::str(type), av::str(cond), text.empty() ? av::str_absent() : av::str(text))),
                  from);
}
av::StanzaRef iq_result(const av_stanza* req, const std::string& from) {
  return fix_from(av::StanzaRef::adopt(av::stanza_api().make_result(req)), from);
}

RequestInput request_input(const av::ElementView& el) {
  RequestInput in;
  in.name = std::string(el.name());
  if (el.has_attr("jid")) in.jid = std::string(el.attr("jid"));
  if (el.has_attr("node")) in.node = std::string(el.attr("node"));
  if (av::ElementView x = el.child("x", kNsXData)) {
    FormInput f;
    if (x.has_attr("type")) f.type = std::string(x.attr("type"));
    for (size_t i = 0, n = x.child_count(); i < n; ++i) {
      av::ElementView c = x.child_at(i);
      if (c.name() != "field") continue;
      FormField ff;
      if (c.has_attr("var")) ff.var = std::string(c.attr("var"));
      for (size_t j = 0, m = c.child_count(); j < m; ++j)
        if (c.child_at(j).name() == "value") ff.values.emplace_back(c.child_at(j).text());
      f.fields.push_back(std::move(ff));
    }
    in.form = std::move(f);
  }
  return in;
}

av::Next on_iq(const CorePtr& core, const av_stanza_params& p, av_iq_acc& acc, bool to_server) {
  av::StanzaView v(p.stanza);
  const std::string to(av::sv(p.to));
  // Replies come from where the request went (the account for a request without 'to').
  const std::string reply_from = to_server ? to : std::string(av::jid_bare_part(to));
  acc.handled = true;
  auto fail = [&](std::string_view type, std::string_view cond, std::string_view text = {}) {
    acc.reply = iq_error(p.stanza, reply_from, type, cond, text).release();
    return av::stop;
  };
  auto sender = av::parse_jid(av::sv(p.from));
  if (!sender || sender->user.empty() || !av::host().vhost_find(av::str(sender->server)))
    return fail("cancel", "forbidden", "Only local users may register push services");
  const std::string owner = sender->bare();
  if (!to_server && owner != av::bare_jid(to)) return fail("cancel", "forbidden", "You can only manage your own push services");
  if (v.type() != "set") return fail("cancel", "not-allowed");
  Parsed req = parse_request(request_input(v.root().child_at(0)));
  if (!req.ok) return fail("modify", req.condition, req.text);
  if (owner.size() > kMaxColumn) return fail("modify", "not-acceptable", "The account name is too long");

  auto ref = av::StanzaRef::share(p.stanza);
  auto reply = [core, ref, reply_from](bool ok) {
    auto r = ok ? iq_result(ref.get(), reply_from) : iq_error(ref.get(), reply_from, "wait", "internal-server-error");
    if (r) core->router->route(r.get());
  };
  const Request& r = req.request;
  if (r.kind == Request::Kind::disable) {
    disable(core, owner, r.pubsub_jid, r.node, [core, reply](bool ok) {
      if (ok) core->stats.disabled.fetch_add(1, std::memory_order_relaxed);
      reply(ok);
    });
    return av::stop;
  }
  Registration reg{r.pubsub_jid, *r.node, r.options};
  const std::string full = sender->full();
  av_status st = core->db.query(
      upsert_sql(core->dialect), {owner, reg.node, reg.pubsub_jid, encode_form(reg.options), std::to_string(now_us())},
      AV_EXEC_IO_ANY, [core, owner, full, reg, reply](av_status st, const av::SqlResult& res) {
        core->cache.invalidate(owner);
        if (st != AV_OK) {
          av::log_error("cannot store a push registration of " + owner + ": " + std::string(res.error()));
          return reply(false);
        }
        core->stats.enabled.fetch_add(1, std::memory_order_relaxed);
        if (core->enhanced && full != owner) {  // MongooseIM keeps it in the session's info
          std::lock_guard<std::mutex> lk(core->mu);
          const uint64_t now = now_ms();
          for (auto it = core->session_services.begin(); it != core->session_services.end();)
            if (it->second.closed_at && it->second.closed_at + kClosedSessionKeepMs <= now)
              it = core->session_services.erase(it);
            else
              ++it;
          core->session_services[full] = SessionService{reg, 0};
        }
        reply(true);
      });
  if (st != AV_OK) return fail("wait", "resource-constraint", "The database is busy");
  return av::stop;
}

void add_feature(av_stanza* query) {
  auto& api = av::stanza_api();
  av_xml_el* root = query ? api.mut_root(query) : nullptr;
  if (!root) return;
  av_xml_el* f = api.add_child(root, av_cstr("feature"), av::str_absent());
  if (f) api.set_attr(f, av_cstr("var"), av::str(kNsPush));
}

const av_dep kDeps[] = {{"mod_event_pusher", AV_DEP_HARD}, {nullptr, 0}};

class PushTransport final : public av::Module {
 public:
  static const av_option_spec* options() {
    static const av_option_spec o[] = {
        {"backend", AV_OPT_ENUM, "rdbms", 1, 0, "rdbms", false, "where registrations are stored (SQL only)"},
        {"pool", AV_OPT_STRING, "default", 1, 0, nullptr, false,
         "outgoing_pools.rdbms tag holding event_pusher_push_subscription"},
        {"plugin_module", AV_OPT_ENUM, "default", 1, 0,
         "default|enhanced|mod_event_pusher_push_plugin_defaults|mod_event_pusher_push_plugin_enhanced", false,
         "enhanced: also notify for messages a lost XEP-0198 session never acknowledged"},
        {"virtual_pubsub_hosts", AV_OPT_STRING_LIST, nullptr, 1, 0, nullptr, false,
         "PubSub domains handled by a push service module (push/notifications hook); @HOST@ = the user's domain"},
        {nullptr, 0, nullptr, 0, 0, nullptr, false, nullptr}};
    return o;
  }
  static const av_dep* deps() { return kDeps; }

  av_status start(av::Context& cx) override {
    core_ = std::make_shared<Core>();
    core_->db = av::SqlPool::open(cx.option_string("pool"));
    core_->dialect = core_->db.dialect();
    core_->db.query_sync(schema_sql(core_->dialect));
    core_->router = cx.require<av_ext_router_v1>(AV_EXT_ROUTER);
    core_->sessions = cx.require<av_ext_sessions_v1>(AV_EXT_SESSIONS);
    core_->virtual_hosts = cx.option_list("virtual_pubsub_hosts");
    for (const auto& h : core_->virtual_hosts)
      if (!valid_pattern(h))
        throw av::Error(AV_E_INVALID_ARG, "virtual_pubsub_hosts: '" + h + "' is not a domain (or a domain pattern with @HOST@)");
    const std::string plugin = cx.option_enum("plugin_module");
    core_->enhanced = plugin == "enhanced" || plugin == "mod_event_pusher_push_plugin_enhanced";
    {
      std::random_device rd;
      char buf[32];
      std::snprintf(buf, sizeof buf, "push-%08x-", static_cast<unsigned>(rd()));
      core_->iq_prefix = buf;
    }
    if (av::host().hook_declare(av::self(), AV_HOOK_PUSH_NOTIFICATIONS, AV_HOOK_KIND_FOLD, &core_->notify_hook) != AV_OK)
      throw av::Error(AV_E_INTERNAL, "cannot declare hook " AV_HOOK_PUSH_NOTIFICATIONS);

    CorePtr core = core_;
    hooks_.add(av::hooks::event_pusher_push, AV_PUSH_PRIO_TRANSPORT, [core](const av_push_event& e, av_push_acc&) {
      on_event(core, e);
      return av::next;
    });
    const std::string ns(kNsPush);
    hooks_.add_named<av_stanza_params, av_iq_acc>(
        AV_HOOK_IQ_BARE_PREFIX + ns, AV_PRIO_NORMAL,
        [core](const av_stanza_params& p, av_iq_acc& acc) { return on_iq(core, p, acc, false); });
    hooks_.add_named<av_stanza_params, av_iq_acc>(
        AV_HOOK_IQ_SERVER_PREFIX + ns, AV_PRIO_NORMAL,
        [core](const av_stanza_params& p, av_iq_acc& acc) { return on_iq(core, p, acc, true); });
    hooks_.add(av::hooks::iq_response, AV_PRIO_NORMAL,
               [core](const av_stanza_params& p, av_iq_acc& acc) { return on_iq_response(core, p, acc); });
    hooks_.add(av::hooks::account_removed, AV_PRIO_NORMAL, [core](const av_session_params& p) { removed(core, p); });
    hooks_.add(av::hooks::account_registered, AV_PRIO_NORMAL, [core](const av_session_params& p) {
      core->cache.invalidate(av::lower_jid(std::string(av::sv(p.user)) + "@" + std::string(av::sv(p.server))));
    });
    hooks_.add(av::hooks::session_opened, AV_PRIO_NORMAL, [core](const av_session_params& p) {
      std::lock_guard<std::mutex> lk(core->mu);
      auto it = core->session_services.find(normalized(av::sv(p.jid)));
      if (it != core->session_services.end()) it->second.closed_at = 0;  // resumed
    });
    hooks_.add(av::hooks::session_closed, AV_PRIO_NORMAL, [core](const av_session_params& p) { closed(core, p); });
    for (const char* h : {AV_HOOK_DISCO_USER_INFO, AV_HOOK_DISCO_SERVER_INFO})
      hooks_.add_named<av_disco_params, av_disco_acc>(h, AV_PRIO_NORMAL, [](const av_disco_params& p, av_disco_acc& acc) {
        if (p.node.len == 0) add_feature(acc.query);
        return av::next;
      });
    commands_.add("event_pusher", "pushStats", "Counters of the XEP-0357 push transport", {},
                  [core](const av::CommandCall& call) { call.ok(stats_text(*core)); });
    std::string vh;
    for (const auto& h : core_->virtual_hosts) vh += (vh.empty() ? "" : ", ") + h;
    av::log_info(std::string("XEP-0357 push with plugin ") + (core_->enhanced ? "enhanced" : "default") +
                 (vh.empty() ? "" : "; virtual PubSub hosts: " + vh));
    return AV_OK;
  }

  void stop() override {
    hooks_.clear();
    if (!core_) return;
    core_->stopped = true;
    av::log_info(stats_text(*core_));
  }

 private:
  static void removed(const CorePtr& core, const av_session_params& p) {
    const std::string owner = av::lower_jid(std::string(av::sv(p.user)) + "@" + std::string(av::sv(p.server)));
    forget_session_services(*core, owner, {}, std::nullopt);
    core->cache.invalidate(owner);
    av_status st = core->db.query(kDeleteUserSql, {owner}, AV_EXEC_IO_ANY, [core, owner](av_status st, const av::SqlResult& r) {
      core->cache.invalidate(owner);
      if (st != AV_OK) av::log_error("cannot delete the push registrations of " + owner + ": " + std::string(r.error()));
    });
    if (st != AV_OK) av::log_error("cannot delete the push registrations of " + owner + ": the SQL pool is busy");
  }

  static void closed(const CorePtr& core, const av_session_params& p) {
    const std::string full = normalized(av::sv(p.jid));
    std::string_view reason;
    if (p.session && core->sessions->struct_size >= offsetof(av_ext_sessions_v1, end_reason) + sizeof(void*) &&
        core->sessions->end_reason)
      reason = av::sv(core->sessions->end_reason(p.session));
    std::lock_guard<std::mutex> lk(core->mu);
    auto it = core->session_services.find(full);
    if (it == core->session_services.end()) return;
    // A clean close leaves nothing unacknowledged; a lost connection may be resumed, or its
    // unacknowledged messages reported later (enhanced plugin).
    if (reason == "client" || !core->enhanced)
      core->session_services.erase(it);
    else
      it->second.closed_at = now_ms();
  }

  static std::string stats_text(Core& c) {
    auto n = [](const std::atomic<uint64_t>& a) { return std::to_string(a.load(std::memory_order_relaxed)); };
    size_t pending;
    {
      std::lock_guard<std::mutex> lk(c.mu);
      sweep_pending_locked(c, now_ms());
      pending = c.pending.size();
    }
    const Stats& s = c.stats;
    return "enabled " + n(s.enabled) + ", disabled " + n(s.disabled) + ", notifications " + n(s.notifications) +
           ", via_hook " + n(s.via_hook) + ", hook_ok " + n(s.hook_ok) + ", hook_device_not_registered " +
           n(s.hook_gone) + ", hook_error " + n(s.hook_failed) + ", hook_unhandled " + n(s.hook_unhandled) +
           ", via_pubsub " + n(s.via_pubsub) + ", pubsub_result " + n(s.pubsub_result) + ", pubsub_error " +
           n(s.pubsub_error) + ", pubsub_cancel " + n(s.pubsub_cancel) + ", pubsub_timeout " + n(s.pubsub_timeout) +
           ", pubsub_waiting " + std::to_string(pending) + ", deactivated " + n(s.deactivated) + ", duplicates " +
           n(s.duplicates) + ", lookup_failed " + n(s.lookup_failed) + ", cached_users " +
           std::to_string(c.cache.size());
  }

  CorePtr core_;
  av::HookSet hooks_;
  av::Commands commands_;
};

}  // namespace

AV_MODULE(PushTransport, "mod_event_pusher_push", "0.1.0",
          "XEP-0357 push notifications: registrations in SQL, notifications through PubSub or a push service")
