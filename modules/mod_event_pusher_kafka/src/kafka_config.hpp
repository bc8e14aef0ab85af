// mod_event_pusher_kafka's settings and routing, as pure code (no librdkafka calls).
// MongooseIM has no Kafka transport; this one carries the rabbit transport's JSON payloads
// (av::mongoose_event_json) in Kafka records keyed by the user's bare JID.
#pragma once

#include <aviary/cpp/event_pusher.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kafka {

enum TopicId : int { kPresence = 0, kChat = 1, kGroupchat = 2 };
constexpr int kTopicCount = 3;

// Topic names by TopicId; "" = that kind of event is not published.
using Topics = std::array<std::string, kTopicCount>;

// "" when `name` is a valid Kafka topic name (1..249 characters of [a-zA-Z0-9._-], not "."
// or ".."), else what is wrong with it.
std::string check_topic_name(const std::string& name);

// One librdkafka configuration property and where it came from (for error messages).
struct Property {
  std::string key, value, origin;
};

// outgoing_pools.kafka.event_pusher as av.pools/1 hands it out (defaults filled in).
struct Settings {
  std::string bootstrap_servers = "localhost:9092";
  std::string client_id = "aviary";
  int64_t max_queue_len = 100000;   // librdkafka queue.buffering.max.messages
  int64_t flush_timeout_ms = 5000;  // how long stop() waits for queued events
  std::vector<std::pair<std::string, std::string>> properties;  // passed through, config order
};

// Throws std::runtime_error on invalid JSON, a value of the wrong type or an empty
// bootstrap_servers.
Settings parse_pool(const std::string& json);

// The producer's librdkafka configuration, in the order it is applied: Aviary's defaults
// (acks=all, enable.idempotence=true, partitioner=murmur2_random: the Java client's, so keys
// land in the same partitions as with Java producers), then the pool's fields
// (bootstrap.servers, client.id, queue.buffering.max.messages), then `properties`, which
// override anything before them. When `properties` lower acks below all without saying
// anything about enable.idempotence, idempotence defaults to false (librdkafka refuses the
// combination otherwise).
std::vector<Property> producer_properties(const Settings& s);

// One Kafka record to produce.
struct Record {
  TopicId topic = kPresence;
  std::string key;         // the local user's bare JID, lowercased
  std::string_view event_type;  // header event_type (one of the constants of route_into)
  std::string value;       // MongooseIM's JSON, metadata merged
};

// Where an event goes and what it carries:
//   presence           -> presence topic,  key = the user's bare JID,      event_type presence
//   chat sent          -> chat topic,      key = the sender's bare JID,    chat_msg_sent
//   chat received      -> chat topic,      key = the recipient's bare JID, chat_msg_recv
//   groupchat sent/recv-> groupchat topic, same keys,                      groupchat_msg_sent/_recv
// nullopt: not for Kafka (UNACK), or that topic is not configured.
std::optional<Record> route(const Topics& topics, const av::PushEvent& e);
// The same into r without the value (the caller writes it: with or without the filters'
// metadata), from a view of the event (the hot path: no copy of it); false: not for Kafka.
bool route_into(const Topics& topics, const av::PushEventView& e, Record& r);

}  // namespace kafka
