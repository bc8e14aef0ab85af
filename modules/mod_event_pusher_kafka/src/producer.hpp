// The Kafka transport's producer: one librdkafka producer (idempotent by default), written to
// from the hook threads without blocking, and one thread of its own that serves librdkafka's
// callbacks (delivery reports, errors) and replaces the producer after a fatal error.
//
// - produce() copies key, value and headers into librdkafka's queue (RD_KAFKA_MSG_F_COPY) and
//   returns at once; a full queue (queue.buffering.max.messages) drops the event and counts it.
// - librdkafka reconnects to brokers and retries failed requests by itself (retries, backoff,
//   message.timeout.ms); with idempotence each partition keeps its order through retries.
// - A fatal error (the idempotent producer lost its guarantees) makes the poll thread build a
//   new producer, fail what the old one still held (counted), and go on with the new one.
// - stop() waits up to the flush timeout for everything queued to be delivered, then purges
//   the rest (counted as failed) and closes.
#pragma once

#include "kafka_config.hpp"
#include "log_limiter.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_message_s rd_kafka_message_t;

namespace kafka {

struct Stats {
  std::atomic<uint64_t> produced{0};   // accepted into librdkafka's queue
  std::atomic<uint64_t> delivered{0};  // acknowledged by the cluster (delivery report OK)
  std::atomic<uint64_t> failed{0};     // refused by librdkafka or the cluster, or not delivered in time
  std::atomic<uint64_t> dropped{0};    // not queued: queue full, or the producer was being replaced
  std::atomic<uint64_t> errors{0};     // client errors reported by librdkafka (connection lost, ...)
  std::atomic<uint64_t> restarts{0};   // producers re-created after a fatal error
};

enum class Level { debug, info, warning, error };

class Producer {
 public:
  using LogFn = std::function<void(Level, const std::string&)>;

  // `props`: the librdkafka configuration (producer_properties()); `topics`: names by TopicId,
  // "" for a topic not used.
  Producer(std::vector<Property> props, Topics topics, LogFn log);
  ~Producer();  // stop(0) if still running
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Creates the producer, starts the poll thread and asks the cluster for the metadata of
  // every topic used, for at most `check_timeout` in all. "" when the cluster answered and
  // every topic exists; otherwise the reason (a property librdkafka refuses, with its key; an
  // unreachable cluster; a missing topic), and nothing is left running.
  std::string start(std::chrono::milliseconds check_timeout);

  // [any thread, never blocks] Queues one record, with headers event_type and host (the
  // event's XMPP domain) and the timestamp `timestamp_ms` (0 = now). false when it was not
  // queued (counted as dropped or failed).
  bool produce(const Record& r, std::string_view vhost, int64_t timestamp_ms);

  // Waits up to `flush_timeout` for the queued records to be delivered, purges the rest
  // (counted as failed) and destroys the producer. Idempotent.
  void stop(std::chrono::milliseconds flush_timeout);

  const Stats& stats() const { return stats_; }
  // Records accepted and not yet reported on: in librdkafka's queue or in flight.
  size_t queued() const;
  std::string last_error() const;

 private:
  struct Instance;
  std::shared_ptr<Instance> create_instance(std::string* error);
  void run();
  void replace(std::shared_ptr<Instance>& old);
  std::string check_cluster(Instance& inst, std::chrono::milliseconds timeout);
  void log_limited(Level level, const std::string& key, const std::string& msg);

  static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque);
  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  static void on_log(const rd_kafka_t* rk, int level, const char* fac, const char* buf);

  std::vector<Property> props_;
  Topics topics_;
  LogFn log_;
  LogLimiter limiter_{std::chrono::seconds(5)};
  Stats stats_;
  std::atomic<uint64_t> reported_{0};  // delivery reports received (success or failure)

  std::shared_ptr<Instance> inst_;  // accessed with std::atomic_load/atomic_store
  std::thread poller_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> fatal_{false};
  bool running_ = false;
  std::string bootstrap_;

  mutable std::mutex err_mu_;
  std::string last_error_;
};

}  // namespace kafka
