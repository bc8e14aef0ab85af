#include <catch2/catch.hpp>

#include "last_activity.hpp"

using last::Answer;
using last::Stored;

TEST_CASE("last: computation") {
  auto a = last::compute(true, Stored{100, "gone"}, 1000);
  REQUIRE(a);
  CHECK(a->seconds == 0);
  CHECK(a->status.empty());
  a = last::compute(false, Stored{900, "Heading home"}, 1000);
  REQUIRE(a);
  CHECK(a->seconds == 100);
  CHECK(a->status == "Heading home");
  a = last::compute(false, Stored{1005, ""}, 1000);  // clock went back: never negative
  REQUIRE(a);
  CHECK(a->seconds == 0);
  CHECK_FALSE(last::compute(false, std::nullopt, 1000));
}

TEST_CASE("last: access") {
  CHECK(last::may_ask("alice@localhost/r", "alice@localhost", false));
  CHECK(last::may_ask("alice@localhost/r", "bob@localhost", true));
  CHECK_FALSE(last::may_ask("eve@remote.example/r", "bob@localhost", false));
  CHECK_FALSE(last::may_ask("localhost", "bob@localhost", true));  // a domain is not a user
}

TEST_CASE("last: XML") {
  CHECK(last::query_xml(Answer{0, ""}) == "<query xmlns='jabber:iq:last' seconds='0'/>");
  CHECK(last::query_xml(Answer{903, "Heading <Home> & 'away'"}) ==
        "<query xmlns='jabber:iq:last' seconds='903'>Heading &lt;Home&gt; &amp; &apos;away&apos;</query>");
}

TEST_CASE("last: SQL per dialect") {
  CHECK(std::string(last::upsert_sql(3)).find("ON DUPLICATE KEY UPDATE") != std::string::npos);
  CHECK(std::string(last::upsert_sql(1)).find("ON CONFLICT (server, username)") != std::string::npos);
}
