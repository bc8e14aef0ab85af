// mod_mam_rdbms's SQL, run against a real in-memory SQLite database: schema, batch insert,
// archive ids, every lookup shape (bounds, with, ids, words, origin-id, order, offset),
// counts, updates, removal and preferences.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <map>

#include "rdbms_sql.hpp"

using namespace mod_mam_rdbms;

namespace {

struct Db {
  sqlite3* db = nullptr;
  Db() {
    REQUIRE(sqlite3_open(":memory:", &db) == SQLITE_OK);
    for (auto& s : schema(Dialect::sqlite)) exec(Stmt{s, {}});
  }
  ~Db() { sqlite3_close(db); }
  std::vector<std::vector<std::string>> exec(const StmtViews& v) {
    Stmt s{v.sql, {}};
    for (auto& p : v.params) s.params.push_back(p.ptr ? Param(std::string(p.ptr, p.len)) : std::nullopt);
    return exec(s);
  }
  std::vector<std::vector<std::string>> exec(const Stmt& s) {
    sqlite3_stmt* st = nullptr;
    INFO(s.sql);
    REQUIRE(sqlite3_prepare_v2(db, s.sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    for (size_t i = 0; i < s.params.size(); ++i) {
      if (s.params[i])
        sqlite3_bind_text(st, static_cast<int>(i + 1), s.params[i]->c_str(), -1, SQLITE_TRANSIENT);
      else
        sqlite3_bind_null(st, static_cast<int>(i + 1));
    }
    std::vector<std::vector<std::string>> rows;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        auto* t = sqlite3_column_text(st, c);
        row.emplace_back(t ? reinterpret_cast<const char*>(t) : "<null>");
      }
      rows.push_back(row);
    }
    REQUIRE(rc == SQLITE_DONE);
    sqlite3_finalize(st);
    return rows;
  }
};

av_str s(const std::string& x) { return av_strn(x.data(), x.size()); }

struct Msg {
  int64_t id;
  std::string with, res, body, origin;
  int dir;
};

void insert(Db& db, int64_t uid, const std::vector<Msg>& msgs) {
  std::vector<std::string> keep;
  keep.reserve(msgs.size() * 4);
  std::vector<av_mam_record> recs;
  std::vector<int64_t> uids;
  for (auto& m : msgs) {
    av_mam_record r{};
    r.struct_size = sizeof r;
    r.kind = AV_MAM_PM;
    r.id = m.id;
    r.remote_bare = s(m.with);
    r.remote_resource = s(m.res);
    keep.push_back(m.with + "/" + m.res);
    r.from_jid = s(keep.back());
    r.direction = m.dir;
    r.origin_id = s(m.origin);
    keep.push_back("<message><body>" + m.body + "</body></message>");
    r.xml = s(keep.back());
    keep.push_back(" " + m.body + " ");
    r.search_body = s(keep.back());
    recs.push_back(r);
    uids.push_back(uid);
  }
  db.exec(insert_messages(Dialect::sqlite, recs.data(), recs.size(), uids));
}

std::vector<std::string> ids_of(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::string> out;
  for (auto& r : rows) out.push_back(r[0]);
  return out;
}

av_mam_lookup lookup() {
  av_mam_lookup q{};
  q.struct_size = sizeof q;
  q.filter.struct_size = sizeof q.filter;
  q.filter.kind = AV_MAM_PM;
  q.filter.max_id = INT64_MAX;
  q.count_max_id = INT64_MAX;
  q.limit = 100;
  return q;
}

}  // namespace

TEST_CASE("rdbms: archive ids are created once and read back") {
  Db db;
  std::vector<std::pair<std::string, std::string>> owners{{"localhost", "alice"}, {"localhost", "bob"}};
  db.exec(insert_archives(Dialect::sqlite, owners));
  db.exec(insert_archives(Dialect::sqlite, owners));  // again: no duplicates, no error
  auto rows = db.exec(select_archives(owners));
  REQUIRE(rows.size() == 2);
  CHECK(rows[0][0] != rows[1][0]);
}

