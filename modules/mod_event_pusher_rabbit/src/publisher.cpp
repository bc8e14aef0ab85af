#include "publisher.hpp"

#include <algorithm>

namespace rabbit {

using namespace std::chrono;

namespace {
constexpr milliseconds kConnectTimeout{3000};
constexpr milliseconds kConfirmTimeout{5000};
constexpr milliseconds kBackoffMin{100};
constexpr milliseconds kBackoffMax{5000};
constexpr size_t kBatch = 64;  // fewer queued than this: linger for more
constexpr milliseconds kLinger{2};
}  // namespace

Publisher::Publisher(Connection c, std::vector<Exchange> exchanges, LogFn log)
    : cfg_(std::move(c)), exchanges_(std::move(exchanges)), log_(std::move(log)) {
  for (int i = 0; i < cfg_.workers; ++i) workers_.push_back(std::make_unique<Worker>(cfg_.max_worker_queue_len));
}

Publisher::~Publisher() { stop(); }

void Publisher::start() {
  for (size_t i = 0; i < workers_.size(); ++i) {
    Worker& w = *workers_[i];
    w.thread = std::thread([this, &w, i] { run(w, i); });
  }
}

Publisher::Worker* Publisher::shortest() {
  Worker* best = workers_.front().get();
  size_t best_len = best->queue.approx_size();
  for (size_t i = 1; i < workers_.size() && best_len > 0; ++i) {
    const size_t n = workers_[i]->queue.approx_size();
    if (n < best_len) {
      best = workers_[i].get();
      best_len = n;
    }
  }
  return best;
}

size_t Publisher::queued() const {
  size_t n = 0;
  for (auto& w : workers_) n += w->queue.size();
  return n;
}

void Publisher::stop(milliseconds grace) {
  if (stopping_.exchange(true)) return;
  stop_deadline_ = steady_clock::now() + grace;
  for (auto& w : workers_) w->queue.close();
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
}

void Publisher::run(Worker& w, size_t index) {
  milliseconds backoff = kBackoffMin;
  auto next_attempt = steady_clock::now();
  bool reported_down = false;
  Chunk batch;  // its buffer is reused
  const std::string who = "worker " + std::to_string(index);
  for (;;) {
    if (!w.conn.is_open()) {
      const bool past_deadline = stopping_ && steady_clock::now() >= stop_deadline_;
      if (past_deadline) break;
      if (steady_clock::now() < next_attempt) {
        // Wait for the next attempt without taking events: the queue fills, then drops.
        std::this_thread::sleep_for(std::min<milliseconds>(
            milliseconds(50), duration_cast<milliseconds>(next_attempt - steady_clock::now()) + milliseconds(1)));
        continue;
      }
      std::string err = w.conn.open(cfg_, kConnectTimeout);
      for (size_t i = 0; err.empty() && i < exchanges_.size(); ++i) err = w.conn.declare(exchanges_[i]);
      if (!err.empty()) {
        w.conn.close();
        stats_.connections_failed.fetch_add(1, std::memory_order_relaxed);
        if (!reported_down) log_(true, who + ": " + err + "; retrying with backoff");
        reported_down = true;
        next_attempt = steady_clock::now() + backoff;
        backoff = std::min(backoff * 2, kBackoffMax);
        continue;
      }
      stats_.connections_opened.fetch_add(1, std::memory_order_relaxed);
      stats_.connected.fetch_add(1, std::memory_order_relaxed);
      if (reported_down) log_(false, who + ": connected to " + cfg_.where() + " again");
      reported_down = false;
      backoff = kBackoffMin;
    }
    if (w.queue.wait(milliseconds(200)) && w.queue.approx_size() < kBatch && !stopping_) {
      // Linger: a worker that keeps up would otherwise be woken for every event (a context
      // switch each, which on a busy core costs more than the publish). Waiting a moment lets
      // a batch gather: at most kLinger more latency, at most 1/kLinger wake-ups a second.
      std::this_thread::sleep_for(kLinger);
    }
    const size_t got = w.queue.take(batch);
    if (got == 0) {
      if (w.queue.closed()) break;
      std::string err;
      if (!w.conn.poll(&err)) {  // idle: notice a broker that went away
        log_(true, who + ": " + err);
        w.conn.close();
        stats_.connected.fetch_sub(1, std::memory_order_relaxed);
        stats_.connections_closed.fetch_add(1, std::memory_order_relaxed);
      }
      continue;
    }
    BatchResult r = w.conn.publish_batch(batch, kConfirmTimeout);
    stats_.published.fetch_add(r.ok, std::memory_order_relaxed);
    // Best effort, as MongooseIM: refused or unsent messages are counted, not retried.
    stats_.failed.fetch_add(r.nacked + r.failed, std::memory_order_relaxed);
    stats_.timeout.fetch_add(r.timeout, std::memory_order_relaxed);
    bool broken = r.broken;
    std::string err = r.err;
    if (!broken && !err.empty()) log_(true, who + ": " + err);
    // A broker-side channel or connection close shows up here (publishes do not read).
    if (!broken && !w.conn.poll(&err)) broken = true;
    if (broken) {
      log_(true, who + ": " + err + "; reconnecting");
      w.conn.close();
      stats_.connected.fetch_sub(1, std::memory_order_relaxed);
      stats_.connections_closed.fetch_add(1, std::memory_order_relaxed);
      next_attempt = steady_clock::now();
      reported_down = true;
    }
  }
  // Whatever is left could not be sent in time.
  while (size_t n = w.queue.take(batch)) stats_.dropped.fetch_add(n, std::memory_order_relaxed);
  if (w.conn.is_open()) {
    w.conn.close();
    stats_.connected.fetch_sub(1, std::memory_order_relaxed);
    stats_.connections_closed.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace rabbit
