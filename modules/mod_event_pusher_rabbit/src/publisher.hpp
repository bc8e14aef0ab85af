// The rabbit transport's workers: each owns one AMQP connection and a bounded queue and
// runs on its own thread (rabbitmq-c blocks). Events go to the worker with the shortest
// queue (MongooseIM's best_worker). A full queue drops and counts; a lost connection is
// reopened with exponential backoff (0.1 s .. 5 s) while new events queue or drop, and the
// exchanges are declared again on it.
#pragma once

#include "amqp_conn.hpp"
#include "record_queue.hpp"

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace rabbit {

struct Stats {
  std::atomic<uint64_t> published{0}, failed{0}, timeout{0}, dropped{0};
  std::atomic<uint64_t> connections_opened{0}, connections_failed{0}, connections_closed{0};
  std::atomic<int> connected{0};
};

class Publisher {
 public:
  using LogFn = std::function<void(bool warning, const std::string&)>;
  // `exchanges` are declared again on every (re)connection: a broker that restarted has lost
  // its non-durable exchanges, and publishing to a missing exchange closes the channel.
  Publisher(Connection c, std::vector<Exchange> exchanges, LogFn log);
  ~Publisher();  // stop()
  void start();
  // [any-thread, never blocks] Queues one record on the worker with the shortest queue:
  // append(std::string&) writes it (record.hpp) and returns false to refuse it. A full
  // queue counts a drop, a refused record a failure.
  template <class Append>
  RecordQueue::Push submit(Append&& append) {
    Worker* w = shortest();
    const RecordQueue::Push r = w->queue.try_append(std::forward<Append>(append));
    if (r != RecordQueue::Push::ok)
      (r == RecordQueue::Push::full ? stats_.dropped : stats_.failed).fetch_add(1, std::memory_order_relaxed);
    return r;
  }
  // Publishes what is queued while connected (for at most `grace`), then closes.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));
  const Stats& stats() const { return stats_; }
  size_t queued() const;

 private:
  struct Worker {
    RecordQueue queue;
    AmqpConn conn;
    std::thread thread;
    explicit Worker(size_t cap) : queue(cap) {}
  };
  void run(Worker& w, size_t index);
  Worker* shortest();  // best_worker: the shortest queue; on a tie the first

  Connection cfg_;
  std::vector<Exchange> exchanges_;
  LogFn log_;
  Stats stats_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> stopping_{false};
  std::chrono::steady_clock::time_point stop_deadline_{};
};

}  // namespace rabbit
