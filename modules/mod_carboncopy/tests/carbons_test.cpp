#include <catch2/catch.hpp>

#include "carbons.hpp"

using carbons::Direction;
using carbons::El;

namespace {

El el(std::string name, std::string ns, std::vector<El> kids = {}) { return El{std::move(name), std::move(ns), "", std::move(kids)}; }

El msg(std::string type, std::vector<El> kids = {}) {
  El m = el("message", "jabber:client", std::move(kids));
  m.type = std::move(type);
  return m;
}

El body() { return el("body", "jabber:client"); }

bool both(const El& m) { return carbons::eligible(m, Direction::sent) && carbons::eligible(m, Direction::received); }
bool neither(const El& m) { return !carbons::eligible(m, Direction::sent) && !carbons::eligible(m, Direction::received); }

}  // namespace

TEST_CASE("carbons eligibility: chat and normal-with-body are copied") {
  CHECK(both(msg("chat", {body()})));
  CHECK(both(msg("chat")));  // type chat, even without a body
  CHECK(both(msg("normal", {body()})));
  CHECK(both(msg("", {body()})));  // no type = normal
  CHECK(neither(msg("normal")));
  CHECK(neither(msg("", {el("subject", "jabber:client")})));
}

TEST_CASE("carbons eligibility: IM payloads and invitations make a normal message eligible") {
  CHECK(both(msg("", {el("request", "urn:xmpp:receipts")})));
  CHECK(both(msg("", {el("received", "urn:xmpp:receipts")})));
  CHECK(both(msg("", {el("composing", "http://jabber.org/protocol/chatstates")})));
  CHECK(both(msg("", {el("displayed", "urn:xmpp:chat-markers:0")})));
  CHECK(both(msg("", {el("x", "jabber:x:conference")})));
  CHECK(both(msg("", {el("x", "http://jabber.org/protocol/muc#user", {el("invite", "http://jabber.org/protocol/muc#user")})})));
  // A payload of an unrelated namespace does not.
  CHECK(neither(msg("", {el("event", "http://jabber.org/protocol/pubsub#event")})));
}

TEST_CASE("carbons eligibility: groupchat, headline, error and invalid types are not copied") {
  CHECK(neither(msg("groupchat", {body()})));
  CHECK(neither(msg("headline", {body()})));
  CHECK(neither(msg("error", {body()})));
  CHECK(neither(msg("bogus", {body()})));
  CHECK(neither(el("presence", "jabber:client")));
  CHECK(neither(el("iq", "jabber:client")));
}

TEST_CASE("carbons eligibility: <private/> and <no-copy/> opt out") {
  CHECK(neither(msg("chat", {body(), el("private", "urn:xmpp:carbons:2")})));
  CHECK(neither(msg("chat", {body(), el("no-copy", "urn:xmpp:hints")})));
  CHECK(neither(msg("chat", {body(), el("private", "urn:xmpp:carbons:2"), el("no-copy", "urn:xmpp:hints")})));
  // Same local names in other namespaces do not.
  CHECK(both(msg("chat", {body(), el("private", "jabber:iq:private")})));
  CHECK(both(msg("chat", {body(), el("no-store", "urn:xmpp:hints")})));
}

TEST_CASE("carbons eligibility: copies of copies and archive results are never copied") {
  auto fwd = el("forwarded", "urn:xmpp:forward:0", {msg("chat", {body()})});
  CHECK(neither(msg("chat", {el("sent", "urn:xmpp:carbons:2", {fwd})})));
  CHECK(neither(msg("chat", {el("received", "urn:xmpp:carbons:2", {fwd})})));
  CHECK(neither(msg("", {el("result", "urn:xmpp:mam:2", {fwd})})));
}

TEST_CASE("carbons eligibility: MUC private messages are copied when sent, not when received") {
  auto pm = msg("chat", {body(), el("x", "http://jabber.org/protocol/muc#user")});
  CHECK(carbons::eligible(pm, Direction::sent));
  CHECK_FALSE(carbons::eligible(pm, Direction::received));
}

TEST_CASE("carbons delivery targets mirror the router") {
  using S = carbons::SessionInfo;
  std::vector<S> ss = {{"a", 5, true}, {"b", 5, true}, {"c", 1, true}, {"d", 10, false}, {"e", -1, true}};
  SECTION("bare JID: every available resource of the highest non-negative priority") {
    CHECK(carbons::delivery_targets(ss, "", "chat") == std::vector<std::string>{"a", "b"});
    CHECK(carbons::delivery_targets(ss, "", "normal") == std::vector<std::string>{"a", "b"});
  }
  SECTION("headline: every available non-negative resource") {
    CHECK(carbons::delivery_targets(ss, "", "headline") == std::vector<std::string>{"a", "b", "c"});
  }
  SECTION("full JID of a bound resource: that one, even unavailable or negative") {
    CHECK(carbons::delivery_targets(ss, "d", "chat") == std::vector<std::string>{"d"});
    CHECK(carbons::delivery_targets(ss, "e", "chat") == std::vector<std::string>{"e"});
  }
  SECTION("full JID of an absent resource: as for the bare JID, except groupchat") {
    CHECK(carbons::delivery_targets(ss, "zz", "chat") == std::vector<std::string>{"a", "b"});
    CHECK(carbons::delivery_targets(ss, "zz", "groupchat").empty());
  }
  SECTION("nobody available with a non-negative priority") {
    std::vector<S> none = {{"x", -1, true}, {"y", 3, false}};
    CHECK(carbons::delivery_targets(none, "", "chat").empty());
  }
}

TEST_CASE("carbons wrapper") {
  auto x = carbons::wrap(Direction::sent, "alice@localhost", "alice@localhost/r2", "chat",
                         "<message xmlns='jabber:client' to='bob@localhost'><body>hi</body></message>");
  CHECK(x ==
        "<message from='alice@localhost' to='alice@localhost/r2' type='chat'><sent xmlns='urn:xmpp:carbons:2'>"
        "<forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' to='bob@localhost'><body>hi</body>"
        "</message></forwarded></sent></message>");
  auto y = carbons::wrap(Direction::received, "a@b", "a@b/x'y", "", "<message/>");
  CHECK(y ==
        "<message from='a@b' to='a@b/x&apos;y'><received xmlns='urn:xmpp:carbons:2'><forwarded "
        "xmlns='urn:xmpp:forward:0'><message/></forwarded></received></message>");
}

TEST_CASE("carbons registry") {
  carbons::Registry r;
  CHECK(r.empty());
  CHECK_FALSE(r.enable("alice@localhost"));  // needs a resource
  CHECK(r.empty());
  CHECK(r.enable("alice@localhost/r1"));
  CHECK(r.enable("alice@localhost/r1"));  // twice is fine
  CHECK(r.enable("alice@localhost/r2"));
  CHECK(r.enable("bob@localhost/x"));
  CHECK(r.size() == 3);
  CHECK(r.enabled("alice@localhost/r1"));
  CHECK_FALSE(r.enabled("alice@localhost/r3"));
  CHECK(r.resources("alice@localhost") == std::vector<std::string>{"r1", "r2"});
  r.disable("alice@localhost/r1");
  r.disable("alice@localhost/r1");  // twice is fine
  CHECK(r.resources("alice@localhost") == std::vector<std::string>{"r2"});
  r.disable("alice@localhost/r2");
  CHECK_FALSE(r.any("alice@localhost"));
  CHECK(r.any("bob@localhost"));
  CHECK_FALSE(r.empty());
  r.forget_user("bob@localhost");
  CHECK(r.size() == 0);
  CHECK(r.empty());
}
