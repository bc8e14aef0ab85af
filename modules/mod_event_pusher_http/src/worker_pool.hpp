// One outgoing_pools.http.<name> pool of mod_event_pusher_http: a bounded queue shared by
// `workers` threads (each push wakes one idle worker), each with its own av::PostTransport
// (an av::CurlPost: a CURL easy handle, so its own kept-alive connections). The hook thread only queues; a full queue drops and counts. A request that
// got any HTTP response counts as sent (MongooseIM ignores the status), one that got none
// (refused, timed out, TLS failure) as failed; nothing is retried.
#pragma once

#include "http_config.hpp"

#include <aviary/cpp/curl_post.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ephttp {

struct Stats {
  std::atomic<uint64_t> sent{0}, failed{0}, dropped{0};
};

class WorkerPool {
 public:
  using TransportFactory = std::function<std::unique_ptr<av::PostTransport>()>;
  using LogFn = std::function<void(bool warning, const std::string&)>;

  WorkerPool(PoolConfig cfg, TransportFactory make, LogFn log);
  ~WorkerPool();  // stop()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Makes one transport per worker (throws what the factory throws), then starts the threads.
  void start();
  // [any-thread, never blocks] false when the queue is full or stopped (counted as dropped).
  bool submit(av::PostRequest r);
  // Sends what is queued for at most `grace`, then aborts requests in flight; what is left is
  // counted as dropped.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));

  const Stats& stats() const { return stats_; }
  size_t queued() const;
  const PoolConfig& config() const { return cfg_; }

 private:
  bool next(av::PostRequest& out);  // false: stop
  void run(av::PostTransport& t);

  PoolConfig cfg_;
  TransportFactory make_;
  LogFn log_;
  Stats stats_;
  std::vector<std::unique_ptr<av::PostTransport>> transports_;
  std::vector<std::thread> threads_;
  std::atomic<bool> abort_{false};      // in-flight requests give up
  std::atomic<bool> failing_{false};    // a failure was logged; the next success logs recovery
  std::atomic<bool> dropping_{false};   // a drop was logged; logged again after the queue drained
  mutable std::mutex mu_;
  std::condition_variable cv_;       // a request was queued, or stopping
  std::condition_variable done_cv_;  // a worker exited
  std::deque<av::PostRequest> queue_;
  bool closed_ = false;
  int running_ = 0;
};

}  // namespace ephttp
