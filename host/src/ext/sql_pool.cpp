// The host side of "av.storage.sql/1" on SOCI 4.0 (see sql_pool.hpp for the contract).
//
// Structure: one av_sql_pool per outgoing_pools.rdbms.<tag>. It owns its SOCI sessions (the
// connections), an idle list of them, a bounded FIFO of jobs and one thread per connection.
// A worker takes a job, borrows an idle session, runs the statement, returns the session and
// then hands the result to the done callback through Executors::post. query_sync borrows a
// session the same way on the caller's thread.
//
// Results are read as text on both backends, whatever the column types:
//  - SQLite: every column is bound as `into(std::string, indicator)`, which SOCI's SQLite
//    backend fills from sqlite3_column_text(). (soci::row is not used: it types columns from
//    their declared type, reads an INTEGER column through sqlite3_column_int, which truncates
//    64-bit values, and for undeclared columns steps the statement once more to guess.)
//  - PostgreSQL: the statement is run without into elements and the rows are copied from the
//    PGresult SOCI keeps in its statement backend: libpq already has every value as text, so
//    numeric, timestamptz, bool, enum, array, uuid, bytea (hex) ... come back exactly as the
//    server prints them. (soci::row would turn numeric into double, timestamps into std::tm,
//    and refuses enums and arrays as "unknown data type".)
#include "ext/sql_pool.hpp"

#if defined(__has_include)
#if !__has_include(<libpq-fe.h>)
#error "sql_pool.cpp needs libpq-fe.h (via soci-postgresql.h): add /usr/include/postgresql to the include path"
#endif
#endif

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <soci/postgresql/soci-postgresql.h>

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
  std::string sql;  // translated (":pN" placeholders)
  bool multiple = false;
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
  bool pg = false;

  std::mutex mu;
  std::condition_variable job_cv;   // a job was queued, or stopping was set
  std::condition_variable conn_cv;  // a session went back to the idle list
  std::deque<Job> jobs;
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

bool translate(std::string_view in, bool pgsql, Translated* out, std::string* err) {
  if (in.find('\0') != std::string_view::npos) {
    *err = "SQL text contains a NUL byte";
    return false;
  }
  std::string o;
  o.reserve(in.size() + 16);
  size_t n = in.size(), ph = 0;
  bool after_semicolon = false, multiple = false;
  auto content = [&] {
    if (after_semicolon) multiple = true;
  };
  size_t i = 0;
  while (i < n) {
    char c = in[i];
    char next = i + 1 < n ? in[i + 1] : '\0';
    if (c == '\'') {
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
    } else if (!pgsql && (c == '`' || c == '[')) {  // SQLite's other identifier quotes
      content();
      size_t end = skip_quoted(in, i, c == '`' ? '`' : ']', c == '`');
      o.append(in.substr(i, end - i));
      i = end;
    } else if (c == '-' && next == '-') {  // comment to end of line: dropped
      size_t end = in.find('\n', i);
      i = end == std::string_view::npos ? n : end;
      o += ' ';
    } else if (c == '/' && next == '*') {  // block comment (nested in PostgreSQL): dropped
      size_t j = i + 2;
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
      if (!o.empty() && o.back() == ':') o += ' ';  // keep "::" casts and ":p" apart
      o += ":p";
      o += std::to_string(ph++);
      if (ident_char(next)) o += ' ';
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
  return true;
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

// ---- running a job --------------------------------------------------------------------

bool attempt(av_sql_pool& p, soci::session& s, const Job& j, av_sql_result& r, std::string* err) {
  return p.pg ? pg_attempt(s, j, r, err) : sqlite_attempt(s, j, r, err);
}

av_status run(av_sql_pool& p, soci::session& s, const Job& j, av_sql_result& r) {
  std::string err;
  bool ok = attempt(p, s, j, r, &err);
  // A broken connection (server restart, network cut, idle timeout) shows up as an error
  // on a session that is no longer connected (SQLite sessions always are). Reconnect once
  // and run the statement again. Caveat: if the link broke after the server committed but
  // before the reply arrived, the retry runs the statement a second time.
  if (!ok && p.pg && !s.is_connected()) {
    r.clear_data();
    try {
      s.reconnect();
      pg_quiet(s);
    } catch (const soci::soci_error& e) {
      r.error = err + "; reconnecting failed: " + soci_message(e);
      return AV_E_IO;
    }
    err.clear();
    ok = attempt(p, s, j, r, &err);
  }
  bool txn = p.pg ? pg_close_txn(s) : sqlite_close_txn(s);
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
      continue;
    }
    deliver(*p, j, st, std::move(res));
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
  if (!aviary::sql_detail::translate(std::string_view(sql.ptr, sql.len), p->pg, &t, err))
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
  return p->pg ? AV_SQL_PGSQL : AV_SQL_SQLITE;
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

bool connect_pool(av_sql_pool& p, std::string* err) {
  const SqlPoolConfig& c = p.cfg;
  int n = p.pg ? c.workers : 1;
  std::string cs;
  if (p.pg) {
    if (c.database.empty()) {
      *err = "database is not set";
      return false;
    }
    std::string host, db, user, pw;
    if (!pg_value(c.host, "host", &host, err) || !pg_value(c.database, "database", &db, err) ||
        !pg_value(c.username, "username", &user, err) || !pg_value(c.password, "password", &pw, err))
      return false;
    cs = "host=" + host + " port=" + std::to_string(c.port) + " dbname=" + db;
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
      if (p.pg) {
        s->open(soci::postgresql, cs);
        pg_quiet(*s);
      } else {
        s->open(soci::sqlite3, cs);
        sqlite_init(*s);
      }
    } catch (const soci::soci_error& e) {
      if (p.pg)
        *err = "cannot connect to PostgreSQL at " + c.host + ":" + std::to_string(c.port) + " (database " +
               c.database + "): " + soci_message(e);
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
      p->pg = true;
    } else if (c.driver == "mysql") {
      *err = where + "driver mysql is not built in yet";
      return false;
    } else if (c.driver != "sqlite") {
      *err = where + "unknown driver '" + c.driver + "' (expected sqlite or pgsql)";
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

void SqlPools::shutdown() {
  std::lock_guard<std::mutex> l(impl_->shut_mu);
  if (impl_->shut) return;
  impl_->shut = true;
  for (auto& p : impl_->pools) shutdown_pool(*p);
}

}  // namespace aviary
