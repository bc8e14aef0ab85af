// mod_event_pusher_rabbit: the RabbitMQ transport of the event pusher (MongooseIM 6.5's
// mod_event_pusher_rabbit, same exchanges, routing keys and JSON).
// - start: reads outgoing_pools.rabbit.event_pusher (av.pools/1), declares each configured
//   exchange synchronously (a refusal or an unreachable broker fails the start with the
//   reason), then starts the publisher workers (one AMQP connection each).
// - event-pusher/push (AV_PUSH_PRIO_TRANSPORT): presence and chat/groupchat events are turned
//   into (exchange, routing key, JSON) and queued; the hook thread never waits on the broker.
// - aviaryctl event_pusher rabbitStats: counters.
#include <aviary/aviary.hpp>
#include <aviary/cpp/event_pusher_json.hpp>
#include <aviary/ext/draft/pools.h>

#include <atomic>
#include <memory>

#include "publisher.hpp"
#include "record.hpp"
#include "rabbit_config.hpp"

namespace {

const av_option_spec kOptions[] = {
    {"presence_exchange", AV_OPT_ANY, nullptr, 1, 0, nullptr, false,
     "presence events (routing key: the user's bare JID); enabled when present"},
    {"presence_exchange.name", AV_OPT_STRING, nullptr, 1, 0, nullptr, false, "exchange name (presence)"},
    {"presence_exchange.type", AV_OPT_STRING, nullptr, 1, 0, nullptr, false, "exchange type (topic)"},
    {"presence_exchange.durable", AV_OPT_BOOL, nullptr, 1, 0, nullptr, false, "durable exchange (false)"},
    {"chat_msg_exchange", AV_OPT_ANY, nullptr, 1, 0, nullptr, false,
     "one-to-one message events; enabled when present"},
    {"chat_msg_exchange.name", AV_OPT_STRING, nullptr, 1, 0, nullptr, false, "exchange name (chat_msg)"},
    {"chat_msg_exchange.type", AV_OPT_STRING, nullptr, 1, 0, nullptr, false, "exchange type (topic)"},
    {"chat_msg_exchange.durable", AV_OPT_BOOL, nullptr, 1, 0, nullptr, false, "durable exchange (false)"},
    {"chat_msg_exchange.sent_topic", AV_OPT_STRING, nullptr, 1, 0, nullptr, false,
     "routing key suffix of sent messages (chat_msg_sent)"},
    {"chat_msg_exchange.recv_topic", AV_OPT_STRING, nullptr, 1, 0, nullptr, false,
     "routing key suffix of received messages (chat_msg_recv)"},
    {"groupchat_msg_exchange", AV_OPT_ANY, nullptr, 1, 0, nullptr, false,
     "groupchat message events; enabled when present"},
    {"groupchat_msg_exchange.name", AV_OPT_STRING, nullptr, 1, 0, nullptr, false, "exchange name (groupchat_msg)"},
    {"groupchat_msg_exchange.type", AV_OPT_STRING, nullptr, 1, 0, nullptr, false, "exchange type (topic)"},
    {"groupchat_msg_exchange.durable", AV_OPT_BOOL, nullptr, 1, 0, nullptr, false, "durable exchange (false)"},
    {"groupchat_msg_exchange.sent_topic", AV_OPT_STRING, nullptr, 1, 0, nullptr, false,
     "routing key suffix of sent groupchat messages (groupchat_msg_sent)"},
    {"groupchat_msg_exchange.recv_topic", AV_OPT_STRING, nullptr, 1, 0, nullptr, false,
     "routing key suffix of received groupchat messages (groupchat_msg_recv)"},
    {nullptr, 0, nullptr, 0, 0, nullptr, false, nullptr}};

const av_dep kDeps[] = {{"mod_event_pusher", AV_DEP_HARD}, {nullptr, 0}};

constexpr const char* kPoolTag = "event_pusher";

// One publish record (record.hpp) of event e for exchange ex; false when its routing key is
// too long for AMQP.
bool append_event(std::string& out, const rabbit::Exchange& ex, const av_push_event& e, const av_push_acc& acc) {
  const av::PushEventView v = av::PushEventView::of(e);
  const bool meta = av::push_has_meta(acc);
  return rabbit::append_record(
      out, ex.name, [&](std::string& o) { rabbit::append_routing_key(o, ex, v); },
      [&](std::string& o) {
        if (meta)
          o += av::mongoose_event_json(av::PushEvent::copy(e, acc));  // merged metadata: rare
        else
          av::append_mongoose_event_json(o, v);
      });
}

class RabbitTransport final : public av::Module {
 public:
  static const av_option_spec* options() { return kOptions; }
  static const av_dep* deps() { return kDeps; }

