// XML element tree, parse_element() and the incremental stream framer.
#include "xml/element.hpp"
#include "xml/framer.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <random>
#include <string>
#include <vector>

using aviary::xml::Element;
using aviary::xml::Framer;
using aviary::xml::Limits;
using aviary::xml::StreamError;
using aviary::xml::escape_attr;
using aviary::xml::escape_text;
using aviary::xml::parse_element;
using aviary::xml::stream_error_name;

namespace {

const std::string kHeader =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>";

// Records events as strings: "open <header/>", the serialized element, "close".
struct Rec : Framer::Handler {
  std::vector<std::string> ev;
  std::vector<std::unique_ptr<Element>> els;
  std::function<void(const Element&)> action;  // runs after recording an element
  void on_stream_open(Element&& h) override {
    CHECK(h.children.empty());
    ev.push_back("open " + h.str());
  }
  void on_element(std::unique_ptr<Element> e) override {
    ev.push_back(e->str());
    els.push_back(std::move(e));
    if (action) action(*els.back());
  }
  void on_stream_close() override { ev.push_back("close"); }
};

StreamError feed(Framer& f, std::string_view s, Rec& r) { return f.feed(s.data(), s.size(), r); }

StreamError feed_bytewise(Framer& f, std::string_view s, Rec& r) {
  StreamError e = StreamError::none;
  for (char c : s) {
    e = f.feed(&c, 1, r);
    if (e != StreamError::none) break;
  }
  return e;
}

StreamError run(std::string_view s, Limits lim = {}) {
  Framer f(lim);
  Rec r;
  return feed(f, s, r);
}

std::string open_event() {
  return "open <stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
         "to='example.com' version='1.0'/>";
}

std::string nested(unsigned depth) {
  std::string s;
  for (unsigned i = 0; i < depth; ++i) s += "<a>";
  for (unsigned i = 0; i < depth; ++i) s += "</a>";
  return s;
}

std::string with_attrs(unsigned n) {
  std::string s = "<message";
  for (unsigned i = 0; i < n; ++i) s += " a" + std::to_string(i) + "='v'";
  return s + "/>";
}

}  // namespace

TEST_CASE("Element attributes", "[xml]") {
  Element e("message");
  CHECK(e.attr("to") == nullptr);
  CHECK(e.attr_or("to", "dflt") == "dflt");
  e.set_attr("to", "bob@example.com");
  e.set_attr("type", "chat");
  e.set_attr("to", "carol@example.com");  // replaces in place
  REQUIRE(e.attrs.size() == 2);
  CHECK(e.attrs[0].first == "to");
  CHECK(*e.attr("to") == "carol@example.com");
  CHECK(e.attr_or("type") == "chat");
  CHECK(e.xmlns().empty());
  e.set_attr("xmlns", "jabber:client");
  CHECK(e.xmlns() == "jabber:client");
  CHECK(e.remove_attr("type"));
  CHECK_FALSE(e.remove_attr("type"));
  CHECK(e.attrs.size() == 2);
}

TEST_CASE("Element children and text", "[xml]") {
  Element iq("iq");
  iq.add_text("  ");
  Element& q = iq.add_child("query", "jabber:iq:roster");
  q.add_child("item").set_attr("jid", "a@b");
  iq.add_child("query", "jabber:iq:private");
  iq.add_child(std::make_unique<Element>("error")).add_text("x");
  CHECK(q.xmlns() == "jabber:iq:roster");
  CHECK(iq.child("query") == &q);
  CHECK(iq.child("query", "jabber:iq:private") != &q);
  CHECK(iq.child("query", "jabber:iq:private")->xmlns() == "jabber:iq:private");
  CHECK(iq.child("query", "urn:none") == nullptr);
  CHECK(iq.child("nope") == nullptr);
  CHECK(iq.first_child_element() == &q);
  const Element& ciq = iq;
  CHECK(ciq.child("error")->text() == "x");
  CHECK(iq.child_text("error") == "x");
  CHECK(iq.child_text("nope").empty());

  Element body("body");
  body.add_text("Hello, ");
  body.add_text("");
  body.add_text("world");
  REQUIRE(body.children.size() == 1);  // adjacent text merges
  CHECK(body.children[0].is_text());
  body.add_child("b").add_text("!");
  body.add_text("?");
  CHECK(body.text() == "Hello, world?");  // direct text only
  CHECK(body.first_child_element()->name == "b");
  CHECK(Element("x").first_child_element() == nullptr);
}

