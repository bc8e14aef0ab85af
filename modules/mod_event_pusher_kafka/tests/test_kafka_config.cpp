#include <catch2/catch.hpp>

#include <aviary/cpp/event_pusher_json.hpp>

#include "kafka_config.hpp"
#include "log_limiter.hpp"

using namespace kafka;

namespace {

av::PushEvent chat(av_push_direction dir, av_push_chat_type t = AV_PUSH_TYPE_CHAT) {
  av::PushEvent e;
  e.kind = AV_PUSH_CHAT;
  e.chat_type = t;
  e.direction = dir;
  e.from = "Alice@LocalHost/Res1";
  e.to = "Bob@localhost/Desk";
  e.body = "hello";
  e.vhost = "localhost";
  return e;
}

Topics all_topics() { return Topics{"presence", "chat", "groupchat"}; }

std::string value_of(const std::vector<Property>& props, const std::string& key) {
  std::string v = "<unset>";
  for (auto& p : props)  // applied in order: the last one wins
    if (p.key == key) v = p.value;
  return v;
}

}  // namespace

TEST_CASE("kafka: topic names follow Kafka's rules") {
  CHECK(check_topic_name("chat_msg").empty());
  CHECK(check_topic_name("xmpp.events-v1").empty());
  CHECK(check_topic_name(std::string(249, 'a')).empty());
  CHECK_FALSE(check_topic_name("").empty());
  CHECK_FALSE(check_topic_name(std::string(250, 'a')).empty());
  CHECK_FALSE(check_topic_name(".").empty());
  CHECK_FALSE(check_topic_name("..").empty());
  CHECK(check_topic_name("chat msg").find("not a valid topic name") != std::string::npos);
  CHECK_FALSE(check_topic_name("chat/msg").empty());
  CHECK_FALSE(check_topic_name("ch\xc3\xa4t").empty());
}

TEST_CASE("kafka: pool settings from av.pools/1") {
  Settings d = parse_pool(R"({"scope":"global","connection":{}})");
  CHECK(d.bootstrap_servers == "localhost:9092");
  CHECK(d.client_id == "aviary");
  CHECK(d.max_queue_len == 100000);
  CHECK(d.flush_timeout_ms == 5000);
  CHECK(d.properties.empty());

  Settings s = parse_pool(R"({"connection":{"bootstrap_servers":"k1:9092,k2:9092","client_id":"xmpp-1",
    "max_queue_len":10,"flush_timeout":0,"properties":{"security.protocol":"SASL_SSL","linger.ms":20,
    "enable.idempotence":false}}})");
  CHECK(s.bootstrap_servers == "k1:9092,k2:9092");
  CHECK(s.client_id == "xmpp-1");
  CHECK(s.max_queue_len == 10);
  CHECK(s.flush_timeout_ms == 0);
  REQUIRE(s.properties.size() == 3);
  CHECK(value_of(producer_properties(s), "linger.ms") == "20");  // a number as librdkafka's text
  CHECK(value_of(producer_properties(s), "enable.idempotence") == "false");

  CHECK_THROWS_WITH(parse_pool("{"), "not valid JSON");
  CHECK_THROWS_WITH(parse_pool(R"({"connection":{"bootstrap_servers":""}})"), Catch::Contains("bootstrap_servers"));
  CHECK_THROWS_WITH(parse_pool(R"({"connection":{"max_queue_len":"many"}})"), Catch::Contains("max_queue_len"));
  CHECK_THROWS_WITH(parse_pool(R"({"connection":{"properties":{"ssl":{"ca":"x"}}}})"),
                    Catch::Contains("property 'ssl'"));
  CHECK_THROWS(parse_pool(R"({"connection":{"properties":["acks"]}})"));
}

TEST_CASE("kafka: producer properties: safe defaults, pool fields, user properties win") {
  Settings s;
  s.bootstrap_servers = "127.0.0.1:1234";
  s.max_queue_len = 77;
  auto p = producer_properties(s);
  CHECK(value_of(p, "acks") == "all");
  CHECK(value_of(p, "enable.idempotence") == "true");
  CHECK(value_of(p, "partitioner") == "murmur2_random");
  CHECK(value_of(p, "bootstrap.servers") == "127.0.0.1:1234");
  CHECK(value_of(p, "client.id") == "aviary");
  CHECK(value_of(p, "queue.buffering.max.messages") == "77");
  for (auto& prop : p) CHECK_FALSE(prop.origin.empty());

  s.properties = {{"partitioner", "consistent_random"}, {"queue.buffering.max.messages", "5"},
                  {"bootstrap.servers", "other:9092"}};
  p = producer_properties(s);
  CHECK(value_of(p, "partitioner") == "consistent_random");
  CHECK(value_of(p, "queue.buffering.max.messages") == "5");
  CHECK(value_of(p, "bootstrap.servers") == "other:9092");
  CHECK(p.back().origin == "outgoing_pools.kafka.event_pusher.connection.properties.bootstrap.servers");

  // acks lowered without a word about idempotence: idempotence off (librdkafka refuses both).
  s.properties = {{"acks", "1"}};
  p = producer_properties(s);
  CHECK(value_of(p, "acks") == "1");
  CHECK(value_of(p, "enable.idempotence") == "false");
  s.properties = {{"request.required.acks", "-1"}};
  CHECK(value_of(producer_properties(s), "enable.idempotence") == "true");
  // Both said: the user's choice, even when librdkafka will refuse it at start.
  s.properties = {{"acks", "1"}, {"enable.idempotence", "true"}};
  CHECK(value_of(producer_properties(s), "enable.idempotence") == "true");
}

