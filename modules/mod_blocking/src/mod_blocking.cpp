// mod_blocking: XEP-0191 blocking command. Blocklists live in SQL (table blocking_list) and
// in an in-memory cache for users with sessions (and, bounded, for recent recipients), so
// the enforcement hooks never wait: a stanza whose user's list is not cached yet is held,
// the list is loaded, and the stanza is routed again (then the cache answers).
#include <aviary/aviary.hpp>
#include <aviary/ext/draft/disco.h>
#include <aviary/ext/draft/presence.h>
#include <aviary/ext/draft/roster.h>
#include <aviary/ext/router.h>

#include "blocklist.hpp"

#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

constexpr size_t kMaxIdleEntries = 10000;  // cached lists of users without a session

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
av::StanzaRef result(const av_stanza* req, const std::string& account) {
  return fix_from(av::StanzaRef::adopt(av::stanza_api().make_result(req)), account);
}

// The stanza this thread is routing on the module's own behalf (errors, pushes): the
// filter lets it through, since it is routed synchronously up to the filter hook.
thread_local const av_stanza* t_bypass = nullptr;
// The held stanza this thread is routing again after loading a list: if that list is gone
// from the cache again already (evicted), it is let through rather than held once more.
// route() keeps the stanza's identity; route_as_user() may copy it, so for the user's own
// sends a flag marks the call (the send hooks run synchronously inside it).
thread_local const av_stanza* t_again = nullptr;
thread_local bool t_again_out = false;

void again_in(const av::StanzaRef& s, av_status (*route)(av_stanza*)) {
  const av_stanza* prev = t_again;
  t_again = s.get();
  route(s.get());
  t_again = prev;
}
void again_out(const av::StanzaRef& s, av_status (*route_as_user)(av_stanza*)) {
  bool prev = t_again_out;
  t_again_out = true;
  route_as_user(s.get());
  t_again_out = prev;
}

class Blocking final : public av::Module {
 public:
  static const av_option_spec* options() {
    static const av_option_spec o[] = {
        {"pool", AV_OPT_STRING, "default", 1, 0, nullptr, false, "outgoing_pools.rdbms tag holding blocking_list"},
        {nullptr, 0, nullptr, 0, 0, nullptr, false, nullptr}};
    return o;
  }

  // Soft: only orders start-up/shutdown; av.roster/1 and av.presence/1 are optional.
  static const av_dep* deps() {
    static const av_dep d[] = {{"mod_roster", AV_DEP_SOFT}, {"mod_presence", AV_DEP_SOFT}, {nullptr, 0}};
    return d;
  }

