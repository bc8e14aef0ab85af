#include <catch2/catch.hpp>

#include "sm_logic.hpp"

#include <string>

using Q = sm::OutQueue<int>;

TEST_CASE("sm queue: acks remove the handled stanzas, oldest first") {
  Q q(10);
  for (int i = 1; i <= 5; ++i) REQUIRE(q.push(i));
  CHECK(q.sent() == 5);
  CHECK(q.ack(2) == Q::Ack::ok);
  CHECK(q.size() == 3);
  CHECK(q.items().front() == 3);
  CHECK(q.acked() == 2);
  CHECK(q.ack(2) == Q::Ack::ok);  // the same h again changes nothing
  CHECK(q.size() == 3);
  CHECK(q.ack(5) == Q::Ack::ok);
  CHECK(q.size() == 0);
}

TEST_CASE("sm queue: an h above what was sent is refused, an older h is stale") {
  Q q(10);
  for (int i = 0; i < 3; ++i) q.push(i);
  CHECK(q.ack(4) == Q::Ack::too_high);
  CHECK(q.size() == 3);
  CHECK(q.ack(2) == Q::Ack::ok);
  CHECK(q.ack(1) == Q::Ack::stale);
  CHECK(q.size() == 1);
  CHECK(q.check(3) == Q::Ack::ok);
  CHECK(q.check(4) == Q::Ack::too_high);
}

TEST_CASE("sm queue: h wraps at 2^32") {
  Q q(10);
  q.set_counters(0xFFFFFFFEu);
  q.push(1);  // h 0xFFFFFFFF
  q.push(2);  // h 0
  q.push(3);  // h 1
  CHECK(q.sent() == 1u);
  CHECK(q.ack(0xFFFFFFFFu) == Q::Ack::ok);
  CHECK(q.items().front() == 2);
  CHECK(q.ack(0) == Q::Ack::ok);
  CHECK(q.items().front() == 3);
  CHECK(q.ack(2) == Q::Ack::too_high);
  CHECK(q.ack(0xFFFFFFFFu) == Q::Ack::stale);
  CHECK(q.ack(1) == Q::Ack::ok);
  CHECK(q.size() == 0);
}

TEST_CASE("sm queue: overflow past buffer_max, take empties") {
  Q q(2);
  CHECK(q.push(1));
  CHECK(q.push(2));
  CHECK_FALSE(q.push(3));
  CHECK(q.over());
  auto all = q.take();
  CHECK(all.size() == 3);
  CHECK(q.size() == 0);
  CHECK(q.acked() == q.sent());
  Q unlimited(0);
  for (int i = 0; i < 1000; ++i) REQUIRE(unlimited.push(i));
}

TEST_CASE("sm ack pacing") {
  sm::AckPacer every(1);
  every.sent();
  CHECK(every.due());
  CHECK_FALSE(every.due());
  sm::AckPacer three(3);
  three.sent();
  three.sent();
  CHECK_FALSE(three.due());
  three.sent();
  CHECK(three.due());
  sm::AckPacer never(0);
  for (int i = 0; i < 10; ++i) never.sent();
  CHECK_FALSE(never.due());
}

TEST_CASE("sm parsing of h and booleans") {
  CHECK(sm::parse_h("0") == 0u);
  CHECK(sm::parse_h("4294967295") == 4294967295u);
  CHECK_FALSE(sm::parse_h("4294967296"));
  CHECK_FALSE(sm::parse_h("-1"));
  CHECK_FALSE(sm::parse_h(""));
  CHECK_FALSE(sm::parse_h("12a"));
  CHECK_FALSE(sm::parse_h("99999999999"));
  CHECK(sm::parse_bool("true"));
  CHECK(sm::parse_bool("1"));
  CHECK_FALSE(sm::parse_bool("false"));
  CHECK_FALSE(sm::parse_bool(""));
}

TEST_CASE("sm elements") {
  CHECK(sm::a_xml(7) == "<a xmlns='urn:xmpp:sm:3' h='7'/>");
  CHECK(sm::r_xml() == "<r xmlns='urn:xmpp:sm:3'/>");
  CHECK(sm::enabled_xml("abc", true, 600) == "<enabled xmlns='urn:xmpp:sm:3' id='abc' resume='true' max='600'/>");
  CHECK(sm::enabled_xml("abc", false, 600) == "<enabled xmlns='urn:xmpp:sm:3' id='abc'/>");
  CHECK(sm::resumed_xml("x'<", 3) == "<resumed xmlns='urn:xmpp:sm:3' previd='x&apos;&lt;' h='3'/>");
  CHECK(sm::failed_xml("item-not-found") ==
        "<failed xmlns='urn:xmpp:sm:3'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>");
  auto id = sm::new_id();
  CHECK(id.size() == 32);
  CHECK(id != sm::new_id());
}

TEST_CASE("sm fate of unacknowledged stanzas") {
  CHECK(sm::fate_of("message", "chat", false) == sm::Fate::reroute);
  CHECK(sm::fate_of("message", "", false) == sm::Fate::reroute);
  CHECK(sm::fate_of("message", "headline", false) == sm::Fate::reroute);
  CHECK(sm::fate_of("message", "chat", true) == sm::Fate::drop);
  CHECK(sm::fate_of("message", "error", false) == sm::Fate::drop);
  CHECK(sm::fate_of("message", "groupchat", false) == sm::Fate::drop);
  CHECK(sm::fate_of("iq", "get", false) == sm::Fate::bounce_iq);
  CHECK(sm::fate_of("iq", "result", false) == sm::Fate::drop);
  CHECK(sm::fate_of("presence", "", false) == sm::Fate::drop);
}
