// mod_roster: RFC 6121 rosters and presence subscriptions, XEP-0237 roster versioning.
// Rosters live in SQL (MongooseIM's rosterusers / rostergroups / roster_version) and, for users
// with at least one session, in memory; "av.roster/1" answers other modules from that cache.
// Every roster operation goes through with_roster(): it runs at once when the roster is in
// memory, or after an asynchronous load. SQL statements of one user run one after the other
// (a per-user queue), so a load never overtakes an earlier write.
#include <aviary/aviary.hpp>
#include <aviary/ext/auth_provider.h>
#include <aviary/ext/draft/roster.h>
#include <aviary/ext/draft/roster_lookup.h>
#include <aviary/ext/router.h>

#include "roster_logic.hpp"

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using roster::Item;
using roster::PType;
using roster::Sub;

constexpr const char* kNsRoster = "jabber:iq:roster";

// Text schema (SQLite, PostgreSQL): MongooseIM's priv/pg.sql.
constexpr const char* kSchema[] = {
    "CREATE TABLE IF NOT EXISTS rosterusers ("
    " server VARCHAR(250) NOT NULL, username VARCHAR(250) NOT NULL, jid TEXT NOT NULL,"
    " nick TEXT NOT NULL, subscription CHAR(1) NOT NULL, ask CHAR(1) NOT NULL,"
    " askmessage TEXT NOT NULL, created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,"
    " PRIMARY KEY (server, username, jid))",
    "CREATE TABLE IF NOT EXISTS rostergroups ("
    " server VARCHAR(250) NOT NULL, username VARCHAR(250) NOT NULL, jid TEXT NOT NULL,"
    " grp TEXT NOT NULL, PRIMARY KEY (server, username, jid, grp))",
    "CREATE TABLE IF NOT EXISTS roster_version ("
    " server VARCHAR(250) NOT NULL, username VARCHAR(250) NOT NULL, version TEXT NOT NULL,"
    " PRIMARY KEY (server, username))"};
// MySQL / MariaDB: keys cannot be TEXT (MongooseIM's mysql.sql uses VARCHAR(250) there).
constexpr const char* kSchemaMysql[] = {
    "CREATE TABLE IF NOT EXISTS rosterusers ("
    " server VARCHAR(250) NOT NULL, username VARCHAR(250) NOT NULL, jid VARCHAR(250) NOT NULL,"
    " nick TEXT NOT NULL, subscription CHAR(1) NOT NULL, ask CHAR(1) NOT NULL,"
    " askmessage TEXT NOT NULL, created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,"
    " PRIMARY KEY (server, username, jid)) CHARACTER SET utf8mb4",
    "CREATE TABLE IF NOT EXISTS rostergroups ("
    " server VARCHAR(250) NOT NULL, username VARCHAR(250) NOT NULL, jid VARCHAR(250) NOT NULL,"
    " grp VARCHAR(250) NOT NULL,"
    " PRIMARY KEY (server(150), username(150), jid(250), grp(200))) CHARACTER SET utf8mb4",  // 3072-byte key limit
    "CREATE TABLE IF NOT EXISTS roster_version ("
    " server VARCHAR(250) NOT NULL, username VARCHAR(250) NOT NULL, version TEXT NOT NULL,"
    " PRIMARY KEY (server, username)) CHARACTER SET utf8mb4"};

// The stanza being re-routed by this module on this thread: our own filter lets it pass.
thread_local const av_stanza* g_pass = nullptr;

struct Effects {
  std::vector<std::string> xml;        // route (filters run)
  std::vector<std::string> pass_xml;   // route, our inbound filter skips it
  std::vector<av::StanzaRef> stanzas;  // route
  std::vector<av::StanzaRef> pass;     // route, our inbound filter skips it
  std::vector<std::function<void()>> calls;
  struct Change {
    std::string user, contact;
    Sub old_sub, new_sub;
    bool removed;
  };
  std::vector<Change> changes;  // roster/subscription-changed, run last
};

struct Entry {
  bool loaded = false, loading = false;
  // False when the load found no account for this bare JID. Checked only when an operation
  // that cares asked for it (want_check: inbound subscription presence) and no session
  // proves the account. Inbound subscription presence then creates nothing.
  bool exists = true, want_check = false;
  std::map<std::string, Item> items;
  uint64_t counter = 0;  // stored roster version (store_current_id)
  std::set<std::string> sessions, interested;
  std::vector<std::function<void(Entry&, Effects&, bool)>> waiters;
};

using Op = std::function<void(Entry&, Effects&, bool sync)>;

struct Job {
  std::string sql;
  std::vector<av::SqlParam> params;
  std::function<void(av_status, const av::SqlResult*)> cb;
};

std::pair<std::string, std::string> split(const std::string& bare) {
  auto at = bare.find('@');
  if (at == std::string::npos) return {std::string(), bare};
  return {bare.substr(0, at), bare.substr(at + 1)};
}

class Core : public std::enable_shared_from_this<Core> {
 public:
  av::SqlPool db;
  const av_ext_router_v1* router = nullptr;
  bool versioning = false, store_id = false;
  std::atomic<uint64_t> push_seq{0};

