// "av.storage.sql/1" on SQLite (always) and PostgreSQL (when AVIARY_TEST_PG is set, e.g.
// "host=127.0.0.1 port=55432 dbname=aviary_test user=postgres"; tests/scripts/pg_start.sh
// starts a throwaway server). The reconnect tests also need shell commands that act on that
// server: AVIARY_TEST_PG_RESTART ("tests/scripts/pg_start.sh restart DIR"), and for the
// server-down case AVIARY_TEST_PG_STOP / AVIARY_TEST_PG_START ("... stop DIR", "... start DIR").
// MySQL/MariaDB likewise: AVIARY_TEST_MYSQL ("host=127.0.0.1 port=P dbname=aviary_test
// user=aviary password=...", no whitespace in values) and AVIARY_TEST_MYSQL_{RESTART,STOP,START},
// set by tests/scripts/with_mariadb.sh around a server from tests/scripts/mariadb_start.sh.
#include "ext/sql_pool.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using aviary::SqlPoolConfig;
using aviary::SqlPools;

namespace {

using namespace std::chrono_literals;
using Param = std::optional<std::string>;
using Row = std::vector<Param>;

thread_local av_executor tl_current = 0;

// MAIN and IO_BASE+0 are real threads draining a queue; BLOCKING runs the function inline
// on the posting thread (so a done callback can hold a pool worker); anything else is
// refused with AV_E_INVALID_ARG, like the host does for unknown executors.
class TestExecutors : public aviary::Executors {
 public:
  TestExecutors() {
    start(AV_EXEC_MAIN);
    start(AV_EXEC_IO_BASE);
  }
  ~TestExecutors() override {
    for (auto& kv : loops_) {
      {
        std::lock_guard<std::mutex> l(kv.second->mu);
        kv.second->stop = true;
      }
      kv.second->cv.notify_all();
      kv.second->t.join();
    }
  }
  av_status post(av_executor ex, std::function<void()> fn) override {
    if (ex == AV_EXEC_BLOCKING) {
      av_executor saved = tl_current;
      tl_current = AV_EXEC_BLOCKING;
      fn();
      tl_current = saved;
      return AV_OK;
    }
    auto it = loops_.find(ex);
    if (it == loops_.end()) return AV_E_INVALID_ARG;
    Loop& lp = *it->second;
    {
      std::lock_guard<std::mutex> l(lp.mu);
      if (lp.stop) return AV_E_BUSY;
      lp.q.push_back(std::move(fn));
    }
    lp.cv.notify_one();
    return AV_OK;
  }
  av_executor current() const override { return tl_current; }
  std::thread::id thread_of(av_executor ex) const { return loops_.at(ex)->t.get_id(); }