  av_status start(av::Context& cx) override {
    x_.presence = rabbit::parse_exchange(cx.option_json("presence_exchange"), "presence");
    x_.chat = rabbit::parse_exchange(cx.option_json("chat_msg_exchange"), "chat_msg");
    x_.groupchat = rabbit::parse_exchange(cx.option_json("groupchat_msg_exchange"), "groupchat_msg");
    auto* pools = cx.require<av_ext_pools_v1>(AV_EXT_POOLS);
    av_str pool_json{};
    if (pools->config(av_cstr("rabbit"), av_cstr(kPoolTag), &pool_json) != AV_OK)
      throw av::Error(AV_E_NOT_FOUND,
                      "needs the connection pool outgoing_pools.rabbit.event_pusher in the config");
    rabbit::Connection conn = rabbit::parse_pool(std::string(av::sv(pool_json)));

    // MongooseIM declares the exchanges synchronously in start and fails the start when it
    // cannot: a misconfigured broker shows at once, not as silently dropped events.
    std::vector<rabbit::Exchange> exchanges;
    for (const rabbit::Exchange* x : {&x_.presence, &x_.chat, &x_.groupchat})
      if (x->enabled) exchanges.push_back(*x);
    {
      rabbit::AmqpConn c;
      if (std::string err = c.open(conn, std::chrono::seconds(5)); !err.empty())
        throw av::Error(AV_E_IO, "cannot declare the exchanges: " + err);
      for (auto& x : exchanges)
        if (std::string err = c.declare(x); !err.empty())
          throw av::Error(AV_E_IO, "creating exchanges failed on " + conn.where() + ": " + err);
    }

    pub_ = std::make_unique<rabbit::Publisher>(conn, exchanges, [](bool warning, const std::string& m) {
      warning ? av::log_warning(m) : av::log_info(m);
    });
    pub_->start();
    hooks_.add(av::hooks::event_pusher_push, AV_PUSH_PRIO_TRANSPORT, [this](const av_push_event& e, av_push_acc& acc) {
      on_event(e, acc);
      return av::next;
    });
    commands_.add("event_pusher", "rabbitStats", "Counters of the RabbitMQ event pusher transport", {},
                  [this](const av::CommandCall& call) { call.ok(stats_text()); });
    av::log_info("publishing to " + conn.where() + " with " + std::to_string(conn.workers) + " worker(s)" +
                 (conn.confirms_enabled ? ", publisher confirms on" : ""));
    return AV_OK;
  }

  void stop() override {
    hooks_.clear();
    if (pub_) pub_->stop();
    av::log_info(stats_text());
  }

 private:
  // The routing key and the JSON are written straight into the chosen worker's queue: no
  // copy of the event and no allocation per event (this runs for every message routed).
  void on_event(const av_push_event& e, const av_push_acc& acc) {
    const rabbit::Exchange* ex = rabbit::exchange_for(x_, e.kind, e.chat_type);
    if (!ex) return;  // not for rabbit, or that exchange is off
    auto r = pub_->submit([&](std::string& out) { return append_event(out, *ex, e, acc); });
    if (r == rabbit::RecordQueue::Push::refused && !warned_long_key_.exchange(true))
      av::log_warning("an event was not published: its routing key (a bare JID and a topic) is longer than "
                      "AMQP's 255 bytes; such events are counted as failed");
  }

  std::string stats_text() const {
    if (!pub_) return "not started";
    const auto& s = pub_->stats();
    return "published " + std::to_string(s.published.load()) + ", failed " + std::to_string(s.failed.load()) +
           ", timeout " + std::to_string(s.timeout.load()) + ", dropped " + std::to_string(s.dropped.load()) +
           ", queued " + std::to_string(pub_->queued()) + ", connections " + std::to_string(s.connected.load()) +
           " open (opened " + std::to_string(s.connections_opened.load()) + ", failed " +
           std::to_string(s.connections_failed.load()) + ", closed " + std::to_string(s.connections_closed.load()) + ")";
  }

  rabbit::Exchanges x_;
  std::atomic<bool> warned_long_key_{false};
  std::unique_ptr<rabbit::Publisher> pub_;
  av::HookSet hooks_;
  av::Commands commands_;
};

}  // namespace

AV_MODULE(RabbitTransport, "mod_event_pusher_rabbit", "0.1.0",
          "Event pusher transport: publishes events to RabbitMQ exchanges (MongooseIM's format)")