  // --- the cache ---------------------------------------------------------------------
  // Runs op with the user's loaded roster; returns true when it ran before returning.
  // check_exists: if the roster must be loaded, also find out whether the account exists
  // (Entry::exists) before op runs.
  bool with_roster(const std::string& user, Op op, bool check_exists = false) {
    Effects fx;
    bool sync = false;
    {
      std::lock_guard<std::mutex> g(mu_);
      Entry& e = cache_[user];
      if (e.loaded) {
        op(e, fx, true);
        sync = true;
        maybe_drop(user);
      } else {
        e.want_check = e.want_check || check_exists;
        e.waiters.push_back(std::move(op));
        ensure_loading(user, e);
      }
    }
    run(fx);
    return sync;
  }

  void session_opened(const std::string& user, const std::string& full) {
    std::lock_guard<std::mutex> g(mu_);
    Entry& e = cache_[user];
    e.sessions.insert(full);
    ensure_loading(user, e);
  }

  void session_closed(const std::string& user, const std::string& full) {
    std::lock_guard<std::mutex> g(mu_);
    auto it = cache_.find(user);
    if (it == cache_.end()) return;
    it->second.sessions.erase(full);
    it->second.interested.erase(full);
    maybe_drop(user);
  }

  // Read access for av.roster/1 (under the lock; the callback gets copies' views).
  template <class F>
  av_status read(const std::string& user, F&& f) {
    std::lock_guard<std::mutex> g(mu_);
    auto it = cache_.find(user);
    if (it == cache_.end() || !it->second.loaded) return AV_E_BUSY;
    return f(it->second);
  }

  std::string version(const Entry& e) const {
    return store_id ? std::to_string(e.counter) : roster::content_version(e.items);
  }
  std::optional<std::string> ver_attr(const Entry& e) const {
    if (!versioning) return std::nullopt;
    return version(e);
  }

  // --- changes ---------------------------------------------------------------------
  // Stores the item (and its groups when asked), bumps the version, pushes it when visible.
  void changed(const std::string& user, Entry& e, const Item& it, bool groups, Effects& fx, Sub old_sub) {
    if (old_sub != it.st.sub) fx.changes.push_back({user, it.jid, old_sub, it.st.sub, false});
    save_item(user, it, groups);
    if (it.hidden) return;
    bump(user, e);
    push(user, e, roster::item_xml(it), fx);
  }
  void removed(const std::string& user, Entry& e, const std::string& jid, bool was_visible, Effects& fx) {
    auto it = e.items.find(jid);
    if (it != e.items.end()) fx.changes.push_back({user, jid, it->second.st.sub, Sub::none, true});
    delete_item(user, jid);
    e.items.erase(jid);
    if (!was_visible) return;
    bump(user, e);
    push(user, e, roster::removed_item_xml(jid), fx);
  }
  void push(const std::string& user, Entry& e, const std::string& item, Effects& fx) {
    auto ver = ver_attr(e);
    for (const auto& full : e.interested)
      fx.xml.push_back(roster::push_iq(user, full, "push" + std::to_string(++push_seq), item, ver));
  }
  void bump(const std::string& user, Entry& e) {
    if (!store_id) return;
    ++e.counter;
    auto [u, s] = split(user);
    std::string v = std::to_string(e.counter);
    std::string sql = db.dialect() == AV_SQL_MYSQL
                          ? "INSERT INTO roster_version (server, username, version) VALUES (?, ?, ?) "
                            "ON DUPLICATE KEY UPDATE version = VALUES(version)"
                          : "INSERT INTO roster_version (server, username, version) VALUES (?, ?, ?) "
                            "ON CONFLICT (server, username) DO UPDATE SET version = excluded.version";
    enqueue(user, {sql, {s, u, v}, {}});
  }

  void save_item(const std::string& user, const Item& it, bool groups) {
    auto [u, s] = split(user);
    std::string sql =
        db.dialect() == AV_SQL_MYSQL
            ? "INSERT INTO rosterusers (server, username, jid, nick, subscription, ask, askmessage) "
              "VALUES (?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE nick = VALUES(nick), "
              "subscription = VALUES(subscription), ask = VALUES(ask), askmessage = VALUES(askmessage)"
            : "INSERT INTO rosterusers (server, username, jid, nick, subscription, ask, askmessage) "
              "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (server, username, jid) DO UPDATE SET "
              "nick = excluded.nick, subscription = excluded.subscription, ask = excluded.ask, "
              "askmessage = excluded.askmessage";
    std::vector<Job> jobs;
    jobs.push_back({sql,
                    {s, u, it.jid, it.name, std::string(1, roster::sub_code(it.st.sub)),
                     std::string(1, roster::ask_code(it)), it.askmessage},
                    {}});
    if (groups) {
      jobs.push_back({"DELETE FROM rostergroups WHERE server = ? AND username = ? AND jid = ?", {s, u, it.jid}, {}});
      for (const auto& g : it.groups)
        jobs.push_back({"INSERT INTO rostergroups (server, username, jid, grp) VALUES (?, ?, ?, ?)", {s, u, it.jid, g}, {}});
    }
    enqueue(user, std::move(jobs));
  }
  void delete_item(const std::string& user, const std::string& jid) {
    auto [u, s] = split(user);
    enqueue(user, {{"DELETE FROM rosterusers WHERE server = ? AND username = ? AND jid = ?", {s, u, jid}, {}},
                   {"DELETE FROM rostergroups WHERE server = ? AND username = ? AND jid = ?", {s, u, jid}, {}}});
  }
  void delete_all(const std::string& user) {
    auto [u, s] = split(user);
    enqueue(user, {{"DELETE FROM rosterusers WHERE server = ? AND username = ?", {s, u}, {}},
                   {"DELETE FROM rostergroups WHERE server = ? AND username = ?", {s, u}, {}},
                   {"DELETE FROM roster_version WHERE server = ? AND username = ?", {s, u}, {}}});
  }