TEST_CASE("Element clone is deep and independent", "[xml]") {
  Element m("message");
  m.set_attr("to", "a@b");
  m.add_child("body").add_text("hi");
  auto c = m.clone();
  CHECK(c->str() == m.str());
  c->child("body")->add_text(" there");
  c->set_attr("to", "x@y");
  CHECK(m.child_text("body") == "hi");
  CHECK(*m.attr("to") == "a@b");
  CHECK(c->child_text("body") == "hi there");
}

TEST_CASE("serialize and escaping", "[xml]") {
  std::string out;
  escape_text("a&b<c>d'e\"f", out);
  CHECK(out == "a&amp;b&lt;c&gt;d'e\"f");
  out.clear();
  escape_attr("a&b<c>d'e\"f", out);
  CHECK(out == "a&amp;b&lt;c&gt;d&apos;e&quot;f");
  out = "keep:";
  escape_text("plain", out);
  CHECK(out == "keep:plain");

  CHECK(Element("x").str() == "<x/>");
  Element m("message");
  m.set_attr("to", "it's \"quoted\" & <odd>");
  m.add_child("body").add_text("1 < 2 && 3 > 2 \"'");
  m.add_child("active", "http://jabber.org/protocol/chatstates");
  const std::string xml = m.str();
  CHECK(xml ==
        "<message to='it&apos;s &quot;quoted&quot; &amp; &lt;odd&gt;'><body>1 &lt; 2 &amp;&amp; 3 &gt; 2 "
        "\"'</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>");
  std::string err;
  auto back = parse_element(xml, &err);
  REQUIRE(back);
  CHECK(*back->attr("to") == "it's \"quoted\" & <odd>");
  CHECK(back->child_text("body") == "1 < 2 && 3 > 2 \"'");
  CHECK(back->str() == xml);
  std::string appended = "prefix";
  m.serialize(appended);
  CHECK(appended == "prefix" + xml);
}

TEST_CASE("parse_element", "[xml]") {
  std::string err;
  auto e = parse_element(
      " <message xmlns='jabber:client' to=\"a@b\"><body>A&amp;B &#x263A;&#65;<![CDATA[<raw>&x]]></body>"
      "<x:y xmlns:x='urn:x'/></message>\n",
      &err);
  REQUIRE(e);
  CHECK(e->name == "message");
  CHECK(e->xmlns() == "jabber:client");
  CHECK(e->child_text("body") == "A&B \xE2\x98\xBA" "A<raw>&x");
  CHECK(e->child("x:y") != nullptr);
  CHECK(e->child("x:y")->attr_or("xmlns:x") == "urn:x");
  CHECK(e->child("body")->children.size() == 1);  // text and CDATA merged

  const char* bad[] = {
      "",
      "   ",
      "text",
      "<a>",
      "<a></b>",
      "<a/><b/>",
      "<a/>junk",
      "<a x='1' x='2'/>",
      "<a x=1/>",
      "<a>&foo;</a>",
      "<!-- c --><a/>",
      "<a><!-- c --></a>",
      "<?xml version='1.0'?><a/>",
      "<!DOCTYPE a><a/>",
      "<a>\xFF</a>",
      "</a>",
  };
  for (const char* b : bad) {
    INFO("input: " << b);
    err.clear();
    CHECK(parse_element(b, &err) == nullptr);
    CHECK_FALSE(err.empty());
  }
  CHECK(parse_element("<a") == nullptr);  // err is optional

  // RapidXML drops whitespace-only text directly before a tag (documented in element.hpp).
  CHECK(parse_element("<a> </a>")->children.empty());
  CHECK(parse_element("<a>\n <b/>\n</a>")->str() == "<a><b/></a>");
  CHECK(parse_element("<a> x <b/></a>")->str() == "<a> x <b/></a>");
  CHECK(parse_element(nested(256)) != nullptr);
  CHECK(parse_element(nested(100000), &err) == nullptr);  // no stack overflow
  CHECK(err.find("policy-violation") != std::string::npos);
}