 private:
  struct Loop {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::function<void()>> q;
    bool stop = false;
    std::thread t;
  };
  void start(av_executor ex) {
    auto lp = std::make_unique<Loop>();
    Loop* raw = lp.get();
    raw->t = std::thread([raw, ex] {
      tl_current = ex;
      std::unique_lock<std::mutex> l(raw->mu);
      for (;;) {
        raw->cv.wait(l, [raw] { return raw->stop || !raw->q.empty(); });
        if (raw->q.empty()) return;
        auto fn = std::move(raw->q.front());
        raw->q.pop_front();
        l.unlock();
        fn();
        l.lock();
      }
    });
    loops_[ex] = std::move(lp);
  }
  std::map<av_executor, std::unique_ptr<Loop>> loops_;
};

// What a done callback saw, copied out of the result (valid only during the callback).
struct Res {
  av_status st = 12345;
  std::vector<Row> rows;
  size_t cols = 0;
  int64_t affected = -1;
  Param error;
  av_executor where = 0;
  std::thread::id tid;
};

const av_ext_storage_sql_v1* g_x = nullptr;  // the table under test

// Runs on executor/pool threads: no Catch assertions here (Catch is not thread-safe).
Res capture(av_status st, const av_sql_result* r) {
  Res o;
  o.st = st;
  o.where = tl_current;
  o.tid = std::this_thread::get_id();
  if (!r) {
    o.error = std::string("test: res was NULL");
    o.st = 54321;
    return o;
  }
  o.cols = g_x->cols(r);
  for (size_t i = 0; i < g_x->rows(r); ++i) {
    Row row;
    for (size_t c = 0; c < o.cols; ++c) {
      av_str v = g_x->value(r, i, c);
      row.push_back(v.ptr ? Param(std::string(v.ptr, v.len)) : std::nullopt);
    }
    o.rows.push_back(std::move(row));
  }
  o.affected = g_x->affected(r);
  av_str e = g_x->error(r);
  if (e.ptr) o.error = std::string(e.ptr, e.len);
  return o;
}

// Collects callbacks; wait(n) until n arrived.
struct Sink {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Res> got;
  static void done(void* u, av_status st, const av_sql_result* r) {
    auto* s = static_cast<Sink*>(u);
    Res o = capture(st, r);
    std::lock_guard<std::mutex> l(s->mu);
    s->got.push_back(std::move(o));
    s->cv.notify_all();  // under the lock: the waiter may destroy the Sink right after
  }
  bool wait(size_t n, std::chrono::seconds limit = 30s) {
    std::unique_lock<std::mutex> l(mu);
    return cv.wait_for(l, limit, [&] { return got.size() >= n; });
  }
  size_t count() {
    std::lock_guard<std::mutex> l(mu);
    return got.size();
  }
};

std::vector<av_str> to_av(const std::vector<Param>& ps) {
  std::vector<av_str> v;
  for (auto& p : ps) v.push_back(p ? av_strn(p->data(), p->size()) : av_strn(nullptr, 0));
  return v;
}

av_str S(const std::string& s) { return av_strn(s.data(), s.size()); }

av_status submit(av_sql_pool* p, const std::string& sql, const std::vector<Param>& ps, av_executor ex,
                 av_sql_done_fn done, void* user) {
  auto v = to_av(ps);
  return g_x->query(p, S(sql), v.empty() ? nullptr : v.data(), v.size(), ex, done, user);
}

// Async query, waits for its callback.
Res q(av_sql_pool* p, const std::string& sql, const std::vector<Param>& ps = {}, av_executor ex = AV_EXEC_MAIN) {
  Sink s;
  REQUIRE(submit(p, sql, ps, ex, Sink::done, &s) == AV_OK);
  REQUIRE(s.wait(1));
  return s.got[0];
}

// query_sync: checks that done ran before it returned, on this thread, with the same status.
Res qs(av_sql_pool* p, const std::string& sql, const std::vector<Param>& ps = {}) {
  Sink s;
  auto v = to_av(ps);
  av_status st = g_x->query_sync(p, S(sql), v.empty() ? nullptr : v.data(), v.size(), Sink::done, &s);
  REQUIRE(s.count() == 1);
  CHECK(s.got[0].tid == std::this_thread::get_id());
  CHECK(s.got[0].st == st);
  return s.got[0];
}

// Evaluates its argument once (it is often a query).
#define REQUIRE_OK(expr)                                                       \
  do {                                                                         \
    const Res& req_ok_ = (expr);                                               \
    INFO("error: " << (req_ok_.error ? *req_ok_.error : std::string("(none)"))); \
    REQUIRE(req_ok_.st == AV_OK);                                              \
  } while (0)

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/aviary-sqltest-XXXXXX";
    char* d = ::mkdtemp(tmpl);
    REQUIRE(d != nullptr);
    path = d;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

SqlPoolConfig sqlite_cfg(const std::string& file, size_t max_queue = 10000) {
  SqlPoolConfig c;
  c.driver = "sqlite";
  c.database = file;
  c.max_queue = max_queue;
  return c;
}

// A pool config from "key=value ..." in the environment variable `var`.
std::optional<SqlPoolConfig> env_cfg(const char* var, const char* driver) {
  const char* env = std::getenv(var);
  if (!env || !*env) return std::nullopt;
  SqlPoolConfig c;
  c.driver = driver;
  c.workers = 3;
  c.connect_timeout_s = 5;
  std::istringstream in(env);
  std::string kv;
  while (in >> kv) {
    auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
    if (k == "host") c.host = v;
    else if (k == "port") c.port = std::stoi(v);
    else if (k == "dbname") c.database = v;
    else if (k == "user") c.username = v;
    else if (k == "password") c.password = v;
  }
  return c;
}

std::optional<SqlPoolConfig> pg_cfg() { return env_cfg("AVIARY_TEST_PG", "pgsql"); }
std::optional<SqlPoolConfig> mysql_cfg() { return env_cfg("AVIARY_TEST_MYSQL", "mysql"); }

enum class Db { sqlite, pg, my };

// An open pool set plus its executors; the pool is found through the C table.
struct Env {
  TestExecutors ex;
  SqlPools pools{ex};
  av_sql_pool* p = nullptr;
  explicit Env(SqlPoolConfig cfg) {
    std::string err;
    bool ok = pools.open({cfg}, &err);
    INFO("open: " << err);
    REQUIRE(ok);
    g_x = pools.ext();
    p = g_x->pool(S(cfg.tag));
    REQUIRE(p != nullptr);
  }
};

std::string table_name() { return "av_test_" + std::to_string(::getpid()); }

// The cases every backend must pass identically.
void core_cases(av_sql_pool* p, Db db) {
  auto says = [db](const char* sqlite, const char* pg, const char* my) {
    return db == Db::sqlite ? sqlite : db == Db::pg ? pg : my;
  };
  const std::string t = table_name();
  q(p, "DROP TABLE IF EXISTS " + t);
  Res r = q(p, "CREATE TABLE " + t + " (id INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT, big BIGINT)");
  REQUIRE_OK(r);
  CHECK(r.rows.empty());
  CHECK(r.cols == 0);
  CHECK(r.affected == 0);
  CHECK_FALSE(r.error);

  const std::string ins = "INSERT INTO " + t + " (id, name, note, big) VALUES (?, ?, ?, ?)";
  r = q(p, ins, {"1", "O'Brien", "say \"hi\"; -- not a comment /* nor this */", "9007199254740993"});
  REQUIRE_OK(r);
  CHECK(r.affected == 1);
  r = q(p, ins, {"2", "\xC5\xBC\xC3\xB3\xC5\x82\xC4\x87 \xF0\x9F\x90\xA6 \xE6\x97\xA5\xE6\x9C\xAC", std::nullopt, std::nullopt});
  REQUIRE_OK(r);
  r = q(p, ins, {"3", "", "?", "-9223372036854775808"});
  REQUIRE_OK(r);

  SECTION("rows come back as text, NULL apart from the empty string") {
    r = q(p, "SELECT id, name, note, big FROM " + t + " ORDER BY id");
    REQUIRE_OK(r);
    REQUIRE(r.cols == 4);
    REQUIRE(r.rows.size() == 3);
    CHECK(r.rows[0] == Row{"1", "O'Brien", "say \"hi\"; -- not a comment /* nor this */", "9007199254740993"});
    CHECK(r.rows[1] ==
          Row{"2", "\xC5\xBC\xC3\xB3\xC5\x82\xC4\x87 \xF0\x9F\x90\xA6 \xE6\x97\xA5\xE6\x9C\xAC", std::nullopt, std::nullopt});
    CHECK(r.rows[2] == Row{"3", "", "?", "-9223372036854775808"});
    CHECK(r.affected == 0);
  }

  SECTION("a SELECT without rows is fine and still reports its columns") {
    r = q(p, "SELECT id, name FROM " + t + " WHERE id = ?", {"999"});
    REQUIRE_OK(r);
    CHECK(r.rows.empty());
    CHECK(r.cols == 2);
    CHECK_FALSE(r.error);
  }

  SECTION("'?' inside quotes and comments is not a placeholder") {
    r = q(p, "SELECT '?', ? /* ? */, 'it''s ?' -- ?\n", {"x"});
    REQUIRE_OK(r);
    REQUIRE(r.rows.size() == 1);
    CHECK(r.rows[0] == Row{"?", "x", "it's ?"});
    r = q(p, "SELECT name FROM " + t + " WHERE note = '?' AND id=?", {"3"});
    REQUIRE_OK(r);
    REQUIRE(r.rows.size() == 1);
    CHECK(r.rows[0][0] == Param(""));
  }

  SECTION("affected rows of UPDATE and DELETE; a later SELECT reports 0") {
    r = q(p, "UPDATE " + t + " SET note = ? WHERE id >= ?", {"n", "2"});
    REQUIRE_OK(r);
    CHECK(r.affected == 2);
    CHECK(r.rows.empty());
    r = q(p, "SELECT count(*) FROM " + t);
    REQUIRE_OK(r);
    CHECK(r.affected == 0);
    CHECK(r.rows[0][0] == Param("3"));
    r = q(p, "DELETE FROM " + t + " WHERE id = ?", {"1"});
    REQUIRE_OK(r);
    CHECK(r.affected == 1);
    r = q(p, "DELETE FROM " + t + " WHERE id = ?", {"1"});
    REQUIRE_OK(r);
    CHECK(r.affected == 0);
    r = q(p, "UPDATE " + t + " SET note = NULL WHERE note = ?", {"n"});
    REQUIRE_OK(r);
    CHECK(r.affected == 2);
  }

  SECTION("a constraint violation is AV_E_IO with the driver's text") {
    r = q(p, ins, {"2", "dup", std::nullopt, std::nullopt});
    CHECK(r.st == AV_E_IO);
    REQUIRE(r.error);
    INFO(*r.error);
    CHECK(r.error->find(says("UNIQUE constraint failed", "duplicate key", "Duplicate entry")) != std::string::npos);
    CHECK(r.rows.empty());
    r = q(p, ins, {"7", std::nullopt, std::nullopt, std::nullopt});  // NOT NULL
    CHECK(r.st == AV_E_IO);
    REQUIRE(r.error);
    CHECK(r.error->find(says("NOT NULL", "null value", "cannot be null")) != std::string::npos);
    // The connection is still usable afterwards.
    r = q(p, "SELECT count(*) FROM " + t);
    REQUIRE_OK(r);
    CHECK(r.rows[0][0] == Param("3"));
  }

  SECTION("bad SQL is AV_E_IO with the driver's text") {
    r = q(p, "SELEC 1");
    CHECK(r.st == AV_E_IO);
    REQUIRE(r.error);
    INFO(*r.error);
    CHECK(r.error->find(says("syntax error", "syntax error", "error in your SQL syntax")) != std::string::npos);
    r = q(p, "SELECT * FROM no_such_table_here");
    CHECK(r.st == AV_E_IO);
    REQUIRE(r.error);
    CHECK(r.error->find("no_such_table_here") != std::string::npos);
  }

  SECTION("wrong arguments are refused at once and done is not called") {
    Sink s;
    CHECK(submit(p, "SELECT ?", {}, AV_EXEC_MAIN, Sink::done, &s) == AV_E_INVALID_ARG);
    CHECK(submit(p, "SELECT 1", {"x"}, AV_EXEC_MAIN, Sink::done, &s) == AV_E_INVALID_ARG);
    CHECK(submit(p, "SELECT ?; SELECT 2", {"x"}, AV_EXEC_MAIN, Sink::done, &s) == AV_E_INVALID_ARG);
    std::string nul("a\0b", 3);
    CHECK(submit(p, "SELECT ?", {nul}, AV_EXEC_MAIN, Sink::done, &s) == AV_E_INVALID_ARG);
    CHECK(g_x->query(p, av_strn(nullptr, 0), nullptr, 0, AV_EXEC_MAIN, Sink::done, &s) == AV_E_INVALID_ARG);
    CHECK(g_x->query(p, av_cstr("SELECT 1"), nullptr, 0, AV_EXEC_MAIN, nullptr, nullptr) == AV_E_INVALID_ARG);
    CHECK(g_x->query(nullptr, av_cstr("SELECT 1"), nullptr, 0, AV_EXEC_MAIN, Sink::done, &s) == AV_E_INVALID_ARG);
    std::this_thread::sleep_for(50ms);
    CHECK(s.count() == 0);
    // query_sync reports them through done as well.
    r = qs(p, "SELECT ?");
    CHECK(r.st == AV_E_INVALID_ARG);
    REQUIRE(r.error);
    CHECK(r.error->find("placeholder") != std::string::npos);
  }

  SECTION("query_sync runs on the calling thread") {
    r = qs(p, "SELECT name FROM " + t + " WHERE id = ?", {"1"});
    REQUIRE_OK(r);
    REQUIRE(r.rows.size() == 1);
    CHECK(r.rows[0][0] == Param("O'Brien"));
    r = qs(p, "UPDATE " + t + " SET big = ? WHERE id = ?", {"42", "1"});
    REQUIRE_OK(r);
    CHECK(r.affected == 1);
    r = qs(p, "SELEC");
    CHECK(r.st == AV_E_IO);
    CHECK(r.error);
  }

  SECTION("callbacks run on the requested executor, or on the worker if it is refused") {
    r = q(p, "SELECT 1", {}, AV_EXEC_IO_BASE);
    REQUIRE_OK(r);
    CHECK(r.where == AV_EXEC_IO_BASE);
    r = q(p, "SELECT 1", {}, AV_EXEC_MAIN);
    CHECK(r.where == AV_EXEC_MAIN);
    r = q(p, "SELECT 1", {}, AV_EXEC_IO_BASE + 77);  // no such executor: post fails
    REQUIRE_OK(r);
    CHECK(r.where == 0);  // a pool worker: not a host executor
    CHECK(r.tid != std::this_thread::get_id());
  }

  SECTION("many submitters at once") {
    const int kThreads = 4, kEach = 50;
    Sink s;
    std::atomic<int> busy{0};
    std::vector<std::thread> ts;
    for (int k = 0; k < kThreads; ++k)
      ts.emplace_back([&, k] {
        for (int i = 0; i < kEach; ++i) {
          std::string id = std::to_string(1000 + k * kEach + i);
          av_status st = submit(p, ins, {id, "n" + id, std::nullopt, id}, k % 2 ? AV_EXEC_MAIN : AV_EXEC_IO_BASE,
                                Sink::done, &s);
          if (st != AV_OK) ++busy;
        }
      });
    for (auto& th : ts) th.join();
    REQUIRE(busy == 0);
    REQUIRE(s.wait(kThreads * kEach));
    for (auto& g : s.got) CHECK(g.st == AV_OK);
    r = q(p, "SELECT count(*), sum(big) FROM " + t + " WHERE id >= 1000");
    REQUIRE_OK(r);
    CHECK(r.rows[0][0] == Param(std::to_string(kThreads * kEach)));
  }

  r = q(p, "DROP TABLE " + t);
  REQUIRE_OK(r);
}

// A done callback that holds the pool worker (reply_on = BLOCKING runs it inline there).
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, open = false;
  static void done(void* u, av_status, const av_sql_result*) {
    auto* g = static_cast<Gate*>(u);
    std::unique_lock<std::mutex> l(g->mu);
    g->entered = true;
    g->cv.notify_all();
    g->cv.wait(l, [g] { return g->open; });
  }
  void wait_entered() {
    std::unique_lock<std::mutex> l(mu);
    REQUIRE(cv.wait_for(l, 30s, [this] { return entered; }));
  }
  void release() {
    {
      std::lock_guard<std::mutex> l(mu);
      open = true;
    }
    cv.notify_all();
  }
};

}  // namespace

