#include <catch2/catch.hpp>

#include "blocklist.hpp"

using blk::Jid;
using blk::Op;

namespace {
Jid J(const char* s) {
  auto j = blk::parse_jid(s);
  REQUIRE(j);
  return *j;
}
}  // namespace

TEST_CASE("blocking: JID parsing and normalization") {
  CHECK(J("Romeo@Montague.NET/Orchard").full() == "romeo@montague.net/Orchard");
  CHECK(J("montague.net").full() == "montague.net");
  CHECK(J("montague.net/res").full() == "montague.net/res");
  CHECK(J("a@b/c/d").resource == "c/d");
  for (const char* bad : {"", "@b", "a@", "a@b@c", "a@b/", "/r", "a b@c", "a@b c", "a@.b", "<x>@y"})
    CHECK_FALSE(blk::parse_jid(bad));
}

TEST_CASE("blocking: XEP-0191 matching rules") {
  Jid full = J("romeo@montague.net/orchard"), bare = J("romeo@montague.net"), dom = J("montague.net"),
      domres = J("montague.net/gate");
  // <user@domain/resource>: only that resource.
  CHECK(blk::matches(full, J("romeo@montague.net/orchard")));
  CHECK_FALSE(blk::matches(full, J("romeo@montague.net/balcony")));
  CHECK_FALSE(blk::matches(full, J("romeo@montague.net")));
  // <user@domain>: any resource, and the bare JID.
  CHECK(blk::matches(bare, J("romeo@montague.net")));
  CHECK(blk::matches(bare, J("romeo@montague.net/anything")));
  CHECK_FALSE(blk::matches(bare, J("benvolio@montague.net/x")));
  CHECK_FALSE(blk::matches(bare, J("montague.net")));
  // <domain/resource>: only that.
  CHECK(blk::matches(domres, J("montague.net/gate")));
  CHECK_FALSE(blk::matches(domres, J("montague.net")));
  CHECK_FALSE(blk::matches(domres, J("romeo@montague.net/gate")));
  // <domain>: the domain and everything at it, not subdomains.
  CHECK(blk::matches(dom, J("montague.net")));
  CHECK(blk::matches(dom, J("montague.net/x")));
  CHECK(blk::matches(dom, J("romeo@montague.net/orchard")));
  CHECK_FALSE(blk::matches(dom, J("romeo@capulet.net")));
  CHECK_FALSE(blk::matches(dom, J("conference.montague.net")));
}

TEST_CASE("blocking: the list") {
  blk::Blocklist l;
  CHECK_FALSE(l.blocks("alice@localhost/r"));
  CHECK(l.add("alice@localhost"));
  CHECK_FALSE(l.add("alice@localhost"));
  CHECK(l.add("evil.example"));
  CHECK(l.blocks("alice@localhost/r"));
  CHECK(l.blocks("ALICE@localhost"));
  CHECK(l.blocks("x@evil.example/y"));
  CHECK_FALSE(l.blocks("bob@localhost"));
  CHECK_FALSE(l.blocks("not a jid"));
  CHECK(l.remove("alice@localhost"));
  CHECK_FALSE(l.remove("alice@localhost"));
  CHECK_FALSE(l.blocks("alice@localhost/r"));
  CHECK(l.items() == std::vector<std::string>{"evil.example"});
  l.clear();
  CHECK(l.items().empty());
  CHECK_FALSE(l.blocks("x@evil.example"));
}

