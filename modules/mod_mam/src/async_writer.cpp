#include "async_writer.hpp"

#include <algorithm>

namespace mod_mam {

namespace {
std::string id_list(const std::vector<Record>& recs) {
  std::string out;
  size_t n = 0;
  for (auto& r : recs) {
    if (n++ == 50) {
      out += " ... (" + std::to_string(recs.size() - 50) + " more)";
      break;
    }
    out += (out.empty() ? "" : " ") + std::to_string(r.id);
  }
  return out;
}
}  // namespace

AsyncWriter::AsyncWriter(std::shared_ptr<WriterBackend> be, WriterConfig cfg) : be_(std::move(be)), cfg_(cfg) {
  if (cfg_.batch_size == 0) cfg_.batch_size = 1;
  if (cfg_.max_batch < cfg_.batch_size) cfg_.max_batch = cfg_.batch_size;
  if (cfg_.max_inflight == 0) cfg_.max_inflight = 1;
}

void AsyncWriter::push(Record r) {
  std::vector<Batch> start;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (total() >= cfg_.queue_max) {
      if (!retry_.empty()) {
        Batch b = std::move(retry_.front());
        retry_.pop_front();
        retry_records_ -= b.recs.size();
        drop_batch(b, "the archive queue is full while the database fails");
      } else {
        note_dropped(std::to_string(r.id));
        update_saturated();
        return;
      }
    }
    pending_.push_back(std::move(r));
    ++next_seq_;
    maybe_flush(start, false);
    update_saturated();
    if (start.empty() && !pending_.empty()) arm_flush_timer();
  }
  start_batches(start);
}

void AsyncWriter::sync(std::function<void()> fn) {
  std::vector<Batch> start;
  {
    std::lock_guard<std::mutex> lk(mu_);
    const uint64_t target = next_seq_;
    if (low_water() >= target) {
      // nothing pushed before is outstanding
    } else {
      waiters_.push_back({target, std::move(fn)});
      maybe_flush(start, true);
      update_saturated();
      fn = nullptr;
    }
  }
  start_batches(start);
  if (fn) fn();
}

uint64_t AsyncWriter::low_water() const {
  uint64_t low = next_seq_ - pending_.size();
  for (auto& [k, b] : inflight_)
    if (!b.retry) low = std::min(low, b.first_seq);
  return low;
}

void AsyncWriter::collect_waiters(std::vector<std::function<void()>>& ready) {
  const uint64_t low = low_water();
  auto it = std::remove_if(waiters_.begin(), waiters_.end(), [&](Waiter& w) {
    if (w.target > low) return false;
    ready.push_back(std::move(w.fn));
    return true;
  });
  waiters_.erase(it, waiters_.end());
}

void AsyncWriter::maybe_flush(std::vector<Batch>& start, bool force) {
  while (!pending_.empty() && inflight_.size() + start.size() < cfg_.max_inflight) {
    const bool due = force || flush_due_ || pending_.size() >= cfg_.batch_size || !waiters_.empty();
    if (!due) return;
    Batch b;
    b.first_seq = next_seq_ - pending_.size();
    const size_t n = std::min(pending_.size(), cfg_.max_batch);
    b.recs.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      b.recs.push_back(std::move(pending_.front()));
      pending_.pop_front();
    }
    if (pending_.empty()) flush_due_ = false;
    start.push_back(std::move(b));
    force = false;
  }
}

void AsyncWriter::start_batches(std::vector<Batch>& start) {
  for (auto& b : start) {
    uint64_t key;
    const std::vector<Record>* recs;
    {
      std::lock_guard<std::mutex> lk(mu_);
      key = next_key_++;
      auto& slot = inflight_[key];
      slot = std::move(b);
      recs = &slot.recs;  // stable: map nodes do not move; erased only by on_done
    }
    auto self = shared_from_this();
    bool submitted = be_->write(*recs, [self, key](bool ok, const std::string& err) { self->on_done(key, ok, err); });
    if (!submitted) on_done(key, false, "the database queue is full");
  }
  start.clear();
}

void AsyncWriter::on_done(uint64_t key, bool ok, const std::string& err) {
  std::vector<Batch> start;
  std::vector<std::function<void()>> ready;
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = inflight_.find(key);
    if (it == inflight_.end()) return;
    Batch b = std::move(it->second);
    inflight_.erase(it);
    if (ok) {
      st_.written += b.recs.size();
      ++st_.batches;
      backoff_ms_ = 0;
    } else {
      ++st_.failed_batches;
      be_->log_warning("mam: writing " + std::to_string(b.recs.size()) + " archived message(s) failed (" + err +
                      "); retrying");
      b.retry = true;
      retry_records_ += b.recs.size();
      retry_.push_back(std::move(b));
      backoff_ms_ = backoff_ms_ ? std::min(backoff_ms_ * 2, cfg_.retry_max_ms) : cfg_.retry_min_ms;
      arm_retry_timer();
    }
    // A success while others wait for retry: try them now rather than after the backoff.
    if (ok && !retry_.empty() && inflight_.size() < cfg_.max_inflight) {
      Batch r = std::move(retry_.front());
      retry_.pop_front();
      retry_records_ -= r.recs.size();
      ++st_.retried_batches;
      start.push_back(std::move(r));
    }
    maybe_flush(start, false);
    if (!pending_.empty() && start.empty()) arm_flush_timer();
    update_saturated();
    collect_waiters(ready);
  }
  start_batches(start);
  for (auto& f : ready) f();
}

