// mod_mam pure logic: ids, the query form and RSM parser, the planner, prefs, replies.
#include <catch2/catch.hpp>

#include <aviary/cpp/datetime.hpp>

#include "mam_id.hpp"
#include "mam_prefs.hpp"
#include "mam_query.hpp"
#include "mam_reply.hpp"
#include "mam_text.hpp"

using namespace mod_mam;

namespace {
Node field(std::string var, std::vector<std::string> values) {
  Node f{"field", ""};
  f.with("var", std::move(var));
  for (auto& v : values) f.add(Node{"value", ""}.set_text(v));
  return f;
}
Node form(std::vector<Node> fields) {
  Node x{"x", kNsData};
  x.with("type", "submit");
  x.add(field("FORM_TYPE", {kNsMam2}));
  for (auto& f : fields) x.add(std::move(f));
  return x;
}
Node query(std::vector<Node> kids) {
  Node q{"query", kNsMam2};
  q.with("queryid", "q1");
  for (auto& k : kids) q.add(std::move(k));
  return q;
}
Node rsm(std::vector<std::pair<std::string, std::string>> items) {
  Node s{"set", kNsRsm};
  for (auto& [k, v] : items) s.add(Node{k, ""}.set_text(v));
  return s;
}
Query ok(const Node& q) {
  auto r = parse_query(q);
  REQUIRE(std::holds_alternative<Query>(r));
  return std::get<Query>(r);
}
StanzaError err(const Node& q) {
  auto r = parse_query(q);
  REQUIRE(std::holds_alternative<StanzaError>(r));
  return std::get<StanzaError>(r);
}
}  // namespace

TEST_CASE("ids are base-32 (0-9A-V) of (us << 8 | node), round trip, bounds") {
  CHECK(encode_id(0) == "0");
  CHECK(encode_id(31) == "V");
  CHECK(encode_id(32) == "10");
  const int64_t id = id_from_us(1733650000123456, 3);
  CHECK(decode_id(encode_id(id)) == id);
  CHECK(decode_id(encode_id(INT64_MAX)) == INT64_MAX);
  CHECK(encode_id(INT64_MAX) == "7VVVVVVVVVVVV");
  CHECK_FALSE(decode_id("7VVVVVVVVVVVW"));  // > INT64_MAX
  CHECK_FALSE(decode_id("80000000000000"));  // 14 chars
  CHECK_FALSE(decode_id(""));
  CHECK_FALSE(decode_id("12-3"));
  CHECK_FALSE(decode_id("W"));
  CHECK(decode_id("c2h430f40003") == decode_id("C2H430F40003"));
  CHECK(us_of_id(id) == 1733650000123456);
  CHECK((id & 255) == 3);
}

TEST_CASE("ids are unique and increasing, also within one microsecond and when the clock steps back") {
  IdGenerator g(7);
  int64_t a = g.next(1000), b = g.next(1000), c = g.next(999), d = g.next(5000);
  CHECK(a == id_from_us(1000, 7));
  CHECK(b > a);
  CHECK(c > b);
  CHECK(d == id_from_us(5000, 7));
  CHECK((b & 255) == 7);
  // Same-length text sorts like the number.
  CHECK(encode_id(a) < encode_id(b));
}

TEST_CASE("XEP-0082 date-times parse and format") {
  CHECK(av::parse_xep82_datetime("1970-01-01T00:00:00Z") == 0);
  CHECK(av::parse_xep82_datetime("2010-06-07T00:00:00Z") == int64_t(1275868800) * 1000000);
  CHECK(av::parse_xep82_datetime("2010-06-07T02:00:00+02:00") == int64_t(1275868800) * 1000000);
  CHECK(av::parse_xep82_datetime("2010-06-07T00:00:00.5Z") == int64_t(1275868800) * 1000000 + 500000);
  CHECK(av::parse_xep82_datetime("2010-06-07T00:00:00") == int64_t(1275868800) * 1000000);
  CHECK_FALSE(av::parse_xep82_datetime("2010-02-30T00:00:00Z"));
  CHECK_FALSE(av::parse_xep82_datetime("yesterday"));
  CHECK_FALSE(av::parse_xep82_datetime("2010-06-07T00:00:00Zjunk"));
  CHECK(av::xep82_datetime(int64_t(1275868800) * 1000000 + 7, true) == "2010-06-07T00:00:00.000007Z");
}