TEST_CASE("framer: header, stanza, close", "[xml][framer]") {
  Framer f;
  Rec r;
  REQUIRE(feed(f, kHeader, r) == StreamError::none);
  REQUIRE(r.ev.size() == 1);
  CHECK(r.ev[0] == open_event());
  REQUIRE(feed(f, "<message to='bob@example.com' type='chat'><body>Hi &lt;3</body></message>", r) ==
          StreamError::none);
  REQUIRE(r.els.size() == 1);
  const Element& m = *r.els[0];
  CHECK(m.name == "message");
  CHECK(m.xmlns().empty());  // no default namespace is added
  CHECK(m.child_text("body") == "Hi <3");
  CHECK(f.buffered() == 0);
  REQUIRE(feed(f, "</stream:stream>", r) == StreamError::none);
  CHECK(r.ev.back() == "close");
  CHECK(feed(f, " \n", r) == StreamError::none);  // whitespace after the close is fine
  CHECK(feed(f, "<message/>", r) == StreamError::not_well_formed);
}

TEST_CASE("framer: header variants", "[xml][framer]") {
  SECTION("no declaration, leading whitespace, unprefixed root") {
    Framer f;
    Rec r;
    CHECK(feed(f, "\n <stream xmlns='http://etherx.jabber.org/streams'><a/></stream>", r) == StreamError::none);
    REQUIRE(r.ev.size() == 3);
    CHECK(r.ev[2] == "close");
  }
  SECTION("declaration with UTF-8 encoding and standalone") {
    CHECK(run("<?xml version=\"1.0\" encoding=\"utf-8\" standalone='yes' ?>" + kHeader.substr(21)) ==
          StreamError::none);
  }
  SECTION("self-closing header opens and closes") {
    Framer f;
    Rec r;
    CHECK(feed(f, "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'/>", r) == StreamError::none);
    REQUIRE(r.ev.size() == 2);
    CHECK(r.ev[1] == "close");
  }
  SECTION("header attributes are unescaped") {
    Framer f;
    Element hdr;
    struct H : Rec {
      Element* out;
      void on_stream_open(Element&& h) override { *out = std::move(h); }
    } h;
    h.out = &hdr;
    CHECK(f.feed(kHeader.data(), kHeader.size(), h) == StreamError::none);
    CHECK(hdr.name == "stream:stream");
    CHECK(hdr.attr_or("to") == "example.com");
    CHECK(hdr.xmlns() == "jabber:client");
  }
}

TEST_CASE("framer: byte-by-byte and every split give the same events", "[xml][framer]") {
  const std::string stream =
      kHeader +
      "<message to='b@x' id=\"q'1\"><body>caf\xC3\xA9 \xF0\x9F\x98\x80 &amp;&#x263A;&#9731;</body>"
      "<x:data xmlns:x='urn:x' k='&lt;&apos;'><![CDATA[ ]] ]> <a> ]]></x:data></message>\r\n"
      "<iq type='get' id='1'><query xmlns='jabber:iq:roster' ver='\xC3\xA9'/></iq >"
      "<presence/> \t<presence><show>away</show><status>a > b</status></presence>"
      "</stream:stream >";
  Framer whole;
  Rec rw;
  REQUIRE(feed(whole, stream, rw) == StreamError::none);
  REQUIRE(rw.ev.size() == 6);
  CHECK(rw.els[0]->child_text("body") == "caf\xC3\xA9 \xF0\x9F\x98\x80 &\xE2\x98\xBA\xE2\x98\x83");
  CHECK(rw.els[0]->child("x:data")->text() == " ]] ]> <a> ");
  CHECK(rw.els[0]->child("x:data")->attr_or("k") == "<'");
  CHECK(rw.els[3]->child_text("status") == "a > b");

  Framer bytewise;
  Rec rb;
  REQUIRE(feed_bytewise(bytewise, stream, rb) == StreamError::none);
  CHECK(rb.ev == rw.ev);

  for (size_t cut = 1; cut < stream.size(); ++cut) {
    Framer f;
    Rec r;
    REQUIRE(f.feed(stream.data(), cut, r) == StreamError::none);
    REQUIRE(f.feed(stream.data() + cut, stream.size() - cut, r) == StreamError::none);
    REQUIRE(r.ev == rw.ev);
    REQUIRE(f.buffered() == 0);
  }
}

