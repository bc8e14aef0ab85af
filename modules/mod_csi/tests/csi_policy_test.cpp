#include <catch2/catch.hpp>

#include "csi_policy.hpp"

#include <memory>
#include <string>
#include <vector>

using csi::El;

namespace {

El el(std::string name, std::string ns, std::vector<El> kids = {}, std::string type = "") {
  return El{std::move(name), std::move(ns), std::move(type), std::move(kids)};
}
El msg(std::vector<El> kids, std::string type = "chat") { return el("message", "jabber:client", std::move(kids), std::move(type)); }
El body() { return el("body", "jabber:client"); }
El chatstate() { return el("composing", "http://jabber.org/protocol/chatstates"); }
El carbon(const char* dir, El inner) {
  return msg({el(dir, "urn:xmpp:carbons:2", {el("forwarded", "urn:xmpp:forward:0", {std::move(inner)})})});
}

}  // namespace

TEST_CASE("csi urgency: IQs and messages with a body are urgent") {
  CHECK(csi::urgent(el("iq", "jabber:client", {el("ping", "urn:xmpp:ping")}, "get")));
  CHECK(csi::urgent(el("iq", "jabber:client", {}, "result")));
  CHECK(csi::urgent(msg({body()})));
  CHECK(csi::urgent(msg({body(), chatstate()})));
  CHECK(csi::urgent(msg({body()}, "")));
  CHECK(csi::urgent(msg({el("subject", "jabber:client")}, "groupchat")));
  CHECK(csi::urgent(msg({}, "error")));
}

TEST_CASE("csi urgency: presence and chat states can wait") {
  CHECK_FALSE(csi::urgent(el("presence", "jabber:client")));
  CHECK_FALSE(csi::urgent(el("presence", "jabber:client", {el("show", "jabber:client")})));
  CHECK_FALSE(csi::urgent(el("presence", "jabber:client", {}, "unavailable")));
  CHECK_FALSE(csi::urgent(msg({chatstate()})));
  CHECK_FALSE(csi::urgent(msg({el("received", "urn:xmpp:receipts")})));
  CHECK_FALSE(csi::urgent(msg({el("displayed", "urn:xmpp:chat-markers:0")})));
  CHECK_FALSE(csi::urgent(msg({el("event", "http://jabber.org/protocol/pubsub#event")}, "headline")));
}

TEST_CASE("csi urgency: subscription requests, encrypted messages, calls and invitations are urgent") {
  for (const char* t : {"subscribe", "subscribed", "unsubscribe", "unsubscribed", "probe", "error"})
    CHECK(csi::urgent(el("presence", "jabber:client", {}, t)));
  CHECK(csi::urgent(msg({el("encrypted", "eu.siacs.conversations.axolotl")})));
  CHECK(csi::urgent(msg({el("propose", "urn:xmpp:jingle-message:0")})));
  CHECK(csi::urgent(msg({el("x", "jabber:x:conference")}, "normal")));
  CHECK(csi::urgent(
      msg({el("x", "http://jabber.org/protocol/muc#user", {el("invite", "http://jabber.org/protocol/muc#user")})}, "normal")));
  CHECK(csi::urgent(msg({el("result", "urn:xmpp:mam:2")}, "normal")));
  CHECK(csi::urgent(el("r", "urn:xmpp:sm:3")));  // not a stanza: never held
}

TEST_CASE("csi urgency: carbons follow the message they carry") {
  CHECK(csi::urgent(carbon("received", msg({body()}))));
  CHECK(csi::urgent(carbon("sent", msg({body()}))));
  CHECK_FALSE(csi::urgent(carbon("received", msg({chatstate()}))));
  CHECK_FALSE(csi::urgent(carbon("sent", msg({chatstate()}))));
  // The inner message without xmlns inherits urn:xmpp:forward:0; its body too.
  El inner = el("message", "urn:xmpp:forward:0", {el("body", "urn:xmpp:forward:0")});
  CHECK(csi::urgent(carbon("received", inner)));
}

TEST_CASE("csi buffer: active sessions pass everything") {
  csi::Session<int> s(3);
  std::vector<int> out;
  CHECK(s.offer(1, false, out) == csi::Session<int>::Action::pass);
  CHECK(s.offer(2, true, out) == csi::Session<int>::Action::pass);
  CHECK(out.empty());
  CHECK(s.set_active().empty());
}

TEST_CASE("csi buffer: inactive holds non-urgent stanzas and flushes them in order on <active/>") {
  using A = csi::Session<int>::Action;
  csi::Session<int> s(10);
  s.set_inactive();
  std::vector<int> out;
  CHECK(s.offer(1, false, out) == A::hold);
  CHECK(s.offer(2, false, out) == A::hold);
  CHECK(s.offer(3, false, out) == A::hold);
  CHECK(out.empty());
  CHECK(s.held() == 3);
  CHECK(s.set_active() == std::vector<int>{1, 2, 3});
  CHECK(s.held() == 0);
  CHECK_FALSE(s.inactive());
  CHECK(s.offer(4, false, out) == A::pass);
}

TEST_CASE("csi buffer: an urgent stanza writes the held ones first, then itself, and the session stays inactive") {
  using A = csi::Session<int>::Action;
  csi::Session<int> s(10);
  s.set_inactive();
  std::vector<int> out;
  s.offer(1, false, out);
  s.offer(2, false, out);
  CHECK(s.offer(3, true, out) == A::write);
  CHECK(out == std::vector<int>{1, 2, 3});
  CHECK(s.held() == 0);
  CHECK(s.inactive());
  out.clear();
  CHECK(s.offer(4, false, out) == A::hold);
  CHECK(s.offer(5, true, out) == A::write);
  CHECK(out == std::vector<int>{4, 5});
}

TEST_CASE("csi buffer: buffer_max held at most, the next one flushes all") {
  using A = csi::Session<int>::Action;
  csi::Session<int> s(3);
  s.set_inactive();
  std::vector<int> out;
  CHECK(s.offer(1, false, out) == A::hold);
  CHECK(s.offer(2, false, out) == A::hold);
  CHECK(s.offer(3, false, out) == A::hold);
  CHECK(s.held() == 3);
  CHECK(s.offer(4, false, out) == A::write);
  CHECK(out == std::vector<int>{1, 2, 3, 4});
  CHECK(s.held() == 0);
  out.clear();
  CHECK(s.offer(5, false, out) == A::hold);
}

TEST_CASE("csi buffer: while a batch is in flight, what would pass is written behind it") {
  using A = csi::Session<int>::Action;
  csi::Session<int> s(5);
  s.set_inactive();
  std::vector<int> out;
  s.offer(1, false, out);
  auto flushed = s.set_active();
  REQUIRE(flushed == std::vector<int>{1});
  s.batch_issued();
  CHECK(s.draining());
  CHECK(s.offer(2, true, out) == A::write);
  CHECK(out == std::vector<int>{2});
  s.batch_issued();
  s.batch_done();
  CHECK(s.draining());
  s.batch_done();
  CHECK_FALSE(s.draining());
  out.clear();
  CHECK(s.offer(3, false, out) == A::pass);
  s.batch_done();  // extra markers are harmless
  CHECK_FALSE(s.draining());
}

TEST_CASE("csi buffer: holds move-only references") {
  csi::Session<std::unique_ptr<int>> s(2);
  s.set_inactive();
  std::vector<std::unique_ptr<int>> out;
  s.offer(std::make_unique<int>(7), false, out);
  auto v = s.set_active();
  REQUIRE(v.size() == 1);
  CHECK(*v[0] == 7);
}
