// The archive's batch writer (DESIGN.md "Archive and other write-heavy storage"): hooks push
// records and return at once; records are written in batches, one storage call (one
// transaction) per batch, when `batch_size` are pending or `flush_interval_ms` after the first
// one, with at most `max_inflight` batches being written at a time (under load the next batch
// grows while one is written, up to `max_batch`). A failed batch is retried with backoff
// (0.1 s doubling to 5 s) while the queue has room; past `queue_max` records the oldest failed
// batch is dropped, counted and logged with its ids (or, with nothing failed, the new record).
// sync() lets a query see everything pushed before it; drain() writes what is left at stop.
// Storage and timers are interfaces, so the logic is tested without a host.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mod_mam {

struct Record {
  int64_t id = 0;
  int32_t kind = 0;       // av_mam_kind
  int32_t direction = 0;  // av_mam_direction
  std::string owner_user, owner_server, remote_bare, remote_resource, from_jid, origin_id, xml, search;
};

class WriterBackend {
 public:
  virtual ~WriterBackend() = default;
  // [any-thread] Write all or nothing; call done exactly once, from any thread, not before
  // returning... unless submitting fails, then return false and do not call it.
  virtual bool write(const std::vector<Record>& batch, std::function<void(bool ok, const std::string& err)> done) = 0;
  // [main during stop] Synchronous write; false with *err on failure.
  virtual bool write_now(const std::vector<Record>& batch, std::string* err) = 0;
  // [any-thread] Run fn once after delay_ms on some thread; false if it cannot.
  virtual bool after(uint64_t delay_ms, std::function<void()> fn) = 0;
  virtual void log_warning(const std::string& msg) = 0;
};

struct WriterConfig {
  size_t batch_size = 30;
  size_t max_batch = 5000;
  uint64_t flush_interval_ms = 2000;
  size_t max_inflight = 2;
  size_t queue_max = 100000;
  uint64_t retry_min_ms = 100, retry_max_ms = 5000;
};

struct WriterStats {
  uint64_t written = 0, batches = 0, failed_batches = 0, retried_batches = 0, dropped = 0;
  size_t queued = 0, inflight = 0, retrying = 0;
};

// Create with std::make_shared: callbacks and timers keep the writer alive.
class AsyncWriter : public std::enable_shared_from_this<AsyncWriter> {
 public:
  AsyncWriter(std::shared_ptr<WriterBackend> be, WriterConfig cfg);
  // [any-thread] Queue one record (never blocks on storage).
  void push(Record r);
  // [any-thread] The queue is full and nothing waits for a retry: a record pushed now would be
  // dropped. Callers check it before building a record, and refuse() instead.
  bool saturated() const { return saturated_.load(std::memory_order_relaxed); }
  void refuse(const std::string& owner_bare);  // counted and logged like a drop
  // [any-thread] Call fn once every record pushed before this call has been written, or has
  // failed once (then it waits for a retry; fn does not wait for it), or was dropped.
  void sync(std::function<void()> fn);
  // [main during stop] Writes whatever is pending or waiting for a retry, synchronously, in
  // batches; returns how many records could not be written (they are logged). Batches still
  // in flight are not waited for (the host settles those before stopping modules).
  size_t drain();
  WriterStats stats() const;

 private:
  struct Batch {
    uint64_t first_seq = 0;
    std::vector<Record> recs;
    bool retry = false;  // a retry attempt: sync() does not wait for it
  };
  struct Waiter {
    uint64_t target;  // every seq < target must be done
    std::function<void()> fn;
  };
  // Caller holds mu_. Returns batches to start after unlocking.
  void maybe_flush(std::vector<Batch>& start, bool force);
  void start_batches(std::vector<Batch>& start);
  void on_done(uint64_t key, bool ok, const std::string& err);
  void arm_flush_timer();  // mu_ held
  void arm_retry_timer();  // mu_ held
  void on_flush_timer();
  void on_retry_timer();
  uint64_t low_water() const;  // mu_ held
  void collect_waiters(std::vector<std::function<void()>>& ready);  // mu_ held
  void drop_batch(Batch& b, const char* why);  // mu_ held
  void note_dropped(const std::string& what);   // mu_ held; logs at most once a second
  size_t total() const { return pending_.size() + retry_records_; }
  void update_saturated() {  // mu_ held
    saturated_.store(total() >= cfg_.queue_max && retry_.empty(), std::memory_order_relaxed);
  }

  std::shared_ptr<WriterBackend> be_;
  WriterConfig cfg_;
  mutable std::mutex mu_;
  std::deque<Record> pending_;
  uint64_t next_seq_ = 1;
  std::map<uint64_t, Batch> inflight_;  // key: batch key
  uint64_t next_key_ = 1;
  std::deque<Batch> retry_;
  size_t retry_records_ = 0;
  std::vector<Waiter> waiters_;
  bool flush_timer_ = false, flush_due_ = false, retry_timer_ = false;
  uint64_t backoff_ms_ = 0;
  WriterStats st_;
  // Records refused because the queue was full, not yet logged: count and some ids.
  uint64_t unlogged_drops_ = 0;
  std::string unlogged_ids_;
  std::chrono::steady_clock::time_point last_drop_log_{};
  std::atomic<bool> saturated_{false};
};

}  // namespace mod_mam
