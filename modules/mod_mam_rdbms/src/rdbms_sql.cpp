#include "rdbms_sql.hpp"

#include <aviary/cpp/guard.hpp>

namespace mod_mam_rdbms {

namespace {

std::string s_(av_str x) { return x.ptr ? std::string(x.ptr, x.len) : std::string(); }
bool present(av_str x) { return x.ptr != nullptr; }

const char* table(av_mam_kind k) { return k == AV_MAM_MUC ? "mam_muc_message" : "mam_message"; }
const char* owner_col(av_mam_kind k) { return k == AV_MAM_MUC ? "room_id" : "user_id"; }
const char* with_col(av_mam_kind k) { return k == AV_MAM_MUC ? "sender_jid" : "remote_bare_jid"; }
const char* res_col(av_mam_kind k) { return k == AV_MAM_MUC ? "nick_name" : "remote_resource"; }

// WHERE clause of a lookup (without RSM-free extras).
void where(const av_mam_filter& f, int64_t uid, Stmt& s) {
  s.sql += " WHERE ";
  s.sql += owner_col(f.kind);
  s.sql += " = " + std::to_string(uid);
  if (present(f.with_bare)) {
    s.sql += std::string(" AND ") + with_col(f.kind) + " = ?";
    s.params.push_back(s_(f.with_bare));
  }
  if (present(f.with_resource)) {
    s.sql += std::string(" AND ") + res_col(f.kind) + " = ?";
    s.params.push_back(s_(f.with_resource));
  }
  if (f.min_id > 0) s.sql += " AND id >= " + std::to_string(f.min_id);
  if (f.max_id < INT64_MAX) s.sql += " AND id <= " + std::to_string(f.max_id);
  if (f.ids) {
    s.sql += " AND id IN (";
    for (size_t i = 0; i < f.nids; ++i) s.sql += (i ? "," : "") + std::to_string(f.ids[i]);
    if (f.nids == 0) s.sql += "NULL";
    s.sql += ")";
  }
  for (size_t i = 0; i < f.nwords; ++i) {
    // Words hold no LIKE wildcards: normalisation keeps only letters and digits.
    s.sql += " AND search_body LIKE ?";
    s.params.push_back("% " + s_(f.words[i]) + "%");  // a word of the body starts with it
  }
  if (present(f.origin_id)) {
    s.sql += " AND origin_id = ?";
    s.params.push_back(s_(f.origin_id));
  }
}

}  // namespace

std::vector<std::string> schema(Dialect d) {
  switch (d) {
    case Dialect::pgsql:
      return {
          "CREATE TABLE IF NOT EXISTS mam_server_user (id SERIAL PRIMARY KEY, server VARCHAR(250) NOT NULL,"
          " user_name VARCHAR(250) NOT NULL, UNIQUE (server, user_name))",
          "CREATE TABLE IF NOT EXISTS mam_message (id BIGINT NOT NULL, user_id INT NOT NULL,"
          " from_jid VARCHAR(250) NOT NULL, remote_bare_jid VARCHAR(250) NOT NULL,"
          " remote_resource VARCHAR(250) NOT NULL, direction CHAR(1) NOT NULL, message TEXT NOT NULL,"
          " search_body TEXT, origin_id VARCHAR(250), is_groupchat BOOLEAN NOT NULL DEFAULT FALSE,"
          " PRIMARY KEY (user_id, id))",
          "CREATE INDEX IF NOT EXISTS i_mam_message_rem ON mam_message (user_id, remote_bare_jid, id)",
          "CREATE TABLE IF NOT EXISTS mam_muc_message (id BIGINT NOT NULL, room_id INT NOT NULL,"
          " sender_jid VARCHAR(250) NOT NULL, nick_name VARCHAR(250) NOT NULL, message TEXT NOT NULL,"
          " search_body TEXT, origin_id VARCHAR(250), PRIMARY KEY (room_id, id))",
          "CREATE INDEX IF NOT EXISTS i_mam_muc_message_sender ON mam_muc_message (room_id, sender_jid, id)",
          "CREATE TABLE IF NOT EXISTS mam_config (user_id INT NOT NULL, remote_jid VARCHAR(250) NOT NULL,"
          " behaviour CHAR(1) NOT NULL, PRIMARY KEY (user_id, remote_jid))"};
    case Dialect::mysql:
      return {
          "CREATE TABLE IF NOT EXISTS mam_server_user (id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
          " server VARCHAR(250) NOT NULL, user_name VARCHAR(250) NOT NULL, UNIQUE KEY i_mam_server_user_name"
          " (server, user_name)) CHARACTER SET utf8mb4 ROW_FORMAT=DYNAMIC",
          "CREATE TABLE IF NOT EXISTS mam_message (id BIGINT UNSIGNED NOT NULL, user_id INT UNSIGNED NOT NULL,"
          " from_jid VARCHAR(250) NOT NULL, remote_bare_jid VARCHAR(250) NOT NULL,"
          " remote_resource VARCHAR(250) NOT NULL, direction CHAR(1) NOT NULL, message MEDIUMTEXT NOT NULL,"
          " search_body MEDIUMTEXT, origin_id VARCHAR(250), is_groupchat BOOLEAN NOT NULL DEFAULT FALSE,"
          " PRIMARY KEY (user_id, id), INDEX i_mam_message_rem (user_id, remote_bare_jid, id))"
          " CHARACTER SET utf8mb4 ROW_FORMAT=DYNAMIC",
          "CREATE TABLE IF NOT EXISTS mam_muc_message (id BIGINT UNSIGNED NOT NULL, room_id INT UNSIGNED NOT NULL,"
          " sender_jid VARCHAR(250) NOT NULL, nick_name VARCHAR(250) NOT NULL, message MEDIUMTEXT NOT NULL,"
          " search_body MEDIUMTEXT, origin_id VARCHAR(250), PRIMARY KEY (room_id, id),"
          " INDEX i_mam_muc_message_sender (room_id, sender_jid, id)) CHARACTER SET utf8mb4 ROW_FORMAT=DYNAMIC",
          "CREATE TABLE IF NOT EXISTS mam_config (user_id INT UNSIGNED NOT NULL, remote_jid VARCHAR(250) NOT NULL,"
          " behaviour CHAR(1) NOT NULL, PRIMARY KEY (user_id, remote_jid)) CHARACTER SET utf8mb4"};
    case Dialect::sqlite:
    default:
      return {
          "CREATE TABLE IF NOT EXISTS mam_server_user (id INTEGER PRIMARY KEY AUTOINCREMENT,"
          " server VARCHAR(250) NOT NULL, user_name VARCHAR(250) NOT NULL)",
          "CREATE UNIQUE INDEX IF NOT EXISTS i_mam_server_user_name ON mam_server_user (server, user_name)",
          "CREATE TABLE IF NOT EXISTS mam_message (id BIGINT NOT NULL, user_id INT NOT NULL,"
          " from_jid VARCHAR(250) NOT NULL, remote_bare_jid VARCHAR(250) NOT NULL,"
          " remote_resource VARCHAR(250) NOT NULL, direction CHAR(1) NOT NULL, message TEXT NOT NULL,"
          " search_body TEXT, origin_id VARCHAR(250), is_groupchat BOOLEAN NOT NULL DEFAULT 0,"
          " PRIMARY KEY (user_id, id))",
          "CREATE INDEX IF NOT EXISTS i_mam_message_rem ON mam_message (user_id, remote_bare_jid, id)",
          "CREATE TABLE IF NOT EXISTS mam_muc_message (id BIGINT NOT NULL, room_id INT NOT NULL,"
          " sender_jid VARCHAR(250) NOT NULL, nick_name VARCHAR(250) NOT NULL, message TEXT NOT NULL,"
          " search_body TEXT, origin_id VARCHAR(250), PRIMARY KEY (room_id, id))",
          "CREATE INDEX IF NOT EXISTS i_mam_muc_message_sender ON mam_muc_message (room_id, sender_jid, id)",
          "CREATE TABLE IF NOT EXISTS mam_config (user_id INT NOT NULL, remote_jid VARCHAR(250) NOT NULL,"
          " behaviour CHAR(1) NOT NULL, PRIMARY KEY (user_id, remote_jid))"};
  }
}

StmtViews insert_messages(Dialect, const av_mam_record* recs, size_t n, const std::vector<int64_t>& uids) {
  StmtViews s;
  if (n == 0) return s;
  const bool muc = recs[0].kind == AV_MAM_MUC;
  s.sql.reserve(160 + n * 64);
  s.params.reserve(n * 6);
  if (muc)
    s.sql = "INSERT INTO mam_muc_message (id, room_id, sender_jid, nick_name, message, search_body, origin_id) VALUES ";
  else
    s.sql = "INSERT INTO mam_message (id, user_id, from_jid, remote_bare_jid, remote_resource, direction, message,"
            " search_body, origin_id) VALUES ";
  for (size_t i = 0; i < n; ++i) {
    const av_mam_record& r = recs[i];
    if (i) s.sql += ',';
    s.sql += '(';
    s.sql += std::to_string(r.id);
    s.sql += ',';
    s.sql += std::to_string(uids[i]);
    // Strings never bind NULL where the column is NOT NULL: "" instead.
    auto text = [](av_str v) { return v.ptr ? v : av_strn("", 0); };
    auto or_null = [](av_str v) { return v.len ? v : av_strn(nullptr, 0); };
    if (muc) {
      s.sql += ",?,?,?,?,?)";
      s.params.push_back(text(r.remote_bare));
      s.params.push_back(text(r.remote_resource));
    } else {
      s.sql += r.direction == AV_MAM_OUTGOING ? ",?,?,?,'O',?,?,?)" : ",?,?,?,'I',?,?,?)";
      s.params.push_back(text(r.from_jid));
      s.params.push_back(text(r.remote_bare));
      s.params.push_back(text(r.remote_resource));
    }
    s.params.push_back(text(r.xml));
    s.params.push_back(or_null(r.search_body));
    s.params.push_back(or_null(r.origin_id));
  }
  return s;
}

Stmt insert_archives(Dialect d, const std::vector<std::pair<std::string, std::string>>& su) {
  Stmt s;
  s.sql = d == Dialect::sqlite ? "INSERT OR IGNORE INTO" : d == Dialect::mysql ? "INSERT IGNORE INTO" : "INSERT INTO";
  s.sql += " mam_server_user (server, user_name) VALUES ";
  for (size_t i = 0; i < su.size(); ++i) {
    s.sql += i ? ",(?,?)" : "(?,?)";
    s.params.emplace_back(su[i].first);
    s.params.emplace_back(su[i].second);
  }
  if (d == Dialect::pgsql) s.sql += " ON CONFLICT (server, user_name) DO NOTHING";
  return s;
}

Stmt select_archives(const std::vector<std::pair<std::string, std::string>>& su) {
  Stmt s;
  s.sql = "SELECT id, server, user_name FROM mam_server_user WHERE ";
  for (size_t i = 0; i < su.size(); ++i) {
    s.sql += i ? " OR (server = ? AND user_name = ?)" : "(server = ? AND user_name = ?)";
    s.params.emplace_back(su[i].first);
    s.params.emplace_back(su[i].second);
  }
  return s;
}

Stmt select_page(Dialect, const av_mam_lookup& q, int64_t uid) {
  Stmt s;
  s.sql = q.filter.kind == AV_MAM_MUC ? "SELECT id, nick_name, message FROM mam_muc_message"
                                      : "SELECT id, from_jid, message FROM mam_message";
  where(q.filter, uid, s);
  s.sql += q.backward ? " ORDER BY id DESC" : " ORDER BY id ASC";
  s.sql += " LIMIT " + std::to_string(q.limit);
  if (q.offset) s.sql += " OFFSET " + std::to_string(q.offset);
  return s;
}

Stmt select_counts(const av_mam_lookup& q, int64_t uid, int64_t first_id) {
  av_mam_filter f = q.filter;
  f.min_id = q.count_min_id;
  f.max_id = q.count_max_id;
  // With a limit, each count reads at most limit + 1 index entries: COUNT over a LIMITed
  // subquery (the derived tables need names on PostgreSQL and MySQL).
  const std::string cap = q.count_limit ? " LIMIT " + std::to_string(uint64_t(q.count_limit) + 1) : "";
  Stmt all, before;
  all.sql = std::string("SELECT 1 FROM ") + table(f.kind);
  where(f, uid, all);
  all.sql += cap;
  before.sql = std::string("SELECT 1 FROM ") + table(f.kind);
  where(f, uid, before);
  before.sql += " AND id < " + std::to_string(first_id) + cap;
  Stmt s;
  s.sql = "SELECT (SELECT COUNT(*) FROM (" + all.sql + ") ca), (SELECT COUNT(*) FROM (" + before.sql + ") cb)";
  s.params = all.params;
  s.params.insert(s.params.end(), before.params.begin(), before.params.end());
  return s;
}

Stmt update_message(av_mam_kind kind, int64_t uid, int64_t id, const std::string& xml, const std::string& search) {
  Stmt s;
  s.sql = std::string("UPDATE ") + table(kind) + " SET message = ?, search_body = ? WHERE " + owner_col(kind) +
          " = " + std::to_string(uid) + " AND id = " + std::to_string(id);
  s.params = {xml, search.empty() ? Param() : Param(search)};
  return s;
}

std::vector<Stmt> remove_archive(av_mam_kind kind, int64_t uid) {
  std::vector<Stmt> out;
  out.push_back({std::string("DELETE FROM ") + table(kind) + " WHERE " + owner_col(kind) + " = " + std::to_string(uid), {}});
  if (kind == AV_MAM_PM) out.push_back({"DELETE FROM mam_config WHERE user_id = " + std::to_string(uid), {}});
  return out;
}

Stmt select_prefs(int64_t uid) {
  return {"SELECT remote_jid, behaviour FROM mam_config WHERE user_id = " + std::to_string(uid), {}};
}

Stmt delete_prefs(int64_t uid) { return {"DELETE FROM mam_config WHERE user_id = " + std::to_string(uid), {}}; }

Stmt insert_prefs(int64_t uid, char def, const std::vector<std::pair<std::string, char>>& jids) {
  Stmt s;
  s.sql = "INSERT INTO mam_config (user_id, remote_jid, behaviour) VALUES ";
  auto row = [&](const std::string& jid, char b) {
    if (!s.params.empty()) s.sql += ',';
    s.sql += "(" + std::to_string(uid) + ",?,?)";
    s.params.emplace_back(jid);
    s.params.emplace_back(std::string(1, b));
  };
  row("", def);
  for (auto& [j, b] : jids) row(j, b);
  return s;
}

Stmt select_all_prefs() {
  return {"SELECT s.server, s.user_name, c.remote_jid, c.behaviour FROM mam_config c"
          " JOIN mam_server_user s ON s.id = c.user_id ORDER BY c.user_id",
          {}};
}

}  // namespace mod_mam_rdbms