  void run(Effects& fx) {
    auto route = [this](av_stanza* s, bool pass) {
      const av_stanza* old = g_pass;
      if (pass) g_pass = s;
      av_status st = router->route(s);
      g_pass = old;
      if (st != AV_OK) av::log_warning("mod_roster: route failed");
    };
    for (auto& x : fx.xml) {
      try {
        auto s = av::StanzaRef::parse(x);
        route(s.get(), false);
      } catch (const std::exception& ex) {
        av::log_error(std::string("mod_roster: ") + ex.what());
      }
    }
    for (auto& x : fx.pass_xml) {
      try {
        auto s = av::StanzaRef::parse(x);
        route(s.get(), true);
      } catch (const std::exception& ex) {
        av::log_error(std::string("mod_roster: ") + ex.what());
      }
    }
    for (auto& s : fx.stanzas) route(s.get(), false);
    for (auto& s : fx.pass) route(s.get(), true);
    for (auto& c : fx.calls) c();
    for (auto& c : fx.changes) {
      av_roster_change_params p{sizeof(av_roster_change_params), av::str(c.user), av::str(c.contact),
                                static_cast<av_roster_sub>(c.old_sub), static_cast<av_roster_sub>(c.new_sub),
                                c.removed};
      av_hook_action last = AV_HOOK_CONTINUE;
      (void)av::host().hook_run(change_hook, nullptr, &p, nullptr, &last);
    }
  }
  av_hook_id change_hook = -1;

 private:
  void maybe_drop(const std::string& user) {  // under mu_
    auto it = cache_.find(user);
    if (it == cache_.end()) return;
    Entry& e = it->second;
    if (e.loaded && e.sessions.empty() && e.waiters.empty()) cache_.erase(it);
  }

  void ensure_loading(const std::string& user, Entry& e) {  // under mu_
    if (e.loaded || e.loading) return;
    e.loading = true;
    auto [u, s] = split(user);
    struct Load {
      std::map<std::string, Item> items;
      uint64_t counter = 0;
    };
    auto ld = std::make_shared<Load>();
    std::weak_ptr<Core> weak = shared_from_this();
    std::vector<Job> jobs;
    jobs.push_back({"SELECT jid, nick, subscription, ask, askmessage FROM rosterusers WHERE server = ? AND username = ?",
                    {s, u},
                    [ld](av_status st, const av::SqlResult* r) {
                      if (st != AV_OK || !r) return av::log_error("mod_roster: cannot load a roster");
                      for (size_t i = 0; i < r->rows(); ++i) {
                        Item it;
                        it.jid = std::string(r->value(i, 0));
                        it.name = std::string(r->value(i, 1));
                        it.st.sub = roster::sub_from_code(r->value(i, 2));
                        roster::apply_ask_code(it, r->value(i, 3));
                        it.askmessage = std::string(r->value(i, 4));
                        ld->items[it.jid] = std::move(it);
                      }
                    }});
    jobs.push_back({"SELECT jid, grp FROM rostergroups WHERE server = ? AND username = ? ORDER BY jid, grp",
                    {s, u},
                    [ld](av_status st, const av::SqlResult* r) {
                      if (st != AV_OK || !r) return;
                      for (size_t i = 0; i < r->rows(); ++i) {
                        auto it = ld->items.find(std::string(r->value(i, 0)));
                        if (it != ld->items.end()) it->second.groups.emplace_back(r->value(i, 1));
                      }
                    }});
    jobs.push_back({"SELECT version FROM roster_version WHERE server = ? AND username = ?",
                    {s, u},
                    [ld, weak, user](av_status st, const av::SqlResult* r) {
                      if (st == AV_OK && r && r->rows() > 0) {
                        try {
                          ld->counter = std::stoull(std::string(r->value(0, 0)));
                        } catch (...) {
                        }
                      }
                      auto self = weak.lock();
                      if (!self) return;
                      bool check;
                      {
                        std::lock_guard<std::mutex> g(self->mu_);
                        Entry& e = self->cache_[user];
                        check = e.want_check && e.sessions.empty();
                      }
                      // Not under mu_ here (an SQL completion), so the auth callback may run inline.
                      if (check)
                        self->check_account(user, [weak, user, ld](bool exists) {
                          if (auto s = weak.lock()) s->loaded(user, std::move(ld->items), ld->counter, exists);
                        });
                      else
                        self->loaded(user, std::move(ld->items), ld->counter, true);
                    }});
    enqueue_locked_ok(user, std::move(jobs));
  }