  av_status start(av::Context& cx) override {
    db_ = av::SqlPool::open(cx.option_string("pool"));
    router_ = cx.require<av_ext_router_v1>(AV_EXT_ROUTER);
    dialect_ = db_.dialect();
    db_.query_sync(blk::schema_sql(dialect_));
    hooks_.add_named<av_stanza_params, av_iq_acc>(std::string(AV_HOOK_IQ_BARE_PREFIX) + std::string(blk::kNs),
                                                  AV_PRIO_NORMAL,
                                                  [this](const av_stanza_params& p, av_iq_acc& acc) { return on_iq(p, acc); });
    hooks_.add(av::hooks::filter_local_packet, AV_PRIO_FIRST + 100,
               [this](const av_stanza_params& p, av_stanza_acc& acc) { return on_incoming(p, acc); });
    hooks_.add(av::hooks::user_send_packet, AV_PRIO_FIRST + 100,
               [this](const av_stanza_params& p, av_stanza_acc& acc) { return on_outgoing(p, acc); });
    hooks_.add(av::hooks::session_opened, AV_PRIO_NORMAL, [this](const av_session_params& p) {
      std::string full(av::sv(p.jid)), bare(av::jid_bare_part(full));
      {
        std::lock_guard<std::mutex> lk(mu_);
        cache_[bare].sessions.insert(full);
      }
      when_loaded(bare, nullptr);
    });
    hooks_.add(av::hooks::session_closed, AV_PRIO_NORMAL, [this](const av_session_params& p) {
      std::string full(av::sv(p.jid)), bare(av::jid_bare_part(full));
      std::lock_guard<std::mutex> lk(mu_);
      auto it = cache_.find(bare);
      if (it == cache_.end()) return;
      it->second.sessions.erase(full);
      it->second.requested.erase(full);
      if (it->second.sessions.empty() && it->second.ready && it->second.waiting.empty()) cache_.erase(it);
    });
    hooks_.add(av::hooks::account_removed, AV_PRIO_NORMAL, [this](const av_session_params& p) {
      std::string user(av::sv(p.user)), server(av::sv(p.server));
      {
        std::lock_guard<std::mutex> lk(mu_);
        auto it = cache_.find(user + "@" + server);
        if (it != cache_.end()) it->second.list.clear();
      }
      db_.query(blk::kDeleteAllSql, {server, user}, AV_EXEC_IO_ANY, [](av_status st, const av::SqlResult& r) {
        if (st != AV_OK) av::log_error("mod_blocking: cannot delete a blocklist: " + std::string(r.error()));
      });
    });
    hooks_.add_named<av_disco_params, av_disco_acc>(AV_HOOK_DISCO_SERVER_INFO, AV_PRIO_NORMAL,
                                                    [](const av_disco_params& p, av_disco_acc& acc) {
                                                      if (p.node.ptr && p.node.len) return av::next;
                                                      auto& api = av::stanza_api();
                                                      if (av_xml_el* q = api.mut_root(acc.query))
                                                        if (av_xml_el* f = api.add_child(q, av_cstr("feature"), av::str_absent()))
                                                          api.set_attr(f, av_cstr("var"), av::str(blk::kNs));
                                                      return av::next;
                                                    });
    return AV_OK;
  }

 private:
  struct Entry {
    bool ready = false;
    bool loading = false;
    blk::Blocklist list;
    std::set<std::string> sessions;   // bound full JIDs
    std::set<std::string> requested;  // full JIDs that asked for the blocklist (get pushes)
    std::vector<std::function<void()>> waiting;
  };
  enum class Verdict { allow, block, unknown };

  void route_own(const av::StanzaRef& s) const {
    if (!s) return;
    const av_stanza* prev = t_bypass;
    t_bypass = s.get();
    router_->route(s.get());
    t_bypass = prev;
  }

  // Runs `then` (may be empty) once `bare`'s list is cached: now, or after loading it.
  void when_loaded(const std::string& bare, std::function<void()> then) {
    bool start = false;
    {
      std::lock_guard<std::mutex> lk(mu_);
      Entry& e = cache_[bare];
      if (!e.ready) {
        if (then) e.waiting.push_back(std::move(then));
        if (!e.loading) start = e.loading = true;
        then = nullptr;
      }
      if (start) trim_locked(bare);
    }
    if (then) then();
    if (!start) return;
    std::string user(av::jid_local_part(bare)), server(av::jid_domain_part(bare));
    av_status st = db_.query(blk::kSelectSql, {server, user}, AV_EXEC_IO_ANY,
                             [this, bare](av_status st, const av::SqlResult& r) {
                               blk::Blocklist l;
                               if (st != AV_OK)
                                 av::log_error("mod_blocking: cannot load the blocklist of " + bare + ": " +
                                               std::string(r.error()) + " (treated as empty)");
                               else
                                 for (size_t i = 0; i < r.rows(); ++i) l.add(std::string(r.value(i, 0)));
                               loaded(bare, std::move(l));
                             });
    if (st != AV_OK) {
      av::log_error("mod_blocking: cannot queue the blocklist query of " + bare + " (treated as empty)");
      loaded(bare, blk::Blocklist());
    }
  }

  void loaded(const std::string& bare, blk::Blocklist l) {
    std::vector<std::function<void()>> run;
    {
      std::lock_guard<std::mutex> lk(mu_);
      Entry& e = cache_[bare];
      e.list = std::move(l);
      e.ready = true;
      e.loading = false;
      run.swap(e.waiting);
    }
    for (auto& f : run) av::detail::guard<int>("mod_blocking waiting stanza", 0, [&] { f(); return 0; });
  }

