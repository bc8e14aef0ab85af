// The host side of "av.storage.sql/1" on SOCI 4.0 (see sql_pool.hpp for the contract).
//
// Structure: one av_sql_pool per outgoing_pools.rdbms.<tag>. It owns its SOCI sessions (the
// connections), an idle list of them, a bounded FIFO of jobs and one thread per connection.
// A worker takes a job, borrows an idle session, runs the statement, returns the session and
// then hands the result to the done callback through Executors::post. query_sync borrows a
// session the same way on the caller's thread.
//
// Results are read as text on every backend, whatever the column types:
//  - SQLite: every column is bound as `into(std::string, indicator)`, which SOCI's SQLite
//    backend fills from sqlite3_column_text(). (soci::row is not used: it types columns from
//    their declared type, reads an INTEGER column through sqlite3_column_int, which truncates
//    64-bit values, and for undeclared columns steps the statement once more to guess.)
//  - PostgreSQL: the statement is run without into elements and the rows are copied from the
//    PGresult SOCI keeps in its statement backend: libpq already has every value as text, so
//    numeric, timestamptz, bool, enum, array, uuid, bytea (hex) ... come back exactly as the
//    server prints them. (soci::row would turn numeric into double, timestamps into std::tm,
//    and refuses enums and arrays as "unknown data type".)
//  - MySQL/MariaDB: SOCI only opens (and reopens) the connection. Statements go straight to
//    the client library on the session's MYSQL handle: the parameters are spliced into the
//    text as quoted literals escaped by mysql_real_escape_string() (what SOCI's MySQL
//    backend does too, and what the text protocol needs to return every value as the
//    server prints it), mysql_real_query() runs it, and each result set is read from
//    mysql_store_result() row by row with the lengths (binary values keep their NUL bytes).
//    SOCI's own statement would scan the text for ":name" knowing only '...' quotes, and
//    would not run scripts.
#include "ext/sql_pool.hpp"

#if defined(__has_include)
#if !__has_include(<libpq-fe.h>)
#error "sql_pool.cpp needs libpq-fe.h (via soci-postgresql.h): add /usr/include/postgresql to the include path"
#endif
#if !__has_include(<mysql.h>)
#error "sql_pool.cpp needs mysql.h (via soci-mysql.h): add /usr/include/mariadb (libmariadb-dev) to the include path"
#endif
#endif

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/mysql/soci-mysql.h>

#include <pthread.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <new>
#include <thread>
#include <utility>

namespace {

struct Job {
  std::string sql;  // translated (PostgreSQL ":pN", SQLite '?' placeholders; MySQL: '?' at holes)
  bool multiple = false;
  std::vector<size_t> holes;  // MySQL only
  std::vector<std::string> params;
  std::vector<soci::indicator> nulls;  // i_null where the av_str had ptr == NULL
  av_executor reply_on = 0;
  av_sql_done_fn done = nullptr;
  void* user = nullptr;
};

}  // namespace

struct av_sql_result {
  size_t nrows = 0, ncols = 0;
  std::vector<std::string> cells;   // row-major, nrows * ncols
  std::vector<unsigned char> null;  // parallel to cells
  int64_t affected = 0;
  std::string error;

  void clear_data() {
    nrows = ncols = 0;
    cells.clear();
    null.clear();
    affected = 0;
  }
};

struct av_sql_pool {
  aviary::SqlPoolConfig cfg;
  aviary::Executors* ex = nullptr;
  aviary::sql_detail::Dialect dialect = aviary::sql_detail::Dialect::sqlite;
  bool pg() const { return dialect == aviary::sql_detail::Dialect::pgsql; }
  bool my() const { return dialect == aviary::sql_detail::Dialect::mysql; }

  std::mutex mu;
  std::condition_variable job_cv;   // a job was queued, or stopping was set
  std::condition_variable conn_cv;  // a session went back to the idle list
  std::condition_variable idle_cv;  // a worker delivered a job (see SqlPools::wait_idle)
  std::deque<Job> jobs;
  size_t running = 0;               // jobs taken by a worker whose done is not posted yet
  std::vector<std::unique_ptr<soci::session>> conns;
  std::vector<soci::session*> idle;
  std::vector<std::thread> threads;
  bool stopping = false;  // no new queries; workers leave once the queue is empty
  bool closed = false;    // sessions destroyed
};

struct aviary::SqlPools::Impl {
  Executors& ex;
  std::vector<std::unique_ptr<av_sql_pool>> pools;
  bool opened = false;
  bool shut = false;
  std::mutex shut_mu;
  explicit Impl(Executors& e) : ex(e) {}
};

