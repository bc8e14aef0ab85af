#include <catch2/catch.hpp>

#include "push_logic.hpp"
#include "reg_cache.hpp"

using namespace push;

namespace {

FormInput options_form(std::vector<std::pair<std::string, std::vector<std::string>>> fields,
                       std::string form_type = std::string(kNsPublishOptions), std::string type = "submit") {
  FormInput f;
  f.type = type;
  f.fields.push_back(FormField{std::string("FORM_TYPE"), {form_type}});
  for (auto& [k, v] : fields) f.fields.push_back(FormField{k, v});
  return f;
}

RequestInput enable(std::optional<std::string> jid, std::optional<std::string> node,
                    std::optional<FormInput> form = std::nullopt) {
  return RequestInput{"enable", std::move(jid), std::move(node), std::move(form)};
}

}  // namespace

TEST_CASE("push: publish-options form: submit, FORM_TYPE publish-options, single-valued fields sorted by var") {
  auto o = parse_publish_options(
      options_form({{"service", {"fcm"}}, {"device_id", {"abc"}}, {"silent", {"false"}}, {"topic", {""}}}));
  REQUIRE(o);
  CHECK(*o == KeyValues{{"device_id", "abc"}, {"service", "fcm"}, {"silent", "false"}, {"topic", ""}});
  // FORM_TYPE alone: no options.
  auto empty = parse_publish_options(options_form({}));
  REQUIRE(empty);
  CHECK(empty->empty());
  // A field without var is ignored (MongooseIM); a repeated var keeps the last value.
  FormInput f = options_form({{"a", {"1"}}, {"a", {"2"}}});
  f.fields.push_back(FormField{std::nullopt, {"x", "y"}});
  auto last = parse_publish_options(f);
  REQUIRE(last);
  CHECK(*last == KeyValues{{"a", "2"}});
}

TEST_CASE("push: publish-options form: what is refused") {
  CHECK_FALSE(parse_publish_options(options_form({{"device_id", {"a", "b"}}})));  // multi-valued
  CHECK_FALSE(parse_publish_options(options_form({{"device_id", {}}})));          // no value
  CHECK_FALSE(parse_publish_options(options_form({}, "urn:other")));             // other FORM_TYPE
  CHECK_FALSE(parse_publish_options(options_form({}, std::string(kNsPublishOptions), "form")));  // not submit
  FormInput no_type = options_form({});
  no_type.type.reset();
  CHECK_FALSE(parse_publish_options(no_type));
  FormInput no_form_type;
  no_form_type.type = "submit";
  no_form_type.fields.push_back(FormField{std::string("device_id"), {"a"}});
  CHECK_FALSE(parse_publish_options(no_form_type));
  FormInput two_form_types = options_form({});
  two_form_types.fields[0].values.push_back(std::string(kNsPublishOptions));
  CHECK_FALSE(parse_publish_options(two_form_types));
}

TEST_CASE("push: enable requests") {
  Parsed ok = parse_request(enable("Push.LocalHost", "node1", options_form({{"device_id", {"d"}}})));
  REQUIRE(ok.ok);
  CHECK(ok.request.kind == Request::Kind::enable);
  CHECK(ok.request.pubsub_jid == "push.localhost");
  CHECK(ok.request.node == std::optional<std::string>("node1"));
  CHECK(ok.request.options == KeyValues{{"device_id", "d"}});
  // Without a form: no options. A resource is kept (a service at a full JID).
  Parsed full = parse_request(enable("App@LocalHost/Res", "n"));
  REQUIRE(full.ok);
  CHECK(full.request.pubsub_jid == "app@localhost/Res");
  CHECK(full.request.options.empty());

  for (const auto& in : {enable(std::nullopt, "n"), enable("", "n"), enable("a@", "n"), enable("x/", "n"),
                         enable("push.localhost", std::nullopt), enable("push.localhost", ""),
                         enable("push.localhost", "n", options_form({{"k", {"1", "2"}}})),
                         enable("push.localhost", "n", options_form({}, "urn:x")),
                         enable("push.localhost", std::string(251, 'n')),
                         enable(std::string(260, 'd'), "n")}) {
    Parsed p = parse_request(in);
    CHECK_FALSE(p.ok);
    CHECK(p.condition == "bad-request");
    CHECK_FALSE(p.text.empty());
  }
}