  // done(exists) once the auth provider answered (exists = true when there is no provider
  // offering user_exists, or when it fails: then the stanza is handled as before).
  void check_account(const std::string& user, std::function<void(bool)> done) {
    auto* auth = static_cast<const av_auth_provider_v1*>(av::host().get_extension(av::self(), AV_EXT_AUTH_PROVIDER));
    auto [u, s] = split(user);
    if (!auth || !auth->user_exists || u.empty()) return done(true);
    auto* cx = new std::function<void(bool)>(std::move(done));
    av_status st = auth->user_exists(auth->self, av::str(u), av::str(s), [](void* c, av_status st, bool yes) {
      std::unique_ptr<std::function<void(bool)>> f(static_cast<std::function<void(bool)>*>(c));
      av::detail::guard<int>("mod_roster user_exists", 0, [&] {
        if (st != AV_OK) av::log_warning("mod_roster: cannot check whether an account exists; assuming it does");
        (*f)(st != AV_OK || yes);
        return 0;
      });
    }, cx);
    if (st != AV_OK) {
      std::unique_ptr<std::function<void(bool)>> f(cx);
      (*f)(true);
    }
  }

  void loaded(const std::string& user, std::map<std::string, Item> items, uint64_t counter, bool exists) {
    Effects fx;
    {
      std::lock_guard<std::mutex> g(mu_);
      Entry& e = cache_[user];
      e.items = std::move(items);
      e.counter = counter;
      e.exists = exists || !e.sessions.empty();
      e.want_check = false;
      e.loaded = true;
      e.loading = false;
      auto waiters = std::move(e.waiters);
      e.waiters.clear();
      for (auto& w : waiters) w(e, fx, false);
      maybe_drop(user);
    }
    run(fx);
  }

  // --- per-user SQL queue ------------------------------------------------------------
  void enqueue(const std::string& user, Job j) {
    std::vector<Job> v;
    v.push_back(std::move(j));
    enqueue(user, std::move(v));
  }
  void enqueue(const std::string& user, std::vector<Job> jobs) { enqueue_locked_ok(user, std::move(jobs)); }
  // Safe to call with mu_ held: qmu_ is never held while taking mu_.
  void enqueue_locked_ok(const std::string& user, std::vector<Job> jobs) {
    bool start = false;
    {
      std::lock_guard<std::mutex> g(qmu_);
      auto& q = queues_[user];
      for (auto& j : jobs) q.jobs.push_back(std::move(j));
      if (!q.running) q.running = start = true;
    }
    if (start) next(user);
  }
  void next(const std::string& user) {
    Job j;
    {
      std::lock_guard<std::mutex> g(qmu_);
      auto it = queues_.find(user);
      if (it == queues_.end()) return;
      if (it->second.jobs.empty()) {
        queues_.erase(it);
        return;
      }
      j = std::move(it->second.jobs.front());
      it->second.jobs.pop_front();
    }
    auto self = shared_from_this();
    auto cb = j.cb;
    av_status st = db.query(j.sql, j.params, AV_EXEC_IO_ANY, [self, user, cb](av_status st, const av::SqlResult& r) {
      if (st != AV_OK) av::log_error("mod_roster: SQL failed: " + std::string(r.error()));
      if (cb) cb(st, &r);
      self->next(user);
    });
    if (st != AV_OK) {
      // Never call back here: the caller may hold the cache lock.
      av::log_error("mod_roster: SQL submit failed (" + std::to_string(st) + ")");
      auto* f = new std::function<void()>([self, user, cb, st] {
        if (cb) cb(st, nullptr);
        self->next(user);
      });
      av_status pst = av::host().post(AV_EXEC_IO_ANY, [](void* a) {
        std::unique_ptr<std::function<void()>> g(static_cast<std::function<void()>*>(a));
        av::detail::guard<int>("mod_roster SQL retry", 0, [&] { (*g)(); return 0; });
      }, f);
      if (pst != AV_OK) delete f;
    }
  }

  struct UserQueue {
    std::deque<Job> jobs;
    bool running = false;
  };
  std::mutex mu_;
  std::unordered_map<std::string, Entry> cache_;
  std::mutex qmu_;
  std::unordered_map<std::string, UserQueue> queues_;
};

std::shared_ptr<Core> g_core;  // for the C extension functions (one instance per .so)

// --- av.roster/1 ------------------------------------------------------------------------
av_roster_sub to_c(Sub s) { return static_cast<av_roster_sub>(s); }