TEST_CASE("sql translate: '?' outside quotes and comments: :pN on PostgreSQL, kept on SQLite", "[sql]") {
  using aviary::sql_detail::Translated;
  using aviary::sql_detail::translate;
  Translated t;
  std::string err;
  REQUIRE(translate("SELECT a FROM t WHERE b = ? AND c = ?", false, &t, &err));
  CHECK(t.sql == "SELECT a FROM t WHERE b = ? AND c = ?");
  CHECK(t.placeholders == 2);
  CHECK_FALSE(t.multiple);
  REQUIRE(translate("SELECT a FROM t WHERE b = ? AND c = ?", true, &t, &err));
  CHECK(t.sql == "SELECT a FROM t WHERE b = :p0 AND c = :p1");
  CHECK(t.placeholders == 2);
  REQUIRE(translate("SELECT x FROM t WHERE y=?1", false, &t, &err));  // not SQLite's ?NNN
  CHECK(t.sql == "SELECT x FROM t WHERE y=? 1");

  REQUIRE(translate("SELECT '?', \"?\", 'a''?''b', ?", false, &t, &err));
  CHECK(t.sql == "SELECT '?', \"?\", 'a''?''b', ?");
  CHECK(t.placeholders == 1);

  REQUIRE(translate("SELECT ? -- why?\n, /* ? */ ?", false, &t, &err));
  CHECK(t.sql == "SELECT ?  \n,   ?");
  CHECK(t.placeholders == 2);

  REQUIRE(translate("SELECT x FROM t WHERE y=?AND z=?", false, &t, &err));
  CHECK(t.sql == "SELECT x FROM t WHERE y=? AND z=?");

  // PostgreSQL: casts, dollar quotes, E'' strings, nested comments.
  REQUIRE(translate("SELECT ?::int, $$ ? $$, $f$ '? $f$, E'\\'?', /* a /* ? */ ? */ ?", true, &t, &err));
  CHECK(t.sql == "SELECT :p0::int, ' ? ', ' ''? ', E'''?',   :p1");
  CHECK(t.placeholders == 2);
  REQUIRE(translate("SELECT $1", true, &t, &err));
  CHECK(t.placeholders == 0);
  // SQLite: [..] and `..` identifiers.
  REQUIRE(translate("SELECT [a?], `b?` FROM t WHERE c=?", false, &t, &err));
  CHECK(t.sql == "SELECT [a?], `b?` FROM t WHERE c=?");

  // Scripts: a ';' followed by more than whitespace and comments.
  REQUIRE(translate("CREATE TABLE a(x int); -- done\n", false, &t, &err));
  CHECK_FALSE(t.multiple);
  REQUIRE(translate("CREATE TABLE a(x int); CREATE TABLE b(y int);", false, &t, &err));
  CHECK(t.multiple);
  REQUIRE(translate("SELECT ';'", false, &t, &err));
  CHECK_FALSE(t.multiple);

  CHECK_FALSE(translate(std::string_view("SELECT 1\0", 9), false, &t, &err));
  CHECK(err.find("NUL") != std::string::npos);
}

