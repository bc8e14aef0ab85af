// RFC 6121 Appendix A subscription state tables, SQL encoding, roster-set validation and
// XML builders of mod_roster.
#include <catch2/catch.hpp>

#include "roster_logic.hpp"

using namespace roster;

namespace {
State S(Sub sub, bool out = false, bool in = false, bool approved = false) {
  State s;
  s.sub = sub;
  s.out = out;
  s.in = in;
  s.approved = approved;
  return s;
}
// The nine RFC 6121 states.
const State kNone = S(Sub::none), kNoneOut = S(Sub::none, true), kNoneIn = S(Sub::none, false, true),
            kNoneOutIn = S(Sub::none, true, true), kTo = S(Sub::to), kToIn = S(Sub::to, false, true),
            kFrom = S(Sub::from), kFromOut = S(Sub::from, true), kBoth = S(Sub::both);

void row(Outcome (*f)(const State&, PType), PType t, const State& from, const State& to, bool forward,
         bool auto_sub = false) {
  INFO("type " << ptype_name(t) << " from " << sub_name(from.sub) << " out=" << from.out << " in=" << from.in
               << " approved=" << from.approved);
  Outcome o = f(from, t);
  CHECK(o.next == to);
  CHECK(o.changed == (from != to));
  CHECK(o.forward == forward);
  CHECK(o.auto_subscribed == auto_sub);
}
}  // namespace

TEST_CASE("A.2.1 outbound subscribe") {
  auto t = PType::subscribe;
  row(outbound, t, kNone, kNoneOut, true);
  row(outbound, t, kNoneOut, kNoneOut, true);
  row(outbound, t, kNoneIn, kNoneOutIn, true);
  row(outbound, t, kNoneOutIn, kNoneOutIn, true);
  row(outbound, t, kTo, kTo, true);
  row(outbound, t, kToIn, kToIn, true);
  row(outbound, t, kFrom, kFromOut, true);
  row(outbound, t, kFromOut, kFromOut, true);
  row(outbound, t, kBoth, kBoth, true);
}

TEST_CASE("A.2.2 outbound unsubscribe") {
  auto t = PType::unsubscribe;
  row(outbound, t, kNone, kNone, true);
  row(outbound, t, kNoneOut, kNone, true);
  row(outbound, t, kNoneIn, kNoneIn, true);
  row(outbound, t, kNoneOutIn, kNoneIn, true);
  row(outbound, t, kTo, kNone, true);
  row(outbound, t, kToIn, kNoneIn, true);
  row(outbound, t, kFrom, kFrom, true);
  row(outbound, t, kFromOut, kFrom, true);
  row(outbound, t, kBoth, kFrom, true);
}

TEST_CASE("A.2.3 outbound subscribed, with pre-approval (3.4)") {
  auto t = PType::subscribed;
  row(outbound, t, kNone, S(Sub::none, false, false, true), false);
  row(outbound, t, kNoneOut, S(Sub::none, true, false, true), false);
  row(outbound, t, kNoneIn, kFrom, true);
  row(outbound, t, kNoneOutIn, kFromOut, true);
  row(outbound, t, kTo, S(Sub::to, false, false, true), false);
  row(outbound, t, kToIn, kBoth, true);
  row(outbound, t, kFrom, kFrom, false);
  row(outbound, t, kFromOut, kFromOut, false);
  row(outbound, t, kBoth, kBoth, false);
  // Already pre-approved: nothing new.
  row(outbound, t, S(Sub::none, false, false, true), S(Sub::none, false, false, true), false);
}

TEST_CASE("A.2.4 outbound unsubscribed") {
  auto t = PType::unsubscribed;
  row(outbound, t, kNone, kNone, false);
  row(outbound, t, kNoneOut, kNoneOut, false);
  row(outbound, t, kNoneIn, kNone, true);
  row(outbound, t, kNoneOutIn, kNoneOut, true);
  row(outbound, t, kTo, kTo, false);
  row(outbound, t, kToIn, kTo, true);
  row(outbound, t, kFrom, kNone, true);
  row(outbound, t, kFromOut, kNoneOut, true);
  row(outbound, t, kBoth, kTo, true);
  // Cancels a pre-approval without telling the contact.
  row(outbound, t, S(Sub::none, false, false, true), kNone, false);
}