av_status x_get_contact(av_str user, av_str contact, av_roster_sub* out, bool* out_pending, bool* in_pending) {
  return av::detail::guard<av_status>("av.roster/1 get_contact", AV_E_EXCEPTION, [&]() -> av_status {
    auto core = g_core;
    if (!core) return AV_E_BUSY;
    std::string u = av::bare_jid(av::sv(user)), c = av::bare_jid(av::sv(contact));
    if (u.empty() || c.empty()) return AV_E_INVALID_ARG;
    return core->read(u, [&](Entry& e) -> av_status {
      auto it = e.items.find(c);
      if (it == e.items.end()) return AV_E_NOT_FOUND;
      if (out) *out = to_c(it->second.st.sub);
      if (out_pending) *out_pending = it->second.st.out;
      if (in_pending) *in_pending = it->second.st.in;
      return AV_OK;
    });
  });
}

av_status x_list(av_str user, uint32_t mask, av_roster_contacts_fn fn, void* arg) {
  return av::detail::guard<av_status>("av.roster/1 list", AV_E_EXCEPTION, [&]() -> av_status {
    auto core = g_core;
    if (!core || !fn) return AV_E_BUSY;
    std::string u = av::bare_jid(av::sv(user));
    if (u.empty()) return AV_E_INVALID_ARG;
    std::vector<Item> copy;
    av_status st = core->read(u, [&](Entry& e) -> av_status {
      for (const auto& [jid, it] : e.items)
        if (mask == 0 || (mask & AV_ROSTER_MASK(to_c(it.st.sub)))) copy.push_back(it);
      return AV_OK;
    });
    if (st != AV_OK) return st;
    std::vector<av_roster_contact> v;
    v.reserve(copy.size());
    for (const auto& it : copy)
      v.push_back(av_roster_contact{sizeof(av_roster_contact), av::str(it.jid), av::str(it.name), to_c(it.st.sub),
                                    it.st.out, it.st.in, it.st.approved, !it.hidden});
    fn(arg, v.data(), v.size());  // outside the lock: fn may call us again
    return AV_OK;
  });
}

av_status x_when_cached(av_str user, av_executor ex, void (*fn)(void*), void* arg) {
  return av::detail::guard<av_status>("av.roster/1 when_cached", AV_E_EXCEPTION, [&]() -> av_status {
    auto core = g_core;
    std::string u = av::bare_jid(av::sv(user));
    if (!core || u.empty() || !fn) return AV_E_INVALID_ARG;
    core->with_roster(u, [ex, fn, arg](Entry&, Effects& fx, bool) {
      fx.calls.push_back([ex, fn, arg] {
        if (av::host().post(ex, fn, arg) != AV_OK) fn(arg);
      });
    });
    return AV_OK;
  });
}

const av_ext_roster_v1 kRosterExt = {sizeof(av_ext_roster_v1), x_get_contact, x_list, x_when_cached};

// --- av.roster.lookup/1 -----------------------------------------------------------------
struct LookupCx {
  av_roster_lookup_fn fn;
  void* arg;
  av_status st;
  av_roster_sub sub;
  bool out, in;
};

void lookup_done(void* a) {
  std::unique_ptr<LookupCx> cx(static_cast<LookupCx*>(a));
  av::detail::guard<int>("av.roster.lookup/1 callback", 0, [&] {
    cx->fn(cx->arg, cx->st, cx->sub, cx->out, cx->in);
    return 0;
  });
}

av_status x_lookup_contact(av_str user, av_str contact, av_executor ex, av_roster_lookup_fn fn, void* arg) {
  return av::detail::guard<av_status>("av.roster.lookup/1 get_contact", AV_E_EXCEPTION, [&]() -> av_status {
    auto core = g_core;
    std::string u = av::bare_jid(av::sv(user)), c = av::bare_jid(av::sv(contact));
    if (!core || u.empty() || c.empty() || !fn) return AV_E_INVALID_ARG;
    // The answer is computed with the roster loaded and posted after the cache lock is
    // released (Effects::calls), so fn never runs under it nor before we return.
    core->with_roster(u, [ex, fn, arg, c](Entry& e, Effects& fx, bool) {
      auto* cx = new LookupCx{fn, arg, AV_E_NOT_FOUND, AV_ROSTER_SUB_NONE, false, false};
      auto it = e.items.find(c);
      if (it != e.items.end()) {
        cx->st = AV_OK;
        cx->sub = to_c(it->second.st.sub);
        cx->out = it->second.st.out;
        cx->in = it->second.st.in;
      }
      fx.calls.push_back([ex, cx] {
        if (av::host().post(ex, &lookup_done, cx) != AV_OK) lookup_done(cx);
      });
    });
    return AV_OK;
  });
}

const av_ext_roster_lookup_v1 kRosterLookupExt = {sizeof(av_ext_roster_lookup_v1), x_lookup_contact};

// --- the module -------------------------------------------------------------------------
class RosterModule final : public av::Module {
 public:
  static const av_option_spec* options() {
    static const av_option_spec o[] = {
        {"pool", AV_OPT_STRING, "default", 1, 0, nullptr, false, "outgoing_pools.rdbms tag holding the roster tables"},
        {"versioning", AV_OPT_BOOL, "false", 1, 0, nullptr, false, "XEP-0237 roster versioning"},
        {"store_current_id", AV_OPT_BOOL, "false", 1, 0, nullptr, false,
         "keep the version in roster_version (a counter) instead of a hash of the roster"},
        {"backend", AV_OPT_ENUM, "rdbms", 1, 0, "rdbms", false, "storage backend (rdbms only)"},
        {nullptr, 0, nullptr, 0, 0, nullptr, false, nullptr}};
    return o;
  }