namespace aviary {
namespace sql_detail {

namespace {

bool ident_char(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '_' || c == '$' || u >= 0x80;
}

// Index just past a quoted run that starts at `open` (the opening quote itself), or n if it
// is not terminated. A doubled closing quote ('' or "") stays inside when `doubling`.
size_t skip_quoted(std::string_view s, size_t open, char close, bool doubling) {
  size_t n = s.size();
  for (size_t j = open + 1; j < n; ++j) {
    if (s[j] == close) {
      if (doubling && j + 1 < n && s[j + 1] == close) {
        ++j;
        continue;
      }
      return j + 1;
    }
  }
  return n;
}

// PostgreSQL dollar quote starting at s[i] == '$': returns the tag ("$$" or "$name$") or "".
std::string_view dollar_tag(std::string_view s, size_t i) {
  size_t j = i + 1;
  if (j < s.size() && s[j] == '$') return s.substr(i, 2);
  if (j >= s.size()) return {};
  unsigned char first = static_cast<unsigned char>(s[j]);
  if (!(std::isalpha(first) || s[j] == '_' || first >= 0x80)) return {};  // "$1" is a parameter
  while (j < s.size() && s[j] != '$') {
    unsigned char u = static_cast<unsigned char>(s[j]);
    if (!(std::isalnum(u) || s[j] == '_' || u >= 0x80)) return {};
    ++j;
  }
  if (j >= s.size()) return {};
  return s.substr(i, j - i + 1);
}

}  // namespace

bool translate(std::string_view in, Dialect d, Translated* out, std::string* err) {
  if (in.find('\0') != std::string_view::npos) {
    *err = "SQL text contains a NUL byte";
    return false;
  }
  const bool pgsql = d == Dialect::pgsql, mysql = d == Dialect::mysql, sqlite = d == Dialect::sqlite;
  std::string o;
  o.reserve(in.size() + 16);
  std::vector<size_t> holes;
  size_t n = in.size(), ph = 0;
  bool after_semicolon = false, multiple = false;
  auto content = [&] {
    if (after_semicolon) multiple = true;
  };
  size_t i = 0;
  while (i < n) {
    char c = in[i];
    char next = i + 1 < n ? in[i + 1] : '\0';
    if (mysql && (c == '\'' || c == '"')) {
      // MySQL strings: '...' and "..." (without ANSI_QUOTES, which the pool turns off), a
      // doubled quote or a backslash escape (NO_BACKSLASH_ESCAPES is turned off too) inside.
      // Copied as they are: MySQL text never goes through SOCI's ":name" scan.
      content();
      size_t j = i + 1;
      for (; j < n; ++j) {
        if (in[j] == '\\') {
          ++j;
          continue;
        }
        if (in[j] == c) {
          if (j + 1 < n && in[j + 1] == c) {
            ++j;
            continue;
          }
          break;
        }
      }
      size_t end = j < n ? j + 1 : n;
      o.append(in.substr(i, end - i));
      i = end;
    } else if (c == '\'') {
      content();
      bool estring = pgsql && i > 0 && (in[i - 1] == 'E' || in[i - 1] == 'e') && (i < 2 || !ident_char(in[i - 2]));
      if (!estring) {
        size_t end = skip_quoted(in, i, '\'', true);
        o.append(in.substr(i, end - i));
        i = end;
        continue;
      }
      // PostgreSQL E'...' takes backslash escapes. SOCI's own scan for ":name" knows only
      // plain '...' quoting, so an escaped quote (E'it\'s') is rewritten as '' (same value).
      o += '\'';
      size_t j = i + 1;
      for (; j < n; ++j) {
        if (in[j] == '\\' && j + 1 < n) {
          if (in[j + 1] == '\'') {
            o += "''";
          } else {
            o += in[j];
            o += in[j + 1];
          }
          ++j;
          continue;
        }
        o += in[j];
        if (in[j] == '\'') {
          if (j + 1 < n && in[j + 1] == '\'') {
            o += '\'';
            ++j;
            continue;
          }
          break;
        }
      }
      i = j < n ? j + 1 : n;
    } else if (c == '"') {
      content();
      size_t end = skip_quoted(in, i, '"', true);
      o.append(in.substr(i, end - i));
      i = end;
    } else if ((sqlite || mysql) && c == '`') {  // identifier quotes: SQLite's and MySQL's
      content();
      size_t end = skip_quoted(in, i, '`', true);
      o.append(in.substr(i, end - i));
      i = end;
    } else if (sqlite && c == '[') {  // SQLite's other identifier quote
      content();
      size_t end = skip_quoted(in, i, ']', false);
      o.append(in.substr(i, end - i));
      i = end;
    } else if ((c == '-' && next == '-' &&
                // MySQL: "--" starts a comment only before a space or control character
                // ("1--1" is 1 - -1), or at the very end.
                (!mysql || i + 2 >= n || static_cast<unsigned char>(in[i + 2]) <= ' ')) ||
               (mysql && c == '#')) {  // comment to end of line: dropped
      size_t end = in.find('\n', i);
      i = end == std::string_view::npos ? n : end;
      o += ' ';
    } else if (c == '/' && next == '*') {  // block comment (nested in PostgreSQL): dropped
      size_t j = i + 2;
      // MySQL executable comments (/*! ... */, /*M! ... */) and optimizer hints (/*+ ... */)
      // are code for the server: passed on as they are, without '?' inside.
      bool keep = mysql && j < n &&
                  (in[j] == '!' || in[j] == '+' || (in[j] == 'M' && j + 1 < n && in[j + 1] == '!'));
      int depth = 1;
      while (j < n && depth > 0) {
        if (in[j] == '*' && j + 1 < n && in[j + 1] == '/') {
          --depth;
          j += 2;
        } else if (pgsql && in[j] == '/' && j + 1 < n && in[j + 1] == '*') {
          ++depth;
          j += 2;
        } else {
          ++j;
        }
      }
      if (depth > 0) {  // unterminated: leave it to the server to complain
        content();
        o.append(in.substr(i));
        i = n;
      } else if (keep) {
        content();
        o.append(in.substr(i, j - i));
        i = j;
      } else {
        o += ' ';
        i = j;
      }
    } else if (pgsql && c == '$' && (i == 0 || !ident_char(in[i - 1])) && !dollar_tag(in, i).empty()) {
      content();
      std::string_view tag = dollar_tag(in, i);
      size_t close = in.find(tag, i + tag.size());
      if (close == std::string_view::npos) {  // unterminated: the server will say so
        o.append(in.substr(i));
        i = n;
        continue;
      }
      // A dollar-quoted string is a plain string constant; hand it on as '...' (quotes
      // doubled) so that SOCI's ":name" scan, which knows only '...', skips its contents
      // (an apostrophe in a function body would otherwise flip SOCI's idea of quoting).
      // Assumes standard_conforming_strings = on, the default since PostgreSQL 9.1.
      o += '\'';
      for (size_t j = i + tag.size(); j < close; ++j) {
        if (in[j] == '\'') o += '\'';
        o += in[j];
      }
      o += '\'';
      i = close + tag.size();
    } else if (c == '?') {
      content();
      if (mysql) {  // spliced in as a quoted literal when the query runs
        holes.push_back(o.size());
        o += '?';
        ++ph;
      } else if (d == Dialect::sqlite) {
        // A plain '?' (bound by position): SQLite numbers it without a lookup, while each
        // named ":pN" costs a linear search of the names so far (a 30,000-parameter batch
        // insert spent most of its time there).
        o += '?';
        ++ph;
        if (ident_char(next)) o += ' ';  // "?1" would be another parameter
      } else {
        if (!o.empty() && o.back() == ':') o += ' ';  // keep "::" casts and ":p" apart
        o += ":p";
        o += std::to_string(ph++);
        if (ident_char(next)) o += ' ';
      }
      ++i;
    } else if (c == ';') {
      after_semicolon = true;
      o += c;
      ++i;
    } else {
      if (!std::isspace(static_cast<unsigned char>(c))) content();
      o += c;
      ++i;
    }
  }
  out->sql = std::move(o);
  out->placeholders = ph;
  out->multiple = multiple;
  out->holes = std::move(holes);
  return true;
}

bool translate(std::string_view in, bool pgsql, Translated* out, std::string* err) {
  return translate(in, pgsql ? Dialect::pgsql : Dialect::sqlite, out, err);
}

}  // namespace sql_detail
}  // namespace aviary

