#include <catch2/catch.hpp>

#include "event_source.hpp"

using ep::MessageFacts;

namespace {
MessageFacts msg(std::string_view type, std::string_view body, bool has_body = true) {
  MessageFacts m;
  m.type = type;
  m.has_body = has_body;
  m.body = body;
  return m;
}
}  // namespace

TEST_CASE("event pusher: chat and groupchat with a body make chat events") {
  auto c = ep::chat_info(msg("chat", "hello"));
  REQUIRE(c);
  CHECK(c->type == AV_PUSH_TYPE_CHAT);
  CHECK(c->body == "hello");
  auto g = ep::chat_info(msg("groupchat", "hi all"));
  REQUIRE(g);
  CHECK(g->type == AV_PUSH_TYPE_GROUPCHAT);
}

TEST_CASE("event pusher: no event without a body, for normal, headline, error or no type") {
  CHECK_FALSE(ep::chat_info(msg("chat", "", false)));  // chat state / marker only
  CHECK_FALSE(ep::chat_info(msg("chat", "")));         // empty body
  CHECK_FALSE(ep::chat_info(msg("", "x")));            // no type = normal
  CHECK_FALSE(ep::chat_info(msg("normal", "x")));
  CHECK_FALSE(ep::chat_info(msg("headline", "x")));
  CHECK_FALSE(ep::chat_info(msg("error", "x")));
  CHECK_FALSE(ep::chat_info(msg("Chat", "x")));  // attribute values are case-sensitive
}

TEST_CASE("event pusher: offline redelivery is recognised by the server's own delay stamp") {
  MessageFacts m = msg("chat", "x");
  CHECK_FALSE(ep::is_offline_redelivery(m, "localhost"));
  m.has_delay = true;
  m.delay_from = "localhost";
  m.delay_text = "Offline Storage";
  CHECK(ep::is_offline_redelivery(m, "localhost"));
  CHECK_FALSE(ep::is_offline_redelivery(m, "example.org"));  // stamped by another server
  m.delay_text = "";
  CHECK_FALSE(ep::is_offline_redelivery(m, "localhost"));  // a client's own delay (e.g. forwarded)
}

TEST_CASE("event pusher: metadata keeps first-set order, replaces, and takes only JSON values") {
  ep::Metadata md;
  CHECK(md.set("timestamp", "1700000000000000"));
  CHECK(md.set("session_count", "2"));
  CHECK(md.set("note", "\"text\""));
  CHECK(md.set("timestamp", "1"));
  REQUIRE(md.size() == 3);
  CHECK(md.at(0) == std::make_pair(std::string("timestamp"), std::string("1")));
  CHECK(md.at(1).first == "session_count");
  CHECK_FALSE(md.set("bad", "not json"));
  CHECK_FALSE(md.set("bad", "1 2"));
  CHECK_FALSE(md.set("", "1"));
  CHECK(md.set("obj", "{\"a\":[1,true,null]}"));
  CHECK(md.size() == 4);
}