TEST_CASE("A.3.1 inbound subscribe") {
  auto t = PType::subscribe;
  row(inbound, t, kNone, kNoneIn, true);
  row(inbound, t, kNoneOut, kNoneOutIn, true);
  row(inbound, t, kNoneIn, kNoneIn, false);        // duplicate: not delivered again
  row(inbound, t, kNoneOutIn, kNoneOutIn, false);
  row(inbound, t, kTo, kToIn, true);
  row(inbound, t, kToIn, kToIn, false);
  row(inbound, t, kFrom, kFrom, false, true);      // already subscribed: auto-reply
  row(inbound, t, kFromOut, kFromOut, false, true);
  row(inbound, t, kBoth, kBoth, false, true);
  // Pre-approved: accepted at once, auto-reply, not delivered.
  row(inbound, t, S(Sub::none, false, false, true), kFrom, false, true);
  row(inbound, t, S(Sub::none, true, false, true), kFromOut, false, true);
  row(inbound, t, S(Sub::to, false, false, true), kBoth, false, true);
}

TEST_CASE("A.3.2 inbound unsubscribe") {
  auto t = PType::unsubscribe;
  row(inbound, t, kNone, kNone, false);
  row(inbound, t, kNoneOut, kNoneOut, false);
  row(inbound, t, kNoneIn, kNone, true);
  row(inbound, t, kNoneOutIn, kNoneOut, true);
  row(inbound, t, kTo, kTo, false);
  row(inbound, t, kToIn, kTo, true);
  row(inbound, t, kFrom, kNone, true);
  row(inbound, t, kFromOut, kNoneOut, true);
  row(inbound, t, kBoth, kTo, true);
}

TEST_CASE("A.3.3 inbound subscribed") {
  auto t = PType::subscribed;
  row(inbound, t, kNone, kNone, false);
  row(inbound, t, kNoneOut, kTo, true);
  row(inbound, t, kNoneIn, kNoneIn, false);
  row(inbound, t, kNoneOutIn, kToIn, true);
  row(inbound, t, kTo, kTo, false);
  row(inbound, t, kToIn, kToIn, false);
  row(inbound, t, kFrom, kFrom, false);
  row(inbound, t, kFromOut, kBoth, true);
  row(inbound, t, kBoth, kBoth, false);
}

TEST_CASE("A.3.4 inbound unsubscribed") {
  auto t = PType::unsubscribed;
  row(inbound, t, kNone, kNone, false);
  row(inbound, t, kNoneOut, kNone, true);
  row(inbound, t, kNoneIn, kNoneIn, false);
  row(inbound, t, kNoneOutIn, kNoneIn, true);
  row(inbound, t, kTo, kNone, true);
  row(inbound, t, kToIn, kNoneIn, true);
  row(inbound, t, kFrom, kFrom, false);
  row(inbound, t, kFromOut, kFrom, true);
  row(inbound, t, kBoth, kFrom, true);
}

TEST_CASE("3.1.3 subscription presence to a JID without an account") {
  // A subscribe is refused on the JID's behalf; nothing else gets an answer.
  CHECK(unknown_user_reply(PType::subscribe) == PType::unsubscribed);
  CHECK_FALSE(unknown_user_reply(PType::subscribed));
  CHECK_FALSE(unknown_user_reply(PType::unsubscribe));
  CHECK_FALSE(unknown_user_reply(PType::unsubscribed));  // never answer a refusal
  // The asker, on getting that unsubscribed while its request is pending, ends up with no
  // subscription and nothing pending (A.3.4), and the stanza reaches it.
  row(inbound, PType::unsubscribed, kNoneOut, kNone, true);
  CHECK(presence(ptype_name(*unknown_user_reply(PType::subscribe)), "ghost@localhost", "alice@localhost") ==
        "<presence type='unsubscribed' from='ghost@localhost' to='alice@localhost'/>");
}

TEST_CASE("presence types") {
  CHECK(parse_ptype("subscribe") == PType::subscribe);
  CHECK(parse_ptype("unsubscribed") == PType::unsubscribed);
  CHECK_FALSE(parse_ptype("probe"));
  CHECK_FALSE(parse_ptype(""));
}

TEST_CASE("SQL encoding round-trips every state") {
  std::vector<std::pair<State, bool>> states = {
      {kNone, false}, {kNoneOut, false}, {kNoneIn, true}, {kNoneIn, false}, {kNoneOutIn, false},
      {kTo, false}, {kToIn, false}, {kFrom, false}, {kFromOut, false}, {kBoth, false},
      {S(Sub::none, false, false, true), false}, {S(Sub::none, true, false, true), false},
      {S(Sub::to, false, false, true), false}};
  for (auto& [st, hidden] : states) {
    Item a;
    a.st = st;
    a.hidden = hidden;
    Item b;
    b.st.sub = sub_from_code(std::string(1, sub_code(a.st.sub)));
    apply_ask_code(b, std::string(1, ask_code(a)));
    CHECK(b.st == a.st);
    CHECK(b.hidden == a.hidden);
  }
  CHECK(sub_code(Sub::both) == 'B');
  CHECK(sub_from_code("") == Sub::none);
  Item in_only;
  in_only.st = kNoneIn;
  in_only.hidden = true;
  CHECK(ask_code(in_only) == 'I');  // MongooseIM's letter for a pending inbound request
  CHECK(is_void(Item{"a@b", "", {}, kNone, true, ""}));
  CHECK_FALSE(is_void(Item{"a@b", "", {}, kNone, false, ""}));
}

