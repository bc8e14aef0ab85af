// mod_mam_rdbms: the SQL storage of the message archive ("av.mam.store/1/rdbms") on the
// outgoing_pools.rdbms pool: SQLite, PostgreSQL, MySQL/MariaDB. mod_mam calls it; it knows no
// XMPP. Archive ids (mam_server_user) are cached in memory once known.
#include <aviary/aviary.hpp>
#include <aviary/ext/draft/mam.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "rdbms_sql.hpp"

namespace {

using namespace mod_mam_rdbms;

std::string s_(av_str x) { return x.ptr ? std::string(x.ptr, x.len) : std::string(); }
std::string key_of(std::string_view server, std::string_view user) {
  std::string k(server);
  k += '\0';
  k += user;
  return k;
}

struct OwnedRecord {
  av_mam_record r{};
  std::string owner_user, owner_server, remote_bare, remote_resource, from_jid, origin_id, xml, search;
  explicit OwnedRecord(const av_mam_record& in)
      : r(in), owner_user(s_(in.owner_user)), owner_server(s_(in.owner_server)), remote_bare(s_(in.remote_bare)),
        remote_resource(s_(in.remote_resource)), from_jid(s_(in.from_jid)), origin_id(s_(in.origin_id)),
        xml(s_(in.xml)), search(s_(in.search_body)) {
    r.owner_user = av::str(owner_user);
    r.owner_server = av::str(owner_server);
    r.remote_bare = av::str(remote_bare);
    r.remote_resource = av::str(remote_resource);
    r.from_jid = av::str(from_jid);
    r.origin_id = av::str(origin_id);
    r.xml = av::str(xml);
    r.search_body = av::str(search);
  }
  OwnedRecord(const OwnedRecord&) = delete;
};

class Store {
 public:
  av::SqlPool db;
  Dialect dialect = Dialect::sqlite;

  std::optional<int64_t> cached(std::string_view server, std::string_view user) {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = ids_.find(key_of(server, user));
    if (it == ids_.end()) return std::nullopt;
    return it->second;
  }
  void remember(std::string_view server, std::string_view user, int64_t id) {
    std::lock_guard<std::mutex> lk(mu_);
    ids_[key_of(server, user)] = id;
  }

