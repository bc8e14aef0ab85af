// The SDK's pure JID and XML helpers (aviary/cpp/jid.hpp, xml.hpp): the one implementation
// the host (core/jid.hpp) and the modules share.
#include <catch2/catch.hpp>

#include <aviary/cpp/jid.hpp>
#include <aviary/cpp/xml.hpp>

#include <string>

TEST_CASE("sdk jid: parsing and normalization") {
  auto j = av::parse_jid("Romeo@Montague.NET/Orchard");
  REQUIRE(j);
  CHECK(j->user == "romeo");
  CHECK(j->server == "montague.net");
  CHECK(j->resource == "Orchard");  // the resource keeps its case
  CHECK(j->bare() == "romeo@montague.net");
  CHECK(j->full() == "romeo@montague.net/Orchard");
  CHECK_FALSE(j->is_bare());

  j = av::parse_jid("a@x/r/s");
  REQUIRE(j);
  CHECK(j->resource == "r/s");

  j = av::parse_jid("LocalHost.");  // one trailing dot of the domain is dropped
  REQUIRE(j);
  CHECK(j->full() == "localhost");
  CHECK(j->is_bare());
  CHECK(j->user.empty());

  j = av::parse_jid("a@.b");  // the host does not check the domain's labels
  REQUIRE(j);
  CHECK(j->server == ".b");

  for (const char* bad : {"", "@b", "a@", "a@b@c", "a@b/", "/r", "a b@c", "a@b c", "<x>@y", "a:b@c", "a'b@c",
                          "a\"b@c", "a&b@c", "a@b>", "a@b'", "a@b&", ".", "a@.", "a\tb@c", "a@b/r\x7f"}) {
    INFO(bad);
    CHECK_FALSE(av::parse_jid(bad));
  }
}

TEST_CASE("sdk jid: length limits") {
  std::string part(1023, 'a'), over(1024, 'a');
  CHECK(av::parse_jid(part + "@" + part + "/" + part));  // 3071 bytes
  CHECK_FALSE(av::parse_jid(over + "@x"));
  CHECK_FALSE(av::parse_jid("x@" + over));
  CHECK_FALSE(av::parse_jid("x@y/" + over));
  CHECK(av::normalize_user(part) == part);
  CHECK(av::normalize_user(over).empty());
}

TEST_CASE("sdk jid: localparts") {
  CHECK(av::normalize_user("Alice") == "alice");
  for (const char* bad : {"", "a b", "a@b", "a/b", "a:b", "a<b", "a>b", "a&b", "a'b", "a\"b", "a\nb"}) {
    INFO(bad);
    CHECK(av::normalize_user(bad).empty());
  }
}

TEST_CASE("sdk jid: bare_jid") {
  CHECK(av::bare_jid("Bob@LocalHost/x") == "bob@localhost");
  CHECK(av::bare_jid("Alice@LOCALHOST/Res") == "alice@localhost");
  CHECK(av::bare_jid("localhost") == "localhost");
  CHECK(av::bare_jid("") == "");
  CHECK(av::bare_jid("a b@x") == "");
}

TEST_CASE("sdk jid: plain splitting of normalized JIDs") {
  CHECK(av::jid_bare_part("alice@localhost/r1") == "alice@localhost");
  CHECK(av::jid_bare_part("alice@localhost") == "alice@localhost");
  CHECK(av::jid_bare_part("localhost/x/y") == "localhost");
  CHECK(av::jid_bare_part("a@b/c/d") == "a@b");
  CHECK(av::jid_bare_part("Not A JID") == "Not A JID");  // no validation, no lowercasing
  CHECK(av::jid_resource_part("a@b/c/d") == "c/d");
  CHECK(av::jid_resource_part("a@b") == "");
  CHECK(av::jid_domain_part("a@b.c/r@x") == "b.c");
  CHECK(av::jid_domain_part("b.c") == "b.c");
  CHECK(av::jid_local_part("a@b.c/r@x") == "a");
  CHECK(av::jid_local_part("b.c/r@x") == "");
}

TEST_CASE("sdk xml_escape") {
  CHECK(av::xml_escape("") == "");
  CHECK(av::xml_escape("plain text") == "plain text");
  CHECK(av::xml_escape("Heading <Home> & 'away' \"now\"") ==
        "Heading &lt;Home&gt; &amp; &apos;away&apos; &quot;now&quot;");
  CHECK(av::xml_escape("&amp;") == "&amp;amp;");
}