namespace {

using aviary::SqlPoolConfig;

// Registry behind the C table's pool(tag), which has no context argument.
std::mutex g_reg_mu;
std::vector<aviary::SqlPools::Impl*> g_reg;

std::string trim(std::string s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// Driver messages span lines ("...failed: Connection refused\n\tIs the server running...").
std::string one_line(const std::string& s) {
  std::string t = trim(s), o;
  bool space = false;
  for (char c : t) {
    if (c == '\n' || c == '\r' || c == '\t') {
      space = true;
      continue;
    }
    if (space && !o.empty() && o.back() != ' ') o += ' ';
    space = false;
    o += c;
  }
  return o;
}

std::string soci_message(const soci::soci_error& e) {
  std::string m = e.get_error_message();
  static const char kConn[] = "Cannot establish connection to the database.";
  if (m.compare(0, sizeof kConn - 1, kConn) == 0) m.erase(0, sizeof kConn - 1);
  return one_line(m);
}

// ---- SQLite ---------------------------------------------------------------------------

sqlite_api::sqlite3* sqlite_db(soci::session& s) {
  auto* be = static_cast<soci::sqlite3_session_backend*>(s.get_backend());
  return be ? be->conn_ : nullptr;
}

void sqlite_init(soci::session& s) {
  s << "PRAGMA journal_mode=WAL";
  s << "PRAGMA foreign_keys=ON";
}

std::string sqlite_error(soci::session& s, const soci::soci_error& e) {
  if (dynamic_cast<const soci::sqlite3_soci_error*>(&e)) {
    if (auto* db = sqlite_db(s)) {
      const char* m = sqlite_api::sqlite3_errmsg(db);
      if (m && *m) return m;
    }
  }
  return one_line(e.get_error_message());
}

bool sqlite_attempt(soci::session& s, const Job& j, av_sql_result& r, std::string* err) {
  sqlite_api::sqlite3* db = sqlite_db(s);
  if (!db) {
    *err = "SQLite connection is closed";
    return false;
  }
  long long before = sqlite_api::sqlite3_total_changes64(db);
  if (j.multiple) {
    // A parameterless script: SOCI's SQLite backend would run only its first statement, so
    // hand it to sqlite3_exec, which runs them all (no rows are returned).
    char* msg = nullptr;
    int rc = sqlite_api::sqlite3_exec(db, j.sql.c_str(), nullptr, nullptr, &msg);
    if (rc != SQLITE_OK) {
      *err = msg ? msg : sqlite_api::sqlite3_errstr(rc);
      sqlite_api::sqlite3_free(msg);
      return false;
    }
    r.affected = sqlite_api::sqlite3_total_changes64(db) - before;
    return true;
  }
  soci::statement st(s);
  try {
    st.alloc();
    st.prepare(j.sql);
    // Without executing: sqlite3_column_count() of the prepared statement.
    int ncols = st.get_backend()->prepare_for_describe();
    std::vector<std::string> vals(static_cast<size_t>(ncols));
    std::vector<soci::indicator> inds(static_cast<size_t>(ncols), soci::i_ok);
    for (int c = 0; c < ncols; ++c) st.exchange(soci::into(vals[c], inds[c]));
    std::vector<soci::indicator> pinds = j.nulls;  // use() wants a mutable indicator
    for (size_t i = 0; i < j.params.size(); ++i) st.exchange(soci::use(j.params[i], pinds[i]));
    st.define_and_bind();
    r.ncols = static_cast<size_t>(ncols);
    bool got = st.execute(true);
    while (got) {
      for (int c = 0; c < ncols; ++c) {
        bool is_null = inds[c] == soci::i_null;
        r.null.push_back(is_null ? 1 : 0);
        r.cells.push_back(is_null ? std::string() : vals[c]);
      }
      ++r.nrows;
      got = st.fetch();
    }
    // sqlite3_changes() keeps the count of the last INSERT/UPDATE/DELETE, also across a later
    // SELECT or CREATE; only trust it when this statement changed something.
    if (sqlite_api::sqlite3_total_changes64(db) != before) r.affected = sqlite_api::sqlite3_changes64(db);
    return true;
  } catch (const soci::soci_error& e) {
    *err = sqlite_error(s, e);
    return false;
  }
}

// Rolls back a transaction the statement left open. Returns true if it had to.
bool sqlite_close_txn(soci::session& s) {
  sqlite_api::sqlite3* db = sqlite_db(s);
  if (!db || sqlite_api::sqlite3_get_autocommit(db)) return false;
  sqlite_api::sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  return true;
}

// ---- PostgreSQL -----------------------------------------------------------------------

PGconn* pg_conn(soci::session& s) {
  auto* be = static_cast<soci::postgresql_session_backend*>(s.get_backend());
  return be ? be->conn_ : nullptr;
}

// libpq prints NOTICE/WARNING messages ("table ... does not exist, skipping") to stderr by
// default. They are informational and the API has no channel for them: drop them.
void pg_ignore_notice(void*, const char*) {}

void pg_quiet(soci::session& s) {
  if (PGconn* c = pg_conn(s)) PQsetNoticeProcessor(c, pg_ignore_notice, nullptr);
}

std::string pg_result_error(const PGresult* res) {
  const char* primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
  if (!primary) return one_line(PQresultErrorMessage(res));
  std::string m = primary;
  if (const char* detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL)) {
    m += " (";
    m += detail;
    m += ")";
  }
  if (const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE)) {
    m += " [SQLSTATE ";
    m += state;
    m += "]";
  }
  return one_line(m);
}

std::string pg_error(soci::session& s, soci::statement* st, const soci::soci_error& e) {
  if (st && st->get_backend()) {
    auto* be = static_cast<soci::postgresql_statement_backend*>(st->get_backend());
    const PGresult* res = be->result_.get_result();
    if (res && PQresultStatus(res) == PGRES_FATAL_ERROR) {
      std::string m = pg_result_error(res);
      if (!m.empty()) return m;
    }
  }
  if (PGconn* c = pg_conn(s)) {
    if (PQstatus(c) != CONNECTION_OK) {
      std::string m = one_line(PQerrorMessage(c));
      if (!m.empty()) return m;
    }
  }
  return soci_message(e);
}