  // Archive ids of owners (server, user), created when `create`; cb(ok, err) after the cache
  // holds them (missing ones stay missing when !create).
  void resolve(std::vector<std::pair<std::string, std::string>> owners, bool create, av_executor ex,
               std::function<void(bool, std::string)> cb) {
    auto read = [this, owners, ex, cb]() {
      Stmt sel = select_archives(owners);
      av_status st = db.query(sel.sql, sel.params, ex, [this, cb](av_status st, const av::SqlResult& r) {
        if (st != AV_OK) return cb(false, std::string(r.error()));
        for (size_t i = 0; i < r.rows(); ++i) {
          try {
            remember(r.value(i, 1), r.value(i, 2), std::stoll(std::string(r.value(i, 0))));
          } catch (...) {
          }
        }
        cb(true, {});
      });
      if (st != AV_OK) cb(false, "the database queue is full");
    };
    if (!create) return read();
    Stmt ins = insert_archives(dialect, owners);
    av_status st = db.query(ins.sql, ins.params, ex, [read, cb](av_status st, const av::SqlResult& r) {
      if (st != AV_OK) return cb(false, std::string(r.error()));
      read();
    });
    if (st != AV_OK) cb(false, "the database queue is full");
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, int64_t> ids_;
};

Store* g_store = nullptr;  // one instance per process (the module starts once)

av_status submit(const Stmt& s, av_executor ex, av_mam_done_fn done, void* cx) {
  return g_store->db.query(s.sql, s.params, ex, [done, cx](av_status st, const av::SqlResult& r) {
    done(cx, st, st == AV_OK ? av::str_absent() : av::str(r.error()));
  });
}
av_status submit(const StmtViews& s, av_executor ex, av_mam_done_fn done, void* cx) {
  return g_store->db.query_views(s.sql, s.params.data(), s.params.size(), ex, [done, cx](av_status st, const av::SqlResult& r) {
    done(cx, st, st == AV_OK ? av::str_absent() : av::str(r.error()));
  });
}

// ---- write ----
av_status x_write(void*, const av_mam_record* recs, size_t n, av_executor ex, av_mam_done_fn done, void* cx) {
  if (!recs || n == 0 || !done) return AV_E_INVALID_ARG;
  std::vector<int64_t> uids(n);
  std::vector<std::pair<std::string, std::string>> missing;
  for (size_t i = 0; i < n; ++i) {
    auto id = g_store->cached(av::sv(recs[i].owner_server), av::sv(recs[i].owner_user));
    if (id) {
      uids[i] = *id;
    } else {
      std::pair<std::string, std::string> o{s_(recs[i].owner_server), s_(recs[i].owner_user)};
      if (std::find(missing.begin(), missing.end(), o) == missing.end()) missing.push_back(std::move(o));
    }
  }
  if (missing.empty()) return submit(insert_messages(g_store->dialect, recs, n, uids), ex, done, cx);
  // First time these archives are written: create their ids, then insert (records copied,
  // the caller's are borrowed for this call only).
  auto owned = std::make_shared<std::vector<std::unique_ptr<OwnedRecord>>>();
  for (size_t i = 0; i < n; ++i) owned->push_back(std::make_unique<OwnedRecord>(recs[i]));
  g_store->resolve(std::move(missing), true, ex, [owned, ex, done, cx](bool ok, std::string err) {
    if (!ok) return done(cx, AV_E_IO, av::str(err));
    std::vector<av_mam_record> rs;
    std::vector<int64_t> uids;
    for (auto& o : *owned) {
      auto id = g_store->cached(o->owner_server, o->owner_user);
      if (!id) return done(cx, AV_E_IO, av::str("archive id not created"));
      rs.push_back(o->r);
      uids.push_back(*id);
    }
    if (submit(insert_messages(g_store->dialect, rs.data(), rs.size(), uids), ex, done, cx) != AV_OK)
      done(cx, AV_E_BUSY, av::str("the database queue is full"));
  });
  return AV_OK;
}

av_status x_write_sync(void*, const av_mam_record* recs, size_t n, char* err, size_t cap) {
  auto fail = [&](const std::string& e) {
    if (err && cap) {
      size_t k = std::min(cap - 1, e.size());
      std::memcpy(err, e.data(), k);
      err[k] = '\0';
    }
    return AV_E_IO;
  };
  if (!recs || n == 0) return AV_OK;
  std::vector<std::pair<std::string, std::string>> owners;
  for (size_t i = 0; i < n; ++i) {
    std::pair<std::string, std::string> o{s_(recs[i].owner_server), s_(recs[i].owner_user)};
    if (!g_store->cached(o.first, o.second) && std::find(owners.begin(), owners.end(), o) == owners.end())
      owners.push_back(std::move(o));
  }
  std::string e;
  auto cb = [&](av_status st, const av::SqlResult& r) {
    if (st != AV_OK) e = std::string(r.error());
  };
  if (!owners.empty()) {
    Stmt ins = insert_archives(g_store->dialect, owners);
    if (g_store->db.query_sync(ins.sql, ins.params, cb) != AV_OK) return fail(e);
    Stmt sel = select_archives(owners);
    av_status st = g_store->db.query_sync(sel.sql, sel.params, [&](av_status st, const av::SqlResult& r) {
      if (st != AV_OK) return void(e = std::string(r.error()));
      for (size_t i = 0; i < r.rows(); ++i) g_store->remember(r.value(i, 1), r.value(i, 2), std::stoll(std::string(r.value(i, 0))));
    });
    if (st != AV_OK) return fail(e);
  }
  std::vector<int64_t> uids(n);
  for (size_t i = 0; i < n; ++i) {
    auto id = g_store->cached(av::sv(recs[i].owner_server), av::sv(recs[i].owner_user));
    if (!id) return fail("archive id not created");
    uids[i] = *id;
  }
  StmtViews s = insert_messages(g_store->dialect, recs, n, uids);
  std::vector<av::SqlParam> params;
  params.reserve(s.params.size());
  for (auto& v : s.params) params.push_back(v.ptr ? av::SqlParam(std::string(av::sv(v))) : std::nullopt);
  if (g_store->db.query_sync(s.sql, params, cb) != AV_OK) return fail(e);
  return AV_OK;
}

// Runs fn(uid) once the archive id is known; missing(uid<0) when there is no such archive.
void with_archive(av_str user, av_str server, av_executor ex, std::function<void(bool ok, int64_t uid, std::string err)> fn) {
  std::string u = s_(user), s = s_(server);
  if (auto id = g_store->cached(s, u)) return fn(true, *id, {});
  g_store->resolve({{s, u}}, false, ex, [u, s, fn](bool ok, std::string err) {
    if (!ok) return fn(false, -1, err);
    auto id = g_store->cached(s, u);
    fn(true, id ? *id : -1, {});
  });
}

// ---- lookup ----
struct OwnedLookup {
  av_mam_lookup q{};
  std::string user, server, with_bare, with_res, origin;
  std::vector<int64_t> ids;
  std::vector<std::string> words;
  std::vector<av_str> word_views;
  explicit OwnedLookup(const av_mam_lookup& in) : q(in) {
    user = s_(in.filter.owner_user);
    server = s_(in.filter.owner_server);
    q.filter.owner_user = av::str(user);
    q.filter.owner_server = av::str(server);
    if (in.filter.with_bare.ptr) q.filter.with_bare = av::str(with_bare = s_(in.filter.with_bare));
    if (in.filter.with_resource.ptr) q.filter.with_resource = av::str(with_res = s_(in.filter.with_resource));
    if (in.filter.origin_id.ptr) q.filter.origin_id = av::str(origin = s_(in.filter.origin_id));
    if (in.filter.ids) {
      ids.assign(in.filter.ids, in.filter.ids + in.filter.nids);
      q.filter.ids = ids.data();
    }
    for (size_t i = 0; i < in.filter.nwords; ++i) words.push_back(s_(in.filter.words[i]));
    for (auto& w : words) word_views.push_back(av::str(w));
    q.filter.words = word_views.data();
    q.filter.nwords = word_views.size();
  }
  OwnedLookup(const OwnedLookup&) = delete;
};

struct Rows {
  std::vector<int64_t> id;
  std::vector<std::string> from, xml;
};

void deliver(av_mam_rows_fn done, void* cx, const Rows& rows, int64_t total, int64_t before) {
  std::vector<av_mam_row> out(rows.id.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = av_mam_row{rows.id[i], av::str(rows.from[i]), av::str(rows.xml[i])};
  done(cx, AV_OK, out.data(), out.size(), total, before, av::str_absent());
}

av_status x_lookup(void*, const av_mam_lookup* in, av_executor ex, av_mam_rows_fn done, void* cx) {
  if (!in || !done) return AV_E_INVALID_ARG;
  auto q = std::make_shared<OwnedLookup>(*in);
  with_archive(q->q.filter.owner_user, q->q.filter.owner_server, ex, [q, ex, done, cx](bool ok, int64_t uid, std::string err) {
    if (!ok) return done(cx, AV_E_IO, nullptr, 0, -1, -1, av::str(err));
    if (uid < 0) return done(cx, AV_OK, nullptr, 0, q->q.want_count ? 0 : -1, q->q.want_count ? 0 : -1, av::str_absent());
    Stmt page = select_page(g_store->dialect, q->q, uid);
    av_status st = g_store->db.query(page.sql, page.params, ex, [q, uid, ex, done, cx](av_status st, const av::SqlResult& r) {
      if (st != AV_OK) return done(cx, st, nullptr, 0, -1, -1, av::str(r.error()));
      auto rows = std::make_shared<Rows>();
      int64_t first = INT64_MAX;
      for (size_t i = 0; i < r.rows(); ++i) {
        int64_t id = 0;
        try {
          id = std::stoll(std::string(r.value(i, 0)));
        } catch (...) {
          continue;
        }
        rows->id.push_back(id);
        rows->from.emplace_back(r.value(i, 1));
        rows->xml.emplace_back(r.value(i, 2));
        first = std::min(first, id);
      }
      if (!q->q.want_count) return deliver(done, cx, *rows, -1, -1);
      Stmt c = select_counts(q->q, uid, first);
      av_status cs = g_store->db.query(c.sql, c.params, ex, [q, rows, done, cx](av_status st, const av::SqlResult& r) {
        if (st != AV_OK || r.rows() != 1) return done(cx, AV_E_IO, nullptr, 0, -1, -1, av::str(r.error()));
        int64_t total = 0, before = 0;
        try {
          total = std::stoll(std::string(r.value(0, 0)));
          before = std::stoll(std::string(r.value(0, 1)));
        } catch (...) {
        }
        if (q->q.count_limit && total > static_cast<int64_t>(q->q.count_limit)) total = before = -1;
        deliver(done, cx, *rows, total, before);
      });
      if (cs != AV_OK) done(cx, AV_E_BUSY, nullptr, 0, -1, -1, av::str("the database queue is full"));
    });
    if (st != AV_OK) done(cx, AV_E_BUSY, nullptr, 0, -1, -1, av::str("the database queue is full"));
  });
  return AV_OK;
}

// ---- update, remove ----
av_status x_update(void*, av_mam_kind kind, av_str user, av_str server, int64_t id, av_str xml, av_str search,
                   av_executor ex, av_mam_done_fn done, void* cx) {
  if (!done) return AV_E_INVALID_ARG;
  std::string x = s_(xml), se = s_(search);
  with_archive(user, server, ex, [=](bool ok, int64_t uid, std::string err) {
    if (!ok) return done(cx, AV_E_IO, av::str(err));
    if (uid < 0) return done(cx, AV_E_NOT_FOUND, av::str("no such archive"));
    if (submit(update_message(kind, uid, id, x, se), ex, done, cx) != AV_OK) done(cx, AV_E_BUSY, av::str("busy"));
  });
  return AV_OK;
}

// Runs stmts one after the other; done after the last (or the first failure).
struct Chain {
  std::vector<Stmt> stmts;
  av_executor ex;
  av_mam_done_fn done;
  void* cx;
};
void chain_step(const std::shared_ptr<Chain>& c, size_t i) {
  if (i == c->stmts.size()) return c->done(c->cx, AV_OK, av::str_absent());
  const Stmt& s = c->stmts[i];
  av_status st = g_store->db.query(s.sql, s.params, c->ex, [c, i](av_status st, const av::SqlResult& r) {
    if (st != AV_OK) return c->done(c->cx, st, av::str(r.error()));
    chain_step(c, i + 1);
  });
  if (st != AV_OK) c->done(c->cx, AV_E_BUSY, av::str("busy"));
}

av_status x_remove(void*, av_mam_kind kind, av_str user, av_str server, av_executor ex, av_mam_done_fn done, void* cx) {
  if (!done) return AV_E_INVALID_ARG;
  with_archive(user, server, ex, [=](bool ok, int64_t uid, std::string err) {
    if (!ok) return done(cx, AV_E_IO, av::str(err));
    if (uid < 0) return done(cx, AV_OK, av::str_absent());
    chain_step(std::make_shared<Chain>(Chain{remove_archive(kind, uid), ex, done, cx}), 0);
  });
  return AV_OK;
}

// ---- preferences ----
av_status x_get_prefs(void*, av_str user, av_str server, av_executor ex, av_mam_prefs_fn done, void* cx) {
  if (!done) return AV_E_INVALID_ARG;
  with_archive(user, server, ex, [=](bool ok, int64_t uid, std::string err) {
    if (!ok) return done(cx, AV_E_IO, 0, nullptr, nullptr, 0, av::str(err));
    if (uid < 0) return done(cx, AV_OK, 0, nullptr, nullptr, 0, av::str_absent());
    Stmt s = select_prefs(uid);
    av_status st = g_store->db.query(s.sql, s.params, ex, [done, cx](av_status st, const av::SqlResult& r) {
      if (st != AV_OK) return done(cx, st, 0, nullptr, nullptr, 0, av::str(r.error()));
      char def = 0;
      std::vector<av_str> jids;
      std::string behaviours;
      for (size_t i = 0; i < r.rows(); ++i) {
        auto jid = r.value(i, 0);
        auto b = r.value(i, 1);
        char c = b.empty() ? 'A' : b[0];
        if (jid.empty()) {
          def = c;
        } else {
          jids.push_back(av::str(jid));
          behaviours += c;
        }
      }
      done(cx, AV_OK, def, jids.data(), behaviours.data(), jids.size(), av::str_absent());
    });
    if (st != AV_OK) done(cx, AV_E_BUSY, 0, nullptr, nullptr, 0, av::str("busy"));
  });
  return AV_OK;
}

av_status x_set_prefs(void*, av_str user, av_str server, char def, const av_str* jids, const char* behaviours, size_t n,
                      av_executor ex, av_mam_done_fn done, void* cx) {
  if (!done) return AV_E_INVALID_ARG;
  std::vector<std::pair<std::string, char>> rows;
  for (size_t i = 0; i < n; ++i) rows.emplace_back(s_(jids[i]), behaviours[i]);
  std::pair<std::string, std::string> owner{s_(server), s_(user)};
  g_store->resolve({owner}, true, ex, [=](bool ok, std::string err) {
    if (!ok) return done(cx, AV_E_IO, av::str(err));
    auto uid = g_store->cached(owner.first, owner.second);
    if (!uid) return done(cx, AV_E_IO, av::str("archive id not created"));
    Stmt del = delete_prefs(*uid);
    int64_t id = *uid;
    av_status st = g_store->db.query(del.sql, del.params, ex, [=](av_status st, const av::SqlResult& r) {
      if (st != AV_OK) return done(cx, st, av::str(r.error()));
      if (submit(insert_prefs(id, def, rows), ex, done, cx) != AV_OK) done(cx, AV_E_BUSY, av::str("busy"));
    });
    if (st != AV_OK) done(cx, AV_E_BUSY, av::str("busy"));
  });
  return AV_OK;
}

av_status x_load_all_prefs(void*, av_mam_prefs_each_fn each, void* cx) {
  if (!each) return AV_E_INVALID_ARG;
  Stmt s = select_all_prefs();
  std::string err;
  av_status st = g_store->db.query_sync(s.sql, s.params, [&](av_status st, const av::SqlResult& r) {
    if (st != AV_OK) return void(err = std::string(r.error()));
    // Rows are ordered by user: one call per user.
    size_t i = 0;
    while (i < r.rows()) {
      std::string server(r.value(i, 0)), user(r.value(i, 1));
      char def = 0;
      std::vector<av_str> jids;
      std::string bs;
      size_t j = i;
      for (; j < r.rows() && r.value(j, 0) == server && r.value(j, 1) == user; ++j) {
        auto jid = r.value(j, 2);
        char b = r.value(j, 3).empty() ? 'A' : r.value(j, 3)[0];
        if (jid.empty()) {
          def = b;
        } else {
          jids.push_back(av::str(jid));
          bs += b;
        }
      }
      each(cx, av::str(user), av::str(server), def, jids.data(), bs.data(), jids.size());
      i = j;
    }
    each(cx, av::str_absent(), av::str_absent(), 0, nullptr, nullptr, 0);
  });
  if (st != AV_OK) av::log_error("mam rdbms: cannot read the archive preferences: " + err);
  return st;
}

class ModMamRdbms final : public av::Module {
 public:
  static const av_option_spec* options() {
    static const av_option_spec o[] = {
        {"pool", AV_OPT_STRING, "default", 1, 0, nullptr, false, "outgoing_pools.rdbms tag of the database"},
        {nullptr, 0, nullptr, 0, 0, nullptr, false, nullptr}};
    return o;
  }

  av_status start(av::Context& cx) override {
    store_.db = av::SqlPool::open(cx.option_string("pool"));
    switch (store_.db.dialect()) {
      case AV_SQL_PGSQL: store_.dialect = Dialect::pgsql; break;
      case AV_SQL_MYSQL: store_.dialect = Dialect::mysql; break;
      default: store_.dialect = Dialect::sqlite; break;
    }
    for (auto& s : schema(store_.dialect)) store_.db.query_sync(s);
    g_store = &store_;
    ext_ = av_mam_store_v1{sizeof(av_mam_store_v1), "rdbms", nullptr, x_write, x_write_sync, x_lookup, x_update,
                           x_remove, x_get_prefs, x_set_prefs, x_load_all_prefs};
    return AV_OK;
  }

  const void* extension(const char* id) override {
    return std::strcmp(id, AV_EXT_MAM_STORE_PREFIX "rdbms") == 0 ? &ext_ : nullptr;
  }

 private:
  Store store_;
  av_mam_store_v1 ext_{};
};

}  // namespace

AV_MODULE(ModMamRdbms, "mod_mam_rdbms", "0.1.0", "SQL storage of the message archive (XEP-0313)")