TEST_CASE("the query form: filters, RSM, flip-page") {
  auto q = ok(query({form({field("with", {"juliet@capulet.lit"}), field("start", {"2010-06-07T00:00:00Z"}),
                           field("end", {"2010-07-07T13:23:54Z"}), field(kFullText, {"Hello, World!"})}),
                     rsm({{"max", "10"}, {"after", "10"}}), Node{"flip-page", kNsMam2}}));
  CHECK(q.queryid == "q1");
  CHECK(q.with == "juliet@capulet.lit");
  CHECK(q.start_us == int64_t(1275868800) * 1000000);
  CHECK(q.words == std::vector<std::string>{"hello", "world"});
  CHECK(q.max == 10u);
  CHECK(q.rsm_after == 32);
  CHECK(q.flip);
  auto empty_before = ok(query({rsm({{"max", "5"}, {"before", ""}})}));
  CHECK(empty_before.rsm_before_empty);
  auto ids = ok(query({form({field("ids", {"1", "2", "V"})})}));
  CHECK(ids.ids == std::vector<int64_t>{1, 2, 31});
}

TEST_CASE("query errors as XEP-0313 says") {
  CHECK(err(query({form({field("bogus", {"x"})})})).condition == "feature-not-implemented");
  CHECK(err(query({form({field("start", {"not a date"})})})).condition == "bad-request");
  CHECK(err(query({form({field("after-id", {"not-an-id!"})})})).condition == "item-not-found");
  CHECK(err(query({form({field("with", {"a@b", "c@d"})})})).condition == "bad-request");
  CHECK(err(query({rsm({{"max", "-1"}})})).condition == "bad-request");
  CHECK(err(query({rsm({{"after", "zz!"}})})).condition == "item-not-found");
  CHECK(err(query({rsm({{"index", "3"}, {"after", "1"}})})).condition == "bad-request");
  Node wrong_type = form({});
  wrong_type.attrs[0].second = "form";
  CHECK(err(query({wrong_type})).condition == "bad-request");
}

TEST_CASE("the planner turns filters and RSM into id bounds and a direction") {
  Query q;
  q.start_us = 1000;
  q.end_us = 2000;
  q.rsm_after = id_from_us(1500, 0);
  q.max = 500;
  Plan p = plan_query(q, 50, 100);
  CHECK(p.min_id == id_from_us(1500, 0) + 1);
  CHECK(p.max_id == id_from_us(2000, 255));
  CHECK(p.count_min_id == id_from_us(1000, 0));
  CHECK(p.page == 100);
  CHECK_FALSE(p.backward);
  Query last;
  last.rsm_before_empty = true;
  Plan lp = plan_query(last, 50, 100);
  CHECK(lp.backward);
  CHECK(lp.page == 50);
  Query before;
  before.rsm_before = 77;
  before.before_id = 100;
  Plan bp = plan_query(before, 50, 100);
  CHECK(bp.backward);
  CHECK(bp.max_id == 76);
  CHECK(bp.count_max_id == 99);
  Query impossible;
  impossible.after_id = 10;
  impossible.before_id = 5;
  Plan ip = plan_query(impossible, 50, 50);
  CHECK(ip.min_id > ip.max_id);  // nothing can match: the storage returns no rows
}

TEST_CASE("full-text normalisation") {
  CHECK(normalize_search("Hello, WORLD!  It's me") == " hello world it s me ");
  CHECK(normalize_search("...") == "");
  CHECK(search_words("Zoë  50%") == std::vector<std::string>{"zoë", "50"});
}