bool pg_attempt(soci::session& s, const Job& j, av_sql_result& r, std::string* err) {
  std::unique_ptr<soci::statement> st;
  try {
    st = std::make_unique<soci::statement>(s);  // throws when the session is disconnected
    st->alloc();
    // One-time query: PQexecParams (PQexec without parameters, which also runs scripts)
    // instead of PQprepare + PQexecPrepared + DEALLOCATE: one round trip instead of three.
    st->prepare(j.sql, soci::details::st_one_time_query);
    std::vector<soci::indicator> pinds = j.nulls;
    for (size_t i = 0; i < j.params.size(); ++i) st->exchange(soci::use(j.params[i], pinds[i]));
    st->define_and_bind();
    st->execute(false);  // runs the statement; every row stays in the backend's PGresult
    auto* be = static_cast<soci::postgresql_statement_backend*>(st->get_backend());
    const PGresult* res = be->result_.get_result();
    if (!res) {
      *err = "no result from the server";
      return false;
    }
    int nrows = PQntuples(res), ncols = PQnfields(res);
    r.ncols = static_cast<size_t>(ncols);
    r.nrows = static_cast<size_t>(nrows);
    r.cells.reserve(r.nrows * r.ncols);
    r.null.reserve(r.nrows * r.ncols);
    for (int row = 0; row < nrows; ++row) {
      for (int c = 0; c < ncols; ++c) {
        bool is_null = PQgetisnull(res, row, c) != 0;
        r.null.push_back(is_null ? 1 : 0);
        if (is_null)
          r.cells.emplace_back();
        else
          r.cells.emplace_back(PQgetvalue(res, row, c), static_cast<size_t>(PQgetlength(res, row, c)));
      }
    }
    // PQcmdTuples: rows inserted/updated/deleted/merged/copied; "" for DDL. A SELECT reports
    // the rows it returned, which is not "affected": 0 there, as on SQLite.
    const char* status = PQcmdStatus(const_cast<PGresult*>(res));
    bool select = status && std::string_view(status).substr(0, 7) == "SELECT ";
    const char* tuples = PQcmdTuples(const_cast<PGresult*>(res));
    r.affected = (!select && tuples && *tuples) ? std::strtoll(tuples, nullptr, 10) : 0;
    return true;
  } catch (const soci::soci_error& e) {
    *err = pg_error(s, st.get(), e);
    return false;
  }
}

bool pg_close_txn(soci::session& s) {
  PGconn* c = pg_conn(s);
  if (!c || PQstatus(c) != CONNECTION_OK) return false;
  PGTransactionStatusType t = PQtransactionStatus(c);
  if (t != PQTRANS_INTRANS && t != PQTRANS_INERROR) return false;
  PQclear(PQexec(c, "ROLLBACK"));
  return true;
}

// ---- MySQL / MariaDB ------------------------------------------------------------------

MYSQL* my_conn(soci::session& s) {
  auto* be = static_cast<soci::mysql_session_backend*>(s.get_backend());
  return be ? be->conn_ : nullptr;
}

// Client error codes (CR_*, errmsg.h) and server codes (ER_*) that mean the connection is
// gone: worth one reconnect. Not in every client library's headers by name, hence numbers.
bool my_lost(unsigned e) {
  switch (e) {
    case 2002:  // CR_CONNECTION_ERROR (unix socket)
    case 2003:  // CR_CONN_HOST_ERROR
    case 2006:  // CR_SERVER_GONE_ERROR: "server has gone away"
    case 2013:  // CR_SERVER_LOST: "Lost connection to server during query"
    case 2055:  // CR_SERVER_LOST_EXTENDED
    case 1053:  // ER_SERVER_SHUTDOWN
    case 1927:  // ER_CONNECTION_KILLED (MariaDB)
    case 4031:  // ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8: wait_timeout expired)
      return true;
    default:
      return false;
  }
}

// "Duplicate entry '2' for key 'PRIMARY' [error 1062, SQLSTATE 23000]".
std::string my_error(MYSQL* c) {
  std::string m = one_line(mysql_error(c));
  unsigned e = mysql_errno(c);
  if (e == 0) return m.empty() ? "unknown MySQL error" : m;
  m += " [error " + std::to_string(e);
  const char* state = mysql_sqlstate(c);
  if (state && *state && std::string_view(state) != "00000") m += std::string(", SQLSTATE ") + state;
  m += "]";
  return m;
}

// Per connection, after every (re)connect. The quoting rules translate() applies assume the
// default string syntax: drop the sql_mode flags that change it (ANSI_QUOTES: "..." is an
// identifier; NO_BACKSLASH_ESCAPES: '\' is a plain character; ANSI implies ANSI_QUOTES).
// Everything else in the server's sql_mode is kept. Throws soci_error.
void my_init(soci::session& s) {
  MYSQL* c = my_conn(s);
  if (!c) throw soci::soci_error("MySQL connection is closed");
  auto fail = [c] { throw soci::mysql_soci_error(my_error(c), mysql_errno(c)); };
  static const char kGet[] = "SELECT @@SESSION.sql_mode";
  if (mysql_real_query(c, kGet, sizeof kGet - 1) != 0) fail();
  MYSQL_RES* res = mysql_store_result(c);
  if (!res) fail();
  std::string mode;
  if (MYSQL_ROW row = mysql_fetch_row(res)) {
    unsigned long* len = mysql_fetch_lengths(res);
    if (row[0] && len) mode.assign(row[0], len[0]);
  }
  mysql_free_result(res);
  std::string kept;
  bool changed = false;
  size_t b = 0;
  while (b <= mode.size()) {
    size_t e = mode.find(',', b);
    if (e == std::string::npos) e = mode.size();
    std::string flag = mode.substr(b, e - b);
    if (flag == "ANSI_QUOTES" || flag == "NO_BACKSLASH_ESCAPES" || flag == "ANSI") {
      changed = true;
    } else if (!flag.empty()) {
      if (!kept.empty()) kept += ',';
      kept += flag;
    }
    b = e + 1;
  }
  if (!changed) return;
  std::string set = "SET SESSION sql_mode = '" + kept + "'";  // flag names: [A-Z_] only
  if (mysql_real_query(c, set.data(), set.size()) != 0) fail();
}