void AsyncWriter::arm_flush_timer() {
  if (flush_timer_) return;
  flush_timer_ = true;
  if (!be_->after(cfg_.flush_interval_ms, [self = shared_from_this()] { self->on_flush_timer(); })) {
    flush_timer_ = false;
    flush_due_ = true;
  }
}

void AsyncWriter::on_flush_timer() {
  std::vector<Batch> start;
  {
    std::lock_guard<std::mutex> lk(mu_);
    flush_timer_ = false;
    if (pending_.empty()) return;
    flush_due_ = true;  // if every slot is busy, the next completion flushes
    maybe_flush(start, true);
    update_saturated();
  }
  start_batches(start);
}

void AsyncWriter::arm_retry_timer() {
  if (retry_timer_) return;
  retry_timer_ = true;
  if (!be_->after(backoff_ms_, [self = shared_from_this()] { self->on_retry_timer(); })) retry_timer_ = false;
}

void AsyncWriter::on_retry_timer() {
  std::vector<Batch> start;
  {
    std::lock_guard<std::mutex> lk(mu_);
    retry_timer_ = false;
    if (retry_.empty()) return;
    if (inflight_.size() >= cfg_.max_inflight) {
      arm_retry_timer();
      return;
    }
    Batch r = std::move(retry_.front());
    retry_.pop_front();
    retry_records_ -= r.recs.size();
    ++st_.retried_batches;
    start.push_back(std::move(r));
    update_saturated();
  }
  start_batches(start);
}

void AsyncWriter::drop_batch(Batch& b, const char* why) {
  st_.dropped += b.recs.size();
  be_->log_warning(std::string("mam: ") + why + ": dropped " + std::to_string(b.recs.size()) +
                  " message(s) not archived, ids " + id_list(b.recs));
}

void AsyncWriter::refuse(const std::string& owner_bare) {
  std::lock_guard<std::mutex> lk(mu_);
  note_dropped("(" + owner_bare + ")");
}

void AsyncWriter::note_dropped(const std::string& what) {
  ++st_.dropped;
  ++unlogged_drops_;
  if (unlogged_drops_ <= 20) unlogged_ids_ += (unlogged_ids_.empty() ? "" : " ") + what;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_drop_log_ < std::chrono::seconds(1)) return;
  last_drop_log_ = now;
  be_->log_warning("mam: archive queue full (" + std::to_string(cfg_.queue_max) + " messages): " +
                   std::to_string(unlogged_drops_) + " message(s) not archived, ids " + unlogged_ids_ +
                   (unlogged_drops_ > 20 ? " ..." : ""));
  unlogged_drops_ = 0;
  unlogged_ids_.clear();
}

size_t AsyncWriter::drain() {
  std::vector<Batch> todo;
  std::vector<std::function<void()>> ready;
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (auto& b : retry_) todo.push_back(std::move(b));
    retry_.clear();
    retry_records_ = 0;
    while (!pending_.empty()) {
      Batch b;
      const size_t n = std::min(pending_.size(), cfg_.max_batch);
      for (size_t i = 0; i < n; ++i) {
        b.recs.push_back(std::move(pending_.front()));
        pending_.pop_front();
      }
      todo.push_back(std::move(b));
    }
  }
  size_t lost = 0;
  for (auto& b : todo) {
    std::string err;
    if (be_->write_now(b.recs, &err)) {
      std::lock_guard<std::mutex> lk(mu_);
      st_.written += b.recs.size();
      ++st_.batches;
      continue;
    }
    lost += b.recs.size();
    std::lock_guard<std::mutex> lk(mu_);
    drop_batch(b, ("stopping, and the database fails (" + err + ")").c_str());
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (unlogged_drops_)
      be_->log_warning("mam: " + std::to_string(unlogged_drops_) + " more message(s) were not archived (queue full), ids " +
                       unlogged_ids_ + (unlogged_drops_ > 20 ? " ..." : ""));
    unlogged_drops_ = 0;
    update_saturated();
    collect_waiters(ready);
  }
  for (auto& f : ready) f();
  return lost;
}

WriterStats AsyncWriter::stats() const {
  std::lock_guard<std::mutex> lk(mu_);
  WriterStats s = st_;
  s.queued = pending_.size();
  s.inflight = inflight_.size();
  s.retrying = retry_records_;
  return s;
}

}  // namespace mod_mam
