#include <catch2/catch.hpp>

#include <aviary/cpp/event_pusher_json.hpp>

#include "rabbit_config.hpp"

using namespace rabbit;

namespace {
av::PushEvent chat(av_push_direction dir, av_push_chat_type t = AV_PUSH_TYPE_CHAT) {
  av::PushEvent e;
  e.kind = AV_PUSH_CHAT;
  e.chat_type = t;
  e.direction = dir;
  e.from = "Alice@LocalHost/Res1";
  e.to = "bob@localhost";
  e.body = "hello";
  return e;
}
}  // namespace

TEST_CASE("rabbit: an exchange is enabled only when its section is present, with MongooseIM's defaults") {
  CHECK_FALSE(parse_exchange("", "chat_msg").enabled);
  Exchange x = parse_exchange("{}", "chat_msg");
  CHECK(x.enabled);
  CHECK(x.name == "chat_msg");
  CHECK(x.type == "topic");
  CHECK_FALSE(x.durable);
  CHECK(x.sent_topic == "chat_msg_sent");
  CHECK(x.recv_topic == "chat_msg_recv");
  CHECK(parse_exchange("null", "presence").enabled);  // `presence_exchange:` with nothing
  // A custom name keeps the default topics (built from the default name).
  Exchange c = parse_exchange(R"({"name":"msgs","type":"direct","durable":true})", "chat_msg");
  CHECK(c.name == "msgs");
  CHECK(c.type == "direct");
  CHECK(c.durable);
  CHECK(c.sent_topic == "chat_msg_sent");
  CHECK_THROWS(parse_exchange(R"({"durable":"yes"})", "chat_msg"));
}

TEST_CASE("rabbit: pool settings from av.pools/1") {
  Connection c = parse_pool(R"({"workers":3,"connection":{"host":"127.0.0.1","port":5673,"username":"u",
    "password":"p","virtual_host":"/v","confirms_enabled":true,"max_worker_queue_len":0}})");
  CHECK(c.workers == 3);
  CHECK(c.host == "127.0.0.1");
  CHECK(c.port == 5673);
  CHECK(c.virtual_host == "/v");
  CHECK(c.confirms_enabled);
  CHECK(c.max_worker_queue_len == 0);
  CHECK_FALSE(c.tls.enabled);
  Connection t = parse_pool(R"({"connection":{"tls":{"verify_mode":"none"}}})");
  CHECK(t.tls.enabled);
  CHECK_FALSE(t.tls.verify_peer);
  CHECK(t.workers == 10);
  CHECK(t.port == 5672);
}

TEST_CASE("rabbit: routing keys as MongooseIM builds them") {
  Exchanges x;
  x.presence = parse_exchange("{}", "presence");
  x.chat = parse_exchange("{}", "chat_msg");
  x.groupchat = parse_exchange("{}", "groupchat_msg");

  av::PushEvent p;
  p.kind = AV_PUSH_USER_STATUS;
  p.user_jid = "Alice@localhost/res1";
  p.online = true;
  auto rp = route(x, p);
  REQUIRE(rp);
  CHECK(rp->exchange->name == "presence");
  CHECK(rp->routing_key == "alice@localhost");  // bare JID, no topic suffix

  auto sent = route(x, chat(AV_PUSH_DIR_SENT));
  REQUIRE(sent);
  CHECK(sent->exchange->name == "chat_msg");
  CHECK(sent->routing_key == "alice@localhost.chat_msg_sent");
  auto recv = route(x, chat(AV_PUSH_DIR_RECEIVED));
  REQUIRE(recv);
  CHECK(recv->routing_key == "bob@localhost.chat_msg_recv");
  auto g = route(x, chat(AV_PUSH_DIR_RECEIVED, AV_PUSH_TYPE_GROUPCHAT));
  REQUIRE(g);
  CHECK(g->exchange->name == "groupchat_msg");
  CHECK(g->routing_key == "bob@localhost.groupchat_msg_recv");

  Exchanges only_presence;
  only_presence.presence = x.presence;
  CHECK_FALSE(route(only_presence, chat(AV_PUSH_DIR_SENT)));
  av::PushEvent u;
  u.kind = AV_PUSH_UNACK;
  CHECK_FALSE(route(x, u));
}

TEST_CASE("rabbit: JSON payloads byte for byte, metadata merged at the top level") {
  av::PushEvent p;
  p.kind = AV_PUSH_USER_STATUS;
  p.user_jid = "Alice@LocalHost/Res1";
  p.online = false;
  CHECK(av::mongoose_event_json(p) == R"({"user_id":"alice@localhost/Res1","present":false})");
  av::PushEvent c = chat(AV_PUSH_DIR_SENT);
  c.body = "say \"hi\"\n<&>";
  CHECK(av::mongoose_event_json(c) ==
        R"({"to_user_id":"bob@localhost","from_user_id":"alice@localhost/Res1","message":"say \"hi\"\n<&>"})");
  p.metadata = {{"timestamp", "123"}, {"session_count", "2"}, {"present", "\"overwritten\""}};
  CHECK(av::mongoose_event_json(p) ==
        R"({"user_id":"alice@localhost/Res1","present":"overwritten","timestamp":123,"session_count":2})");
}

TEST_CASE("rabbit: the direct JSON writer gives what nlohmann's tree gives, for every kind of text") {
  const char* bodies[] = {"hello", "", "say \"hi\"", "back\\slash", "tab\there\nnewline", "\x01\x1f ctrl",
                          "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa6", "bad \xff\xfe utf8", "cut \xe2\x82", "del \x7f"};
  for (const char* b : bodies) {
    av::PushEvent c = chat(AV_PUSH_DIR_RECEIVED);
    c.body = b;
    c.to = "Bob@LocalHost/Caf\xc3\xa9";
    const std::string tree =
        av::mongoose_event_object(c).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    CHECK(av::mongoose_event_json(c) == tree);
    CHECK(nlohmann::json::accept(av::mongoose_event_json(c)));
  }
  av::PushEvent p;
  p.kind = AV_PUSH_USER_STATUS;
  p.user_jid = "a\"b@localhost/r";
  CHECK(av::mongoose_event_json(p) ==
        av::mongoose_event_object(p).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
}

TEST_CASE("rabbit: routing key and JSON appended to a buffer in use change only what they add") {
  Exchanges x;
  x.chat = parse_exchange("{}", "chat_msg");
  const av::PushEvent c = chat(AV_PUSH_DIR_SENT);
  std::string out = "KEEP:";
  append_routing_key(out, x.chat, av::PushEventView::of(c));
  CHECK(out == "KEEP:alice@localhost.chat_msg_sent");
  out = "KEEP:";
  av::append_mongoose_event_json(out, av::PushEventView::of(c));
  CHECK(out == "KEEP:" + av::mongoose_event_json(c));
  CHECK(av::lower_jid("A@B/") == "a@b/");
  CHECK(av::lower_jid("HOST") == "host");
  CHECK(av::lower_jid("U@H/R/S") == "u@h/R/S");
}