TEST_CASE("rdbms: lookups, counts, update, removal") {
  Db db;
  insert(db, 1, {{10, "bob@x", "a", "hello world", "o1", AV_MAM_OUTGOING},
                 {20, "carol@x", "b", "weather report", "", AV_MAM_INCOMING},
                 {30, "bob@x", "c", "world peace", "o3", AV_MAM_INCOMING},
                 {40, "bob@x", "a", "bye", "", AV_MAM_OUTGOING}});
  insert(db, 2, {{15, "alice@x", "a", "other archive", "", AV_MAM_INCOMING}});

  auto q = lookup();
  CHECK(ids_of(db.exec(select_page(Dialect::sqlite, q, 1))) == std::vector<std::string>{"10", "20", "30", "40"});
  q.backward = true;
  q.limit = 2;
  CHECK(ids_of(db.exec(select_page(Dialect::sqlite, q, 1))) == std::vector<std::string>{"40", "30"});
  q = lookup();
  std::string bob = "bob@x";
  q.filter.with_bare = s(bob);
  CHECK(ids_of(db.exec(select_page(Dialect::sqlite, q, 1))) == std::vector<std::string>{"10", "30", "40"});
  std::string res = "a";
  q.filter.with_resource = s(res);
  CHECK(ids_of(db.exec(select_page(Dialect::sqlite, q, 1))) == std::vector<std::string>{"10", "40"});
  q = lookup();
  q.filter.min_id = 20;
  q.filter.max_id = 30;
  CHECK(ids_of(db.exec(select_page(Dialect::sqlite, q, 1))) == std::vector<std::string>{"20", "30"});
  q = lookup();
  int64_t ids[] = {40, 10, 15};
  q.filter.ids = ids;
  q.filter.nids = 3;
  CHECK(ids_of(db.exec(select_page(Dialect::sqlite, q, 1))) == std::vector<std::string>{"10", "40"});
  q = lookup();
  std::string w1 = "world", w2 = "pea";
  av_str words[] = {s(w1), s(w2)};
  q.filter.words = words;
  q.filter.nwords = 1;
  CHECK(ids_of(db.exec(select_page(Dialect::sqlite, q, 1))) == std::vector<std::string>{"10", "30"});
  q.filter.nwords = 2;
  CHECK(ids_of(db.exec(select_page(Dialect::sqlite, q, 1))) == std::vector<std::string>{"30"});
  std::string orl = "orld";  // inside a word: no match (words must start with it)
  av_str inner[] = {s(orl)};
  q.filter.words = inner;
  q.filter.nwords = 1;
  CHECK(db.exec(select_page(Dialect::sqlite, q, 1)).empty());
  q = lookup();
  std::string o3 = "o3";
  q.filter.origin_id = s(o3);
  CHECK(ids_of(db.exec(select_page(Dialect::sqlite, q, 1))) == std::vector<std::string>{"30"});
  q = lookup();
  q.offset = 1;
  q.limit = 2;
  CHECK(ids_of(db.exec(select_page(Dialect::sqlite, q, 1))) == std::vector<std::string>{"20", "30"});

  // counts: the set within count bounds, and those before the first row
  q = lookup();
  q.filter.min_id = 21;  // the page starts after 20 ...
  q.count_min_id = 0;    // ... but the counted set is the whole archive
  auto c = db.exec(select_counts(q, 1, 30));
  CHECK(c[0] == std::vector<std::string>{"4", "2"});
  q.count_limit = 2;  // reads at most 3 entries per count: "more than the limit"
  c = db.exec(select_counts(q, 1, 30));
  CHECK(c[0] == std::vector<std::string>{"3", "2"});
  q.count_limit = 0;

  db.exec(update_message(AV_MAM_PM, 1, 30, "<message><retracted/></message>", ""));
  q = lookup();
  auto rows = db.exec(select_page(Dialect::sqlite, q, 1));
  CHECK(rows[2][2] == "<message><retracted/></message>");

  for (auto& st : remove_archive(AV_MAM_PM, 1)) db.exec(st);
  CHECK(db.exec(select_page(Dialect::sqlite, lookup(), 1)).empty());
  CHECK(db.exec(select_page(Dialect::sqlite, lookup(), 2)).size() == 1);
}

TEST_CASE("rdbms: preferences") {
  Db db;
  db.exec(insert_archives(Dialect::sqlite, {{"localhost", "alice"}}));
  auto uid = std::stoll(db.exec(select_archives({{"localhost", "alice"}}))[0][0]);
  db.exec(insert_prefs(uid, 'R', {{"bob@x", 'A'}, {"eve@x", 'N'}}));
  auto rows = db.exec(select_prefs(uid));
  std::map<std::string, std::string> m;
  for (auto& r : rows) m[r[0]] = r[1];
  CHECK(m == std::map<std::string, std::string>{{"", "R"}, {"bob@x", "A"}, {"eve@x", "N"}});
  auto all = db.exec(select_all_prefs());
  CHECK(all.size() == 3);
  CHECK(all[0][0] == "localhost");
  CHECK(all[0][1] == "alice");
  db.exec(delete_prefs(uid));
  CHECK(db.exec(select_prefs(uid)).empty());
}

TEST_CASE("rdbms: the other dialects' texts") {
  CHECK(insert_archives(Dialect::pgsql, {{"a", "b"}}).sql.find("ON CONFLICT (server, user_name) DO NOTHING") !=
        std::string::npos);
  CHECK(insert_archives(Dialect::mysql, {{"a", "b"}}).sql.rfind("INSERT IGNORE INTO", 0) == 0);
  auto q = lookup();
  q.filter.min_id = 4611686018427387904;  // above 2^53: written as an integer literal
  auto st = select_page(Dialect::mysql, q, 7);
  CHECK(st.sql.find("id >= 4611686018427387904") != std::string::npos);
  CHECK(st.sql.find("LIMIT 100") != std::string::npos);
  CHECK(st.params.empty());
}
