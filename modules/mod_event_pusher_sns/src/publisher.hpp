// The SNS publisher of mod_event_pusher_sns: `pool_size` worker threads (MongooseIM's
// pusher_sns pool, available_worker: any idle worker takes the next job), each with its own
// av::PostTransport (an av::CurlPost made with curl_options()), sharing one bounded queue. A
// failed attempt (no response, or a status other than 2xx) is retried publish_retry_count
// times, each after backoff_ms(); the waiting job sits in the queue with a due time, so no
// thread sleeps on it and the hook thread never waits.
#pragma once

#include "sns_config.hpp"

#include <aviary/cpp/curl_post.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace sns {

// The workers' libcurl client: the system CAs verify SNS's certificate; the first 1 KiB of an
// answer is kept (SNS explains errors there, and a failure's log line quotes it).
inline av::CurlPostOptions curl_options() {
  av::CurlPostOptions o;
  o.keep_body = 1024;
  return o;
}

struct Stats {
  std::atomic<uint64_t> published{0};  // an attempt got a 2xx
  std::atomic<uint64_t> retried{0};    // attempts that failed and were scheduled again
  std::atomic<uint64_t> failed{0};     // gave up after publish_retry_count retries
  std::atomic<uint64_t> dropped{0};    // queue full, or still queued at shutdown
};

class Publisher {
 public:
  using Clock = std::chrono::steady_clock;
  using TransportFactory = std::function<std::unique_ptr<av::PostTransport>()>;
  using LogFn = std::function<void(bool warning, const std::string&)>;
  // The request of one attempt (signed_publish at the current time, by default).
  using BuildFn = std::function<av::PostRequest(const Publication&)>;

  Publisher(Settings s, TransportFactory make, LogFn log, BuildFn build = nullptr);
  ~Publisher();  // stop()
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Makes one transport per worker (throws what the factory throws), then starts the threads.
  void start();
  // [any-thread, never blocks] false when the queue (jobs waiting for a worker or for a retry)
  // is full or stopped: counted as dropped.
  bool submit(Publication p);
  // Publishes what is queued (retries included, when due) for at most `grace`, then aborts
  // attempts in flight; what is left is counted as dropped.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));

  const Stats& stats() const { return stats_; }
  size_t queued() const;  // waiting for a worker or for a retry

 private:
  struct Job {
    Publication pub;
    int retry_left;
  };
  bool next_job(Job& out);  // false: stop
  void run(av::PostTransport& t, unsigned seed);

  Settings s_;
  TransportFactory make_;
  LogFn log_;
  BuildFn build_;
  Stats stats_;
  std::vector<std::unique_ptr<av::PostTransport>> transports_;
  std::vector<std::thread> threads_;

  mutable std::mutex mu_;
  std::condition_variable cv_;       // work arrived, a retry came due, or stopping
  std::condition_variable done_cv_;  // a worker exited
  std::deque<Job> ready_;
  std::multimap<Clock::time_point, Job> waiting_;  // retries, by due time
  bool closed_ = false;
  bool stopped_ = false;
  int running_ = 0;
  std::atomic<bool> abort_{false};
  std::atomic<bool> failing_{false};   // a failure was logged; the next success logs recovery
  std::atomic<bool> dropping_{false};  // a drop was logged
};

}  // namespace sns