// Reads one result set into r (replacing what was there).
void my_take_rows(MYSQL_RES* res, av_sql_result& r) {
  r.clear_data();
  unsigned ncols = mysql_num_fields(res);
  r.ncols = ncols;
  r.nrows = static_cast<size_t>(mysql_num_rows(res));
  r.cells.reserve(r.nrows * r.ncols);
  r.null.reserve(r.nrows * r.ncols);
  size_t got = 0;
  while (MYSQL_ROW row = mysql_fetch_row(res)) {
    unsigned long* len = mysql_fetch_lengths(res);
    for (unsigned c = 0; c < ncols; ++c) {
      bool is_null = row[c] == nullptr;
      r.null.push_back(is_null ? 1 : 0);
      if (is_null)
        r.cells.emplace_back();
      else
        r.cells.emplace_back(row[c], static_cast<size_t>(len[c]));
    }
    ++got;
  }
  r.nrows = got;
}

// *lost: the failure was (most likely) a dropped connection.
bool my_attempt(soci::session& s, const Job& j, av_sql_result& r, std::string* err, bool* lost) {
  MYSQL* c = my_conn(s);
  if (!c) {  // a reconnect failed earlier: the session has no connection
    *err = "MySQL connection is closed";
    *lost = true;
    return false;
  }
  auto fail = [&] {
    *err = my_error(c);
    *lost = my_lost(mysql_errno(c));
    return false;
  };
  // The parameters, as '...' literals in the connection's character set (utf8mb4).
  std::string text;
  const std::string* sql = &j.sql;
  if (!j.holes.empty()) {
    size_t extra = 0;
    for (auto& v : j.params) extra += 2 * v.size() + 3;
    text.reserve(j.sql.size() + extra);
    size_t from = 0;
    for (size_t i = 0; i < j.holes.size(); ++i) {
      text.append(j.sql, from, j.holes[i] - from);
      from = j.holes[i] + 1;  // past the '?'
      if (j.nulls[i] == soci::i_null) {
        text += "NULL";
        continue;
      }
      const std::string& v = j.params[i];
      size_t at = text.size();
      text.resize(at + 2 * v.size() + 2);  // quote, worst case escaped, the library's NUL
      text[at] = '\'';
      unsigned long w = mysql_real_escape_string(c, &text[at + 1], v.data(), static_cast<unsigned long>(v.size()));
      if (w == static_cast<unsigned long>(-1)) {
        *err = "cannot escape parameter " + std::to_string(i) + " for MySQL";
        return false;
      }
      text.resize(at + 1 + w);
      text += '\'';
    }
    text.append(j.sql, from, std::string::npos);
    sql = &text;
  }
  // Several statements only for a parameterless script (make_job checked), and only for
  // the time it runs: a statement we took for one cannot turn into several.
  if (j.multiple && mysql_set_server_option(c, MYSQL_OPTION_MULTI_STATEMENTS_ON) != 0) return fail();
  bool ok = true;
  if (mysql_real_query(c, sql->data(), static_cast<unsigned long>(sql->size())) != 0) {
    ok = fail();
  } else {
    // Every result must be read before the connection takes the next query. Rows: those of
    // the last result set (a script's last SELECT, a CALL's SELECT before the CALL's own
    // status); affected: the last statement's count (matched rows for UPDATE: SOCI connects
    // with CLIENT_FOUND_ROWS), 0 when it returned rows.
    bool rows = false;
    for (;;) {
      MYSQL_RES* res = mysql_store_result(c);
      if (res) {
        my_take_rows(res, r);
        mysql_free_result(res);
        rows = true;
        r.affected = 0;
      } else if (mysql_field_count(c) == 0) {
        if (!rows) r.clear_data();
        my_ulonglong a = mysql_affected_rows(c);
        r.affected = a == static_cast<my_ulonglong>(-1) ? 0 : static_cast<int64_t>(a);
      } else {
        ok = fail();
        break;
      }
      int more = mysql_next_result(c);
      if (more < 0) break;
      if (more > 0) {
        ok = fail();
        break;
      }
    }
  }
  if (j.multiple && mysql_set_server_option(c, MYSQL_OPTION_MULTI_STATEMENTS_OFF) != 0 && ok) return fail();
  return ok;
}

bool my_close_txn(soci::session& s) {
  MYSQL* c = my_conn(s);
  // server_status comes with every OK/EOF packet (an error keeps the one before).
  if (!c || !(c->server_status & SERVER_STATUS_IN_TRANS)) return false;
  static const char kRollback[] = "ROLLBACK";
  if (mysql_real_query(c, kRollback, sizeof kRollback - 1) == 0) {
    while (mysql_next_result(c) == 0) {
    }
  }
  return true;
}

// ---- running a job --------------------------------------------------------------------

bool attempt(av_sql_pool& p, soci::session& s, const Job& j, av_sql_result& r, std::string* err, bool* lost) {
  if (p.pg()) {
    bool ok = pg_attempt(s, j, r, err);
    *lost = !ok && !s.is_connected();  // PQstatus: no round trip
    return ok;
  }
  if (p.my()) return my_attempt(s, j, r, err, lost);
  return sqlite_attempt(s, j, r, err);  // a file: never lost
}

void reopen(av_sql_pool& p, soci::session& s) {
  s.reconnect();
  if (p.pg()) pg_quiet(s);
  if (p.my()) my_init(s);
}

bool close_txn(av_sql_pool& p, soci::session& s) {
  if (p.pg()) return pg_close_txn(s);
  if (p.my()) return my_close_txn(s);
  return sqlite_close_txn(s);
}

