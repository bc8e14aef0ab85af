// Aviary C++ layer: asynchronous SQL over "av.storage.sql/1" with lambda callbacks.
#pragma once

#include <aviary/cpp/guard.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace av {

using SqlParam = std::optional<std::string>;  // nullopt binds SQL NULL

// A finished query, valid during the callback.
class SqlResult {
 public:
  SqlResult(const av_ext_storage_sql_v1* x, const av_sql_result* r) : x_(x), r_(r) {}
  size_t rows() const { return x_->rows(r_); }
  size_t cols() const { return x_->cols(r_); }
  std::string_view value(size_t row, size_t col) const { return sv(x_->value(r_, row, col)); }
  bool is_null(size_t row, size_t col) const { return x_->value(r_, row, col).ptr == nullptr; }
  int64_t affected() const { return x_->affected(r_); }
  std::string_view error() const { return sv(x_->error(r_)); }

 private:
  const av_ext_storage_sql_v1* x_;
  const av_sql_result* r_;
};

using SqlCallback = std::function<void(av_status, const SqlResult&)>;

class SqlPool {
 public:
  SqlPool() = default;
  // Throws Error when the extension or the pool is missing.
  static SqlPool open(std::string_view tag = "default") {
    SqlPool p;
    p.x_ = require_extension<av_ext_storage_sql_v1>(AV_EXT_STORAGE_SQL);
    p.pool_ = p.x_->pool(str(tag));
    if (!p.pool_) throw Error(AV_E_NOT_FOUND, "no SQL pool outgoing_pools.rdbms." + std::string(tag) + " is configured");
    return p;
  }
  explicit operator bool() const { return pool_ != nullptr; }
  av_sql_dialect dialect() const { return x_->dialect(pool_); }

  // [any-thread] Runs asynchronously; cb runs on `reply_on`. Returns the submit status
  // (cb is not called when it is not AV_OK).
  av_status query(std::string_view sql, const std::vector<SqlParam>& params, av_executor reply_on, SqlCallback cb) const {
    auto holder = std::make_unique<SqlCallback>(std::move(cb));
    auto args = to_args(params);
    av_status st = x_->query(pool_, str(sql), args.data(), args.size(), reply_on, &done, holder.get());
    if (st == AV_OK) holder.release();
    return st;
  }

  // The same with parameters as views ({NULL,0} binds SQL NULL): the host copies them once,
  // so a caller with its values already in memory (a batch insert) makes no copy of its own.
  av_status query_views(std::string_view sql, const av_str* params, size_t n, av_executor reply_on,
                        SqlCallback cb) const {
    auto holder = std::make_unique<SqlCallback>(std::move(cb));
    av_status st = x_->query(pool_, str(sql), params, n, reply_on, &done, holder.get());
    if (st == AV_OK) holder.release();
    return st;
  }

  // [main during start, or blocking] Runs now; throws Error on failure when `cb` is empty.
  av_status query_sync(std::string_view sql, const std::vector<SqlParam>& params = {}, SqlCallback cb = {}) const {
    std::string err;
    SqlCallback inner = [&](av_status st, const SqlResult& r) {
      if (st != AV_OK) err = std::string(r.error());
      if (cb) cb(st, r);
    };
    auto args = to_args(params);
    av_status st = x_->query_sync(pool_, str(sql), args.data(), args.size(), &done_sync, &inner);
    if (st != AV_OK && !cb) throw Error(st, "SQL failed: " + err + " [" + std::string(sql) + "]");
    return st;
  }

 private:
  static std::vector<av_str> to_args(const std::vector<SqlParam>& params) {
    std::vector<av_str> a;
    a.reserve(params.size());
    for (auto& p : params) a.push_back(p ? str(*p) : str_absent());
    return a;
  }
  // C callbacks: nothing may escape them (the host calls them), so everything is guarded.
  static void done(void* user, av_status st, const av_sql_result* r) noexcept {
    std::unique_ptr<SqlCallback> cb(static_cast<SqlCallback*>(user));
    detail::guard<int>("SQL callback", 0, [&] {
      auto* x = require_extension<av_ext_storage_sql_v1>(AV_EXT_STORAGE_SQL);
      (*cb)(st, SqlResult(x, r));
      return 0;
    });
  }
  static void done_sync(void* user, av_status st, const av_sql_result* r) noexcept {
    auto* cb = static_cast<SqlCallback*>(user);
    detail::guard<int>("SQL callback", 0, [&] {
      auto* x = require_extension<av_ext_storage_sql_v1>(AV_EXT_STORAGE_SQL);
      (*cb)(st, SqlResult(x, r));
      return 0;
    });
  }
  const av_ext_storage_sql_v1* x_ = nullptr;
  av_sql_pool* pool_ = nullptr;
};

}  // namespace av
