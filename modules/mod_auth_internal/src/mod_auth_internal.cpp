// mod_auth_internal: accounts in SQL (table `users`, MongooseIM's layout), passwords
// stored only as SCRAM-SHA-1 + SCRAM-SHA-256 (pass_details), offered to the host as the
// auth provider "internal". Hashing runs on the blocking pool, SQL on the pool's workers.
#include <aviary/aviary.hpp>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr const char* kSchemaSqlite =
    "CREATE TABLE IF NOT EXISTS users ("
    " username VARCHAR(250) NOT NULL, server VARCHAR(250) NOT NULL,"
    " password TEXT NOT NULL DEFAULT '', pass_details TEXT,"
    " created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,"
    " PRIMARY KEY (server, username))";
constexpr const char* kSchemaPg =
    "CREATE TABLE IF NOT EXISTS users ("
    " username VARCHAR(250) NOT NULL, server VARCHAR(250) NOT NULL,"
    " password TEXT NOT NULL DEFAULT '', pass_details TEXT,"
    " created_at TIMESTAMP NOT NULL DEFAULT NOW(),"
    " PRIMARY KEY (server, username))";
// MySQL/MariaDB: utf8mb4 (all of Unicode) with binary comparison of the key, like the other
// two (a _ci collation would make "ß" and "ss" one account). No DEFAULT on the TEXT column
// (MySQL before 8.0.13 refuses one; every INSERT here sets it). DATETIME: no 2038 limit.
constexpr const char* kSchemaMysql =
    "CREATE TABLE IF NOT EXISTS users ("
    " username VARCHAR(250) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    " server VARCHAR(250) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
    " password TEXT NOT NULL, pass_details TEXT,"
    " created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,"
    " PRIMARY KEY (server, username)"
    ") ENGINE=InnoDB CHARACTER SET utf8mb4 ROW_FORMAT=DYNAMIC";

class AuthInternal final : public av::Module {
 public:
  static const av_option_spec* options() {
    static const av_option_spec o[] = {
        {"pool", AV_OPT_STRING, "default", 1, 0, nullptr, false, "outgoing_pools.rdbms tag holding the users table"},
        {"scram_iterations", AV_OPT_INT, "0", 0, 1000000, nullptr, false, "PBKDF2 rounds (0 = auth.password.scram_iterations)"},
        {nullptr, 0, nullptr, 0, 0, nullptr, false, nullptr}};
    return o;
  }

  av_status start(av::Context& cx) override {
    db_ = av::SqlPool::open(cx.option_string("pool"));
    auth_ = cx.require<av_ext_auth_v1>(AV_EXT_AUTH);
    iterations_ = static_cast<uint32_t>(cx.option_int("scram_iterations"));
    av_sql_dialect d = db_.dialect();
    db_.query_sync(d == AV_SQL_PGSQL ? kSchemaPg : d == AV_SQL_MYSQL ? kSchemaMysql : kSchemaSqlite);
    provider_ = av_auth_provider_v1{sizeof(av_auth_provider_v1), "internal", this, &get_secret, &check_password,
                                    &user_exists, &register_user, &remove_user, &set_password, &list_users,
                                    &count_users};
    return AV_OK;
  }

  const void* extension(const char* id) override {
    return std::string(id) == AV_EXT_AUTH_PROVIDER ? &provider_ : nullptr;
  }

 private:
  static AuthInternal* me(void* self) { return static_cast<AuthInternal*>(self); }
  static std::string s(av_str x) { return std::string(av::sv(x)); }

  // Runs fn on the blocking pool (PBKDF2 is too slow for a network thread).
  static bool blocking(std::function<void()> fn) {
    auto* f = new std::function<void()>(std::move(fn));
    av_status st = av::host().post(AV_EXEC_BLOCKING, [](void* a) {
      std::unique_ptr<std::function<void()>> g(static_cast<std::function<void()>*>(a));
      (*g)();
    }, f);
    if (st != AV_OK) delete f;
    return st == AV_OK;
  }

  std::string make_secret(const std::string& password) const {
    size_t n = auth_->make_secret(av::str(password), iterations_, nullptr, 0);
    std::string out(n + 1, '\0');
    auth_->make_secret(av::str(password), iterations_, out.data(), out.size());
    out.resize(n);
    return out;
  }

  static av_status get_secret(void* self, av_str user, av_str server, av_auth_secret_fn cb, void* cx) {
    return me(self)->db_.query("SELECT pass_details FROM users WHERE server = ? AND username = ?", {s(server), s(user)},
                               AV_EXEC_IO_ANY, [cb, cx](av_status st, const av::SqlResult& r) {
                                 if (st != AV_OK) return cb(cx, st, av::str_absent());
                                 if (r.rows() == 0 || r.is_null(0, 0)) return cb(cx, AV_E_NOT_FOUND, av::str_absent());
                                 cb(cx, AV_OK, av::str(r.value(0, 0)));
                               });
  }

