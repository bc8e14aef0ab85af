// mod_last: XEP-0012 last activity. To the server: its uptime. To a user's bare JID: 0 while
// the user has an available session, else the seconds since the last session went
// unavailable with the status of that last unavailable presence (SQL table `last`).
// Only the user and entities subscribed to the user's presence may ask (XEP-0012 sections 3,
// 4 and 9), checked in mod_roster's roster (av.roster/1, av.roster.lookup/1; soft dependency).
#include <aviary/aviary.hpp>
#include <aviary/ext/draft/disco.h>
#include <aviary/ext/draft/roster.h>
#include <aviary/ext/draft/roster_lookup.h>
#include <aviary/ext/router.h>
#include <aviary/ext/sessions.h>

#include "last_activity.hpp"

#include <chrono>
#include <functional>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

av::StanzaRef fix_from(av::StanzaRef r, const std::string& account) {
  if (r && !r.root().has_attr("from"))
    if (av_xml_el* root = av::stanza_api().mut_root(r.get()))
      av::stanza_api().set_attr(root, av_cstr("from"), av::str(account));
  return r;
}
av::StanzaRef error(const av_stanza* req, const std::string& account, std::string_view type, std::string_view cond) {
  return fix_from(av::StanzaRef::adopt(av::stanza_api().make_error(req, av::str(type), av::str(cond), av::str_absent())),
                  account);
}
av::StanzaRef result_with(const av_stanza* req, const std::string& account, const std::string& payload) {
  auto r = fix_from(av::StanzaRef::adopt(av::stanza_api().make_result(req)), account);
  if (r)
    if (av_xml_el* root = av::stanza_api().mut_root(r.get())) av::stanza_api().add_xml(root, av::str(payload));
  return r;
}

int64_t unix_now() { return static_cast<int64_t>(std::time(nullptr)); }

// The IQ this module routes again after an asynchronous access check: its own filter lets
// it through (the router runs the filter synchronously in route()).
thread_local const av_stanza* g_pass = nullptr;

class Last final : public av::Module {
 public:
  // Soft: mod_roster (when enabled) starts first and stops after; without it only the user
  // themself may ask.
  static const av_dep* deps() {
    static const av_dep d[] = {{"mod_roster", AV_DEP_SOFT}, {nullptr, 0}};
    return d;
  }

  static const av_option_spec* options() {
    static const av_option_spec o[] = {
        {"pool", AV_OPT_STRING, "default", 1, 0, nullptr, false, "outgoing_pools.rdbms tag holding the last table"},
        {nullptr, 0, nullptr, 0, 0, nullptr, false, nullptr}};
    return o;
  }

  av_status start(av::Context& cx) override {
    started_ = std::chrono::steady_clock::now();
    db_ = av::SqlPool::open(cx.option_string("pool"));
    router_ = cx.require<av_ext_router_v1>(AV_EXT_ROUTER);
    sessions_ = cx.require<av_ext_sessions_v1>(AV_EXT_SESSIONS);
    roster_ = cx.extension<av_ext_roster_v1>(AV_EXT_ROSTER);
    lookup_ = cx.extension<av_ext_roster_lookup_v1>(AV_EXT_ROSTER_LOOKUP);
    if (!lookup_)
      av::log_info("mod_last: mod_roster is not enabled: only users themselves may ask for their last activity");
    dialect_ = db_.dialect();
    db_.query_sync(last::schema_sql(dialect_));
    std::string ns(last::kNs);
    hooks_.add_named<av_stanza_params, av_iq_acc>(std::string(AV_HOOK_IQ_SERVER_PREFIX) + ns, AV_PRIO_NORMAL,
                                                  [this](const av_stanza_params& p, av_iq_acc& acc) {
                                                    return on_server_iq(p, acc);
                                                  });
    hooks_.add_named<av_stanza_params, av_iq_acc>(std::string(AV_HOOK_IQ_BARE_PREFIX) + ns, AV_PRIO_NORMAL,
                                                  [this](const av_stanza_params& p, av_iq_acc& acc) {
                                                    return on_user_iq(p, acc);
                                                  });
    // IQs to a user's full JID go to the client; XEP-0012 section 4 wants the same
    // subscription check before delivery.
    hooks_.add(av::hooks::filter_local_packet, AV_PRIO_NORMAL,
               [this](const av_stanza_params& p, av_stanza_acc& acc) { return on_filter(p, acc); });
    hooks_.add(av::hooks::user_send_presence, AV_PRIO_EARLY, [this](const av_stanza_params& p, av_stanza_acc&) {
      av::StanzaView v(p.stanza);
      if (v.type() == "unavailable" && !v.root().has_attr("to")) {
        std::lock_guard<std::mutex> lk(mu_);
        status_[std::string(av::sv(p.from))] = std::string(v.child("status").text());
      }
      return av::next;
    });
    hooks_.add(av::hooks::session_unavailable, AV_PRIO_NORMAL, [this](const av_session_params& p) { on_unavailable(p); });
    hooks_.add(av::hooks::session_closed, AV_PRIO_NORMAL, [this](const av_session_params& p) {
      std::lock_guard<std::mutex> lk(mu_);
      status_.erase(std::string(av::sv(p.jid)));
    });
    hooks_.add(av::hooks::account_removed, AV_PRIO_NORMAL, [this](const av_session_params& p) {
      db_.query(last::kDeleteSql, {std::string(av::sv(p.server)), std::string(av::sv(p.user))}, AV_EXEC_IO_ANY,
                [](av_status st, const av::SqlResult& r) {
                  if (st != AV_OK) av::log_error("mod_last: cannot delete: " + std::string(r.error()));
                });
    });
    hooks_.add_named<av_disco_params, av_disco_acc>(AV_HOOK_DISCO_SERVER_INFO, AV_PRIO_NORMAL,
                                                    [](const av_disco_params& p, av_disco_acc& acc) {
                                                      if (p.node.ptr && p.node.len) return av::next;
                                                      auto& api = av::stanza_api();
                                                      if (av_xml_el* q = api.mut_root(acc.query))
                                                        if (av_xml_el* f = api.add_child(q, av_cstr("feature"), av::str_absent()))
                                                          api.set_attr(f, av_cstr("var"), av::str(last::kNs));
                                                      return av::next;
                                                    });
    return AV_OK;
  }