TEST_CASE("sql translate: MySQL quoting keeps '?' and records its offset", "[sql]") {
  using aviary::sql_detail::Dialect;
  using aviary::sql_detail::Translated;
  using aviary::sql_detail::translate;
  Translated t;
  std::string err;
  REQUIRE(translate("SELECT a FROM t WHERE b = ? AND c=?", Dialect::mysql, &t, &err));
  CHECK(t.sql == "SELECT a FROM t WHERE b = ? AND c=?");
  CHECK(t.placeholders == 2);
  CHECK(t.holes == std::vector<size_t>{26, 34});
  CHECK_FALSE(t.multiple);
  // '...' and "..." are strings with backslash escapes and doubled quotes; `...` identifiers.
  REQUIRE(translate("SELECT 'it\\'s ?', \"a\\\"?\"\"?\", 'x\\\\', ?, `c?``?`, ':p0'", Dialect::mysql, &t, &err));
  CHECK(t.sql == "SELECT 'it\\'s ?', \"a\\\"?\"\"?\", 'x\\\\', ?, `c?``?`, ':p0'");
  CHECK(t.placeholders == 1);
  CHECK(t.holes == std::vector<size_t>{36});
  // Comments: #, "-- " (not "--" before a non-space: 1--1 is arithmetic), /* */ not nested;
  // executable comments and hints are kept.
  REQUIRE(translate("SELECT ? # a ?\n, 1--1, ? -- b ?\n, /* ? /* ? */ ? /*! ? */ /*+ ? */ /*M!100000 ? */--", Dialect::mysql, &t, &err));
  CHECK(t.sql == "SELECT ?  \n, 1--1, ?  \n,   ? /*! ? */ /*+ ? */ /*M!100000 ? */ ");
  CHECK(t.placeholders == 3);
  CHECK(t.holes == std::vector<size_t>{7, 19, 27});
  // No ":pN", no "::" spacing: MySQL text never goes through SOCI's ":name" scan.
  REQUIRE(translate("SELECT @x:=?, ?:?", Dialect::mysql, &t, &err));
  CHECK(t.sql == "SELECT @x:=?, ?:?");
  CHECK(t.placeholders == 3);
  // Not MySQL syntax: [..] and $$..$$ mean nothing special; E'' is a plain string.
  REQUIRE(translate("SELECT [?], $$?$$, E'\\'?'", Dialect::mysql, &t, &err));
  CHECK(t.placeholders == 2);
  // Scripts.
  REQUIRE(translate("CREATE TABLE a(x int); # done\n", Dialect::mysql, &t, &err));
  CHECK_FALSE(t.multiple);
  REQUIRE(translate("SELECT ';', \";\", `;`; SELECT 2", Dialect::mysql, &t, &err));
  CHECK(t.multiple);
  REQUIRE(translate("SELECT 'a\\';'", Dialect::mysql, &t, &err));  // one string: a';
  CHECK_FALSE(t.multiple);
  CHECK_FALSE(translate(std::string_view("SELECT ?\0", 9), Dialect::mysql, &t, &err));
}

TEST_CASE("sql open: configuration errors are clear", "[sql]") {
  TestExecutors ex;
  TempDir dir;
  std::string err;
  {
    SqlPools pools(ex);
    SqlPoolConfig c;
    c.driver = "mysql";
    c.host = "127.0.0.1";
    c.port = 1;  // nothing listens there
    c.database = "aviary";
    c.username = "u";
    c.password = "it's a \\ pass";  // quoted for SOCI's connection string
    c.connect_timeout_s = 2;
    CHECK_FALSE(pools.open({c}, &err));
    INFO(err);
    CHECK(err.rfind("outgoing_pools.rdbms.default: cannot connect to MySQL at 127.0.0.1:1 (database aviary): ", 0) == 0);
    CHECK(err.find("Malformed") == std::string::npos);
    CHECK(err.find('\n') == std::string::npos);
    c.database = "";
    CHECK_FALSE(pools.open({c}, &err));
    CHECK(err == "outgoing_pools.rdbms.default: database is not set");
  }
  {
    // Port 0 is the driver's default. 127.0.0.2 is loopback too, where no server listens.
    SqlPools pools(ex);
    SqlPoolConfig c;
    c.driver = "mysql";
    c.host = "127.0.0.2";
    c.database = "aviary";
    c.connect_timeout_s = 2;
    if (!pools.open({c}, &err)) {
      INFO(err);
      CHECK(err.rfind("outgoing_pools.rdbms.default: cannot connect to MySQL at 127.0.0.2:3306 (database aviary): ", 0) == 0);
    }
  }
  {
    SqlPools pools(ex);
    SqlPoolConfig c;
    c.tag = "odd";
    c.driver = "oracle";
    CHECK_FALSE(pools.open({c}, &err));
    CHECK(err.rfind("outgoing_pools.rdbms.odd: unknown driver", 0) == 0);
  }
  {
    SqlPools pools(ex);
    CHECK_FALSE(pools.open({sqlite_cfg(dir.path + "/missing/dir/a.db")}, &err));
    CHECK(err == "outgoing_pools.rdbms.default: cannot open SQLite database " + dir.path +
                     "/missing/dir/a.db: directory " + dir.path + "/missing/dir does not exist");
  }
  {
    SqlPools pools(ex);
    SqlPoolConfig c;
    c.driver = "pgsql";
    c.host = "127.0.0.1";
    c.port = 1;  // nothing listens there
    c.database = "aviary";
    c.connect_timeout_s = 2;
    CHECK_FALSE(pools.open({sqlite_cfg(dir.path + "/ok.db"), c}, &err));
    INFO(err);
    CHECK(err.rfind("outgoing_pools.rdbms.default: pool defined twice", 0) == 0);
    c.tag = "pg";
    CHECK_FALSE(pools.open({sqlite_cfg(dir.path + "/ok.db"), c}, &err));
    INFO(err);
    CHECK(err.rfind("outgoing_pools.rdbms.pg: cannot connect to PostgreSQL at 127.0.0.1:1 (database aviary): ", 0) == 0);
    CHECK(err.find('\n') == std::string::npos);
    CHECK(pools.ext()->pool(av_cstr("default")) == nullptr);  // nothing stays open
  }
  {
    SqlPools pools(ex);
    SqlPoolConfig a = sqlite_cfg(dir.path + "/a.db"), b = sqlite_cfg(dir.path + "/b db.sqlite");
    b.tag = "second";
    REQUIRE(pools.open({a, b}, &err));
    const av_ext_storage_sql_v1* x = pools.ext();
    CHECK(x->struct_size == sizeof(av_ext_storage_sql_v1));
    av_sql_pool* pa = x->pool(av_cstr("default"));
    av_sql_pool* pb = x->pool(av_cstr("second"));
    REQUIRE(pa);
    REQUIRE(pb);
    CHECK(pa != pb);
    CHECK(x->pool(av_cstr("third")) == nullptr);
    CHECK(x->pool(av_strn(nullptr, 0)) == nullptr);
    CHECK(x->dialect(pa) == AV_SQL_SQLITE);
    CHECK(std::filesystem::exists(dir.path + "/b db.sqlite"));
    CHECK_FALSE(pools.open({}, &err));  // once only
  }
}