  // Drops cached lists of users without sessions when there are too many.
  void trim_locked(const std::string& keep) {
    if (cache_.size() <= kMaxIdleEntries) return;
    for (auto it = cache_.begin(); it != cache_.end();) {
      const Entry& e = it->second;
      if (it->first != keep && e.sessions.empty() && e.ready && e.waiting.empty()) it = cache_.erase(it);
      else ++it;
    }
  }

  Verdict check(const std::string& owner_bare, std::string_view who) {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = cache_.find(owner_bare);
    if (it == cache_.end() || !it->second.ready) return Verdict::unknown;
    return it->second.list.blocks(who) ? Verdict::block : Verdict::allow;
  }
  bool cached_blocks(const std::string& owner_bare, std::string_view who) {
    return check(owner_bare, who) == Verdict::block;
  }

  // router/filter-local-packet: stanzas to a local user from a JID that user blocks.
  av::Next on_incoming(const av_stanza_params& p, av_stanza_acc& acc) {
    if (p.stanza == t_bypass) return av::next;
    std::string from(av::sv(p.from)), to_bare(av::jid_bare_part(av::sv(p.to)));
    std::string from_bare(av::jid_bare_part(from));
    if (from_bare == to_bare || to_bare.find('@') == std::string::npos) return av::next;  // own resources
    if (from_bare == av::jid_domain_part(to_bare)) return av::next;  // the user's own server is never blocked
    switch (check(to_bare, from)) {
      case Verdict::allow: break;
      case Verdict::unknown: {
        if (p.stanza == t_again) break;
        acc.drop = true;
        auto ref = av::StanzaRef::share(p.stanza);
        when_loaded(to_bare, [this, ref] { again_in(ref, router_->route); });
        return av::stop;
      }
      case Verdict::block: {
        acc.drop = true;
        av::StanzaView v(p.stanza);
        auto type = v.type();
        bool answer = (v.kind() == AV_STANZA_IQ && (type == "get" || type == "set")) ||
                      (v.kind() == AV_STANZA_MESSAGE && type != "error");
        if (answer) route_own(error(p.stanza, to_bare, "cancel", "service-unavailable"));
        return av::stop;
      }
    }
    // Stanzas routed on behalf of a local sender (e.g. presence broadcasts) to a JID that
    // sender blocks: dropped silently (the client's own sends are answered in on_outgoing).
    if (from_bare.find('@') != std::string::npos && cached_blocks(from_bare, av::sv(p.to))) {
      acc.drop = true;
      return av::stop;
    }
    return av::next;
  }

  // c2s/user-send-packet: a local user sends to a JID they block.
  av::Next on_outgoing(const av_stanza_params& p, av_stanza_acc& acc) {
    av::StanzaView v(p.stanza);
    if (!v.root().has_attr("to")) return av::next;
    std::string from(av::sv(p.from)), from_bare(av::jid_bare_part(from));
    std::string to(v.to());
    if (av::jid_bare_part(to) == from_bare || from_bare.find('@') == std::string::npos) return av::next;
    if (av::jid_bare_part(to) == av::jid_domain_part(from_bare)) return av::next;  // the user's own server
    switch (check(from_bare, to)) {
      case Verdict::allow: return av::next;
      case Verdict::unknown: {
        if (t_again_out) return av::next;
        acc.drop = true;
        auto ref = av::StanzaRef::share(p.stanza);
        when_loaded(from_bare, [this, ref] { again_out(ref, router_->route_as_user); });
        return av::stop;
      }
      case Verdict::block: break;
    }
    acc.drop = true;
    auto type = v.type();
    if (type == "error" || (v.kind() == AV_STANZA_IQ && type == "result")) return av::stop;
    auto err = av::StanzaRef::adopt(av::stanza_api().make_error(p.stanza, av_cstr("cancel"), av_cstr("not-acceptable"),
                                                                av::str_absent()));
    if (!err) return av::stop;
    std::string xml = blk::add_blocked_condition(err.root().xml());
    const char* why = nullptr;
    av_stanza* s = xml.empty() ? nullptr : av::stanza_api().parse(av::str(xml), &why);
    route_own(s ? av::StanzaRef::adopt(s) : err);
    return av::stop;
  }