  void stop() override {
    hooks_.clear();
    alive_.reset();  // pending subscription checks are dropped
  }

 private:
  void send(const av::StanzaRef& r) const {
    if (r) router_->route(r.get());
  }

  bool has_available_session(const std::string& bare) const {
    bool any = false;
    sessions_->list(av::str(bare), [](void* u, const av_session_info* items, size_t n) {
      for (size_t i = 0; i < n; ++i)
        if (items[i].available) *static_cast<bool*>(u) = true;
    }, &any);
    return any;
  }

  av::Next on_server_iq(const av_stanza_params& p, av_iq_acc& acc) {
    av::StanzaView v(p.stanza);
    acc.handled = true;
    std::string me(av::sv(p.to));
    if (v.type() != "get" || v.root().child_at(0).name() != "query") {
      acc.reply = error(p.stanza, me, "modify", "bad-request").release();
      return av::stop;
    }
    auto up = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count();
    acc.reply = result_with(p.stanza, me, last::query_xml(last::Answer{static_cast<int64_t>(up), ""})).release();
    return av::stop;
  }

  av::Next on_user_iq(const av_stanza_params& p, av_iq_acc& acc) {
    av::StanzaView v(p.stanza);
    acc.handled = true;
    std::string account(av::jid_bare_part(av::sv(p.to)));
    if (v.type() != "get" || v.root().child_at(0).name() != "query") {
      acc.reply = error(p.stanza, account, "modify", "bad-request").release();
      return av::stop;
    }
    auto ref = av::StanzaRef::share(p.stanza);
    if (last::is_self(av::sv(p.from), account)) {
      acc.reply = answer(ref, account).release();
      return av::stop;
    }
    // Anyone else needs a subscription to the user's presence; the user may be offline, so
    // the roster may have to be loaded first (av.roster.lookup/1). The answer comes later.
    std::string asker = av::bare_jid(av::sv(p.from));
    if (!lookup_ || asker.empty()) {
      acc.reply = error(p.stanza, account, "auth", "forbidden").release();
      return av::stop;
    }
    check_subscription(account, asker, [this, ref, account](bool allowed) {
      if (!allowed) return send(error(ref.get(), account, "auth", "forbidden"));
      send(answer(ref, account));
    });
    return av::stop;
  }

  // router/filter-local-packet: an IQ get of jabber:iq:last to another user's full JID is
  // delivered to the client only for a subscriber; others get forbidden from the server.
  av::Next on_filter(const av_stanza_params& p, av_stanza_acc& acc) {
    if (p.stanza == g_pass || av::stanza_api().kind(p.stanza) != AV_STANZA_IQ) return av::next;
    av::StanzaView v(p.stanza);
    auto q = v.root().child_at(0);
    if (!last::needs_check_to_full(v.type(), q.name(), q.attr("xmlns"), av::sv(p.from), av::sv(p.to)))
      return av::next;
    std::string owner = av::bare_jid(av::sv(p.to)), asker = av::bare_jid(av::sv(p.from));
    std::string target(av::sv(p.to));
    if (roster_ && !asker.empty()) {
      // The user has a session, so the roster is normally in memory: decide at once.
      av_roster_sub sub = AV_ROSTER_SUB_NONE;
      av_status st = roster_->get_contact(av::str(owner), av::str(asker), &sub, nullptr, nullptr);
      if (st == AV_OK && last::subscription_allows(sub)) return av::next;
      if (st == AV_E_BUSY && lookup_) {  // still loading: decide later, then route it again
        acc.drop = true;
        auto ref = av::StanzaRef::share(p.stanza);
        check_subscription(owner, asker, [this, ref, target](bool allowed) {
          if (!allowed) return send(error(ref.get(), target, "auth", "forbidden"));
          const av_stanza* old = g_pass;
          g_pass = ref.get();
          router_->route(ref.get());
          g_pass = old;
        });
        return av::stop;
      }
    }
    acc.drop = true;
    send(error(p.stanza, target, "auth", "forbidden"));
    return av::stop;
  }