av_status run(av_sql_pool& p, soci::session& s, const Job& j, av_sql_result& r) {
  std::string err;
  bool lost = false;
  bool ok = attempt(p, s, j, r, &err, &lost);
  // A broken connection (server restart, network cut, idle timeout) shows up as an error
  // on a session that is no longer connected (PostgreSQL), or as a "gone away" / "lost
  // connection" error (MySQL); SQLite sessions always are connected. Reconnect once and run
  // the statement again. Caveat: if the link broke after the server committed but before
  // the reply arrived, the retry runs the statement a second time.
  if (!ok && lost) {
    r.clear_data();
    try {
      reopen(p, s);
    } catch (const soci::soci_error& e) {
      r.error = err + "; reconnecting failed: " + soci_message(e);
      return AV_E_IO;
    }
    err.clear();
    lost = false;
    ok = attempt(p, s, j, r, &err, &lost);
  }
  bool txn = close_txn(p, s);
  if (!ok) {
    r.clear_data();
    r.error = std::move(err);
    return AV_E_IO;
  }
  if (txn) {
    r.clear_data();
    r.error =
        "the statement left a transaction open; it was rolled back (a transaction must begin and "
        "end within one query)";
    return AV_E_IO;
  }
  return AV_OK;
}

av_status run_guarded(av_sql_pool& p, soci::session& s, const Job& j, av_sql_result& r) noexcept {
  try {
    return run(p, s, j, r);
  } catch (const std::bad_alloc&) {
    r.clear_data();
    r.error = "out of memory";
    return AV_E_NOMEM;
  } catch (const std::exception& e) {
    r.clear_data();
    r.error = e.what();
    return AV_E_INTERNAL;
  } catch (...) {
    r.clear_data();
    r.error = "unknown exception";
    return AV_E_INTERNAL;
  }
}

void call_done(av_sql_done_fn done, void* user, av_status st, const av_sql_result* r) noexcept {
  try {
    done(user, st, r);
  } catch (...) {
    // A C callback must not throw; a C++ module that does anyway must not take the pool
    // thread (or the executor) down with it.
  }
}

void deliver(av_sql_pool& p, const Job& j, av_status st, std::shared_ptr<av_sql_result> res) {
  av_sql_done_fn done = j.done;
  void* user = j.user;
  std::function<void()> fn = [done, user, st, res] { call_done(done, user, st, res.get()); };
  av_status posted = AV_E_INTERNAL;
  try {
    posted = p.ex->post(j.reply_on, fn);  // a copy: ours survives a refusal
  } catch (...) {
    posted = AV_E_INTERNAL;
  }
  if (posted != AV_OK) {
    // The executor refused (unknown id, queue full, shutting down). done must be called
    // exactly once per accepted query, so call it here on the pool worker rather than lose
    // it: running on a thread the module did not ask for (Executors::current() == 0) is the
    // lesser evil next to a completion that never comes (leaked state, a client waiting
    // forever).
    call_done(done, user, st, res.get());
  }
}

void worker_main(av_sql_pool* p, size_t index) {
  std::string name = "sql-" + p->cfg.tag.substr(0, 7) + "-" + std::to_string(index);
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
  for (;;) {
    Job j;
    soci::session* s = nullptr;
    {
      std::unique_lock<std::mutex> l(p->mu);
      p->job_cv.wait(l, [p] { return p->stopping || !p->jobs.empty(); });
      if (p->jobs.empty()) return;  // stopping, and everything queued has run
      j = std::move(p->jobs.front());
      p->jobs.pop_front();
      ++p->running;
      p->conn_cv.wait(l, [p] { return !p->idle.empty(); });  // a query_sync may hold one
      s = p->idle.back();
      p->idle.pop_back();
    }
    std::shared_ptr<av_sql_result> res;
    av_status st;
    try {
      res = std::make_shared<av_sql_result>();
      st = run_guarded(*p, *s, j, *res);
    } catch (...) {  // make_shared: out of memory
      st = AV_E_NOMEM;
    }
    {
      std::lock_guard<std::mutex> l(p->mu);
      p->idle.push_back(s);
    }
    p->conn_cv.notify_all();
    if (!res) {
      static av_sql_result oom = [] {
        av_sql_result r;
        r.error = "out of memory";
        return r;
      }();
      call_done(j.done, j.user, st, &oom);
    } else {
      deliver(*p, j, st, std::move(res));
    }
    {
      std::lock_guard<std::mutex> l(p->mu);
      --p->running;
    }
    p->idle_cv.notify_all();
  }
}

// Validates and copies a query. AV_OK or AV_E_INVALID_ARG with *err.
av_status make_job(av_sql_pool* p, av_str sql, const av_str* params, size_t nparams, Job* j,
                   std::string* err) {
  if (!sql.ptr) {
    *err = "sql is NULL";
    return AV_E_INVALID_ARG;
  }
  if (nparams > 0 && !params) {
    *err = "params is NULL";
    return AV_E_INVALID_ARG;
  }
  aviary::sql_detail::Translated t;
  if (!aviary::sql_detail::translate(std::string_view(sql.ptr, sql.len), p->dialect, &t, err))
    return AV_E_INVALID_ARG;
  if (t.placeholders != nparams) {
    *err = "the statement has " + std::to_string(t.placeholders) + " '?' placeholder(s) but " +
           std::to_string(nparams) + " parameter(s) were given";
    return AV_E_INVALID_ARG;
  }
  if (t.multiple && nparams > 0) {
    *err = "several statements in one query cannot take parameters";
    return AV_E_INVALID_ARG;
  }
  j->sql = std::move(t.sql);
  j->multiple = t.multiple;
  j->holes = std::move(t.holes);
  j->params.reserve(nparams);
  j->nulls.reserve(nparams);
  for (size_t i = 0; i < nparams; ++i) {
    if (!params[i].ptr) {
      j->params.emplace_back();
      j->nulls.push_back(soci::i_null);
      continue;
    }
    std::string v(params[i].ptr, params[i].len);
    if (v.find('\0') != std::string::npos) {
      // PostgreSQL text cannot hold NUL and SOCI would cut the value there; refuse on both.
      *err = "parameter " + std::to_string(i) + " contains a NUL byte";
      return AV_E_INVALID_ARG;
    }
    j->params.push_back(std::move(v));
    j->nulls.push_back(soci::i_ok);
  }
  return AV_OK;
}

// ---- the C table ----------------------------------------------------------------------

av_sql_pool* x_pool(av_str tag) {
  if (!tag.ptr) return nullptr;
  try {
    std::string_view want(tag.ptr, tag.len);
    std::lock_guard<std::mutex> l(g_reg_mu);
    for (auto it = g_reg.rbegin(); it != g_reg.rend(); ++it)
      for (auto& p : (*it)->pools)
        if (p->cfg.tag == want) return p.get();
  } catch (...) {
  }
  return nullptr;
}