TEST_CASE("framer: several stanzas in one feed, keepalives, buffered()", "[xml][framer]") {
  Framer f;
  Rec r;
  REQUIRE(feed(f, kHeader + " ", r) == StreamError::none);
  CHECK(f.buffered() == 0);
  REQUIRE(feed(f, "<a/><b>x</b>\n<c/>  ", r) == StreamError::none);
  CHECK(r.ev.size() == 4);
  for (int i = 0; i < 5; ++i) REQUIRE(feed(f, " ", r) == StreamError::none);  // keepalives
  REQUIRE(feed(f, "\r\n\t", r) == StreamError::none);
  CHECK(r.ev.size() == 4);
  CHECK(f.buffered() == 0);
  REQUIRE(feed(f, "<message><bo", r) == StreamError::none);
  CHECK(f.buffered() == 12);
  REQUIRE(feed(f, "dy>hi</body>", r) == StreamError::none);
  CHECK(f.buffered() == 24);
  REQUIRE(feed(f, "</message> <x", r) == StreamError::none);
  CHECK(r.ev.size() == 5);
  CHECK(r.ev.back() == "<message><body>hi</body></message>");
  CHECK(f.buffered() == 2);
  REQUIRE(feed(f, "/>", r) == StreamError::none);
  CHECK(f.buffered() == 0);
  CHECK(r.ev.size() == 6);
}

TEST_CASE("framer: reset() inside on_element restarts the stream on the same bytes", "[xml][framer]") {
  Framer f;
  Rec r;
  r.action = [&](const Element& e) {
    if (e.name == "auth") f.reset();
  };
  const std::string input = kHeader + "<auth mechanism='PLAIN'>AGFAYg==</auth>" + kHeader +
                            "<iq type='set'><bind/></iq></stream:stream>";
  SECTION("one feed") { REQUIRE(feed(f, input, r) == StreamError::none); }
  SECTION("byte by byte") { REQUIRE(feed_bytewise(f, input, r) == StreamError::none); }
  REQUIRE(r.ev.size() == 5);
  CHECK(r.ev[0] == open_event());
  CHECK(r.ev[1] == "<auth mechanism='PLAIN'>AGFAYg==</auth>");
  CHECK(r.ev[2] == open_event());
  CHECK(r.ev[3] == "<iq type='set'><bind/></iq>");
  CHECK(r.ev[4] == "close");

  Framer nr;  // without the reset the second header is an error
  Rec r2;
  CHECK(feed(nr, input, r2) == StreamError::restricted_xml);
}