TEST_CASE("sql sqlite: core behaviour", "[sql]") {
  TempDir dir;
  Env env(sqlite_cfg(dir.path + "/core.db"));
  core_cases(env.p, Db::sqlite);
}

TEST_CASE("sql sqlite: values keep their exact text", "[sql]") {
  TempDir dir;
  Env env(sqlite_cfg(dir.path + "/types.db"));
  av_sql_pool* p = env.p;
  REQUIRE_OK(qs(p, "CREATE TABLE n (i INTEGER, r REAL, d DATETIME, b BOOLEAN, x)"));
  REQUIRE_OK(qs(p, "INSERT INTO n VALUES (?, ?, ?, ?, ?)", {"9007199254740993", "1.5", "2024-02-29 23:59:58.123", "1", "free"}));
  REQUIRE_OK(qs(p, "INSERT INTO n VALUES (9223372036854775807, 0.1, 'not a date', 'yes', 42)"));
  Res r = q(p, "SELECT i, r, d, b, x FROM n ORDER BY rowid");
  REQUIRE_OK(r);
  REQUIRE(r.rows.size() == 2);
  CHECK(r.rows[0] == Row{"9007199254740993", "1.5", "2024-02-29 23:59:58.123", "1", "free"});
  CHECK(r.rows[1] == Row{"9223372036854775807", "0.1", "not a date", "yes", "42"});
  r = q(p, "SELECT max(i), count(*), NULL FROM n");  // computed columns have no declared type
  REQUIRE_OK(r);
  CHECK(r.rows[0] == Row{"9223372036854775807", "2", std::nullopt});
  r = q(p, "INSERT INTO n (i) VALUES (?) RETURNING i, rowid", {"7"});
  REQUIRE_OK(r);
  REQUIRE(r.rows.size() == 1);
  CHECK(r.rows[0] == Row{"7", "3"});
  CHECK(r.affected == 1);
  r = q(p, "SELECT count(*) FROM n");  // the RETURNING insert ran once
  CHECK(r.rows[0][0] == Param("3"));
  r = q(p, "PRAGMA journal_mode");
  CHECK(r.rows[0][0] == Param("wal"));
  r = q(p, "PRAGMA foreign_keys");
  CHECK(r.rows[0][0] == Param("1"));
}

TEST_CASE("sql sqlite: scripts and transactions", "[sql]") {
  TempDir dir;
  Env env(sqlite_cfg(dir.path + "/script.db"));
  av_sql_pool* p = env.p;
  Res r = qs(p,
             "CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT); -- schema script\n"
             "CREATE TABLE b (id INTEGER PRIMARY KEY REFERENCES a(id));\n"
             "INSERT INTO a VALUES (1, 'one;two');\n");
  REQUIRE_OK(r);
  CHECK(r.affected == 1);
  r = q(p, "SELECT v FROM a");
  REQUIRE_OK(r);
  CHECK(r.rows[0][0] == Param("one;two"));
  // Foreign keys are on.
  r = q(p, "INSERT INTO b VALUES (?)", {"2"});
  CHECK(r.st == AV_E_IO);
  REQUIRE(r.error);
  CHECK(r.error->find("FOREIGN KEY") != std::string::npos);
  // A whole transaction in one script.
  r = q(p, "BEGIN; INSERT INTO a VALUES (2, 'x'); INSERT INTO b VALUES (2); COMMIT;");
  REQUIRE_OK(r);
  CHECK(q(p, "SELECT count(*) FROM b").rows[0][0] == Param("1"));
  // A script failing half-way inside a transaction is rolled back, not left open.
  r = q(p, "BEGIN; INSERT INTO a VALUES (3, 'x'); INSERT INTO b VALUES (99); COMMIT;");
  CHECK(r.st == AV_E_IO);
  CHECK(q(p, "SELECT count(*) FROM a").rows[0][0] == Param("2"));
  // A lone BEGIN is refused (rolled back): the next query is not inside a transaction.
  r = q(p, "BEGIN");
  CHECK(r.st == AV_E_IO);
  REQUIRE(r.error);
  CHECK(r.error->find("transaction") != std::string::npos);
  r = q(p, "INSERT INTO a VALUES (?, ?)", {"4", "kept"});
  REQUIRE_OK(r);
  r = q(p, "ROLLBACK");  // nothing to roll back: the insert above was committed
  CHECK(r.st == AV_E_IO);
  CHECK(q(p, "SELECT v FROM a WHERE id = 4").rows.size() == 1);
}

