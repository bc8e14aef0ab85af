// mod_event_pusher_kafka: the Kafka transport of the event pusher (librdkafka). MongooseIM has
// none; this one publishes the rabbit transport's JSON payloads as Kafka records.
// - start: reads outgoing_pools.kafka.event_pusher (av.pools/1), creates an idempotent
//   producer (acks=all) and checks within 5 s that the cluster answers and that every
//   configured topic exists; a property librdkafka refuses, an unreachable cluster or a
//   missing topic fails the start with the reason.
// - event-pusher/push (AV_PUSH_PRIO_TRANSPORT): presence and chat/groupchat events become
//   records (topic per kind, key = the local user's bare JID, headers event_type and host),
//   handed to librdkafka's queue from the hook thread without waiting.
// - stop: flushes for up to flush_timeout, so a clean stop loses nothing queued.
// - aviaryctl event_pusher kafkaStats: counters (also logged at stop).
#include <aviary/aviary.hpp>
#include <aviary/cpp/event_pusher_json.hpp>
#include <aviary/ext/draft/pools.h>

#include <memory>

#include "kafka_config.hpp"
#include "producer.hpp"

namespace {

const av_option_spec kOptions[] = {
    {"presence_topic", AV_OPT_STRING, nullptr, 1, 0, nullptr, false,
     "topic of presence events (key: the user's bare JID); enabled when present"},
    {"chat_msg_topic", AV_OPT_STRING, nullptr, 1, 0, nullptr, false,
     "topic of one-to-one message events, sent and received (header event_type); enabled when present"},
    {"groupchat_msg_topic", AV_OPT_STRING, nullptr, 1, 0, nullptr, false,
     "topic of groupchat message events, sent and received; enabled when present"},
    {nullptr, 0, nullptr, 0, 0, nullptr, false, nullptr}};

const av_dep kDeps[] = {{"mod_event_pusher", AV_DEP_HARD}, {nullptr, 0}};

constexpr const char* kPoolTag = "event_pusher";
constexpr std::chrono::milliseconds kStartCheckTimeout{5000};

class KafkaTransport final : public av::Module {
 public:
  static const av_option_spec* options() { return kOptions; }
  static const av_dep* deps() { return kDeps; }

  av_status start(av::Context& cx) override {
    static const char* const keys[kafka::kTopicCount] = {"presence_topic", "chat_msg_topic", "groupchat_msg_topic"};
    for (int t = 0; t < kafka::kTopicCount; ++t) {
      if (!cx.has_option(keys[t], AV_OPT_STRING)) continue;
      topics_[t] = cx.option_string(keys[t]);
      if (std::string bad = kafka::check_topic_name(topics_[t]); !bad.empty())
        throw av::Error(AV_E_INVALID_ARG, std::string(keys[t]) + ": " + bad);
    }
    if (topics_[kafka::kPresence].empty() && topics_[kafka::kChat].empty() && topics_[kafka::kGroupchat].empty())
      av::log_warning("no topic configured (presence_topic, chat_msg_topic, groupchat_msg_topic): nothing is published");

    auto* pools = cx.require<av_ext_pools_v1>(AV_EXT_POOLS);
    av_str pool_json{};
    if (pools->config(av_cstr("kafka"), av_cstr(kPoolTag), &pool_json) != AV_OK)
      throw av::Error(AV_E_NOT_FOUND, "needs the connection pool outgoing_pools.kafka.event_pusher in the config");
    kafka::Settings settings;
    try {
      settings = kafka::parse_pool(std::string(av::sv(pool_json)));
    } catch (const std::exception& e) {
      throw av::Error(AV_E_INVALID_ARG, std::string("outgoing_pools.kafka.event_pusher: ") + e.what());
    }
    flush_timeout_ = std::chrono::milliseconds(settings.flush_timeout_ms);

    producer_ = std::make_unique<kafka::Producer>(kafka::producer_properties(settings), topics_,
                                                  [](kafka::Level l, const std::string& m) {
                                                    switch (l) {
                                                      case kafka::Level::debug: av::log_debug(m); break;
                                                      case kafka::Level::info: av::log_info(m); break;
                                                      case kafka::Level::warning: av::log_warning(m); break;
                                                      case kafka::Level::error: av::log_error(m); break;
                                                    }
                                                  });
    if (std::string err = producer_->start(kStartCheckTimeout); !err.empty()) {
      producer_.reset();
      throw av::Error(AV_E_IO, err);
    }
    hooks_.add(av::hooks::event_pusher_push, AV_PUSH_PRIO_TRANSPORT, [this](const av_push_event& e, av_push_acc& acc) {
      on_event(e, acc);
      return av::next;
    });
    commands_.add("event_pusher", "kafkaStats", "Counters of the Kafka event pusher transport", {},
                  [this](const av::CommandCall& call) { call.ok(stats_text()); });
    std::string used;
    for (int t = 0; t < kafka::kTopicCount; ++t)
      if (!topics_[t].empty()) used += (used.empty() ? "" : ", ") + std::string(keys[t]) + "=" + topics_[t];
    av::log_info("producing to the Kafka cluster at " + settings.bootstrap_servers + " (" +
                 (used.empty() ? std::string("no topics") : used) + ")");
    return AV_OK;
  }

  void stop() override {
    hooks_.clear();
    if (!producer_) return;
    producer_->stop(flush_timeout_);
    av::log_info(stats_text());
  }

 private:
  // Formats from the event as it is (no copy of it first); librdkafka copies key and value.
  void on_event(const av_push_event& e, const av_push_acc& acc) {
    const av::PushEventView v = av::PushEventView::of(e);
    kafka::Record r;
    if (!kafka::route_into(topics_, v, r)) return;
    if (av::push_has_meta(acc))
      r.value = av::mongoose_event_json(av::PushEvent::copy(e, acc));
    else
      av::append_mongoose_event_json(r.value, v);
    producer_->produce(r, av::sv(e.vhost ? av::host().vhost_name(e.vhost) : av_str{}), e.timestamp_us / 1000);
  }

  std::string stats_text() const {
    if (!producer_) return "not started";
    const auto& s = producer_->stats();
    return "delivered " + std::to_string(s.delivered.load()) + ", failed " + std::to_string(s.failed.load()) +
           ", dropped " + std::to_string(s.dropped.load()) + ", queued " + std::to_string(producer_->queued()) +
           ", produced " + std::to_string(s.produced.load()) + ", errors " + std::to_string(s.errors.load()) +
           ", restarts " + std::to_string(s.restarts.load());
  }

  kafka::Topics topics_;
  std::chrono::milliseconds flush_timeout_{5000};
  std::unique_ptr<kafka::Producer> producer_;
  av::HookSet hooks_;
  av::Commands commands_;
};

}  // namespace

AV_MODULE(KafkaTransport, "mod_event_pusher_kafka", "0.1.0",
          "Event pusher transport: produces events to Kafka topics (librdkafka, idempotent, keyed by user)")