TEST_CASE("roster set validation (RFC 6121 2.3.3)") {
  auto one = [](ItemReq r) {
    SetReq s;
    s.items.push_back(std::move(r));
    return s;
  };
  ItemReq ok;
  ok.has_jid = true;
  ok.jid = "Bob@LocalHost";
  ok.groups = {"Friends"};
  SetReq s = one(ok);
  CHECK_FALSE(validate_set(s));
  CHECK(s.items[0].jid == "bob@localhost");

  SetReq none;
  CHECK(validate_set(none)->condition == "bad-request");
  SetReq two = one(ok);
  two.items.push_back(ok);
  CHECK(validate_set(two)->condition == "bad-request");

  ItemReq nojid = ok;
  nojid.has_jid = false;
  auto s2 = one(nojid);
  CHECK(validate_set(s2)->condition == "bad-request");
  ItemReq badjid = ok;
  badjid.jid = "a@@b";
  auto s3 = one(badjid);
  CHECK(validate_set(s3)->condition == "jid-malformed");
  ItemReq full = ok;
  full.jid = "bob@localhost/res";
  auto s4 = one(full);
  CHECK(validate_set(s4)->condition == "bad-request");
  ItemReq dup = ok;
  dup.groups = {"a", "a"};
  auto s5 = one(dup);
  CHECK(validate_set(s5)->condition == "bad-request");
  ItemReq empty = ok;
  empty.groups = {""};
  auto s6 = one(empty);
  CHECK(validate_set(s6)->condition == "not-acceptable");
  ItemReq longname = ok;
  longname.name = std::string(2000, 'x');
  auto s7 = one(longname);
  CHECK(validate_set(s7)->condition == "not-acceptable");
  ItemReq remove = ok;
  remove.subscription = "remove";
  remove.groups = {"", ""};  // ignored for a removal
  auto s8 = one(remove);
  CHECK_FALSE(validate_set(s8));
}

TEST_CASE("content versions change with visible content only") {
  std::map<std::string, Item> r;
  std::string v0 = content_version(r);
  Item b{"bob@localhost", "Bob", {"g"}, kTo, false, ""};
  r[b.jid] = b;
  std::string v1 = content_version(r);
  CHECK(v1 != v0);
  CHECK(content_version(r) == v1);
  Item hidden{"eve@localhost", "", {}, kNoneIn, true, "hi"};
  r[hidden.jid] = hidden;
  CHECK(content_version(r) == v1);
  r[b.jid].st = kBoth;
  CHECK(content_version(r) != v1);
}

TEST_CASE("XML builders") {
  Item b{"bob@localhost", "Bob & co", {"Friends", "<x>"}, kNoneOut, false, ""};
  CHECK(item_xml(b) ==
        "<item jid='bob@localhost' name='Bob &amp; co' subscription='none' ask='subscribe'>"
        "<group>Friends</group><group>&lt;x&gt;</group></item>");
  Item c{"carol@localhost", "", {}, S(Sub::to, false, false, true), false, ""};
  CHECK(item_xml(c) == "<item jid='carol@localhost' subscription='to' approved='true'/>");
  CHECK(removed_item_xml("bob@localhost") == "<item jid='bob@localhost' subscription='remove'/>");

  std::map<std::string, Item> r{{b.jid, b}, {"eve@x", Item{"eve@x", "", {}, kNoneIn, true, ""}}};
  CHECK(roster_query({}, std::nullopt) == "<query xmlns='jabber:iq:roster'/>");
  CHECK(roster_query({}, std::string("7")) == "<query xmlns='jabber:iq:roster' ver='7'/>");
  CHECK(roster_query(r, std::nullopt) == "<query xmlns='jabber:iq:roster'>" + item_xml(b) + "</query>");

  CHECK(push_iq("alice@localhost", "alice@localhost/r1", "p1", removed_item_xml("bob@localhost"), std::string("3")) ==
        "<iq type='set' id='p1' from='alice@localhost' to='alice@localhost/r1'>"
        "<query xmlns='jabber:iq:roster' ver='3'><item jid='bob@localhost' subscription='remove'/></query></iq>");
  CHECK(presence("subscribed", "a@x", "b@x") == "<presence type='subscribed' from='a@x' to='b@x'/>");
  CHECK(presence("subscribe", "a@x", "b@x/r", "let me in") ==
        "<presence type='subscribe' from='a@x' to='b@x/r'><status>let me in</status></presence>");
}