TEST_CASE("sql sqlite: a full queue refuses with AV_E_BUSY", "[sql]") {
  TempDir dir;
  Env env(sqlite_cfg(dir.path + "/busy.db", 2));
  Gate gate;
  REQUIRE(submit(env.p, "SELECT 1", {}, AV_EXEC_BLOCKING, Gate::done, &gate) == AV_OK);
  gate.wait_entered();  // the only worker is now held inside the callback
  Sink s;
  CHECK(submit(env.p, "SELECT 2", {}, AV_EXEC_MAIN, Sink::done, &s) == AV_OK);
  CHECK(submit(env.p, "SELECT 3", {}, AV_EXEC_MAIN, Sink::done, &s) == AV_OK);
  CHECK(submit(env.p, "SELECT 4", {}, AV_EXEC_MAIN, Sink::done, &s) == AV_E_BUSY);
  gate.release();
  REQUIRE(s.wait(2));
  std::this_thread::sleep_for(100ms);
  CHECK(s.count() == 2);  // the refused one is never called back
  CHECK(s.got[0].rows[0][0] == Param("2"));  // one worker: FIFO
  CHECK(s.got[1].rows[0][0] == Param("3"));
  CHECK(submit(env.p, "SELECT 5", {}, AV_EXEC_MAIN, Sink::done, &s) == AV_OK);  // room again
  REQUIRE(s.wait(3));
}

TEST_CASE("sql sqlite: shutdown runs what is queued, then refuses", "[sql]") {
  TempDir dir;
  Env env(sqlite_cfg(dir.path + "/drain.db"));
  REQUIRE_OK(qs(env.p, "CREATE TABLE d (id INTEGER)"));
  Gate gate;
  REQUIRE(submit(env.p, "SELECT 1", {}, AV_EXEC_BLOCKING, Gate::done, &gate) == AV_OK);
  gate.wait_entered();
  Sink s;
  const int kQueued = 5;
  for (int i = 0; i < kQueued; ++i)
    REQUIRE(submit(env.p, "INSERT INTO d VALUES (?)", {std::to_string(i)}, AV_EXEC_MAIN, Sink::done, &s) == AV_OK);
  std::thread stopper([&] { env.pools.shutdown(); });
  // Once shutdown has begun, new queries are refused; accepted ones still count.
  size_t extra = 0;
  auto until = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    av_status st = submit(env.p, "SELECT 1", {}, AV_EXEC_MAIN, Sink::done, &s);
    if (st == AV_E_BUSY) break;
    REQUIRE(st == AV_OK);
    ++extra;
    REQUIRE(std::chrono::steady_clock::now() < until);
    std::this_thread::sleep_for(5ms);
  }
  gate.release();
  stopper.join();
  REQUIRE(s.wait(kQueued + extra));
  int inserted = 0;
  for (auto& g : s.got) {
    CHECK(g.st == AV_OK);
    if (g.cols == 0) inserted += static_cast<int>(g.affected);
  }
  CHECK(inserted == kQueued);
  // After shutdown: query refuses, query_sync reports through done.
  CHECK(submit(env.p, "SELECT 1", {}, AV_EXEC_MAIN, Sink::done, &s) == AV_E_BUSY);
  Res r = qs(env.p, "SELECT 1");
  CHECK(r.st == AV_E_BUSY);
  CHECK(r.error);
  env.pools.shutdown();  // idempotent
  // The data made it to the file.
  TestExecutors ex2;
  SqlPools again(ex2);
  std::string err;
  REQUIRE(again.open({sqlite_cfg(dir.path + "/drain.db")}, &err));
  g_x = again.ext();
  r = qs(again.ext()->pool(av_cstr("default")), "SELECT count(*) FROM d");
  REQUIRE_OK(r);
  CHECK(r.rows[0][0] == Param(std::to_string(kQueued)));
}

TEST_CASE("sql pgsql: core behaviour", "[sql][pg]") {
  auto cfg = pg_cfg();
  if (!cfg) {
    WARN("skipped: AVIARY_TEST_PG not set");
    return;
  }
  Env env(*cfg);
  CHECK(g_x->dialect(env.p) == AV_SQL_PGSQL);
  core_cases(env.p, Db::pg);
}

TEST_CASE("sql pgsql: every type comes back as the server's text", "[sql][pg]") {
  auto cfg = pg_cfg();
  if (!cfg) {
    WARN("skipped: AVIARY_TEST_PG not set");
    return;
  }
  Env env(*cfg);
  av_sql_pool* p = env.p;
  Res r = q(p,
            "SELECT 12345678901234567890.000000001::numeric, true, 1.5::float8, "
            "'2024-02-29 23:59:58.123456+00'::timestamptz AT TIME ZONE 'UTC', '\\x00ff'::bytea, "
            "ARRAY[1,2,3], 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, '{\"k\": 1}'::jsonb, "
            "9223372036854775807::int8, NULL::text, ''");
  REQUIRE_OK(r);
  REQUIRE(r.rows.size() == 1);
  CHECK(r.rows[0] == Row{"12345678901234567890.000000001", "t", "1.5", "2024-02-29 23:59:58.123456", "\\x00ff",
                         "{1,2,3}", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "{\"k\": 1}", "9223372036854775807",
                         std::nullopt, ""});
  // An enum, and parameters typed by the server from their context.
  const std::string ty = "av_mood_" + std::to_string(::getpid());
  REQUIRE_OK(q(p, "DROP TYPE IF EXISTS " + ty));
  REQUIRE_OK(q(p, "CREATE TYPE " + ty + " AS ENUM ('happy', 'sad')"));
  r = q(p, "SELECT ?::" + ty + ", ? + 1, ?::boolean, ?::int IS NULL", {"sad", "41", "yes", std::nullopt});
  REQUIRE_OK(r);
  CHECK(r.rows[0] == Row{"sad", "42", "t", "t"});
  REQUIRE_OK(q(p, "DROP TYPE " + ty));
  // E'' strings and dollar quotes keep their '?'.
  r = q(p, "SELECT E'it\\'s ?', $$ ? $$, ?", {"z"});
  REQUIRE_OK(r);
  CHECK(r.rows[0] == Row{"it's ?", " ? ", "z"});
}

TEST_CASE("sql pgsql: scripts and transactions", "[sql][pg]") {
  auto cfg = pg_cfg();
  if (!cfg) {
    WARN("skipped: AVIARY_TEST_PG not set");
    return;
  }
  Env env(*cfg);
  av_sql_pool* p = env.p;
  const std::string t = table_name() + "_s";
  Res r = qs(p, "DROP TABLE IF EXISTS " + t + "; CREATE TABLE " + t + " (id int PRIMARY KEY); -- script\n");
  REQUIRE_OK(r);
  r = q(p, "BEGIN; INSERT INTO " + t + " VALUES (1); INSERT INTO " + t + " VALUES (2); COMMIT;");
  REQUIRE_OK(r);
  r = q(p, "BEGIN; INSERT INTO " + t + " VALUES (3); INSERT INTO " + t + " VALUES (1); COMMIT;");
  CHECK(r.st == AV_E_IO);
  REQUIRE(r.error);
  CHECK(r.error->find("duplicate key") != std::string::npos);
  // Each of the 3 connections gets a query: none is stuck in the aborted transaction.
  for (int i = 0; i < 6; ++i) {
    r = q(p, "SELECT count(*) FROM " + t);
    REQUIRE_OK(r);
    CHECK(r.rows[0][0] == Param("2"));
  }
  r = q(p, "BEGIN");
  CHECK(r.st == AV_E_IO);
  REQUIRE_OK(q(p, "DROP TABLE " + t));
}

