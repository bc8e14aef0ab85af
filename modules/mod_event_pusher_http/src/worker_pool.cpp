#include "worker_pool.hpp"

namespace ephttp {

using namespace std::chrono;

WorkerPool::WorkerPool(PoolConfig cfg, TransportFactory make, LogFn log)
    : cfg_(std::move(cfg)), make_(std::move(make)), log_(std::move(log)), queue_(cfg_.max_queue_len) {}

WorkerPool::~WorkerPool() { stop(milliseconds(0)); }

void WorkerPool::start() {
  for (int i = 0; i < cfg_.workers; ++i) transports_.push_back(make_());
  for (auto& t : transports_) {
    Transport* tp = t.get();
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

bool WorkerPool::submit(PostRequest r) {
  if (queue_.try_push(std::move(r))) return true;
  stats_.dropped.fetch_add(1, std::memory_order_relaxed);
  if (!dropping_.exchange(true))
    log_(true, "pool " + cfg_.name + ": queue full (max_queue_len " + std::to_string(cfg_.max_queue_len) +
                   "), dropping events (counted, not logged, until the queue drains)");
  return false;
}

void WorkerPool::stop(milliseconds grace) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  queue_.close();
  {
    std::unique_lock<std::mutex> lk(mu_);
    done_cv_.wait_for(lk, grace, [&] { return running_ == 0; });
  }
  abort_ = true;  // requests in flight give up; what is still queued is counted as dropped
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  while (queue_.pop(milliseconds(0))) stats_.dropped.fetch_add(1, std::memory_order_relaxed);
}

void WorkerPool::run(Transport& t) {
  for (;;) {
    auto r = queue_.pop(milliseconds(200));
    if (!r) {
      if (queue_.closed()) break;
      continue;
    }
    if (dropping_.load(std::memory_order_relaxed) && queue_.size() == 0) dropping_ = false;
    if (abort_.load(std::memory_order_relaxed)) {
      stats_.dropped.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    PostResult res = t.post(*r, cfg_.request_timeout_ms, abort_);
    if (res.delivered) {
      stats_.sent.fetch_add(1, std::memory_order_relaxed);
      if (failing_.exchange(false)) log_(false, "pool " + cfg_.name + ": requests get through again");
    } else if (abort_.load(std::memory_order_relaxed)) {
      stats_.dropped.fetch_add(1, std::memory_order_relaxed);
    } else {
      stats_.failed.fetch_add(1, std::memory_order_relaxed);
      if (!failing_.exchange(true))
        log_(true, "pool " + cfg_.name + ": POST " + r->url + " failed: " + res.error +
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