  av_status start(av::Context& cx) override {
    core_ = std::make_shared<Core>();
    core_->db = av::SqlPool::open(cx.option_string("pool"));
    core_->router = cx.require<av_ext_router_v1>(AV_EXT_ROUTER);
    core_->versioning = cx.option_bool("versioning");
    core_->store_id = cx.option_bool("store_current_id");
    bool mysql = core_->db.dialect() == AV_SQL_MYSQL;
    for (const char* sql : mysql ? kSchemaMysql : kSchema) core_->db.query_sync(sql);
    if (av::host().hook_resolve(AV_HOOK_ROSTER_SUBSCRIPTION_CHANGED, &core_->change_hook) != AV_OK)
      throw av::Error(AV_E_INTERNAL, "cannot declare hook " AV_HOOK_ROSTER_SUBSCRIPTION_CHANGED);
    g_core = core_;

    auto core = core_;
    hooks_.add_named<av_stanza_params, av_iq_acc>(std::string(AV_HOOK_IQ_BARE_PREFIX) + kNsRoster, AV_PRIO_NORMAL,
                                                  [core](const av_stanza_params& p, av_iq_acc& acc) {
                                                    return on_iq(*core, p, acc);
                                                  });
    hooks_.add(av::hooks::user_send_presence, AV_PRIO_NORMAL,
               [core](const av_stanza_params& p, av_stanza_acc& acc) { return on_send_presence(*core, p, acc); });
    hooks_.add(av::hooks::filter_local_packet, AV_PRIO_NORMAL,
               [core](const av_stanza_params& p, av_stanza_acc& acc) { return on_filter(*core, p, acc); });
    hooks_.add(av::hooks::session_opened, AV_PRIO_NORMAL, [core](const av_session_params& p) {
      std::string user = av::bare_jid(av::sv(p.jid)), full = std::string(av::sv(p.jid));
      if (!user.empty()) core->session_opened(user, full);
    });
    hooks_.add(av::hooks::session_closed, AV_PRIO_LATE, [core](const av_session_params& p) {
      std::string user = av::bare_jid(av::sv(p.jid)), full = std::string(av::sv(p.jid));
      if (!user.empty()) core->session_closed(user, full);
    });
    hooks_.add(av::hooks::session_available, AV_PRIO_NORMAL,
               [core](const av_session_params& p) { on_available(*core, p); });
    hooks_.add(av::hooks::account_removed, AV_PRIO_NORMAL,
               [core](const av_session_params& p) { on_account_removed(*core, p); });
    hooks_.add(av::hooks::stream_features, AV_PRIO_NORMAL, [core](const av_session_params&, av_features_acc& acc) {
      if (!acc.features) return av::next;
      av_xml_el* root = av::stanza_api().mut_root(acc.features);
      if (!root) return av::next;
      if (core->versioning) av::stanza_api().add_xml(root, av_cstr("<ver xmlns='urn:xmpp:features:rosterver'/>"));
      av::stanza_api().add_xml(root, av_cstr("<sub xmlns='urn:xmpp:features:pre-approval'/>"));
      return av::next;
    });
    return AV_OK;
  }

  void stop() override {
    hooks_.clear();
    g_core.reset();
    core_.reset();
  }

  const void* extension(const char* id) override {
    std::string x(id);
    if (x == AV_EXT_ROSTER) return &kRosterExt;
    if (x == AV_EXT_ROSTER_LOOKUP) return &kRosterLookupExt;
    return nullptr;
  }

 private:
  // Answers an IQ later through the router (the reply is built after the roster is ready).
  static void reply_error(Effects& fx, const av::StanzaRef& req, const roster::Error& e) {
    fx.calls.push_back([req, e] {
      av::StanzaRef r = av::StanzaRef::adopt(
          av::stanza_api().make_error(req.get(), av::str(e.type), av::str(e.condition), av::str(e.text)));
      send_reply(r);
    });
  }
  static void reply_result(Effects& fx, const av::StanzaRef& req, std::string payload) {
    fx.calls.push_back([req, payload] {
      av::StanzaRef r = av::StanzaRef::adopt(av::stanza_api().make_result(req.get()));
      if (!r) return;
      if (!payload.empty()) {
        av_xml_el* root = av::stanza_api().mut_root(r.get());
        if (root) av::stanza_api().add_xml(root, av::str(payload));
      }
      send_reply(r);
    });
  }
  // A client's IQ without 'to' was addressed to its own bare JID: answer from there (the
  // router drops a stanza without 'from').
  static av_stanza* with_from(av_stanza* r) {
    if (!r) return r;
    const av_xml_el* ro = av::stanza_api().root(r);
    if (av::stanza_api().attr(ro, av_cstr("from")).ptr) return r;
    av_xml_el* root = av::stanza_api().mut_root(r);
    std::string from = av::bare_jid(av::sv(av::stanza_api().attr(ro, av_cstr("to"))));
    if (root && !from.empty()) av::stanza_api().set_attr(root, av_cstr("from"), av::str(from));
    return r;
  }
  static void send_reply(const av::StanzaRef& r) {
    if (!r || !g_core) return;
    with_from(r.get());
    g_core->router->route(r.get());
  }