av_sql_dialect x_dialect(const av_sql_pool* p) {
  if (!p) return 0;
  if (p->pg()) return AV_SQL_PGSQL;
  if (p->my()) return AV_SQL_MYSQL;
  return AV_SQL_SQLITE;
}

av_status x_query(av_sql_pool* p, av_str sql, const av_str* params, size_t nparams,
                  av_executor reply_on, av_sql_done_fn done, void* user) {
  if (!p || !done) return AV_E_INVALID_ARG;
  try {
    Job j;
    std::string err;
    av_status st = make_job(p, sql, params, nparams, &j, &err);
    if (st != AV_OK) return st;
    j.reply_on = reply_on;
    j.done = done;
    j.user = user;
    {
      std::lock_guard<std::mutex> l(p->mu);
      if (p->stopping || p->threads.empty()) return AV_E_BUSY;
      if (p->jobs.size() >= p->cfg.max_queue) return AV_E_BUSY;
      p->jobs.push_back(std::move(j));
    }
    p->job_cv.notify_one();
    return AV_OK;
  } catch (const std::bad_alloc&) {
    return AV_E_NOMEM;
  } catch (...) {
    return AV_E_INTERNAL;
  }
}

av_status x_query_sync(av_sql_pool* p, av_str sql, const av_str* params, size_t nparams,
                       av_sql_done_fn done, void* user) {
  if (!p || !done) return AV_E_INVALID_ARG;
  av_sql_result r;
  av_status st;
  try {
    Job j;
    std::string err;
    st = make_job(p, sql, params, nparams, &j, &err);
    if (st != AV_OK) {
      r.error = err;
    } else {
      soci::session* s = nullptr;
      {
        std::unique_lock<std::mutex> l(p->mu);
        // Blocks while every connection is busy: the caller is main during start or a
        // [blocking] thread, both allowed to wait.
        p->conn_cv.wait(l, [p] { return p->stopping || p->closed || !p->idle.empty(); });
        if (!p->stopping && !p->closed) {
          s = p->idle.back();
          p->idle.pop_back();
        }
      }
      if (!s) {
        st = AV_E_BUSY;
        r.error = "the SQL pool is shut down";
      } else {
        st = run_guarded(*p, *s, j, r);
        {
          std::lock_guard<std::mutex> l(p->mu);
          p->idle.push_back(s);
        }
        p->conn_cv.notify_all();
      }
    }
  } catch (const std::bad_alloc&) {
    r.clear_data();
    st = AV_E_NOMEM;
    r.error = "out of memory";
  } catch (...) {
    r.clear_data();
    st = AV_E_INTERNAL;
    r.error = "unknown exception";
  }
  call_done(done, user, st, &r);
  return st;
}

size_t x_rows(const av_sql_result* r) { return r ? r->nrows : 0; }
size_t x_cols(const av_sql_result* r) { return r ? r->ncols : 0; }

av_str x_value(const av_sql_result* r, size_t row, size_t col) {
  if (!r || row >= r->nrows || col >= r->ncols) return av_strn(nullptr, 0);
  size_t i = row * r->ncols + col;
  if (r->null[i]) return av_strn(nullptr, 0);
  return av_strn(r->cells[i].data(), r->cells[i].size());
}

int64_t x_affected(const av_sql_result* r) { return r ? r->affected : 0; }

av_str x_error(const av_sql_result* r) {
  if (!r || r->error.empty()) return av_strn(nullptr, 0);
  return av_strn(r->error.data(), r->error.size());
}

const av_ext_storage_sql_v1 kTable = {
    sizeof(av_ext_storage_sql_v1), x_pool, x_dialect, x_query, x_query_sync, x_rows, x_cols,
    x_value, x_affected, x_error,
};

// ---- opening --------------------------------------------------------------------------

// libpq conninfo value in single quotes. SOCI 4.0's PostgreSQL factory re-splits the string
// at whitespace before libpq sees it, so values with whitespace cannot be passed at all.
bool pg_value(const std::string& v, const char* what, std::string* out, std::string* err) {
  for (char c : v)
    if (std::isspace(static_cast<unsigned char>(c))) {
      *err = std::string(what) + " must not contain whitespace (not supported by SOCI 4.0)";
      return false;
    }
  std::string q = "'";
  for (char c : v) {
    if (c == '\\' || c == '\'') q += '\\';
    q += c;
  }
  q += '\'';
  *out = std::move(q);
  return true;
}

// SOCI MySQL connection-string value: '...' with backslash escapes (whitespace is fine).
std::string my_value(const std::string& v) {
  std::string q = "'";
  for (char c : v) {
    if (c == '\\' || c == '\'') q += '\\';
    q += c;
  }
  q += '\'';
  return q;
}

int port_of(const av_sql_pool& p) {
  if (p.cfg.port > 0) return p.cfg.port;
  return p.my() ? 3306 : 5432;
}