TEST_CASE("framer: stop() leaves the rest of the feed unparsed", "[xml][framer]") {
  Framer f;
  Rec r;
  r.action = [&](const Element& e) {
    if (e.name == "starttls") f.stop();
  };
  const std::string input =
      kHeader + "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><message><body>injected</body></message><x";
  REQUIRE(feed(f, input, r) == StreamError::none);
  REQUIRE(r.ev.size() == 2);
  CHECK(r.ev[1] == "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  CHECK(f.buffered() == 0);
  f.reset();  // TLS is up: a new stream follows
  REQUIRE(feed(f, kHeader + "<message/>", r) == StreamError::none);
  REQUIRE(r.ev.size() == 4);
  CHECK(r.ev[3] == "<message/>");
}

TEST_CASE("framer: stream errors", "[xml][framer]") {
  struct Case {
    std::string in;
    StreamError want;
  };
  const StreamError nwf = StreamError::not_well_formed, rx = StreamError::restricted_xml,
                    pv = StreamError::policy_violation, ns = StreamError::invalid_namespace,
                    ok = StreamError::none;
  const std::string h = kHeader;
  const std::vector<Case> cases = {
      // restricted XML
      {h + "<!-- hi -->", rx},
      {h + "<message><!-- hi --></message>", rx},
      {"<!-- before --><stream:stream/>", rx},
      {h + "<?php echo 1; ?>", rx},
      {h + "<message><?pi x?></message>", rx},
      {h + "<?xml version='1.0'?>", rx},
      {"<?xml version='1.0'?><?xml version='1.0'?>", rx},
      {"<?xml-stylesheet href='a'?>", rx},
      {"<?foo?>", rx},
      {"<!DOCTYPE stream [<!ENTITY x 'y'>]>", rx},
      {h + "<message><!ENTITY x 'y'></message>", rx},
      {h + "<message>&custom;</message>", rx},
      {h + "<message to='&xxe;'/>", rx},
      {h + "<message>&ampx;</message>", rx},
      {h + "<message>&#65;&#x42;&lt;&gt;&amp;&quot;&apos;</message>", ok},
      // well-formedness
      {h + "<message><body></message></body>", nwf},
      {h + "<message></messagex>", nwf},
      {h + "<message></mess>", nwf},
      {h + "<message></ message>", nwf},
      {h + "<message></message x>", nwf},
      {h + "<1message/>", nwf},
      {h + "<:message/>", nwf},
      {h + "<m:/>", nwf},
      {h + "<a:b:c/>", nwf},
      {h + "<a:1b/>", nwf},
      {h + "<a b:='1'/>", nwf},
      {h + "<a -b='1'/>", nwf},
      {h + "<message to=bob/>", nwf},
      {h + "<message to/>", nwf},
      {h + "<message to='a' to='b'/>", nwf},
      {h + "<message to='a<b'/>", nwf},
      {h + "<message a='1'b='2'/>", nwf},
      {h + "<message =/>", nwf},
      {h + "<message/ >", nwf},
      {h + "< message/>", nwf},
      {h + "<message>]]></message>", nwf},
      {h + "<message>a > b ]> ]]&gt;</message>", ok},
      {h + "<![CDATA[x]]>", nwf},
      {h + "<message><![CDATX[x]]></message>", nwf},
      {h + "<message>& amp;</message>", nwf},
      {h + "<message>&;</message>", nwf},
      {h + "<message>&#;</message>", nwf},
      {h + "<message>&#x;</message>", nwf},
      {h + "<message>&#X41;</message>", nwf},
      {h + "<message>&#0;</message>", nwf},
      {h + "<message>&#x1;</message>", nwf},
      {h + "<message>&#xD800;</message>", nwf},
      {h + "<message>&#x110000;</message>", nwf},
      {h + "<message>&#99999999999999999999999;</message>", nwf},
      {h + "<message>&#9;&#xA;&#x10FFFF;</message>", ok},
      {h + "<message>a\x01</message>", nwf},
      {h + std::string("<message>a\0</message>", 21), nwf},
      {h + "</stream:streamx>", nwf},
      {h + "</stream>", nwf},
      {"</stream:stream>", nwf},
      {"hello", nwf},
      {"<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>hello", StreamError::bad_format},
      {h + "<message/> hello", StreamError::bad_format},
      {h + "&amp;", StreamError::bad_format},
      // invalid UTF-8
      {h + "<message>\xC3\x28</message>", nwf},
      {h + "<message>\xC0\xAF</message>", nwf},
      {h + "<message>\xE0\x80\xAF</message>", nwf},
      {h + "<message>\xED\xA0\x80</message>", nwf},
      {h + "<message>\xF4\x90\x80\x80</message>", nwf},
      {h + "<message>\xF5\x80\x80\x80</message>", nwf},
      {h + "<message>\x80</message>", nwf},
      {h + "<message>\xE2\x82</message>", nwf},
      {h + "<message>\xEF\xBF\xBE</message>", nwf},
      {h + "<message a='\xFF'/>", nwf},
      {h + "<m\xC3\xA9ssage>\xE2\x82\xAC</m\xC3\xA9ssage>", ok},
      {h + "<m\xC3\xA9ssage></m\xC3\xA8ssage>", nwf},
      // namespace of the root
      {"<foo xmlns:stream='http://etherx.jabber.org/streams'>", ns},
      {"<stream:foo xmlns:stream='http://etherx.jabber.org/streams'>", ns},
      {"<stream:stream xmlns:stream='urn:wrong'>", ns},
      {"<stream:stream xmlns='http://etherx.jabber.org/streams'>", ns},
      {"<stream:stream>", ns},
      {"<stream xmlns='jabber:client'>", ns},
      {"<s:stream xmlns:s='http://etherx.jabber.org/streams'></s:stream>", ok},
      // encoding
      {"<?xml version='1.0' encoding='UTF-16'?>", StreamError::unsupported_encoding},
      {"<?xml version='1.0' encoding='ISO-8859-1'?>", StreamError::unsupported_encoding},
      {"<?xml version='1.0' encoding='UTF-8'?>", ok},
      {"<?xml version='2.0'?>", nwf},
      {"<?xml encoding='UTF-8'?>", nwf},
      {"<?xml?>", nwf},
      {"<?xml version='1.0'encoding='UTF-8'?>", nwf},
      // limits
      {h + nested(32), ok},
      {h + nested(33), pv},
      {h + with_attrs(64), ok},
      {h + with_attrs(65), pv},
      {"<stream:stream xmlns:stream='http://etherx.jabber.org/streams' to='" + std::string(5000, 'a') + "'>",
       pv},
      {"<stream:stream xmlns:stream='http://etherx.jabber.org/streams' to='" + std::string(4000, 'a') + "'>",
       ok},
      {"<?xml version='1.0'" + std::string(5000, ' ') + "?>", pv},
  };
  for (const Case& c : cases) {
    INFO("input: " << c.in);
    Framer f;
    Rec r;
    const StreamError got = feed(f, c.in, r);
    CHECK(stream_error_name(got) == std::string(stream_error_name(c.want)));
    CHECK((f.buffered() == 0 || got == ok));
    Framer fb;
    Rec rb;
    CHECK(feed_bytewise(fb, c.in, rb) == got);  // same verdict however it is split
    CHECK(rb.ev == r.ev);
  }
}

TEST_CASE("framer: errors are sticky until reset()", "[xml][framer]") {
  Framer f;
  Rec r;
  REQUIRE(feed(f, kHeader + "<!-- x -->", r) == StreamError::restricted_xml);
  CHECK(feed(f, "<message/>", r) == StreamError::restricted_xml);
  CHECK(r.ev.size() == 1);
  f.reset();
  CHECK(feed(f, kHeader + "<message/>", r) == StreamError::none);
  CHECK(r.ev.size() == 3);
}

TEST_CASE("framer: oversized stanza fails early without buffering it", "[xml][framer]") {
  const std::string big = "<message><body>" + std::string(1 << 20, 'a') + "</body></message>";
  SECTION("one 1 MB feed") {
    Framer f;
    Rec r;
    REQUIRE(feed(f, kHeader, r) == StreamError::none);
    CHECK(feed(f, big, r) == StreamError::policy_violation);
    CHECK(f.buffered() <= 65536);
    CHECK(r.ev.size() == 1);
  }
  SECTION("in 1000-byte reads") {
    Framer f;
    Rec r;
    REQUIRE(feed(f, kHeader, r) == StreamError::none);
    StreamError e = StreamError::none;
    size_t fed = 0;
    for (size_t p = 0; p < big.size() && e == StreamError::none; p += 1000) {
      e = f.feed(big.data() + p, std::min<size_t>(1000, big.size() - p), r);
      fed = p + 1000;
      REQUIRE(f.buffered() <= 65536);
    }
    CHECK(e == StreamError::policy_violation);
    CHECK(fed <= 65536 + 1000);
  }
  SECTION("exact limit") {
    Limits lim;
    lim.max_stanza_size = 20;
    CHECK(run(kHeader + "<message>0</message>", lim) == StreamError::none);  // 20 bytes
    CHECK(run(kHeader + "<message>01</message>", lim) == StreamError::policy_violation);
    Framer f(lim);
    Rec r;
    REQUIRE(feed(f, kHeader + "<message>0123", r) == StreamError::none);
    f.set_limits(Limits{});
    CHECK(feed(f, "4567890</message>", r) == StreamError::none);  // new limits apply mid-stanza
  }
}

TEST_CASE("framer: random garbage and mutations never crash or hang", "[xml][framer][fuzz]") {
  const std::string base =
      kHeader +
      "<message to='a@b' type=\"chat\"><body>hi &amp; &#x263A; caf\xC3\xA9</body><x:y xmlns:x='u'/></message>"
      "<auth mechanism='PLAIN'>AA==</auth>" + kHeader +
      "<iq id='1'><q><![CDATA[<z>]]></q></iq> <presence/></stream:stream>";
  const std::string alphabet = "<>/&;#x'\"=![]?-: \t\nabmsg\xC3\xA9\x80\xFF\x01";
  std::mt19937 rng(20240611);
  auto pick = [&](size_t n) { return n ? size_t(rng() % n) : 0; };
  size_t ok = 0, failed = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string in;
    const int kind = iter % 10;
    if (kind == 0) {  // pure random bytes
      const size_t n = pick(300);
      for (size_t i = 0; i < n; ++i) in += char(rng());
    } else if (kind == 1) {  // a valid header, then random markup characters
      in = kHeader;
      const size_t n = pick(300);
      for (size_t i = 0; i < n; ++i) in += alphabet[pick(alphabet.size())];
    } else {
      in = base;
      const int muts = 1 + int(pick(4));
      for (int m = 0; m < muts && !in.empty(); ++m) {
        const size_t p = pick(in.size());
        switch (pick(5)) {
          case 0: in[p] = char(rng()); break;
          case 1: in.insert(p, 1, alphabet[pick(alphabet.size())]); break;
          case 2: in.erase(p, 1 + pick(8)); break;
          case 3: in.insert(p, in.substr(p, 1 + pick(40))); break;
          default: in.resize(p); break;
        }
      }
    }
    Limits lim;
    if (iter % 3 == 0) lim = Limits{128, 3, 2};
    Framer whole(lim), chunked(lim);
    Rec rw, rc;
    rw.action = [&](const Element& e) {
      if (e.name == "auth") whole.reset();
    };
    rc.action = [&](const Element& e) {
      if (e.name == "auth") chunked.reset();
    };
    const StreamError ew = feed(whole, in, rw);
    StreamError ec = StreamError::none;
    for (size_t p = 0; p < in.size() && ec == StreamError::none;) {
      const size_t n = 1 + pick(16);
      ec = chunked.feed(in.data() + p, std::min(n, in.size() - p), rc);
      p += n;
    }
    REQUIRE(ew == ec);
    REQUIRE(rw.ev == rc.ev);
    REQUIRE(whole.buffered() == chunked.buffered());
    REQUIRE(whole.buffered() <= std::max<size_t>(lim.max_stanza_size, 4095));  // 4095: header
    if (ew == StreamError::none)
      ++ok;
    else
      ++failed;
    // every element handed out is well-formed: it re-parses to the same tree
    for (const auto& el : rw.els) {
      auto again = parse_element(el->str());
      REQUIRE(again);
      REQUIRE(again->str() == el->str());
    }
  }
  CHECK(ok > 0);
  CHECK(failed > 0);
  WARN("fuzz: " << ok << " inputs accepted, " << failed << " rejected");
}