TEST_CASE("preferences: never wins, then always, then the default") {
  Node p{"prefs", kNsMam2};
  p.with("default", "roster");
  p.add(Node{"always", ""}.add(Node{"jid", ""}.set_text("Romeo@Montague.lit/phone")));
  p.add(Node{"never", ""}.add(Node{"jid", ""}.set_text("tybalt@capulet.lit")).add(Node{"jid", ""}.set_text("romeo@montague.lit")));
  auto r = parse_prefs(p);
  REQUIRE(std::holds_alternative<Prefs>(r));
  Prefs pr = std::get<Prefs>(r);
  CHECK(pr.def == 'R');
  CHECK(pr.always == std::vector<std::string>{"romeo@montague.lit"});
  CHECK(decide(pr, "romeo@montague.lit") == Verdict::skip);
  CHECK(decide(pr, "tybalt@capulet.lit") == Verdict::skip);
  CHECK(decide(pr, "nurse@capulet.lit") == Verdict::ask_roster);
  pr.never.clear();
  CHECK(decide(pr, "romeo@montague.lit") == Verdict::archive);
  CHECK(prefs_xml(pr, kNsMam2) ==
        "<prefs xmlns='urn:xmpp:mam:2' default='roster'><always><jid>romeo@montague.lit</jid></always><never></never></prefs>");
  Node bad{"prefs", kNsMam2};
  bad.with("default", "sometimes");
  CHECK(std::get<StanzaError>(parse_prefs(bad)).condition == "bad-request");
}

TEST_CASE("replies: result message, fin, metadata, client namespace, tombstone") {
  const int64_t id = id_from_us(int64_t(1275868800) * 1000000, 0);
  auto m = result_message(kNsMam2, "q1", "juliet@capulet.lit", "juliet@capulet.lit/balcony", id,
                          "<message xmlns='jabber:client' from='romeo@montague.lit/o' type='chat'><body>hi</body></message>");
  CHECK(m.find("<result xmlns='urn:xmpp:mam:2' queryid='q1' id='" + encode_id(id) + "'>") != std::string::npos);
  CHECK(m.find("<delay xmlns='urn:xmpp:delay' stamp='2010-06-07T00:00:00.000000Z'/>") != std::string::npos);
  Page pg;
  pg.ids = {1, 2};
  pg.complete = true;
  pg.count = 10;
  pg.first_index = 3;
  CHECK(fin_xml(kNsMam2, pg) ==
        "<fin xmlns='urn:xmpp:mam:2' complete='true'><set xmlns='http://jabber.org/protocol/rsm'>"
        "<first index='3'>1</first><last>2</last><count>10</count></set></fin>");
  CHECK(fin_xml(kNsMam2, Page{}) == "<fin xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'></set></fin>");
  CHECK(metadata_xml(std::nullopt, std::nullopt) == "<metadata xmlns='urn:xmpp:mam:2'></metadata>");
  CHECK(metadata_xml(id, id).find("<start id='" + encode_id(id) + "' timestamp='2010-06-07T00:00:00.000000Z'/>") !=
        std::string::npos);
  CHECK(with_client_ns("<message to='a@b'><body>x xmlns='y'</body></message>") ==
        "<message xmlns='jabber:client' to='a@b'><body>x xmlns='y'</body></message>");
  CHECK(with_client_ns("<message xmlns='jabber:client'/>") == "<message xmlns='jabber:client'/>");
  CHECK(with_client_ns("<message to='a>b'/>") == "<message xmlns='jabber:client' to='a>b'/>");
  RetractView rv;
  rv.has_v1 = true;
  rv.v1_id = "origin-1";
  auto r = retraction_of(rv);
  REQUIRE(r);
  CHECK(r->ns == "urn:xmpp:message-retract:1");
  CHECK_FALSE(retraction_of(RetractView{}));
  auto t = tombstone_xml({{"from", "romeo@montague.lit/o"}, {"type", "chat"}}, "origin-1", *r, 0);
  CHECK(t == "<message xmlns='jabber:client' from='romeo@montague.lit/o' type='chat'>"
             "<origin-id xmlns='urn:xmpp:sid:0' id='origin-1'/>"
             "<retracted xmlns='urn:xmpp:message-retract:1' id='origin-1' stamp='1970-01-01T00:00:00Z'/></message>");
}