TEST_CASE("kafka: presence records: presence topic, key = the user's bare JID lowercased") {
  av::PushEvent p;
  p.kind = AV_PUSH_USER_STATUS;
  p.user_jid = "Alice@LocalHost/Phone";
  p.online = true;
  auto r = route(all_topics(), p);
  REQUIRE(r);
  CHECK(r->topic == kPresence);
  CHECK(r->key == "alice@localhost");
  CHECK(r->event_type == "presence");
  CHECK(r->value == R"({"user_id":"alice@localhost/Phone","present":true})");
}

TEST_CASE("kafka: chat records are keyed by the local user: sender when sent, recipient when received") {
  auto sent = route(all_topics(), chat(AV_PUSH_DIR_SENT));
  REQUIRE(sent);
  CHECK(sent->topic == kChat);
  CHECK(sent->key == "alice@localhost");
  CHECK(sent->event_type == "chat_msg_sent");
  CHECK(sent->value == R"({"to_user_id":"bob@localhost/Desk","from_user_id":"alice@localhost/Res1","message":"hello"})");

  auto recv = route(all_topics(), chat(AV_PUSH_DIR_RECEIVED));
  REQUIRE(recv);
  CHECK(recv->topic == kChat);
  CHECK(recv->key == "bob@localhost");
  CHECK(recv->event_type == "chat_msg_recv");
  CHECK(recv->value == sent->value);

  auto gs = route(all_topics(), chat(AV_PUSH_DIR_SENT, AV_PUSH_TYPE_GROUPCHAT));
  REQUIRE(gs);
  CHECK(gs->topic == kGroupchat);
  CHECK(gs->key == "alice@localhost");
  CHECK(gs->event_type == "groupchat_msg_sent");
  av::PushEvent g = chat(AV_PUSH_DIR_RECEIVED, AV_PUSH_TYPE_GROUPCHAT);
  g.from = "Room@muc.localhost/Nick";
  auto gr = route(all_topics(), g);
  REQUIRE(gr);
  CHECK(gr->key == "bob@localhost");
  CHECK(gr->event_type == "groupchat_msg_recv");
  CHECK(gr->value == R"({"to_user_id":"bob@localhost/Desk","from_user_id":"room@muc.localhost/Nick","message":"hello"})");
}

TEST_CASE("kafka: only configured topics get records, unacked-message events never") {
  Topics only_chat{"", "chat", ""};
  CHECK(route(only_chat, chat(AV_PUSH_DIR_SENT)));
  CHECK_FALSE(route(only_chat, chat(AV_PUSH_DIR_SENT, AV_PUSH_TYPE_GROUPCHAT)));
  av::PushEvent p;
  p.kind = AV_PUSH_USER_STATUS;
  p.user_jid = "alice@localhost/r";
  CHECK_FALSE(route(only_chat, p));
  av::PushEvent u;
  u.kind = AV_PUSH_UNACK;
  u.to = "alice@localhost/r";
  CHECK_FALSE(route(all_topics(), u));
}

TEST_CASE("kafka: the value carries the filters' metadata, like rabbit's") {
  av::PushEvent p;
  p.kind = AV_PUSH_USER_STATUS;
  p.user_jid = "alice@localhost/r";
  p.online = false;
  p.metadata = {{"timestamp", "123"}, {"session_count", "2"}};
  auto r = route(all_topics(), p);
  REQUIRE(r);
  CHECK(r->value == R"({"user_id":"alice@localhost/r","present":false,"timestamp":123,"session_count":2})");
}

TEST_CASE("kafka: log lines are rate limited per key, with the number suppressed") {
  LogLimiter lim(std::chrono::seconds(5));
  const auto t0 = LogLimiter::Clock::now();
  uint64_t n = 99;
  CHECK(lim.allow("a", t0, &n));
  CHECK(n == 0);
  CHECK_FALSE(lim.allow("a", t0 + std::chrono::seconds(1), &n));
  CHECK_FALSE(lim.allow("a", t0 + std::chrono::seconds(2), &n));
  CHECK(lim.allow("b", t0 + std::chrono::seconds(2), &n));  // another key is independent
  CHECK(n == 0);
  CHECK(lim.allow("a", t0 + std::chrono::seconds(5), &n));
  CHECK(n == 2);
  CHECK_FALSE(lim.allow("a", t0 + std::chrono::seconds(6), &n));

  LogLimiter f(std::chrono::hours(1));
  CHECK(f.filter("k", "broker down") == "broker down");
  CHECK(f.filter("k", "broker down").empty());
  CHECK(f.filter("k", "broker down").empty());
  LogLimiter g(std::chrono::milliseconds(0));
  CHECK(g.filter("k", "x") == "x");
  CHECK(g.filter("k", "x") == "x");
}