  // Calls done(allowed) later (on a network thread) with whether `asker` (a bare JID) has a
  // subscription to `owner`'s presence. Not called if this module stopped meanwhile.
  void check_subscription(const std::string& owner, const std::string& asker, std::function<void(bool)> done) {
    struct Cx {
      std::weak_ptr<int> alive;
      std::function<void(bool)> done;
    };
    auto* cx = new Cx{alive_, std::move(done)};
    av_status st = lookup_->get_contact(
        av::str(owner), av::str(asker), AV_EXEC_IO_ANY,
        [](void* a, av_status st, av_roster_sub sub, bool, bool) {
          std::unique_ptr<Cx> c(static_cast<Cx*>(a));
          auto keep = c->alive.lock();
          if (!keep) return;
          av::detail::guard<int>("mod_last subscription check", 0, [&] {
            c->done(st == AV_OK && last::subscription_allows(sub));
            return 0;
          });
        },
        cx);
    if (st != AV_OK) {
      std::unique_ptr<Cx> c(cx);
      c->done(false);
    }
  }

  // The answer about `account` to an allowed request: now (returned) when the user is
  // online or on an error, else routed later after the SQL read (returns null).
  av::StanzaRef answer(const av::StanzaRef& req, const std::string& account) {
    if (has_available_session(account))
      return result_with(req.get(), account, last::query_xml(*last::compute(true, std::nullopt, 0)));
    std::string user(av::jid_local_part(account)), server(av::jid_domain_part(account));
    av_status st = db_.query(last::kSelectSql, {server, user}, AV_EXEC_IO_ANY,
                             [this, req, account](av_status st, const av::SqlResult& r) {
                               if (st != AV_OK) {
                                 av::log_error("mod_last: cannot read: " + std::string(r.error()));
                                 return send(error(req.get(), account, "wait", "internal-server-error"));
                               }
                               std::optional<last::Stored> stored;
                               if (r.rows() > 0) {
                                 try {
                                   stored = last::Stored{std::stoll(std::string(r.value(0, 0))), std::string(r.value(0, 1))};
                                 } catch (const std::exception&) {
                                 }
                               }
                               // Nothing recorded (no such user, or never went offline):
                               // service-unavailable, as MongooseIM answers.
                               auto a = last::compute(false, stored, unix_now());
                               if (!a) return send(error(req.get(), account, "cancel", "service-unavailable"));
                               send(result_with(req.get(), account, last::query_xml(*a)));
                             });
    if (st != AV_OK) return error(req.get(), account, "wait", "resource-constraint");
    return {};
  }

  void on_unavailable(const av_session_params& p) {
    std::string full(av::sv(p.jid)), status;
    {
      std::lock_guard<std::mutex> lk(mu_);
      auto it = status_.find(full);
      if (it != status_.end()) {
        status = std::move(it->second);
        status_.erase(it);
      }
    }
    std::string user(av::sv(p.user)), server(av::sv(p.server));
    if (has_available_session(user + "@" + server)) return;  // another resource is still online
    db_.query(last::upsert_sql(dialect_), {user, server, std::to_string(unix_now()), status}, AV_EXEC_IO_ANY,
              [](av_status st, const av::SqlResult& r) {
                if (st != AV_OK) av::log_error("mod_last: cannot store: " + std::string(r.error()));
              });
  }

  std::chrono::steady_clock::time_point started_;
  av::SqlPool db_;
  int dialect_ = 1;
  const av_ext_router_v1* router_ = nullptr;
  const av_ext_sessions_v1* sessions_ = nullptr;
  const av_ext_roster_v1* roster_ = nullptr;             // NULL without mod_roster
  const av_ext_roster_lookup_v1* lookup_ = nullptr;      // NULL without mod_roster
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // expires with the module
  std::mutex mu_;
  std::unordered_map<std::string, std::string> status_;  // full JID -> status of its unavailable presence
  av::HookSet hooks_;
};

}  // namespace

AV_MODULE(Last, "mod_last", "0.1.0", "XEP-0012 last activity in SQL")
