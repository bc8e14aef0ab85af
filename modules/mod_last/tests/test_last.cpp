#include <catch2/catch.hpp>

#include "last_activity.hpp"

#include <aviary/ext/draft/roster.h>

#include <string>

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

TEST_CASE("last: access, the user themself") {
  CHECK(last::is_self("alice@localhost/r", "alice@localhost"));
  CHECK(last::is_self("alice@localhost", "alice@localhost"));
  CHECK(last::is_self("Alice@LocalHost/r", "alice@localhost"));  // normalized
  CHECK_FALSE(last::is_self("bob@localhost/r", "alice@localhost"));
  // Any other user of a local domain is not the user (the old rule let them in).
  CHECK_FALSE(last::is_self("carol@localhost/r", "bob@localhost"));
  CHECK_FALSE(last::is_self("localhost", "localhost"));  // a domain is not a user
  CHECK_FALSE(last::is_self("", "bob@localhost"));
}

TEST_CASE("last: access, subscription to the user's presence (XEP-0012 9)") {
  CHECK(last::subscription_allows(AV_ROSTER_SUB_FROM));
  CHECK(last::subscription_allows(AV_ROSTER_SUB_BOTH));
  CHECK_FALSE(last::subscription_allows(AV_ROSTER_SUB_TO));  // the user sees them, not the reverse
  CHECK_FALSE(last::subscription_allows(AV_ROSTER_SUB_NONE));
  CHECK_FALSE(last::subscription_allows(-1));
}

TEST_CASE("last: which IQs to a full JID are checked") {
  const std::string ns(last::kNs);
  CHECK(last::needs_check_to_full("get", "query", ns, "eve@localhost/x", "bob@localhost/phone"));
  CHECK(last::needs_check_to_full("get", "query", ns, "eve@remote.example/x", "bob@localhost/phone"));
  CHECK_FALSE(last::needs_check_to_full("get", "query", ns, "bob@localhost/pc", "bob@localhost/phone"));  // own
  CHECK_FALSE(last::needs_check_to_full("get", "query", ns, "eve@localhost/x", "bob@localhost"));  // bare: iq/bare
  CHECK_FALSE(last::needs_check_to_full("get", "query", ns, "eve@localhost/x", "localhost/res"));  // not a user
  CHECK_FALSE(last::needs_check_to_full("result", "query", ns, "eve@localhost/x", "bob@localhost/phone"));
  CHECK_FALSE(last::needs_check_to_full("get", "query", "jabber:iq:version", "eve@localhost/x", "bob@localhost/phone"));
  CHECK_FALSE(last::needs_check_to_full("get", "ping", ns, "eve@localhost/x", "bob@localhost/phone"));
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
