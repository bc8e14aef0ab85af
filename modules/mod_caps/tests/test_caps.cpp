#include <catch2/catch.hpp>

#include "caps_tracker.hpp"
#include "caps_ver.hpp"

#include <string>

using namespace caps;

namespace {

// XEP-0115 section 5.2, "Simple Generation Example".
DiscoInfo exodus() {
  DiscoInfo d;
  d.identities.push_back({"client", "pc", "", "Exodus 0.9.1"});
  d.features = {"http://jabber.org/protocol/disco#info", "http://jabber.org/protocol/disco#items",
                "http://jabber.org/protocol/muc", "http://jabber.org/protocol/caps"};
  return d;
}

// XEP-0115 section 5.3, "Complex Generation Example" (in the order of the example's XML).
DiscoInfo psi() {
  DiscoInfo d;
  d.identities.push_back({"client", "pc", "en", "Psi 0.11"});
  d.identities.push_back({"client", "pc", "el", "\xCE\xA8 0.11"});  // U+03A8 GREEK CAPITAL LETTER PSI
  d.features = {"http://jabber.org/protocol/caps", "http://jabber.org/protocol/disco#info",
                "http://jabber.org/protocol/disco#items", "http://jabber.org/protocol/muc"};
  Form f;
  f.fields.push_back({"FORM_TYPE", "hidden", {"urn:xmpp:dataforms:softwareinfo"}});
  f.fields.push_back({"ip_version", "text-multi", {"ipv4", "ipv6"}});
  f.fields.push_back({"os", "", {"Mac"}});
  f.fields.push_back({"os_version", "", {"10.5.1"}});
  f.fields.push_back({"software", "", {"Psi"}});
  f.fields.push_back({"software_version", "", {"0.11"}});
  d.forms.push_back(f);
  return d;
}

const std::string kExodusVer = "QgayPKawpkPSDYmwT/WM94uAlu0=";
const std::string kPsiVer = "q07IKJEyjvHSyhy//CH0CxmKi8w=";

}  // namespace

TEST_CASE("caps: XEP-0115 5.2 simple generation example") {
  auto s = verification_string(exodus());
  REQUIRE(s);
  CHECK(*s ==
        "client/pc//Exodus 0.9.1<http://jabber.org/protocol/caps<http://jabber.org/protocol/disco#info<"
        "http://jabber.org/protocol/disco#items<http://jabber.org/protocol/muc<");
  CHECK(hash_base64("sha-1", *s) == kExodusVer);
  CHECK(verify("sha-1", kExodusVer, exodus()) == Check::valid);
}

TEST_CASE("caps: XEP-0115 5.3 complex generation example") {
  auto s = verification_string(psi());
  REQUIRE(s);
  CHECK(*s ==
        "client/pc/el/\xCE\xA8 0.11<client/pc/en/Psi 0.11<http://jabber.org/protocol/caps<"
        "http://jabber.org/protocol/disco#info<http://jabber.org/protocol/disco#items<"
        "http://jabber.org/protocol/muc<urn:xmpp:dataforms:softwareinfo<ip_version<ipv4<ipv6<os<Mac<"
        "os_version<10.5.1<software<Psi<software_version<0.11<");
  CHECK(hash_base64("sha-1", *s) == kPsiVer);
  CHECK(verify("sha-1", kPsiVer, psi()) == Check::valid);
  // Field and value order in the answer does not matter.
  DiscoInfo shuffled = psi();
  std::swap(shuffled.forms[0].fields[1], shuffled.forms[0].fields[4]);
  std::swap(shuffled.forms[0].fields[1].values.front(), shuffled.forms[0].fields[1].values.back());
  CHECK(verify("sha-1", kPsiVer, shuffled) == Check::valid);
}