TEST_CASE("blocking: command parsing") {
  auto c = blk::parse_command(false, "blocklist", {});
  CHECK(c.ok());
  CHECK(c.op == Op::get);
  CHECK(blk::parse_command(false, "block", {}).condition == "bad-request");
  c = blk::parse_command(true, "block", {std::string("Romeo@Montague.net"), std::string("romeo@montague.net"),
                                         std::string("iago@shakespeare.lit/x")});
  REQUIRE(c.ok());
  CHECK(c.op == Op::block);
  CHECK(c.items == std::vector<std::string>{"romeo@montague.net", "iago@shakespeare.lit/x"});
  CHECK(blk::parse_command(true, "block", {}).condition == "bad-request");
  CHECK(blk::parse_command(true, "block", {std::nullopt}).condition == "bad-request");
  auto bad = blk::parse_command(true, "block", {std::string("a@b@c")});
  CHECK(bad.condition == "jid-malformed");
  CHECK(bad.error_type == "modify");
  c = blk::parse_command(true, "unblock", {});
  CHECK(c.ok());
  CHECK(c.op == Op::unblock_all);
  c = blk::parse_command(true, "unblock", {std::string("x@y")});
  CHECK(c.op == Op::unblock);
  CHECK(blk::parse_command(true, "blocklist", {}).condition == "bad-request");
}

TEST_CASE("blocking: XML") {
  CHECK(blk::blocklist_xml({}) == "<blocklist xmlns='urn:xmpp:blocking'/>");
  CHECK(blk::blocklist_xml({"a@b", "c'd"}) ==
        "<blocklist xmlns='urn:xmpp:blocking'><item jid='a@b'/><item jid='c&apos;d'/></blocklist>");
  CHECK(blk::push_xml(Op::block, {"a@b"}) == "<block xmlns='urn:xmpp:blocking'><item jid='a@b'/></block>");
  CHECK(blk::push_xml(Op::unblock, {"a@b"}) == "<unblock xmlns='urn:xmpp:blocking'><item jid='a@b'/></unblock>");
  CHECK(blk::push_xml(Op::unblock_all, {"ignored"}) == "<unblock xmlns='urn:xmpp:blocking'/>");
  CHECK(blk::add_blocked_condition("<message type='error'><body>x</body><error type='cancel'><not-acceptable "
                                   "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>") ==
        "<message type='error'><body>x</body><error type='cancel'><not-acceptable "
        "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><blocked xmlns='urn:xmpp:blocking:errors'/></error></message>");
  CHECK(blk::add_blocked_condition("<message/>").empty());
}

TEST_CASE("blocking: SQL") {
  CHECK(blk::insert_sql(1, 2) ==
        "INSERT INTO blocking_list (server, username, jid) VALUES (?, ?, ?), (?, ?, ?) ON CONFLICT DO NOTHING");
  CHECK(blk::insert_sql(3, 1) == "INSERT IGNORE INTO blocking_list (server, username, jid) VALUES (?, ?, ?)");
  CHECK(blk::delete_some_sql(2) == "DELETE FROM blocking_list WHERE server = ? AND username = ? AND jid IN (?, ?)");
}

TEST_CASE("blocking: presence effects") {
  std::vector<std::string> contacts{"alice@localhost", "carol@localhost", "romeo@montague.net"};
  CHECK(blk::presence_targets(contacts, {"alice@localhost"}) == std::vector<std::string>{"alice@localhost"});
  CHECK(blk::presence_targets(contacts, {"dave@localhost"}).empty());  // no subscription: nothing
  CHECK(blk::presence_targets(contacts, {"localhost"}) ==
        std::vector<std::string>{"alice@localhost", "carol@localhost"});
  CHECK(blk::presence_targets(contacts, {"alice@localhost/phone", "carol@localhost", "alice@localhost/phone"}) ==
        std::vector<std::string>{"alice@localhost/phone", "carol@localhost"});
  CHECK(blk::presence_targets(contacts, {"montague.net/gate"}).empty());
  CHECK(blk::presence_xml("b@x/r", "a@x", true, "away", "s", 5) == "<presence from='b@x/r' to='a@x' type='unavailable'/>");
  CHECK(blk::presence_xml("b@x/r", "a@x", false, "away", "a<b", 5) ==
        "<presence from='b@x/r' to='a@x'><show>away</show><status>a&lt;b</status><priority>5</priority></presence>");
  CHECK(blk::presence_xml("b@x/r", "a@x", false, "", "", 0) == "<presence from='b@x/r' to='a@x'></presence>");
}
