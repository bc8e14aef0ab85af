// The rabbit transport's workers: each owns one AMQP connection and a bounded queue and
// runs on its own thread (rabbitmq-c blocks). Events go to the worker with the shortest
// queue (MongooseIM's best_worker). A full queue drops and counts; a lost connection is
// reopened with exponential backoff (0.1 s .. 5 s) while new events queue or drop, and the
// exchanges are declared again on it.
#pragma once

#include "amqp_conn.hpp"

#include <aviary/cpp/bounded_queue.hpp>

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
  // [any-thread, never blocks] false when every choice was full (counted as dropped).
  bool submit(Message m);
  // [any-thread] Every queue is full: the caller can count a drop without building the
  // message (under overload the payload would be thrown away anyway).
  bool saturated();
  // Publishes what is queued while connected (for at most `grace`), then closes.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));
  const Stats& stats() const { return stats_; }
  size_t queued() const;

 private:
  struct Worker {
    av::BoundedQueue<Message> queue;
    AmqpConn conn;
    std::thread thread;
    explicit Worker(size_t cap) : queue(cap) {}
  };
  void run(Worker& w, size_t index);

  Connection cfg_;
  std::vector<Exchange> exchanges_;
  LogFn log_;
  Stats stats_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> stopping_{false};
  std::chrono::steady_clock::time_point stop_deadline_{};
};

}  // namespace rabbit