TEST_CASE("caps: hashes") {
  CHECK(hash_base64("sha-1", "") == "2jmj7l5rSw0yVb/vlWAYkK/YBwk=");
  auto s = *verification_string(exodus());
  CHECK(hash_base64("sha-256", s) == "Wr6IGEKhx6b9627gBmi/cCmpxXBc/GYq5zWuYfWGWoc=");
  CHECK(hash_base64("sha-512", s) ==
        "fRSVSbrOODMrPDQyHoSWoR+RemysUcEeGGhMh+kl/hGp9UrJxyDnrh9BymsL57Am/eToRZ/T4s6QBqeC6LVmoQ==");
  CHECK(hash_supported("sha-1"));
  CHECK(hash_supported("sha-224"));
  CHECK(hash_supported("sha-384"));
  CHECK_FALSE(hash_supported("md5"));
  CHECK_FALSE(hash_supported("SHA-1"));  // IANA names are lowercase
  CHECK_FALSE(hash_supported(""));
  CHECK(hash_base64("md5", s).empty());
  CHECK(verify("sha-256", "Wr6IGEKhx6b9627gBmi/cCmpxXBc/GYq5zWuYfWGWoc=", exodus()) == Check::valid);
  CHECK(verify("md5", kExodusVer, exodus()) == Check::unsupported_hash);
}

TEST_CASE("caps: an answer that does not match the ver") {
  DiscoInfo d = exodus();
  d.features.push_back("urn:xmpp:jingle:1");
  CHECK(verify("sha-1", kExodusVer, d) == Check::mismatch);
  CHECK(verify("sha-1", kExodusVer, DiscoInfo{}) == Check::mismatch);
  d = exodus();
  d.identities[0].name = "Exodus 0.9.2";
  CHECK(verify("sha-1", kExodusVer, d) == Check::mismatch);
  CHECK(verify("sha-256", kExodusVer, exodus()) == Check::mismatch);  // right S, other hash
}

TEST_CASE("caps: ill-formed answers (XEP-0115 5.4 step 3.3-3.5)") {
  DiscoInfo d = exodus();
  d.identities.push_back(d.identities[0]);
  CHECK_FALSE(verification_string(d));
  CHECK(verify("sha-1", kExodusVer, d) == Check::ill_formed);
  d = exodus();
  d.features.push_back("http://jabber.org/protocol/muc");
  CHECK(verify("sha-1", kExodusVer, d) == Check::ill_formed);
  d = psi();
  d.forms.push_back(d.forms[0]);  // two forms with the same FORM_TYPE
  CHECK(verify("sha-1", kPsiVer, d) == Check::ill_formed);
  d = psi();
  d.forms[0].fields[0].values.push_back("urn:example:other");  // FORM_TYPE with two values
  CHECK(verify("sha-1", kPsiVer, d) == Check::ill_formed);
  // Same identity in two languages is fine (that is the Psi example).
  CHECK(verification_string(psi()));
}

TEST_CASE("caps: forms without a hidden FORM_TYPE are left out (step 3.6)") {
  DiscoInfo d = exodus();
  Form no_type;
  no_type.fields.push_back({"os", "", {"Linux"}});
  d.forms.push_back(no_type);
  Form visible;
  visible.fields.push_back({"FORM_TYPE", "text-single", {"urn:example"}});
  visible.fields.push_back({"x", "", {"1"}});
  d.forms.push_back(visible);
  CHECK(verify("sha-1", kExodusVer, d) == Check::valid);
}

TEST_CASE("caps: identities sort by category, type, lang, then name") {
  DiscoInfo d;
  d.identities.push_back({"client", "pc", "", "B"});
  d.identities.push_back({"client", "pc", "", "A"});
  d.identities.push_back({"account", "registered", "", ""});
  CHECK(*verification_string(d) == "account/registered//<client/pc//A<client/pc//B<");
}