bool connect_pool(av_sql_pool& p, std::string* err) {
  const SqlPoolConfig& c = p.cfg;
  int n = p.pg() || p.my() ? c.workers : 1;
  const int port = port_of(p);
  std::string cs;
  if (p.my()) {
    if (c.database.empty()) {
      *err = "database is not set";
      return false;
    }
    for (const std::string* v : {&c.host, &c.database, &c.username, &c.password})
      if (v->find('\0') != std::string::npos) {
        *err = "connection settings must not contain NUL bytes";
        return false;
      }
    // utf8mb4: all of Unicode (MySQL's "utf8" stops at 3 bytes, i.e. no emoji). The server's
    // sql_mode is adjusted per connection in my_init().
    cs = "host=" + my_value(c.host) + " port=" + std::to_string(port) + " dbname=" + my_value(c.database);
    if (!c.username.empty()) cs += " user=" + my_value(c.username);
    if (!c.password.empty()) cs += " password=" + my_value(c.password);
    cs += " charset=utf8mb4 connect_timeout=" + std::to_string(std::max(1, c.connect_timeout_s));
  } else if (p.pg()) {
    if (c.database.empty()) {
      *err = "database is not set";
      return false;
    }
    std::string host, db, user, pw;
    if (!pg_value(c.host, "host", &host, err) || !pg_value(c.database, "database", &db, err) ||
        !pg_value(c.username, "username", &user, err) || !pg_value(c.password, "password", &pw, err))
      return false;
    cs = "host=" + host + " port=" + std::to_string(port) + " dbname=" + db;
    if (!c.username.empty()) cs += " user=" + user;
    if (!c.password.empty()) cs += " password=" + pw;
    cs += " connect_timeout=" + std::to_string(std::max(1, c.connect_timeout_s)) + " client_encoding=UTF8";
  } else {
    if (c.database.empty()) {
      *err = "database (the SQLite file) is not set";
      return false;
    }
    if (c.database.find('"') != std::string::npos) {
      *err = "SQLite path must not contain '\"'";
      return false;
    }
    size_t slash = c.database.rfind('/');
    if (c.database != ":memory:" && slash != std::string::npos && slash > 0) {
      std::string dir = c.database.substr(0, slash);
      struct stat sb;
      if (::stat(dir.c_str(), &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        *err = "cannot open SQLite database " + c.database + ": directory " + dir + " does not exist";
        return false;
      }
    }
    bool space = c.database.find(' ') != std::string::npos;
    cs = "db=" + (space ? "\"" + c.database + "\"" : c.database) + " timeout=5 shared_cache=false";
  }
  // SQLite: one connection, hence one worker. SQLite admits one writer at a time; more
  // connections would only contend for the file lock (SQLITE_BUSY after the busy timeout)
  // instead of waiting their turn in our queue, an in-memory database would be a different
  // one per connection, and a single connection keeps queries in submission order. WAL still
  // lets other processes (aviaryctl) read while the server writes.
  for (int i = 0; i < n; ++i) {
    auto s = std::make_unique<soci::session>();
    try {
      if (p.my()) {
        s->open(soci::mysql, cs);
        my_init(*s);
      } else if (p.pg()) {
        s->open(soci::postgresql, cs);
        pg_quiet(*s);
      } else {
        s->open(soci::sqlite3, cs);
        sqlite_init(*s);
      }
    } catch (const soci::soci_error& e) {
      if (p.pg() || p.my())
        *err = std::string("cannot connect to ") + (p.my() ? "MySQL" : "PostgreSQL") + " at " + c.host + ":" +
               std::to_string(port) + " (database " + c.database + "): " + soci_message(e);
      else
        *err = "cannot open SQLite database " + c.database + ": " + soci_message(e);
      return false;
    }
    p.idle.push_back(s.get());
    p.conns.push_back(std::move(s));
  }
  return true;
}

void shutdown_pool(av_sql_pool& p) {
  {
    std::lock_guard<std::mutex> l(p.mu);
    p.stopping = true;
  }
  p.job_cv.notify_all();
  p.conn_cv.notify_all();  // query_sync callers waiting for a connection give up
  for (auto& t : p.threads)
    if (t.joinable()) t.join();
  p.threads.clear();
  std::unique_lock<std::mutex> l(p.mu);
  p.conn_cv.wait(l, [&p] { return p.idle.size() == p.conns.size(); });  // running query_syncs
  p.closed = true;
  p.idle.clear();
  p.conns.clear();  // closes the connections
}

}  // namespace

namespace aviary {

SqlPools::SqlPools(Executors& ex) : impl_(std::make_unique<Impl>(ex)) {
  std::lock_guard<std::mutex> l(g_reg_mu);
  g_reg.push_back(impl_.get());
}

SqlPools::~SqlPools() {
  shutdown();
  std::lock_guard<std::mutex> l(g_reg_mu);
  g_reg.erase(std::remove(g_reg.begin(), g_reg.end(), impl_.get()), g_reg.end());
}

bool SqlPools::open(const std::vector<SqlPoolConfig>& cfgs, std::string* err) {
  std::string dummy;
  if (!err) err = &dummy;
  if (impl_->opened) {
    *err = "SQL pools are already open";
    return false;
  }
  std::vector<std::unique_ptr<av_sql_pool>> pools;
  for (const SqlPoolConfig& c : cfgs) {
    std::string where = "outgoing_pools.rdbms." + c.tag + ": ";
    if (c.tag.empty()) {
      *err = "outgoing_pools.rdbms: empty pool tag";
      return false;
    }
    for (auto& q : pools)
      if (q->cfg.tag == c.tag) {
        *err = where + "pool defined twice";
        return false;
      }
    auto p = std::make_unique<av_sql_pool>();
    p->cfg = c;
    p->ex = &impl_->ex;
    if (c.driver == "pgsql" || c.driver == "postgresql") {
      p->dialect = sql_detail::Dialect::pgsql;
    } else if (c.driver == "mysql") {
      p->dialect = sql_detail::Dialect::mysql;
    } else if (c.driver != "sqlite") {
      *err = where + "unknown driver '" + c.driver + "' (expected sqlite, pgsql or mysql)";
      return false;
    }
    if (c.workers < 1) {
      *err = where + "workers must be at least 1";
      return false;
    }
    if (c.max_queue < 1) {
      *err = where + "max_queue must be at least 1";
      return false;
    }
    std::string msg;
    if (!connect_pool(*p, &msg)) {
      *err = where + msg;
      return false;  // `pools` closes what was opened
    }
    pools.push_back(std::move(p));
  }
  try {
    for (auto& p : pools)
      for (size_t i = 0; i < p->conns.size(); ++i) p->threads.emplace_back(worker_main, p.get(), i);
  } catch (const std::exception& e) {
    for (auto& p : pools) shutdown_pool(*p);
    *err = std::string("outgoing_pools.rdbms: cannot start worker threads: ") + e.what();
    return false;
  }
  {
    std::lock_guard<std::mutex> l(g_reg_mu);
    impl_->pools = std::move(pools);
  }
  impl_->opened = true;
  return true;
}

const av_ext_storage_sql_v1* SqlPools::ext() const { return &kTable; }

bool SqlPools::wait_idle(std::chrono::steady_clock::time_point deadline) {
  bool idle = true;
  for (auto& p : impl_->pools) {
    std::unique_lock<std::mutex> l(p->mu);
    idle = p->idle_cv.wait_until(l, deadline, [&] { return p->jobs.empty() && p->running == 0; }) && idle;
  }
  return idle;
}

void SqlPools::shutdown() {
  std::lock_guard<std::mutex> l(impl_->shut_mu);
  if (impl_->shut) return;
  impl_->shut = true;
  for (auto& p : impl_->pools) shutdown_pool(*p);
}

}  // namespace aviary