TEST_CASE("push: disable requests and other elements") {
  Parsed all = parse_request(RequestInput{"disable", std::string("push.localhost"), std::nullopt, std::nullopt});
  REQUIRE(all.ok);
  CHECK(all.request.kind == Request::Kind::disable);
  CHECK_FALSE(all.request.node);
  Parsed one = parse_request(RequestInput{"disable", std::string("push.localhost"), std::string("n"), std::nullopt});
  REQUIRE(one.ok);
  CHECK(one.request.node == std::optional<std::string>("n"));
  CHECK_FALSE(parse_request(RequestInput{"disable", std::string("push.localhost"), std::string(""), std::nullopt}).ok);
  CHECK_FALSE(parse_request(RequestInput{"disable", std::nullopt, std::nullopt, std::nullopt}).ok);
  CHECK_FALSE(parse_request(RequestInput{"disable", std::string(""), std::nullopt, std::nullopt}).ok);
  Parsed other = parse_request(RequestInput{"query", std::string("push.localhost"), std::string("n"), std::nullopt});
  CHECK_FALSE(other.ok);
  CHECK(other.condition == "bad-request");
}

TEST_CASE("push: summary fields and sender") {
  CHECK(summary_fields(1, "alice@localhost", "hi") ==
        KeyValues{{"message-count", "1"}, {"last-message-sender", "alice@localhost"}, {"last-message-body", "hi"}});
  CHECK(sender_id(false, "Alice@LocalHost/Phone") == "alice@localhost");
  CHECK(sender_id(true, "Room@MUC.LocalHost/Nick Name") == "room@muc.localhost/Nick Name");
}

TEST_CASE("push: the summary form and the publish IQ, as XML") {
  CHECK(data_form_xml(kNsSummary, summary_fields(1, "alice@localhost", "a<b & 'c'")) ==
        "<x xmlns='jabber:x:data' type='submit'>"
        "<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:push:summary</value></field>"
        "<field var='message-count'><value>1</value></field>"
        "<field var='last-message-sender'><value>alice@localhost</value></field>"
        "<field var='last-message-body'><value>a&lt;b &amp; &apos;c&apos;</value></field></x>");
  const std::string summary_xml = data_form_xml(kNsSummary, summary_fields(1, "bob@localhost", "hello"));
  CHECK(publish_iq_xml("id1", "localhost", "app@localhost/x", "node'1", summary_fields(1, "bob@localhost", "hello"), {}) ==
        "<iq type='set' id='id1' from='localhost' to='app@localhost/x'>"
        "<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='node&apos;1'><item>"
        "<notification xmlns='urn:xmpp:push:0'>" + summary_xml + "</notification></item></publish></pubsub></iq>");
  CHECK(publish_iq_xml("id2", "localhost", "pubsub.example", "n", summary_fields(1, "bob@localhost", "hello"),
                       {{"device_id", "d1"}, {"service", "apns"}}) ==
        "<iq type='set' id='id2' from='localhost' to='pubsub.example'>"
        "<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='n'><item>"
        "<notification xmlns='urn:xmpp:push:0'>" + summary_xml + "</notification></item></publish>"
        "<publish-options><x xmlns='jabber:x:data' type='submit'>"
        "<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>"
        "<field var='device_id'><value>d1</value></field><field var='service'><value>apns</value></field>"
        "</x></publish-options></pubsub></iq>");
}

TEST_CASE("push: virtual PubSub hosts, with @HOST@") {
  const std::vector<std::string> patterns{"push.@HOST@", "Fixed.Example"};
  CHECK(is_virtual_pubsub_host(patterns, "localhost", "push.localhost"));
  CHECK(is_virtual_pubsub_host(patterns, "localhost", "PUSH.localhost"));
  CHECK_FALSE(is_virtual_pubsub_host(patterns, "other.host", "push.localhost"));
  CHECK(is_virtual_pubsub_host(patterns, "other.host", "push.other.host"));
  CHECK(is_virtual_pubsub_host(patterns, "localhost", "fixed.example"));
  CHECK_FALSE(is_virtual_pubsub_host(patterns, "localhost", "pubsub.localhost"));
  CHECK_FALSE(is_virtual_pubsub_host({}, "localhost", "push.localhost"));
  CHECK(expand_pattern("a.@HOST@.@HOST@", "h") == "a.h.h");
  CHECK(valid_pattern("push.@HOST@"));
  CHECK(valid_pattern("push.example.com"));
  CHECK_FALSE(valid_pattern(""));
  CHECK_FALSE(valid_pattern("user@push.example"));
  CHECK_FALSE(valid_pattern("push.example/res"));
}

TEST_CASE("push: the stored form is a JSON object of strings") {
  const KeyValues o{{"device_id", "d"}, {"service", "fcm"}, {"x", "\"quoted\" é"}};
  CHECK(encode_form(o) == R"({"device_id":"d","service":"fcm","x":"\"quoted\" é"})");
  CHECK(encode_form({}) == "{}");
  CHECK(decode_form(encode_form(o)) == std::optional<KeyValues>(o));
  CHECK(decode_form(R"({"b":"2","a":"1"})") == std::optional<KeyValues>(KeyValues{{"a", "1"}, {"b", "2"}}));
  CHECK_FALSE(decode_form("[]"));
  CHECK_FALSE(decode_form(R"({"a":1})"));
  CHECK_FALSE(decode_form("not json"));
}

