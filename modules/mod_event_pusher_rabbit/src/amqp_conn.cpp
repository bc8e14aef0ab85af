#include "amqp_conn.hpp"

#include "amqp_frames.hpp"
#include "record.hpp"

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <sys/time.h>

#include <algorithm>

namespace rabbit {

namespace {

constexpr amqp_channel_t kChannel = 1;

timeval to_tv(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

amqp_bytes_t bytes(std::string_view s) {
  amqp_bytes_t b;
  b.len = s.size();
  b.bytes = const_cast<char*>(s.data());
  return b;
}

std::string text_of(amqp_bytes_t b) { return std::string(static_cast<const char*>(b.bytes), b.len); }

}  // namespace

std::string AmqpConn::rpc_error(const char* what) {
  amqp_rpc_reply_t r = amqp_get_rpc_reply(conn_);
  std::string prefix = std::string(what) + ": ";
  switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL: return "";
    case AMQP_RESPONSE_NONE: return prefix + "no reply from the broker";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION: return prefix + amqp_error_string2(r.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        auto* m = static_cast<amqp_connection_close_t*>(r.reply.decoded);
        return prefix + "connection closed by the broker: " + std::to_string(m->reply_code) + " " +
               text_of(m->reply_text);
      }
      if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        auto* m = static_cast<amqp_channel_close_t*>(r.reply.decoded);
        return prefix + "channel closed by the broker: " + std::to_string(m->reply_code) + " " + text_of(m->reply_text);
      }
      return prefix + "unexpected broker reply " + std::to_string(r.reply.id);
  }
  return prefix + "unknown error";
}

std::string AmqpConn::open(const Connection& c, std::chrono::milliseconds timeout) {
  close();
  conn_ = amqp_new_connection();
  if (!conn_) return "out of memory";
  amqp_socket_t* sock = nullptr;
  if (c.tls.enabled) {
    sock = amqp_ssl_socket_new(conn_);
    if (sock) {
      amqp_ssl_socket_set_verify_peer(sock, c.tls.verify_peer);
      amqp_ssl_socket_set_verify_hostname(sock, c.tls.verify_peer);
      if (!c.tls.cacertfile.empty() && amqp_ssl_socket_set_cacert(sock, c.tls.cacertfile.c_str()) != AMQP_STATUS_OK) {
        close();
        return "cannot read tls.cacertfile " + c.tls.cacertfile;
      }
      if (!c.tls.certfile.empty() &&
          amqp_ssl_socket_set_key(sock, c.tls.certfile.c_str(), c.tls.keyfile.c_str()) != AMQP_STATUS_OK) {
        close();
        return "cannot read tls.certfile/keyfile " + c.tls.certfile;
      }
    }
  } else {
    sock = amqp_tcp_socket_new(conn_);
  }
  if (!sock) {
    close();
    return "cannot create a socket";
  }
  timeval tv = to_tv(timeout);
  int st = amqp_socket_open_noblock(sock, c.host.c_str(), c.port, &tv);
  if (st != AMQP_STATUS_OK) {
    close();
    return std::string("cannot connect to ") + c.where() + ": " + amqp_error_string2(st);
  }
  amqp_set_handshake_timeout(conn_, &tv);
  amqp_set_rpc_timeout(conn_, &tv);
  amqp_rpc_reply_t r = amqp_login(conn_, c.virtual_host.c_str(), 0, 131072, 0, AMQP_SASL_METHOD_PLAIN,
                                  c.username.c_str(), c.password.c_str());
  if (r.reply_type != AMQP_RESPONSE_NORMAL) {
    std::string e = rpc_error(("login to " + c.where() + " as " + c.username).c_str());
    close();
    return e;
  }
  amqp_channel_open(conn_, kChannel);
  if (std::string e = rpc_error("channel.open"); !e.empty()) {
    close();
    return e;
  }
  confirms_ = c.confirms_enabled;
  tls_ = c.tls.enabled;
  next_tag_ = 1;
  settled_ = 0;
  if (confirms_) {
    amqp_confirm_select(conn_, kChannel);
    if (std::string e = rpc_error("confirm.select"); !e.empty()) {
      close();
      return e;
    }
  }
  return "";
}