TEST_CASE("framer: 100k small messages", "[xml][framer][perf]") {
  struct Count : Framer::Handler {
    size_t n = 0, bytes = 0;
    void on_stream_open(Element&&) override {}
    void on_element(std::unique_ptr<Element> e) override {
      ++n;
      bytes += e->name.size();
    }
    void on_stream_close() override {}
  } h;
  const std::string msg =
      "<message to='juliet@capulet.example/balcony' from='romeo@montague.example/orchard' type='chat' "
      "id='m1234'><body>Art thou not Romeo, and a Montague?</body></message>";
  std::string all = kHeader;
  const size_t count = 100000;
  for (size_t i = 0; i < count; ++i) all += msg;
  Framer f;
  const auto t0 = std::chrono::steady_clock::now();
  StreamError e = StreamError::none;
  for (size_t p = 0; p < all.size() && e == StreamError::none; p += 4096)
    e = f.feed(all.data() + p, std::min<size_t>(4096, all.size() - p), h);
  const auto t1 = std::chrono::steady_clock::now();
  REQUIRE(e == StreamError::none);
  CHECK(h.n == count);
  const double ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  WARN("framed+parsed " << count << " messages of " << msg.size() << " bytes in " << ms << " ms ("
                        << (count / ms * 1000.0) << " msg/s)");
}