TEST_CASE("caps: the server's query and JSON text") {
  CHECK(disco_query_xml("localhost", "alice@localhost/r<1", "caps-7", "http://x.example/a'b", "ab+/=") ==
        "<iq type='get' from='localhost' to='alice@localhost/r&lt;1' id='caps-7'>"
        "<query xmlns='http://jabber.org/protocol/disco#info' node='http://x.example/a&apos;b#ab+/='/></iq>");
  CHECK(json_string("a\"b\\c\n\x01\xCE\xA8") == "\"a\\\"b\\\\c\\n\\u0001\xCE\xA8\"");
}

// --- the tracker --------------------------------------------------------------------------

TEST_CASE("caps tracker: one query per unknown ver, answers shared, then cached") {
  Tracker t;
  auto u = t.presence("a@x/1", "http://exodus", kExodusVer, "sha-1");
  REQUIRE(u.queries.size() == 1);
  CHECK(u.queries[0].to == "a@x/1");
  CHECK(u.queries[0].node == "http://exodus");
  CHECK(u.queries[0].ver == kExodusVer);
  CHECK(u.known.empty());
  std::string id = u.queries[0].id;
  CHECK(t.find("a@x/1")->state == State::pending);
  // Same caps again (a status change): nothing new.
  CHECK(t.presence("a@x/1", "http://exodus", kExodusVer, "sha-1").queries.empty());
  // Another client with the same ver waits for the same answer.
  u = t.presence("b@x/2", "http://exodus", kExodusVer, "sha-1");
  CHECK(u.queries.empty());
  CHECK(t.in_flight() == 1);
  // Answers from someone else, or to an unknown id, are not ours.
  DiscoInfo info = exodus();
  CHECK_FALSE(t.answer(id, "b@x/2", &info).ours);
  CHECK_FALSE(t.answer("caps-999", "a@x/1", &info).ours);
  auto a = t.answer(id, "a@x/1", &info);
  CHECK(a.ours);
  CHECK(a.check == Check::valid);
  CHECK(a.cached);
  CHECK(a.update.known == std::vector<std::string>{"a@x/1", "b@x/2"});
  CHECK(t.is_cached("sha-1", kExodusVer));
  REQUIRE(t.find("b@x/2")->state == State::known);
  CHECK(t.find("b@x/2")->features->verified);
  CHECK(t.find("b@x/2")->features->features.size() == 4);
  CHECK(t.in_flight() == 0);
  // The same answer again is not ours any more.
  CHECK_FALSE(t.answer(id, "a@x/1", &info).ours);
  // A third client with that ver: known at once, no query.
  u = t.presence("c@x/3", "http://exodus", kExodusVer, "sha-1");
  CHECK(u.queries.empty());
  CHECK(u.known == std::vector<std::string>{"c@x/3"});
}

TEST_CASE("caps tracker: a ver that does not verify is not cached, the next client is asked") {
  Tracker t;
  auto q1 = t.presence("liar@x/1", "http://exodus", kExodusVer, "sha-1").queries.at(0);
  CHECK(t.presence("b@x/2", "http://exodus", kExodusVer, "sha-1").queries.empty());
  DiscoInfo wrong = exodus();
  wrong.features.push_back("urn:evil");
  auto a = t.answer(q1.id, "liar@x/1", &wrong);
  CHECK(a.ours);
  CHECK(a.check == Check::mismatch);
  CHECK_FALSE(a.cached);
  CHECK(a.update.known.empty());
  CHECK_FALSE(t.is_cached("sha-1", kExodusVer));
  CHECK(t.find("liar@x/1")->state == State::invalid);
  REQUIRE(a.update.queries.size() == 1);  // handed to the other client
  CHECK(a.update.queries[0].to == "b@x/2");
  DiscoInfo right = exodus();
  a = t.answer(a.update.queries[0].id, "b@x/2", &right);
  CHECK(a.cached);
  CHECK(a.update.known == std::vector<std::string>{"b@x/2"});
  CHECK(t.find("liar@x/1")->state == State::invalid);  // its own answer stays rejected
  // Ill-formed answers are not cached either.
  auto q = t.presence("c@x/3", "http://psi", kPsiVer, "sha-1").queries.at(0);
  DiscoInfo dup = psi();
  dup.features.push_back(dup.features[0]);
  a = t.answer(q.id, "c@x/3", &dup);
  CHECK(a.check == Check::ill_formed);
  CHECK_FALSE(t.is_cached("sha-1", kPsiVer));
}

