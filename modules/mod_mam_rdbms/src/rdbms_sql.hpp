// mod_mam_rdbms: the SQL text for the archive tables (MongooseIM's mam_server_user,
// mam_message, mam_muc_message, mam_config) on SQLite, PostgreSQL and MySQL/MariaDB. Pure.
//
// Indexes: the primary key (archive, id) and (archive, with, id) only. Every further index
// costs a random B-tree insert per archived row (on SQLite a third index cut the write rate by
// a quarter); retraction's origin-id lookup, which is rare, scans the conversation with that
// peer through (archive, with, id), newest first.
//
// Numbers (message ids, archive ids, limits) are written into the text as literals: MySQL
// compares a BIGINT column with a string parameter as a double, which loses the low bits of
// 64-bit MAM ids; strings are always '?' parameters.
#pragma once

#include <aviary/ext/draft/mam.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mod_mam_rdbms {

enum class Dialect { sqlite, pgsql, mysql };

using Param = std::optional<std::string>;
struct Stmt {
  std::string sql;
  std::vector<Param> params;
};

std::vector<std::string> schema(Dialect d);

// INSERT of records whose archive ids are uids[i] (all of the same kind). The parameters are
// views into recs ({NULL,0} for SQL NULL): valid while recs are.
struct StmtViews {
  std::string sql;
  std::vector<av_str> params;
};
StmtViews insert_messages(Dialect d, const av_mam_record* recs, size_t n, const std::vector<int64_t>& uids);

// Archive ids: create the missing ones, then read them back.
Stmt insert_archives(Dialect d, const std::vector<std::pair<std::string, std::string>>& server_user);
Stmt select_archives(const std::vector<std::pair<std::string, std::string>>& server_user);

// The page: "SELECT id, from_jid, message ...", in scan order.
Stmt select_page(Dialect d, const av_mam_lookup& q, int64_t uid);
// "SELECT COUNT(*) filtered, COUNT(*) filtered AND id < first_id".
Stmt select_counts(const av_mam_lookup& q, int64_t uid, int64_t first_id);

Stmt update_message(av_mam_kind kind, int64_t uid, int64_t id, const std::string& xml, const std::string& search);
std::vector<Stmt> remove_archive(av_mam_kind kind, int64_t uid);

Stmt select_prefs(int64_t uid);
Stmt delete_prefs(int64_t uid);
Stmt insert_prefs(int64_t uid, char def, const std::vector<std::pair<std::string, char>>& jids);
Stmt select_all_prefs();

}  // namespace mod_mam_rdbms