  static av_status check_password(void* self, av_str user, av_str server, av_str password, av_auth_bool_fn cb, void* cx) {
    auto* m = me(self);
    std::string pw = s(password);
    // The callback runs on the blocking pool, where the PBKDF2 verification belongs.
    return m->db_.query("SELECT pass_details FROM users WHERE server = ? AND username = ?", {s(server), s(user)},
                        AV_EXEC_BLOCKING, [m, pw, cb, cx](av_status st, const av::SqlResult& r) {
                          if (st != AV_OK) return cb(cx, st, false);
                          if (r.rows() == 0 || r.is_null(0, 0)) return cb(cx, AV_E_NOT_FOUND, false);
                          cb(cx, AV_OK, m->auth_->verify_secret(av::str(r.value(0, 0)), av::str(pw)));
                        });
  }

  static av_status user_exists(void* self, av_str user, av_str server, av_auth_bool_fn cb, void* cx) {
    return me(self)->db_.query("SELECT 1 FROM users WHERE server = ? AND username = ?", {s(server), s(user)},
                               AV_EXEC_IO_ANY, [cb, cx](av_status st, const av::SqlResult& r) {
                                 cb(cx, st, st == AV_OK && r.rows() > 0);
                               });
  }

  static av_status register_user(void* self, av_str user, av_str server, av_str password, av_auth_done_fn cb, void* cx) {
    auto* m = me(self);
    std::string u = s(user), sv = s(server), pw = s(password);
    bool ok = blocking([m, u, sv, pw, cb, cx] {
      std::string secret = m->make_secret(pw);
      av_status st = m->db_.query(
          "INSERT INTO users (username, server, password, pass_details) SELECT ?, ?, '', ? "
          "WHERE NOT EXISTS (SELECT 1 FROM users WHERE server = ? AND username = ?)",
          {u, sv, secret, sv, u}, AV_EXEC_IO_ANY, [cb, cx](av_status st, const av::SqlResult& r) {
            if (st != AV_OK) return cb(cx, st);
            cb(cx, r.affected() == 1 ? AV_OK : AV_E_EXISTS);
          });
      if (st != AV_OK) cb(cx, st);
    });
    return ok ? AV_OK : AV_E_BUSY;
  }

  static av_status remove_user(void* self, av_str user, av_str server, av_auth_done_fn cb, void* cx) {
    return me(self)->db_.query("DELETE FROM users WHERE server = ? AND username = ?", {s(server), s(user)},
                               AV_EXEC_IO_ANY, [cb, cx](av_status st, const av::SqlResult& r) {
                                 if (st != AV_OK) return cb(cx, st);
                                 cb(cx, r.affected() > 0 ? AV_OK : AV_E_NOT_FOUND);
                               });
  }

  static av_status set_password(void* self, av_str user, av_str server, av_str password, av_auth_done_fn cb, void* cx) {
    auto* m = me(self);
    std::string u = s(user), sv = s(server), pw = s(password);
    bool ok = blocking([m, u, sv, pw, cb, cx] {
      std::string secret = m->make_secret(pw);
      av_status st = m->db_.query("UPDATE users SET pass_details = ?, password = '' WHERE server = ? AND username = ?",
                                  {secret, sv, u}, AV_EXEC_IO_ANY, [cb, cx](av_status st, const av::SqlResult& r) {
                                    if (st != AV_OK) return cb(cx, st);
                                    cb(cx, r.affected() > 0 ? AV_OK : AV_E_NOT_FOUND);
                                  });
      if (st != AV_OK) cb(cx, st);
    });
    return ok ? AV_OK : AV_E_BUSY;
  }

  static av_status list_users(void* self, av_str server, av_auth_list_fn cb, void* cx) {
    return me(self)->db_.query("SELECT username FROM users WHERE server = ? ORDER BY username", {s(server)},
                               AV_EXEC_IO_ANY, [cb, cx](av_status st, const av::SqlResult& r) {
                                 std::vector<av_str> v;
                                 if (st == AV_OK)
                                   for (size_t i = 0; i < r.rows(); ++i) v.push_back(av::str(r.value(i, 0)));
                                 cb(cx, st, v.data(), v.size());
                               });
  }

  static av_status count_users(void* self, av_str server, av_auth_count_fn cb, void* cx) {
    return me(self)->db_.query("SELECT COUNT(*) FROM users WHERE server = ?", {s(server)}, AV_EXEC_IO_ANY,
                               [cb, cx](av_status st, const av::SqlResult& r) {
                                 int64_t n = 0;
                                 if (st == AV_OK && r.rows() > 0) n = std::strtoll(std::string(r.value(0, 0)).c_str(), nullptr, 10);
                                 cb(cx, st, n);
                               });
  }

  av::SqlPool db_;
  const av_ext_auth_v1* auth_ = nullptr;
  uint32_t iterations_ = 0;
  av_auth_provider_v1 provider_{};
};

}  // namespace

AV_MODULE(AuthInternal, "mod_auth_internal", "0.1.0", "Accounts with SCRAM-hashed passwords in SQL")