TEST_CASE("sql pgsql: a restarted server is reconnected transparently", "[sql][pg]") {
  auto cfg = pg_cfg();
  const char* restart = std::getenv("AVIARY_TEST_PG_RESTART");
  if (!cfg || !restart || !*restart) {
    WARN("skipped: AVIARY_TEST_PG or AVIARY_TEST_PG_RESTART not set");
    return;
  }
  cfg->workers = 2;
  Env env(*cfg);
  av_sql_pool* p = env.p;
  // Use both connections before the restart.
  Sink s;
  for (int i = 0; i < 8; ++i) REQUIRE(submit(p, "SELECT pg_sleep(0.05), 1", {}, AV_EXEC_MAIN, Sink::done, &s) == AV_OK);
  REQUIRE(s.wait(8));
  for (auto& g : s.got) CHECK(g.st == AV_OK);
  Res r = qs(p, "SELECT pg_backend_pid()");
  REQUIRE_OK(r);
  std::string pid_before = *r.rows[0][0];

  REQUIRE(std::system(restart) == 0);

  for (int i = 0; i < 6; ++i) {
    r = q(p, "SELECT 40 + ?", {"2"});
    REQUIRE_OK(r);
    CHECK(r.rows[0][0] == Param("42"));
  }
  r = qs(p, "SELECT pg_backend_pid()");
  REQUIRE_OK(r);
  CHECK(*r.rows[0][0] != pid_before);
  // Both connections (sequential queries reuse one), used concurrently.
  Sink s2;
  for (int i = 0; i < 8; ++i)
    REQUIRE(submit(p, "SELECT pg_sleep(0.05), ?", {std::to_string(i)}, AV_EXEC_MAIN, Sink::done, &s2) == AV_OK);
  REQUIRE(s2.wait(8));
  for (auto& g : s2.got) {
    INFO(g.error.value_or(""));
    CHECK(g.st == AV_OK);
  }
}

TEST_CASE("sql pgsql: a query while the server is down fails, the next one after it is back works",
          "[sql][pg]") {
  auto cfg = pg_cfg();
  const char* stop = std::getenv("AVIARY_TEST_PG_STOP");
  const char* start = std::getenv("AVIARY_TEST_PG_START");
  if (!cfg || !stop || !*stop || !start || !*start) {
    WARN("skipped: AVIARY_TEST_PG, AVIARY_TEST_PG_STOP or AVIARY_TEST_PG_START not set");
    return;
  }
  cfg->workers = 1;
  Env env(*cfg);
  REQUIRE_OK(q(env.p, "SELECT 1"));
  REQUIRE(std::system(stop) == 0);
  Res r = q(env.p, "SELECT 1");
  bool started = std::system(start) == 0;  // before any REQUIRE can leave the server down
  REQUIRE(started);
  CHECK(r.st == AV_E_IO);
  REQUIRE(r.error);
  INFO(*r.error);
  CHECK(r.error->find("reconnecting failed") != std::string::npos);
  r = qs(env.p, "SELECT 1");  // a session left without a backend reconnects too
  REQUIRE_OK(r);
  REQUIRE_OK(q(env.p, "SELECT 2"));
}

TEST_CASE("sql mysql: core behaviour", "[sql][mysql]") {
  auto cfg = mysql_cfg();
  if (!cfg) {
    WARN("skipped: AVIARY_TEST_MYSQL not set");
    return;
  }
  Env env(*cfg);
  CHECK(g_x->dialect(env.p) == AV_SQL_MYSQL);
  core_cases(env.p, Db::my);
}

TEST_CASE("sql mysql: values keep their exact text", "[sql][mysql]") {
  auto cfg = mysql_cfg();
  if (!cfg) {
    WARN("skipped: AVIARY_TEST_MYSQL not set");
    return;
  }
  Env env(*cfg);
  av_sql_pool* p = env.p;
  Res r = q(p,
            "SELECT CAST('12345678901234567890.000000001' AS DECIMAL(30,9)), TRUE, 1.5e0, "
            "CAST('2024-02-29 23:59:58.123456' AS DATETIME(6)), X'00ff', 18446744073709551615, "
            "-9223372036854775808, NULL, '', _utf8mb4'\xF0\x9F\x90\xA6'");
  REQUIRE_OK(r);
  REQUIRE(r.rows.size() == 1);
  CHECK(r.rows[0] == Row{"12345678901234567890.000000001", "1", "1.5", "2024-02-29 23:59:58.123456",
                         std::string("\0\xff", 2), "18446744073709551615", "-9223372036854775808", std::nullopt, "",
                         "\xF0\x9F\x90\xA6"});
  // Parameters are quoted literals: backslashes, quotes, '?', comment markers and ';' inside
  // are data; the server converts them from their context.
  const std::string t = table_name() + "_v";
  REQUIRE_OK(q(p, "DROP TABLE IF EXISTS " + t));
  REQUIRE_OK(q(p, "CREATE TABLE " + t +
                      " (e ENUM('happy', 'sad'), d DECIMAL(10,2), ts DATETIME(3), b VARBINARY(16), u TEXT,"
                      " n BIGINT UNSIGNED) CHARACTER SET utf8mb4"));
  const std::string tricky = "it's \\ \"q\" ? -- # /* ; \xF0\x9F\x90\xA6 \\'";
  r = q(p, "INSERT INTO " + t + " VALUES (?, ?, ?, ?, ?, ?)",
        {"sad", "3.5", "2024-01-02 03:04:05.678", std::string("a\\b'c\x01\x7f", 7), tricky, "18446744073709551615"});
  REQUIRE_OK(r);
  CHECK(r.affected == 1);
  r = q(p, "SELECT e, d, ts, b, u, n FROM " + t + " WHERE u = ?", {tricky});
  REQUIRE_OK(r);
  REQUIRE(r.rows.size() == 1);
  CHECK(r.rows[0] == Row{"sad", "3.50", "2024-01-02 03:04:05.678", std::string("a\\b'c\x01\x7f", 7), tricky,
                         "18446744073709551615"});
  r = q(p, "SELECT ? + 1, ? IS NULL, CONCAT(?, ':p0')", {"41", std::nullopt, "x"});
  REQUIRE_OK(r);
  CHECK(r.rows[0] == Row{"42", "1", "x:p0"});
  // MySQL quoting and comments around placeholders.
  r = q(p, "SELECT 'it\\'s ?', \"dq \\\" ?\", `c?` FROM (SELECT ? AS `c?`) x # ?\n WHERE 1--1 = 2 -- ?", {"z"});
  REQUIRE_OK(r);
  REQUIRE(r.rows.size() == 1);
  CHECK(r.rows[0] == Row{"it's ?", "dq \" ?", "z"});
  r = q(p, "SELECT 1 /*! + 1 */, @av_x := ?", {"7"});  // executable comment: kept
  REQUIRE_OK(r);
  CHECK(r.rows[0] == Row{"2", "7"});
  REQUIRE_OK(q(p, "DROP TABLE " + t));
  // The session's sql_mode keeps the default string syntax.
  r = q(p, "SELECT FIND_IN_SET('ANSI_QUOTES', @@SESSION.sql_mode), FIND_IN_SET('NO_BACKSLASH_ESCAPES', @@SESSION.sql_mode)");
  REQUIRE_OK(r);
  CHECK(r.rows[0] == Row{"0", "0"});
}

