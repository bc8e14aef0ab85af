// One AMQP 0-9-1 connection with one channel, over rabbitmq-c (blocking: used only on the
// transport's own threads and, once, at module start).
#pragma once

#include "rabbit_config.hpp"

#include <chrono>
#include <cstdint>
#include <string>

struct amqp_connection_state_t_;

namespace rabbit {

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

  enum class Result { ok, nacked, timeout, broken };
  // basic.publish without properties (MongooseIM sets none). With confirms, waits up to
  // confirm_timeout for the broker's ack. `broken`: the connection or channel is gone (the
  // caller reopens). *err says why when not ok.
  Result publish(const std::string& exchange, const std::string& key, const std::string& body,
                 std::chrono::milliseconds confirm_timeout, std::string* err);

  // Reads what the broker sent unasked (a channel or connection close); false when the
  // connection is no longer usable.
  bool poll(std::string* err);

 private:
  std::string rpc_error(const char* what);
  // Handles one incoming method frame; false when it closed the channel/connection.
  bool handle_async(uint32_t method, void* decoded, std::string* err);

  amqp_connection_state_t_* conn_ = nullptr;
  bool confirms_ = false;
  uint64_t next_tag_ = 1;
};

}  // namespace rabbit