  static av::Next on_iq(Core& core, const av_stanza_params& p, av_iq_acc& acc) {
    auto from = av::parse_jid(av::sv(p.from));
    auto to = av::parse_jid(av::sv(p.to));
    av::StanzaView v(p.stanza);
    acc.handled = true;
    auto fail = [&](const char* type, const char* cond, const char* text) {
      acc.reply = with_from(av::stanza_api().make_error(p.stanza, av_cstr(type), av_cstr(cond), av_cstr(text)));
      return av::stop;
    };
    if (!from || !to || from->bare() != to->bare()) return fail("auth", "forbidden", "Not your roster");
    std::string user = from->bare(), full = from->full();
    auto query = v.child("query", kNsRoster);
    if (!query) return fail("modify", "bad-request", "No roster query");
    av::StanzaRef req = av::StanzaRef::share(p.stanza);

    if (v.type() == "get") {
      std::optional<std::string> client_ver;
      if (query.has_attr("ver")) client_ver = std::string(query.attr("ver"));
      core.with_roster(user, [&core, req, full, client_ver](Entry& e, Effects& fx, bool) {
        if (e.sessions.count(full)) e.interested.insert(full);
        if (core.versioning && client_ver && *client_ver == core.version(e)) {
          reply_result(fx, req, "");  // XEP-0237: unchanged, empty result
          return;
        }
        reply_result(fx, req, roster::roster_query(e.items, core.ver_attr(e)));
      });
      return av::stop;
    }
    if (v.type() != "set") return fail("modify", "bad-request", "Roster get or set only");

    roster::SetReq sreq;
    for (size_t i = 0; i < query.child_count(); ++i) {
      auto el = query.child_at(i);
      if (el.name() != "item") continue;
      roster::ItemReq ir;
      ir.has_jid = el.has_attr("jid");
      ir.jid = std::string(el.attr("jid"));
      ir.has_name = el.has_attr("name");
      ir.name = std::string(el.attr("name"));
      ir.subscription = std::string(el.attr("subscription"));
      for (size_t k = 0; k < el.child_count(); ++k) {
        auto g = el.child_at(k);
        if (g.name() == "group") ir.groups.emplace_back(g.text());
      }
      sreq.items.push_back(std::move(ir));
    }
    if (auto err = roster::validate_set(sreq)) {
      acc.reply = with_from(
          av::stanza_api().make_error(p.stanza, av::str(err->type), av::str(err->condition), av::str(err->text)));
      return av::stop;
    }
    roster::ItemReq ir = sreq.items[0];
    core.with_roster(user, [&core, req, user, ir](Entry& e, Effects& fx, bool) {
      auto it = e.items.find(ir.jid);
      if (ir.subscription == "remove") {
        if (it == e.items.end() || it->second.hidden) {
          reply_error(fx, req, {"cancel", "item-not-found", "No such roster item"});
          return;
        }
        // RFC 6121 2.5.2: cancel both directions before removing the item.
        const auto& st = it->second.st;
        bool to = st.sub == Sub::to || st.sub == Sub::both || st.out;
        bool fr = st.sub == Sub::from || st.sub == Sub::both || st.in;
        if (to) fx.xml.push_back(roster::presence("unsubscribe", user, ir.jid));
        if (fr) fx.xml.push_back(roster::presence("unsubscribed", user, ir.jid));
        core.removed(user, e, ir.jid, true, fx);
        reply_result(fx, req, "");
        return;
      }
      Item& item = e.items[ir.jid];
      item.jid = ir.jid;
      item.name = ir.name;
      item.groups = ir.groups;
      item.hidden = false;
      core.changed(user, e, item, true, fx, item.st.sub);
      reply_result(fx, req, "");
    });
    return av::stop;
  }

  // Outbound subscription presence from a client: state change, stamp bare JIDs, route.
  static av::Next on_send_presence(Core& core, const av_stanza_params& p, av_stanza_acc& acc) {
    av::StanzaView v(p.stanza);
    auto type = roster::parse_ptype(v.type());
    if (!type || !v.root().has_attr("to")) return av::next;
    std::string user = av::bare_jid(av::sv(p.from));
    std::string contact = av::bare_jid(v.to());
    if (user.empty() || contact.empty() || contact == user) return av::next;
    av::StanzaRef out = av::StanzaRef::adopt(av::stanza_api().clone(p.stanza));
    av_xml_el* root = out ? av::stanza_api().mut_root(out.get()) : nullptr;
    if (!root) return av::next;
    av::stanza_api().set_attr(root, av_cstr("from"), av::str(user));
    av::stanza_api().set_attr(root, av_cstr("to"), av::str(contact));
    acc.drop = true;
    PType t = *type;
    core.with_roster(user, [&core, user, contact, t, out](Entry& e, Effects& fx, bool) {
      auto it = e.items.find(contact);
      Item cur;
      cur.jid = contact;
      if (it != e.items.end()) cur = it->second;
      auto o = roster::outbound(cur.st, t);
      if (o.changed) {
        Item& item = e.items[contact];
        item = cur;
        item.st = o.next;
        item.hidden = false;  // the user acted on it: it is in the roster now
        if (!item.st.in) item.askmessage.clear();
        core.changed(user, e, item, it == e.items.end(), fx, cur.st.sub);
      }
      if (o.forward) fx.stanzas.push_back(out);
    });
    return av::next;  // mod_presence may still want to see it (acc.drop is set)
  }