  void push(const std::string& bare, const std::string& payload) {
    std::vector<std::string> targets;
    {
      std::lock_guard<std::mutex> lk(mu_);
      auto it = cache_.find(bare);
      if (it != cache_.end()) targets.assign(it->second.requested.begin(), it->second.requested.end());
    }
    auto& api = av::stanza_api();
    for (auto& full : targets) {
      auto s = av::StanzaRef::adopt(api.create(av_cstr("iq"), av::str_absent()));
      av_xml_el* root = s ? api.mut_root(s.get()) : nullptr;
      if (!root) continue;
      std::string id = "push-" + std::to_string(++push_seq_);
      api.set_attr(root, av_cstr("type"), av_cstr("set"));
      api.set_attr(root, av_cstr("id"), av::str(id));
      api.set_attr(root, av_cstr("from"), av::str(bare));
      api.set_attr(root, av_cstr("to"), av::str(full));
      api.add_xml(root, av::str(payload));
      route_own(s);
    }
  }

  // XEP-0191 3.3/3.4: a newly blocked contact allowed to see the user's presence gets
  // unavailable presence from each available resource; an unblocked one their current
  // presence. Needs av.roster/1 (mod_roster) and av.presence/1 (mod_presence); without
  // them nothing is sent (the presence module owns presence then).
  void presence_effects(const std::string& account, bool blocked, const std::vector<std::string>& items) {
    if (items.empty()) return;
    auto* roster = static_cast<const av_ext_roster_v1*>(av::host().get_extension(av::self(), AV_EXT_ROSTER));
    auto* pres = static_cast<const av_ext_presence_v1*>(av::host().get_extension(av::self(), AV_EXT_PRESENCE));
    if (!roster || !pres) return;
    std::vector<std::string> contacts;
    av_status st = roster->list(
        av::str(account), AV_ROSTER_MASK(AV_ROSTER_SUB_FROM) | AV_ROSTER_MASK(AV_ROSTER_SUB_BOTH),
        [](void* u, const av_roster_contact* c, size_t n) {
          auto* v = static_cast<std::vector<std::string>*>(u);
          for (size_t i = 0; i < n; ++i) v->emplace_back(av::sv(c[i].jid));
        },
        &contacts);
    if (st != AV_OK) return;
    struct Res {
      std::string jid, show, status;
      int priority;
    };
    std::vector<Res> res;
    pres->available(av::str(account), [](void* u, const av_presence_resource* r, size_t n) {
      auto* v = static_cast<std::vector<Res>*>(u);
      for (size_t i = 0; i < n; ++i)
        v->push_back(Res{std::string(av::sv(r[i].jid)), std::string(av::sv(r[i].show)), std::string(av::sv(r[i].status)),
                         r[i].priority});
    }, &res);
    for (auto& target : blk::presence_targets(contacts, items)) {
      if (!blocked && cached_blocks(account, target)) continue;  // still blocked by another item
      for (auto& r : res) {
        std::string xml = blk::presence_xml(r.jid, target, blocked, r.show, r.status, r.priority);
        const char* why = nullptr;
        if (av_stanza* s = av::stanza_api().parse(av::str(xml), &why)) route_own(av::StanzaRef::adopt(s));
      }
    }
  }