TEST_CASE("push: SQL per dialect") {
  CHECK(std::string(schema_sql(1)).find("form TEXT") != std::string::npos);
  CHECK(std::string(schema_sql(2)).find("form JSON") != std::string::npos);
  CHECK(std::string(schema_sql(3)).find("utf8mb4") != std::string::npos);
  CHECK(std::string(upsert_sql(1)).find("ON CONFLICT (owner_jid, node, pubsub_jid)") != std::string::npos);
  CHECK(std::string(upsert_sql(3)).find("ON DUPLICATE KEY UPDATE") != std::string::npos);
}

TEST_CASE("push: disable matching") {
  Registration r{"push.localhost", "n1", {}};
  CHECK(matches(r, "push.localhost", std::nullopt));
  CHECK(matches(r, "push.localhost", std::string("n1")));
  CHECK_FALSE(matches(r, "push.localhost", std::string("n2")));
  CHECK_FALSE(matches(r, "other.localhost", std::nullopt));
}

TEST_CASE("push: Seen remembers for its TTL, bounded") {
  Seen s(1000, 3);
  CHECK(s.first("a", 0));
  CHECK_FALSE(s.first("a", 10));
  CHECK(s.contains("a", 999));
  CHECK_FALSE(s.contains("a", 1000));  // expired
  CHECK(s.first("a", 1000));
  CHECK(s.first("b", 1001));
  CHECK(s.first("c", 1002));
  CHECK(s.first("d", 1003));  // over capacity: the oldest ("a") goes
  CHECK(s.size() == 3);
  CHECK_FALSE(s.contains("a", 1004));
  CHECK(s.contains("d", 1004));
  CHECK(message_key("bob@localhost", "Alice@LocalHost/R", "id1", "hi") ==
        message_key("bob@localhost", "alice@localhost/R", "id1", "hi"));
  CHECK(message_key("bob@localhost", "alice@localhost/R", "id1", "hi") !=
        message_key("bob@localhost", "alice@localhost/R", "id2", "hi"));
}

TEST_CASE("push: the registration cache loads once, queues waiters, and invalidates") {
  RegCache c(10);
  int calls = 0;
  Registrations got;
  auto w = [&](bool ok, const Registrations& r) {
    ++calls;
    if (ok) got = r;
  };
  auto b1 = c.begin("bob@localhost", w);
  CHECK(b1.what == RegCache::Begin::What::load);
  auto b2 = c.begin("bob@localhost", w);
  CHECK(b2.what == RegCache::Begin::What::wait);
  CHECK(calls == 0);
  Registrations regs{{"push.localhost", "n", {{"device_id", "d"}}}};
  c.loaded("bob@localhost", b1.gen, true, regs);
  CHECK(calls == 2);
  CHECK(got == regs);
  auto b3 = c.begin("bob@localhost", w);
  CHECK(b3.what == RegCache::Begin::What::hit);
  CHECK(b3.regs == regs);
  CHECK(calls == 2);  // a hit does not call the waiter

  c.remove("bob@localhost", "push.localhost", std::nullopt);
  CHECK(c.begin("bob@localhost", w).regs.empty());
  c.invalidate("bob@localhost");
  auto b4 = c.begin("bob@localhost", w);
  CHECK(b4.what == RegCache::Begin::What::load);
  // Invalidated while loading: the waiters get the result, it is not kept.
  c.invalidate("bob@localhost");
  c.loaded("bob@localhost", b4.gen, true, regs);
  CHECK(calls == 3);
  CHECK(c.begin("bob@localhost", w).what == RegCache::Begin::What::load);
  CHECK(c.size() == 1);
}

TEST_CASE("push: a failed load is not cached, a stale generation is ignored, the size is bounded") {
  RegCache c(2);
  int fails = 0;
  auto w = [&](bool ok, const Registrations&) { fails += ok ? 0 : 1; };
  auto b = c.begin("a@h", w);
  c.loaded("a@h", b.gen + 100, true, {});  // not this load: ignored
  CHECK(fails == 0);
  c.loaded("a@h", b.gen, false, {});
  CHECK(fails == 1);
  CHECK(c.size() == 0);
  for (const char* u : {"a@h", "b@h", "c@h", "d@h"}) {
    auto x = c.begin(u, w);
    c.loaded(u, x.gen, true, {});
  }
  CHECK(c.size() <= 2);
  // Loading entries are never evicted.
  RegCache d(1);
  auto l1 = d.begin("a@h", w);
  auto l2 = d.begin("b@h", w);
  CHECK(l2.what == RegCache::Begin::What::load);
  CHECK(d.size() == 2);
  d.loaded("a@h", l1.gen, true, {});
  d.loaded("b@h", l2.gen, true, {});
}