  // Inbound subscription presence to a local user.
  static av::Next on_filter(Core& core, const av_stanza_params& p, av_stanza_acc& acc) {
    if (p.stanza == g_pass) return av::next;
    if (av::stanza_api().kind(p.stanza) != AV_STANZA_PRESENCE) return av::next;
    av::StanzaView v(p.stanza);
    auto type = roster::parse_ptype(v.type());
    if (!type) return av::next;
    std::string user = av::bare_jid(av::sv(p.to));
    std::string contact = av::bare_jid(av::sv(p.from));
    if (user.empty() || contact.empty() || user == contact) return av::next;
    PType t = *type;
    bool from_bare = av::sv(p.from) == contact && v.from() == contact;
    std::string status(v.child("status").text());
    av::StanzaRef orig = av::StanzaRef::share(p.stanza);
    auto deliver_orig = std::make_shared<bool>(false);
    bool sync = core.with_roster(user, [&core, user, contact, t, from_bare, status, orig, deliver_orig](
                                           Entry& e, Effects& fx, bool sync_now) {
      if (!e.exists) {
        // RFC 6121 3.1.3 / 8.5.1: no such account here: nothing stored or delivered; a
        // subscribe is refused on that JID's behalf.
        if (auto reply = roster::unknown_user_reply(t)) fx.xml.push_back(roster::presence(roster::ptype_name(*reply), user, contact));
        return;
      }
      auto it = e.items.find(contact);
      Item cur;
      cur.jid = contact;
      cur.hidden = true;  // created by the contact: not in the user's roster yet
      if (it != e.items.end()) cur = it->second;
      auto o = roster::inbound(cur.st, t);
      if (o.changed) {
        Item item = cur;
        item.st = o.next;
        if (t == PType::subscribe && item.st.in) item.askmessage = status;
        if (!item.st.in) item.askmessage.clear();
        if (roster::is_void(item)) {
          core.removed(user, e, contact, !cur.hidden && it != e.items.end(), fx);
        } else {
          e.items[contact] = item;
          core.changed(user, e, e.items[contact], it == e.items.end(), fx, cur.st.sub);
        }
      }
      if (o.auto_subscribed) fx.xml.push_back(roster::presence("subscribed", user, contact));
      if (o.forward) {
        if (sync_now && from_bare) {
          *deliver_orig = true;
        } else {
          av::StanzaRef c = av::StanzaRef::adopt(av::stanza_api().clone(orig.get()));
          av_xml_el* r = c ? av::stanza_api().mut_root(c.get()) : nullptr;
          if (r) {
            av::stanza_api().set_attr(r, av_cstr("from"), av::str(contact));
            fx.pass.push_back(c);
          }
        }
      }
    }, true);
    acc.drop = !(sync && *deliver_orig);
    return acc.drop ? av::stop : av::next;
  }

  // Pending inbound requests are delivered again when a resource becomes available.
  static void on_available(Core& core, const av_session_params& p) {
    std::string full(av::sv(p.jid));
    std::string user = av::bare_jid(full);
    if (user.empty()) return;
    core.with_roster(user, [full](Entry& e, Effects& fx, bool) {
      for (const auto& [jid, it] : e.items)
        if (it.st.in) fx.pass_xml.push_back(roster::presence("subscribe", jid, full, it.askmessage));
    });
  }

  // account/removed: tell the contacts, then drop every row.
  static void on_account_removed(Core& core, const av_session_params& p) {
    std::string user = av::bare_jid(av::sv(p.jid));
    if (user.empty()) return;
    core.with_roster(user, [&core, user](Entry& e, Effects& fx, bool) {
      for (const auto& [jid, it] : e.items) {
        const auto& st = it.st;
        if (st.sub == Sub::to || st.sub == Sub::both || st.out)
          fx.xml.push_back(roster::presence("unsubscribe", user, jid));
        if (st.sub == Sub::from || st.sub == Sub::both || st.in)
          fx.xml.push_back(roster::presence("unsubscribed", user, jid));
      }
      for (const auto& [jid, it] : e.items) fx.changes.push_back({user, jid, it.st.sub, Sub::none, true});
      e.items.clear();
      e.counter = 0;
      core.delete_all(user);
    });
  }

  std::shared_ptr<Core> core_;
  av::HookSet hooks_;
};

}  // namespace

AV_MODULE(RosterModule, "mod_roster", "0.1.0", "RFC 6121 rosters and presence subscriptions, XEP-0237 versioning")