void AmqpConn::close() {
  if (!conn_) return;
  // Best effort: a dead peer makes these fail fast (the rpc timeout bounds them).
  amqp_channel_close(conn_, kChannel, AMQP_REPLY_SUCCESS);
  amqp_connection_close(conn_, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(conn_);
  conn_ = nullptr;
}

std::string AmqpConn::declare(const Exchange& x) {
  if (!conn_) return "not connected";
  amqp_exchange_declare(conn_, kChannel, bytes(x.name), bytes(x.type), 0, x.durable ? 1 : 0, 0, 0, amqp_empty_table);
  std::string e = rpc_error(("exchange.declare of '" + x.name + "' (type " + x.type +
                             ", durable " + (x.durable ? "true" : "false") + ")")
                                .c_str());
  if (!e.empty()) close();  // the channel (or connection) is closed after a refusal
  return e;
}

bool AmqpConn::handle_async(uint32_t method, void* decoded, std::string* err) {
  if (method == AMQP_CHANNEL_CLOSE_METHOD) {
    auto* m = static_cast<amqp_channel_close_t*>(decoded);
    if (err) *err = "channel closed by the broker: " + std::to_string(m->reply_code) + " " + text_of(m->reply_text);
    amqp_channel_close_ok_t ok{};
    amqp_send_method(conn_, kChannel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
    return false;
  }
  if (method == AMQP_CONNECTION_CLOSE_METHOD) {
    auto* m = static_cast<amqp_connection_close_t*>(decoded);
    if (err) *err = "connection closed by the broker: " + std::to_string(m->reply_code) + " " + text_of(m->reply_text);
    amqp_connection_close_ok_t ok{};
    amqp_send_method(conn_, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
    return false;
  }
  return true;  // basic.return and the like: nothing to do (mandatory is off)
}

bool AmqpConn::poll(std::string* err) {
  if (!conn_) return false;
  for (;;) {
    if (!amqp_data_in_buffer(conn_) && !amqp_frames_enqueued(conn_)) {
      pollfd p{amqp_get_sockfd(conn_), POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0) return true;  // nothing waiting
    }
    amqp_frame_t f;
    timeval zero{};
    int st = amqp_simple_wait_frame_noblock(conn_, &f, &zero);
    if (st == AMQP_STATUS_TIMEOUT) return true;
    if (st != AMQP_STATUS_OK) {
      if (err) *err = std::string("connection lost: ") + amqp_error_string2(st);
      return false;
    }
    if (f.frame_type == AMQP_FRAME_METHOD && !handle_async(f.payload.method.id, f.payload.method.decoded, err))
      return false;
    amqp_maybe_release_buffers(conn_);
  }
}

std::string AmqpConn::write_all(const std::string& buf, std::chrono::milliseconds timeout) {
  const int fd = amqp_get_sockfd(conn_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t off = 0;
  while (off < buf.size()) {
    ssize_t n = ::send(fd, buf.data() + off, buf.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return std::string("publish: ") + std::strerror(errno);
    // The broker reads slower than we write (TCP flow control): wait for room.
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return "publish: the broker accepted nothing for " + std::to_string(timeout.count()) + " ms";
    pollfd p{fd, POLLOUT, 0};
    ::poll(&p, 1, static_cast<int>(left.count()));
  }
  return "";
}

void AmqpConn::await_confirms(uint64_t last, std::chrono::milliseconds timeout, BatchResult& r) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (settled_ < last) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.timeout += last - settled_;
      r.err = "no publisher confirm within " + std::to_string(timeout.count()) + " ms";
      settled_ = last;  // given up on; a late ack for them is ignored
      return;
    }
    timeval tv = to_tv(left);
    amqp_frame_t f;
    int st = amqp_simple_wait_frame_noblock(conn_, &f, &tv);
    if (st == AMQP_STATUS_TIMEOUT) continue;
    if (st != AMQP_STATUS_OK) {
      r.failed += last - settled_;
      r.broken = true;
      r.err = std::string("waiting for confirms: ") + amqp_error_string2(st);
      return;
    }
    if (f.frame_type != AMQP_FRAME_METHOD) continue;
    const uint32_t id = f.payload.method.id;
    uint64_t tag = 0;
    bool multiple = false, nack = false;
    if (id == AMQP_BASIC_ACK_METHOD) {
      auto* a = static_cast<amqp_basic_ack_t*>(f.payload.method.decoded);
      tag = a->delivery_tag;
      multiple = a->multiple;
    } else if (id == AMQP_BASIC_NACK_METHOD) {
      auto* n = static_cast<amqp_basic_nack_t*>(f.payload.method.decoded);
      tag = n->delivery_tag;
      multiple = n->multiple;
      nack = true;
    } else {
      if (!handle_async(id, f.payload.method.decoded, &r.err)) {
        r.failed += last - settled_;
        r.broken = true;
        return;
      }
      continue;
    }
    if (tag <= settled_) continue;  // late answer for tags given up on
    // Tags are settled in order: `multiple` covers everything up to tag, otherwise the broker
    // answers one tag (RabbitMQ confirms in order, so the ones before were answered already).
    const uint64_t count = multiple ? tag - settled_ : 1;
    (nack ? r.nacked : r.ok) += count;
    if (nack) r.err = "the broker refused " + std::to_string(count) + " message(s) (basic.nack)";
    settled_ = multiple ? tag : std::max(settled_ + 1, tag);
    amqp_maybe_release_buffers(conn_);
  }
}

BatchResult AmqpConn::publish_batch(const Chunk& batch, std::chrono::milliseconds confirm_timeout) {
  BatchResult r;
  if (!conn_) {
    r.broken = true;
    r.failed = batch.count;
    r.err = "not connected";
    return r;
  }
  size_t pos = 0, read = 0;
  RecordView m;
  if (tls_) {  // rabbitmq-c owns the TLS session: publish through it
    for (; next_record(batch.bytes, pos, m); ++read) {
      int st = amqp_basic_publish(conn_, kChannel, bytes(m.exchange), bytes(m.routing_key), 0, 0, nullptr, bytes(m.body));
      if (st != AMQP_STATUS_OK) {
        r.failed += batch.count - read;
        r.broken = true;
        r.err = std::string("publish: ") + amqp_error_string2(st);
        return r;
      }
      ++next_tag_;
    }
  } else {
    out_.clear();
    const uint32_t frame_max = static_cast<uint32_t>(amqp_get_frame_max(conn_));
    size_t encoded = 0;
    for (; next_record(batch.bytes, pos, m); ++read)
      encoded += append_publish(out_, kChannel, frame_max, m.exchange, m.routing_key, m.body) ? 1 : 0;
    r.failed += read - encoded;  // none: records hold only keys that fit
    if (std::string e = write_all(out_, confirm_timeout); !e.empty()) {
      r.failed += encoded;
      r.broken = true;
      r.err = e;
      return r;
    }
    next_tag_ += encoded;
  }
  if (read < batch.count) {  // cannot happen with records from append_record; counted, not hidden
    r.failed += batch.count - read;
    r.err = "malformed queued record";
  }
  const uint64_t last = next_tag_ - 1;
  if (confirms_) {
    await_confirms(last, confirm_timeout, r);
  } else {
    r.ok += last - settled_;  // without confirms a message written is a message published
    settled_ = last;
  }
  return r;
}

}  // namespace rabbit
