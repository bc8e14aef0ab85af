// mod_push_service_mongoosepush: HTTP POSTs on a thread of their own (libcurl multi), so the
// hook thread only queues. Up to `concurrency` requests run at once over reused connections;
// a bounded queue holds the rest (a full queue refuses, the caller counts a drop). Each
// request's `done` runs exactly once on the poster's thread, with the HTTP status (0 when no
// response came, with the reason).
#pragma once

#include "mongoosepush.hpp"

#include <aviary/cpp/bounded_queue.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

namespace mpush {

struct Request {
  std::string url, body;
  // status: the HTTP status, or 0 with `error` when the request failed (connection, timeout,
  // shutdown). response: the start of the response body (for logs).
  std::function<void(long status, const std::string& error, const std::string& response)> done;
};

struct PosterStats {
  std::atomic<uint64_t> requests{0}, responses{0}, failed{0}, dropped{0};
  std::atomic<int64_t> in_flight{0};
};

class HttpPoster {
 public:
  HttpPoster(Pool pool, size_t concurrency);
  ~HttpPoster();  // stop()
  // Throws std::runtime_error when libcurl cannot be set up.
  void start();
  // [any-thread, never blocks] false when the queue is full or the poster stopped (`done`
  // is then not called).
  bool submit(Request r);
  // Finishes what is queued and running for at most `grace`; what is left gets done(0, ...).
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));
  const PosterStats& stats() const { return stats_; }
  size_t queued() const { return queue_.size(); }

 private:
  void run();
  Pool pool_;
  size_t concurrency_;
  av::BoundedQueue<Request> queue_;
  void* multi_ = nullptr;  // CURLM*
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> deadline_ms_{0};  // steady clock, set by stop()
  PosterStats stats_;
};

}  // namespace mpush