TEST_CASE("sql mysql: scripts and transactions", "[sql][mysql]") {
  auto cfg = mysql_cfg();
  if (!cfg) {
    WARN("skipped: AVIARY_TEST_MYSQL not set");
    return;
  }
  Env env(*cfg);
  av_sql_pool* p = env.p;
  const std::string t = table_name() + "_s";
  Res r = qs(p, "DROP TABLE IF EXISTS " + t + "; CREATE TABLE " + t + " (id int PRIMARY KEY) ENGINE=InnoDB; # script\n");
  REQUIRE_OK(r);
  r = q(p, "BEGIN; INSERT INTO " + t + " VALUES (1); INSERT INTO " + t + " VALUES (2); COMMIT;");
  REQUIRE_OK(r);
  r = q(p, "BEGIN; INSERT INTO " + t + " VALUES (3); INSERT INTO " + t + " VALUES (1); COMMIT;");
  CHECK(r.st == AV_E_IO);
  REQUIRE(r.error);
  CHECK(r.error->find("Duplicate entry") != std::string::npos);
  // Each of the 3 connections gets a query: none is left in the half-done transaction.
  for (int i = 0; i < 6; ++i) {
    r = q(p, "SELECT count(*) FROM " + t);
    REQUIRE_OK(r);
    CHECK(r.rows[0][0] == Param("2"));
  }
  r = q(p, "BEGIN");
  CHECK(r.st == AV_E_IO);
  REQUIRE(r.error);
  CHECK(r.error->find("transaction") != std::string::npos);
  r = q(p, "START TRANSACTION");
  CHECK(r.st == AV_E_IO);
  r = q(p, "INSERT INTO " + t + " VALUES (?)", {"4"});
  REQUIRE_OK(r);
  r = q(p, "ROLLBACK");  // nothing to roll back (MySQL does not mind)
  CHECK(q(p, "SELECT count(*) FROM " + t).rows[0][0] == Param("3"));
  // A script returns the rows of its last result set and the last statement's count.
  r = q(p, "SELECT 1; SELECT id, id * 2 FROM " + t + " WHERE id = 4");
  REQUIRE_OK(r);
  CHECK(r.cols == 2);
  REQUIRE(r.rows.size() == 1);
  CHECK(r.rows[0] == Row{"4", "8"});
  r = q(p, "DELETE FROM " + t + " WHERE id = 4; UPDATE " + t + " SET id = id + 10");
  REQUIRE_OK(r);
  CHECK(r.affected == 2);
  CHECK(r.rows.empty());
  // Several statements only run as a parameterless script: a parameter cannot smuggle one in.
  r = q(p, "SELECT ?", {"1'; DROP TABLE " + t + "; SELECT '"});
  REQUIRE_OK(r);
  CHECK(r.rows[0][0] == Param("1'; DROP TABLE " + t + "; SELECT '"));
  REQUIRE_OK(q(p, "DROP TABLE " + t));
}

TEST_CASE("sql mysql: a restarted server is reconnected transparently", "[sql][mysql]") {
  auto cfg = mysql_cfg();
  const char* restart = std::getenv("AVIARY_TEST_MYSQL_RESTART");
  if (!cfg || !restart || !*restart) {
    WARN("skipped: AVIARY_TEST_MYSQL or AVIARY_TEST_MYSQL_RESTART not set");
    return;
  }
  cfg->workers = 2;
  Env env(*cfg);
  av_sql_pool* p = env.p;
  // Use both connections before the restart.
  Sink s;
  for (int i = 0; i < 8; ++i) REQUIRE(submit(p, "SELECT SLEEP(0.05), 1", {}, AV_EXEC_MAIN, Sink::done, &s) == AV_OK);
  REQUIRE(s.wait(8));
  for (auto& g : s.got) CHECK(g.st == AV_OK);
  // A session variable marks the connection query_sync uses (the last idle one, again).
  REQUIRE_OK(qs(p, "SET @av_mark = 'old'"));
  Res r = qs(p, "SELECT @av_mark");
  REQUIRE_OK(r);
  REQUIRE(r.rows[0][0] == Param("old"));

  REQUIRE(std::system(restart) == 0);

  for (int i = 0; i < 6; ++i) {
    r = q(p, "SELECT 40 + ?", {"2"});
    REQUIRE_OK(r);
    CHECK(r.rows[0][0] == Param("42"));
  }
  r = qs(p, "SELECT @av_mark IS NULL, FIND_IN_SET('ANSI_QUOTES', @@SESSION.sql_mode)");
  REQUIRE_OK(r);
  CHECK(r.rows[0] == Row{"1", "0"});  // a new connection, set up like the first
  // Both connections (sequential queries reuse one), used concurrently.
  Sink s2;
  for (int i = 0; i < 8; ++i)
    REQUIRE(submit(p, "SELECT SLEEP(0.05), ?", {std::to_string(i)}, AV_EXEC_MAIN, Sink::done, &s2) == AV_OK);
  REQUIRE(s2.wait(8));
  for (auto& g : s2.got) {
    INFO(g.error.value_or(""));
    CHECK(g.st == AV_OK);
  }
}

TEST_CASE("sql mysql: a query while the server is down fails, the next one after it is back works",
          "[sql][mysql]") {
  auto cfg = mysql_cfg();
  const char* stop = std::getenv("AVIARY_TEST_MYSQL_STOP");
  const char* start = std::getenv("AVIARY_TEST_MYSQL_START");
  if (!cfg || !stop || !*stop || !start || !*start) {
    WARN("skipped: AVIARY_TEST_MYSQL, AVIARY_TEST_MYSQL_STOP or AVIARY_TEST_MYSQL_START not set");
    return;
  }
  cfg->workers = 1;
  Env env(*cfg);
  REQUIRE_OK(q(env.p, "SELECT 1"));
  REQUIRE(std::system(stop) == 0);
  Res r = q(env.p, "SELECT 1");
  bool started = std::system(start) == 0;  // before any REQUIRE can leave the server down
  REQUIRE(started);
  CHECK(r.st == AV_E_IO);
  REQUIRE(r.error);
  INFO(*r.error);
  CHECK(r.error->find("reconnecting failed") != std::string::npos);
  r = qs(env.p, "SELECT 1");  // a session left without a connection reconnects too
  REQUIRE_OK(r);
  REQUIRE_OK(q(env.p, "SELECT 2"));
}
