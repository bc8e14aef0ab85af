// The host side of "av.storage.sql/1": SQL connection pools on SOCI (SQLite, PostgreSQL,
// MySQL/MariaDB).
//
// Each pool (outgoing_pools.rdbms.<tag>) owns N connections and N dedicated worker threads
// that take queries from the pool's bounded FIFO queue. query() copies the statement and its
// parameters, a worker runs it, builds an av_sql_result (every value as text, SQL NULL kept
// apart from ""), and posts the done callback to the executor the caller asked for.
// query_sync() runs on the calling thread with a connection borrowed from the same pool.
//
// Statement text rules (for module authors):
//  - Placeholders are '?', outside quotes, comments and PostgreSQL $tag$...$tag$ strings.
//    Quotes: '...' and "..." everywhere; SQLite also `...` and [...]; MySQL `...`, and
//    backslash escapes inside '...' and "..." (as MySQL reads them: each connection turns off
//    ANSI_QUOTES and NO_BACKSLASH_ESCAPES in its sql_mode, keeping the rest of the server's).
//    PostgreSQL's jsonb '?' operators therefore cannot be written literally: use
//    jsonb_exists() and friends. Do not write SOCI-style ":name" placeholders yourself.
//  - Comments (--, /* */; MySQL also #) are removed before the text reaches the driver. MySQL
//    reads "--" as a comment only before whitespace ("1--1" is arithmetic) and keeps its
//    executable comments and hints (/*! */, /*M! */, /*+ */) as they are. PostgreSQL $$...$$
//    strings are passed on as the equivalent '...' string.
//  - SQLite and PostgreSQL: outside quotes, do not write ':' before a name or digit (SOCI 4.0
//    and SQLite take ":x" for a bind name): PostgreSQL "::" casts and ":=" are fine, array
//    slices a[1:2] are not (use a function). MySQL text does not go through SOCI's scan: no
//    such rule there.
//  - Parameters are text and must not contain NUL bytes (AV_E_INVALID_ARG); the server
//    converts them from their context, e.g. "? + 1". MySQL receives them as quoted string
//    literals (escaped by the client library, in utf8mb4), so they cannot stand where MySQL
//    wants a number literal: "LIMIT ?" fails there (use a number written into the text).
//  - One statement per query when it has parameters. A parameterless query may hold several
//    statements separated by ';' (schema scripts); it then returns no rows on SQLite, the
//    last statement's rows on PostgreSQL, and on MySQL the rows of the last statement that
//    returned rows (a CALL's SELECT) with the last statement's affected count. Scripts stop
//    at the first failing statement on all three.
//  - There is no transaction API: consecutive queries may run on different connections. A
//    query that leaves a transaction open (a lone BEGIN, or a script that failed half-way) is
//    rolled back and reported as an error, so no connection is ever handed on mid-transaction.
//    Put a transaction in one parameterless script, or use single statements (CTEs, UPSERTs).
//    MySQL commits implicitly before and after DDL (CREATE, ALTER, DROP ...), even there.
//  - Queries in flight may complete in any order on pools with more than one worker; chain
//    them from done callbacks when order matters. A SQLite pool has a single worker (FIFO).
//  - affected(): rows inserted/updated/deleted by the (last) statement, 0 for a SELECT. An
//    UPDATE counts the rows it matched on all three (MySQL: CLIENT_FOUND_ROWS), also those
//    it left unchanged.
//
// Invalid calls (NULL pool/sql/done, '?' count != nparams, parameters on a multi-statement
// query) return AV_E_INVALID_ARG from query() without calling done; query_sync() reports
// them through done as well (unless done or the pool is NULL). An error in the statement
// itself is AV_E_IO with the driver's message in error() (MySQL: "<message> [error N,
// SQLSTATE S]"). A PostgreSQL or MySQL query that fails on a dropped connection (server
// restart, idle timeout) is retried once on a fresh connection.
//
// MySQL connections use utf8mb4 (all of Unicode; create tables with CHARACTER SET utf8mb4)
// and port 3306 by default; host "localhost" means the client library's default unix
// socket, as everywhere in MySQL. MariaDB and MySQL servers both work.
//
// Build note: sql_pool.cpp includes <soci/postgresql/soci-postgresql.h>, which includes
// <libpq-fe.h>; Debian installs that in /usr/include/postgresql, so that directory must be on
// the include path of whatever compiles sql_pool.cpp. Likewise <soci/mysql/soci-mysql.h>
// includes <mysql.h>: /usr/include/mariadb with Debian's libmariadb-dev (host/CMakeLists.txt
// finds it).
#pragma once

#include "core/executors.hpp"

#include <aviary/ext/storage_sql.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace aviary {

struct SqlPoolConfig {
  std::string tag = "default";  // outgoing_pools.rdbms.<tag>
  std::string driver;           // "sqlite" | "pgsql" | "mysql"
  std::string database;         // sqlite: file path (parent dir must exist); else: db name
  std::string host = "127.0.0.1";  // mysql: "localhost" means the default unix socket
  int port = 0;                    // 0: the driver's default, 5432 (pgsql) or 3306 (mysql)
  std::string username, password;
  int workers = 4;  // connections = worker threads (SQLite: always 1, see sql_pool.cpp)
  size_t max_queue = 10000;  // queued (not yet running) queries beyond this -> AV_E_BUSY
  int connect_timeout_s = 5;
};

class SqlPools {
 public:
  explicit SqlPools(Executors& ex);
  ~SqlPools();  // shutdown(): runs every queued query, then stops the workers
  SqlPools(const SqlPools&) = delete;
  SqlPools& operator=(const SqlPools&) = delete;

  // [main] Opens every pool's connections now. On failure nothing stays open, and *err reads
  // like "outgoing_pools.rdbms.default: cannot connect to PostgreSQL at 127.0.0.1:5432
  // (database aviary): <driver message>". Call once.
  bool open(const std::vector<SqlPoolConfig>& pools, std::string* err);

  // [any-thread] The C table. Its pool(tag) finds the pools opened above (the most recently
  // constructed live SqlPools wins if, as in tests, several exist).
  const av_ext_storage_sql_v1* ext() const;

  // [main] Stops accepting queries (query() -> AV_E_BUSY, query_sync() -> done with
  // AV_E_BUSY), runs what is queued, joins the workers, closes the connections. Idempotent.
  // Must not be called from a pool worker thread (e.g. from a done callback that fell back to
  // running there).
  void shutdown();

  // [main] Waits until no query is queued or running, i.e. every accepted query has had its
  // done posted (or called). false if that did not happen by `deadline`.
  bool wait_idle(std::chrono::steady_clock::time_point deadline);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

namespace sql_detail {

enum class Dialect { sqlite, pgsql, mysql };

// The '?' rewrite, exposed for tests. Returns false with *err on bad input.
struct Translated {
  std::string sql;          // text for the driver, comments removed; PostgreSQL: '?' -> :p0,
                            // :p1, ... (SOCI binds by name); SQLite: '?' (bound by position);
                            // MySQL: '?' kept, see holes
  size_t placeholders = 0;  // number of '?' replaced
  bool multiple = false;    // more than one statement (a ';' followed by more text)
  std::vector<size_t> holes;  // MySQL: offset in sql of each placeholder's '?', in order
};
bool translate(std::string_view sql, Dialect d, Translated* out, std::string* err);
bool translate(std::string_view sql, bool pgsql, Translated* out, std::string* err);  // sqlite/pgsql

}  // namespace sql_detail
}  // namespace aviary