TEST_CASE("caps tracker: errors, departures and changes while a query is in flight") {
  Tracker t;
  auto q1 = t.presence("a@x/1", "n", kExodusVer, "sha-1").queries.at(0);
  t.presence("b@x/2", "n", kExodusVer, "sha-1");
  t.presence("c@x/3", "n", kExodusVer, "sha-1");
  // An IQ error: a is invalid, b is asked.
  auto a = t.answer(q1.id, "a@x/1", nullptr);
  CHECK(a.ours);
  CHECK(a.error);
  CHECK(t.find("a@x/1")->state == State::invalid);
  REQUIRE(a.update.queries.size() == 1);
  auto q2 = a.update.queries[0];
  CHECK(q2.to == "b@x/2");
  // b goes away before answering: c is asked.
  auto u = t.forget("b@x/2");
  CHECK(t.find("b@x/2") == nullptr);
  REQUIRE(u.queries.size() == 1);
  CHECK(u.queries[0].to == "c@x/3");
  CHECK_FALSE(t.answer(q2.id, "b@x/2", nullptr).ours);
  // c changes its caps while asked: the old query is dropped, a new one goes out.
  auto q3 = u.queries[0];
  u = t.presence("c@x/3", "n", kPsiVer, "sha-1");
  REQUIRE(u.queries.size() == 1);
  CHECK(u.queries[0].ver == kPsiVer);
  DiscoInfo info = exodus();
  CHECK_FALSE(t.answer(q3.id, "c@x/3", &info).ours);
  CHECK(t.in_flight() == 1);
  // Presence without caps forgets the JID.
  t.presence("c@x/3", "", "", "");
  CHECK(t.find("c@x/3") == nullptr);
  CHECK(t.in_flight() == 0);
}

TEST_CASE("caps tracker: unsupported or missing hash: asked, kept for that JID only") {
  Tracker t;
  auto q = t.presence("a@x/1", "n", "whatever", "md5").queries.at(0);
  auto q2 = t.presence("b@x/2", "n", "whatever", "md5").queries.at(0);  // each JID is asked
  CHECK(q.id != q2.id);
  DiscoInfo info = exodus();
  auto a = t.answer(q.id, "a@x/1", &info);
  CHECK(a.ours);
  CHECK(a.check == Check::unsupported_hash);
  CHECK_FALSE(a.cached);
  CHECK(a.update.known == std::vector<std::string>{"a@x/1"});
  CHECK_FALSE(t.find("a@x/1")->features->verified);
  CHECK(t.find("b@x/2")->state == State::pending);
  auto legacy = t.presence("c@x/3", "n", "1.0", "").queries;  // legacy caps (no hash)
  CHECK(legacy.size() == 1);
}

TEST_CASE("caps tracker: the cache is bounded") {
  Tracker t(1);
  DiscoInfo e = exodus(), p = psi();
  t.answer(t.presence("a@x/1", "n", kExodusVer, "sha-1").queries.at(0).id, "a@x/1", &e);
  t.answer(t.presence("b@x/2", "n", kPsiVer, "sha-1").queries.at(0).id, "b@x/2", &p);
  CHECK(t.cached() == 1);
  CHECK(t.is_cached("sha-1", kPsiVer));
  CHECK_FALSE(t.is_cached("sha-1", kExodusVer));
  CHECK(t.find("a@x/1")->state == State::known);  // a JID keeps what it had
}