  av::Next on_iq(const av_stanza_params& p, av_iq_acc& acc) {
    av::StanzaView v(p.stanza);
    std::string account(av::jid_bare_part(av::sv(p.to))), from(av::sv(p.from));
    acc.handled = true;
    if (av::jid_bare_part(from) != account) {
      acc.reply = error(p.stanza, account, "auth", "forbidden").release();
      return av::stop;
    }
    auto payload = v.root().child_at(0);
    std::vector<std::optional<std::string>> jids;
    for (size_t i = 0; i < payload.child_count(); ++i) {
      auto item = payload.child_at(i);
      if (item.name() != "item") continue;
      if (item.has_attr("jid")) jids.emplace_back(std::string(item.attr("jid")));
      else jids.emplace_back(std::nullopt);
    }
    blk::Command cmd = blk::parse_command(v.type() == "set", payload.name(), jids);
    if (!cmd.ok()) {
      acc.reply = error(p.stanza, account, cmd.error_type, cmd.condition).release();
      return av::stop;
    }
    auto ref = av::StanzaRef::share(p.stanza);
    when_loaded(account, [this, ref, account, from, cmd] { apply(ref, account, from, cmd); });
    return av::stop;
  }

  // With the list cached: answer a get, or change cache + SQL, then answer and push.
  void apply(const av::StanzaRef& req, const std::string& account, const std::string& from, const blk::Command& cmd) {
    std::string list_xml;
    std::vector<std::string> changed;
    {
      std::lock_guard<std::mutex> lk(mu_);
      Entry& e = cache_[account];
      switch (cmd.op) {
        case blk::Op::get:
          e.requested.insert(from);
          list_xml = blk::blocklist_xml(e.list.items());
          break;
        case blk::Op::block:
          for (auto& i : cmd.items)
            if (e.list.add(i)) changed.push_back(i);
          break;
        case blk::Op::unblock:
          for (auto& i : cmd.items)
            if (e.list.remove(i)) changed.push_back(i);
          break;
        case blk::Op::unblock_all:
          changed = e.list.items();
          e.list.clear();
          break;
      }
    }
    if (cmd.op == blk::Op::get) {
      auto r = result(req.get(), account);
      if (r)
        if (av_xml_el* root = av::stanza_api().mut_root(r.get())) av::stanza_api().add_xml(root, av::str(list_xml));
      return route_own(r);
    }
    auto finish = [this, req, account, cmd, changed](bool ok) {
      if (!ok) {
        undo(account, cmd.op, changed);
        return route_own(error(req.get(), account, "wait", "internal-server-error"));
      }
      route_own(result(req.get(), account));
      push(account, blk::push_xml(cmd.op, cmd.items));
      presence_effects(account, cmd.op == blk::Op::block, changed);
    };
    if (changed.empty()) return finish(true);
    std::string user(av::jid_local_part(account)), server(av::jid_domain_part(account));
    std::string sql;
    std::vector<av::SqlParam> params;
    if (cmd.op == blk::Op::block) {
      sql = blk::insert_sql(dialect_, changed.size());
      for (auto& i : changed) {
        params.emplace_back(server);
        params.emplace_back(user);
        params.emplace_back(i);
      }
    } else if (cmd.op == blk::Op::unblock) {
      sql = blk::delete_some_sql(changed.size());
      params = {server, user};
      for (auto& i : changed) params.emplace_back(i);
    } else {
      sql = blk::kDeleteAllSql;
      params = {server, user};
    }
    av_status st = db_.query(sql, params, AV_EXEC_IO_ANY, [finish](av_status st, const av::SqlResult& r) {
      if (st != AV_OK) av::log_error("mod_blocking: cannot store a blocklist change: " + std::string(r.error()));
      finish(st == AV_OK);
    });
    if (st != AV_OK) finish(false);
  }

  // Reverts a cached change whose SQL write failed.
  void undo(const std::string& account, blk::Op op, const std::vector<std::string>& changed) {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = cache_.find(account);
    if (it == cache_.end()) return;
    for (auto& i : changed) {
      if (op == blk::Op::block) it->second.list.remove(i);
      else it->second.list.add(i);
    }
  }

  av::SqlPool db_;
  int dialect_ = 1;
  const av_ext_router_v1* router_ = nullptr;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> cache_;  // bare JID -> its blocklist
  std::atomic<uint64_t> push_seq_{0};
  av::HookSet hooks_;
};

}  // namespace

AV_MODULE(Blocking, "mod_blocking", "0.1.0", "XEP-0191 blocking command")
