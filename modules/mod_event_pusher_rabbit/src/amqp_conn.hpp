// One AMQP 0-9-1 connection with one channel, over rabbitmq-c (blocking: used only on the
// transport's own threads and, once, at module start).
#pragma once

#include "rabbit_config.hpp"
#include "record.hpp"

#include <chrono>
#include <cstdint>
#include <string>

struct amqp_connection_state_t_;

namespace rabbit {

// What became of one batch of publishes.
struct BatchResult {
  size_t ok = 0, nacked = 0, timeout = 0, failed = 0;
  bool broken = false;  // the connection or channel is gone: reopen it
  std::string err;
};

class AmqpConn {
 public:
  AmqpConn() = default;
  AmqpConn(const AmqpConn&) = delete;
  AmqpConn& operator=(const AmqpConn&) = delete;
  ~AmqpConn() { close(); }

  // Connects, logs in, opens channel 1 (and confirm.select when confirms are enabled).
  // Returns "" on success, else what went wrong.
  std::string open(const Connection& c, std::chrono::milliseconds timeout);
  bool is_open() const { return conn_ != nullptr; }
  void close();  // polite close when possible; always frees

  // exchange.declare{name, type, durable} (not passive, not auto-delete, not internal).
  std::string declare(const Exchange& x);

  // Publishes a chunk of records (record.hpp): over plain TCP the frames of all of them go
  // out in one write; over TLS one amqp_basic_publish each. With confirms, waits (up to
  // confirm_timeout) until the broker acked or nacked them all.
  BatchResult publish_batch(const Chunk& batch, std::chrono::milliseconds confirm_timeout);

  // Reads what the broker sent unasked (a channel or connection close); false when the
  // connection is no longer usable.
  bool poll(std::string* err);

 private:
  std::string rpc_error(const char* what);
  // Writes all of buf to the socket (waiting for room up to `timeout`); "" or the error.
  std::string write_all(const std::string& buf, std::chrono::milliseconds timeout);
  // Reads acks/nacks until every tag up to `last` is settled; counts into r.
  void await_confirms(uint64_t last, std::chrono::milliseconds timeout, BatchResult& r);
  // Handles one incoming method frame; false when it closed the channel/connection.
  bool handle_async(uint32_t method, void* decoded, std::string* err);

  amqp_connection_state_t_* conn_ = nullptr;
  bool confirms_ = false;
  bool tls_ = false;
  uint64_t next_tag_ = 1;
  uint64_t settled_ = 0;   // confirms: every tag <= settled_ was acked or nacked
  std::string out_;        // reused batch buffer
};

}  // namespace rabbit
