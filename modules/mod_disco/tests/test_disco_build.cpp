#include <catch2/catch.hpp>

#include <stdexcept>

#include "disco_build.hpp"

using namespace mod_disco;

TEST_CASE("info query: identities and features sorted and unique, forms last", "[mod_disco]") {
  std::string q = info_query("", {{"server", "im", "Aviary", ""}, {"pubsub", "pep", "", ""}, {"server", "im", "Aviary", ""}},
                             {"urn:xmpp:ping", kNsItems, kNsInfo, "urn:xmpp:ping", "", "jabber:iq:version"},
                             {"<x xmlns='jabber:x:data' type='result'/>"});
  CHECK(q ==
        "<query xmlns='http://jabber.org/protocol/disco#info'>"
        "<identity category='pubsub' type='pep'/><identity category='server' type='im' name='Aviary'/>"
        "<feature var='http://jabber.org/protocol/disco#info'/><feature var='http://jabber.org/protocol/disco#items'/>"
        "<feature var='jabber:iq:version'/><feature var='urn:xmpp:ping'/>"
        "<x xmlns='jabber:x:data' type='result'/></query>");
  CHECK(info_query("n'1", {}, {}, {}) == "<query xmlns='http://jabber.org/protocol/disco#info' node='n&apos;1'></query>");
}

TEST_CASE("items query keeps order and drops duplicates", "[mod_disco]") {
  CHECK(items_query("", {{"b.example", "", ""}, {"a.example", "A&B", ""}, {"b.example", "", ""}, {"b.example", "", "x"}, {"", "", ""}}) ==
        "<query xmlns='http://jabber.org/protocol/disco#items'><item jid='b.example'/>"
        "<item jid='a.example' name='A&amp;B'/><item jid='b.example' node='x'/></query>");
}

TEST_CASE("server_info option: MongooseIM's list form", "[mod_disco]") {
  auto e = parse_server_info(
      R"([{"name":"abuse-addresses","urls":["mailto:abuse@example.com"]},)"
      R"({"name":"support-addresses","urls":["xmpp:support@example.com","mailto:s@example.com"],"modules":["mod_muc"]},)"
      R"({"name":"admin-addresses","urls":"xmpp:admin@example.com","modules":"all"}])");
  REQUIRE(e.size() == 3);
  CHECK(e[1].modules == std::vector<std::string>{"mod_muc"});
  CHECK(e[2].modules.empty());
  CHECK(server_info_form(e, "mod_disco") ==
        "<x xmlns='jabber:x:data' type='result'>"
        "<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/network/serverinfo</value></field>"
        "<field var='abuse-addresses'><value>mailto:abuse@example.com</value></field>"
        "<field var='admin-addresses'><value>xmpp:admin@example.com</value></field></x>");
  CHECK(server_info_form(e, "mod_muc").find("support-addresses") != std::string::npos);
  CHECK(server_info_form({}, "mod_disco").empty());
}

TEST_CASE("server_info option: a name -> urls map, empty, and errors", "[mod_disco]") {
  auto e = parse_server_info(R"({"abuse-addresses":["mailto:a@b"]})");
  REQUIRE(e.size() == 1);
  CHECK(e[0].name == "abuse-addresses");
  CHECK(parse_server_info("").empty());
  CHECK(parse_server_info("null").empty());
  CHECK_THROWS_AS(parse_server_info("[1]"), std::invalid_argument);
  CHECK_THROWS_AS(parse_server_info(R"([{"urls":["x"]}])"), std::invalid_argument);
  CHECK_THROWS_AS(parse_server_info(R"([{"name":"x","url":["x"]}])"), std::invalid_argument);
  CHECK_THROWS_AS(parse_server_info("{"), std::invalid_argument);
}
