#include "worker_pool.hpp"

namespace ephttp {

using namespace std::chrono;

WorkerPool::WorkerPool(PoolConfig cfg, TransportFactory make, LogFn log)
    : cfg_(std::move(cfg)), make_(std::move(make)), log_(std::move(log)) {}

WorkerPool::~WorkerPool() { stop(milliseconds(0)); }

void WorkerPool::start() {
  for (int i = 0; i < cfg_.workers; ++i) transports_.push_back(make_());
  for (auto& t : transports_) {
    av::PostTransport* tp = t.get();
    {
      std::lock_guard<std::mutex> lk(mu_);
      ++running_;
    }
    try {
      threads_.emplace_back([this, tp] { run(*tp); });
    } catch (...) {
      std::lock_guard<std::mutex> lk(mu_);
      --running_;
      throw;
    }
  }
}

bool WorkerPool::submit(av::PostRequest r) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!closed_ && queue_.size() < cfg_.max_queue_len) {
      queue_.push_back(std::move(r));
      cv_.notify_one();  // each request may go to another idle worker
      return true;
    }
  }
  stats_.dropped.fetch_add(1, std::memory_order_relaxed);
  if (!dropping_.exchange(true))
    log_(true, "pool " + cfg_.name + ": queue full (max_queue_len " + std::to_string(cfg_.max_queue_len) +
                   "), dropping events (counted, not logged, until the queue drains)");
  return false;
}

size_t WorkerPool::queued() const {
  std::lock_guard<std::mutex> lk(mu_);
  return queue_.size();
}

void WorkerPool::stop(milliseconds grace) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (closed_) return;
    closed_ = true;
  }
  cv_.notify_all();
  {
    std::unique_lock<std::mutex> lk(mu_);
    done_cv_.wait_for(lk, grace, [&] { return running_ == 0; });
    abort_ = true;  // requests in flight give up; what is still queued is counted as dropped
  }
  cv_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  std::lock_guard<std::mutex> lk(mu_);
  stats_.dropped.fetch_add(queue_.size(), std::memory_order_relaxed);
  queue_.clear();
}

bool WorkerPool::next(av::PostRequest& out) {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait(lk, [&] { return abort_ || closed_ || !queue_.empty(); });
  if (abort_ || queue_.empty()) return false;  // aborted, or closed and drained
  out = std::move(queue_.front());
  queue_.pop_front();
  if (queue_.empty()) dropping_ = false;
  return true;
}

void WorkerPool::run(av::PostTransport& t) {
  av::PostRequest r;
  while (next(r)) {
    av::PostResult res = t.post(r, cfg_.request_timeout_ms, abort_);
    if (res.delivered) {
      stats_.sent.fetch_add(1, std::memory_order_relaxed);
      if (failing_.exchange(false)) log_(false, "pool " + cfg_.name + ": requests get through again");
    } else if (abort_.load(std::memory_order_relaxed)) {
      stats_.dropped.fetch_add(1, std::memory_order_relaxed);
    } else {
      stats_.failed.fetch_add(1, std::memory_order_relaxed);
      if (!failing_.exchange(true))
        log_(true, "pool " + cfg_.name + ": POST " + r.url + " failed: " + res.error +
                       " (not retried; further failures are counted, not logged, until one gets through)");
    }
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    --running_;
  }
  done_cv_.notify_all();
}

}  // namespace ephttp
