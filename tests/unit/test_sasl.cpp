// SASL building blocks: strict base64, PLAIN parsing, SCRAM-SHA-1/256 server exchange
// (RFC 5802 §5 and RFC 7677 §3 vectors), credential storage and the reduced SASLprep.
#include "sasl/base64.hpp"
#include "sasl/plain.hpp"
#include "sasl/scram.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using namespace aviary::sasl;
using namespace std::string_literals;

namespace {

std::string b64d(std::string_view s) {
  auto d = base64_decode(s);
  REQUIRE(d);
  return *d;
}

std::string xor_str(const std::string& a, const std::string& b) {
  std::string out(a.size(), '\0');
  for (size_t i = 0; i < a.size(); ++i) out[i] = static_cast<char>(a[i] ^ b[i]);
  return out;
}

// Value of attribute `name` ("r", "s", "i") in a comma-separated SCRAM message.
std::string attr(const std::string& msg, char name) {
  size_t pos = 0;
  while (pos <= msg.size()) {
    size_t end = msg.find(',', pos);
    if (end == std::string::npos) end = msg.size();
    if (end - pos >= 2 && msg[pos] == name && msg[pos + 1] == '=') return msg.substr(pos + 2, end - pos - 2);
    pos = end + 1;
  }
  return {};
}

// A minimal SCRAM client, written from RFC 5802 §3, to drive the server in tests.
struct TestClient {
  TestClient(Hash h, std::string pw) : hash(h), password(std::move(pw)) {}

  Hash hash;
  std::string password;
  std::string cnonce = "clientNONCE+0123456789";
  std::string gs2 = "n,,";
  std::string bare;
  std::string expected_server_final;

  std::string first(const std::string& escaped_user) {
    bare = "n=" + escaped_user + ",r=" + cnonce;
    return gs2 + bare;
  }
  std::string final_msg(const std::string& server_first) {
    const std::string nonce = attr(server_first, 'r');
    const std::string salt = b64d(attr(server_first, 's'));
    const auto iterations = static_cast<uint32_t>(std::stoul(attr(server_first, 'i')));
    const std::string without_proof = "c=" + base64_encode(gs2) + ",r=" + nonce;
    const std::string sp = salted_password(hash, password, salt, iterations);
    const std::string client_key = hmac(hash, sp, "Client Key");
    const std::string stored_key = hash_digest(hash, client_key);
    const std::string auth_message = bare + "," + server_first + "," + without_proof;
    const std::string proof = xor_str(client_key, hmac(hash, stored_key, auth_message));
    expected_server_final = "v=" + base64_encode(hmac(hash, hmac(hash, sp, "Server Key"), auth_message));
    return without_proof + ",p=" + base64_encode(proof);
  }
};

// Small iteration count keeps the non-vector tests fast.
constexpr uint32_t kFastIter = 64;

ScramCreds creds_for(Hash h, const std::string& password) {
  return make_scram_creds(h, password, "saltsaltsaltsalt", kFastIter);
}

// RFC 5802 §5 messages.
const std::string kRfc5802First = "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL";
const std::string kRfc5802ServerFirst = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
const std::string kRfc5802Final =
    "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=";
const std::string kRfc5802ServerFinal = "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=";

ScramCreds rfc5802_creds() { return make_scram_creds(Hash::sha1, "pencil", b64d("QSXCR+Q6sek8bf92"), 4096); }

// A server that has sent the RFC 5802 server-first message.
ScramServer rfc5802_server() {
  ScramServer s(Hash::sha1);
  s.set_server_nonce_for_test("3rfcNHYJY1ZVvWVs7j");
  REQUIRE(s.client_first(kRfc5802First).ok);
  REQUIRE(s.server_first(rfc5802_creds()) == kRfc5802ServerFirst);
  return s;
}

}  // namespace

// ---------------------------------------------------------------- base64

TEST_CASE("base64: RFC 4648 section 10 vectors", "[sasl][base64]") {
  const std::vector<std::pair<std::string, std::string>> v = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},        {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (auto& [raw, enc] : v) {
    CHECK(base64_encode(raw) == enc);
    auto d = base64_decode(enc);
    REQUIRE(d);
    CHECK(*d == raw);
  }
}

TEST_CASE("base64: binary round trip", "[sasl][base64]") {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t n = 0; n <= all.size(); n += 17) {
    std::string raw = all.substr(0, n);
    auto d = base64_decode(base64_encode(raw));
    REQUIRE(d);
    CHECK(*d == raw);
  }
  CHECK(base64_encode("\xff\xfe\xfd"s) == "//79");
  CHECK(base64_encode("\xfb\xff"s) == "+/8=");
}

TEST_CASE("base64: strict decoder rejects", "[sasl][base64]") {
  const std::vector<std::string> bad = {
      "Zg",          // missing padding
      "Zg=",         // short padding
      "Zm9",         // not a multiple of 4
      "Zm9v\n",      // whitespace
      " Zm9v",       //
      "Zm9v YmFy",   //
      "Zm9v\r\nYmFy",
      "Zg==Zg==",    // padding in the middle
      "Z===",        // too much padding
      "====",        //
      "=Zm9",        //
      "Zm=v",        // data after padding
      "Zm9vYg=a",    //
      "Zm9*",        // character outside the alphabet
      "-_AA",        // URL-safe alphabet is not accepted
      "Zh==",        // non-zero trailing bits
      "Zm9=",        //
      "\xc3\xa9QQ",  // non-ASCII
      "Zm\0v"s,      // NUL
  };
  for (auto& b : bad) {
    INFO("input: " << b);
    CHECK_FALSE(base64_decode(b));
  }
}

// ---------------------------------------------------------------- PLAIN

TEST_CASE("plain: valid messages", "[sasl][plain]") {
  auto c = parse_plain("\0user\0pencil"s);
  REQUIRE(c);
  CHECK(c->authzid.empty());
  CHECK(c->authcid == "user");
  CHECK(c->password == "pencil");

  c = parse_plain("juliet@example.com\0juliet\0r0m30"s);
  REQUIRE(c);
  CHECK(c->authzid == "juliet@example.com");
  CHECK(c->authcid == "juliet");
  CHECK(c->password == "r0m30");

  c = parse_plain("\0j\xc3\xbcrgen\0p\xc3\xa4ss w\xc3\xb6rd"s);
  REQUIRE(c);
  CHECK(c->authcid == "j\xc3\xbcrgen");
  CHECK(c->password == "p\xc3\xa4ss w\xc3\xb6rd");

  const std::string max(kPlainMaxPart, 'a');
  c = parse_plain(max + '\0' + max + '\0' + max);
  REQUIRE(c);
  CHECK(c->authcid.size() == 255);
}

TEST_CASE("plain: rejected messages", "[sasl][plain]") {
  const std::string big(kPlainMaxPart + 1, 'a');
  const std::vector<std::string> bad = {
      ""s,
      "user"s,
      "\0user"s,               // one NUL only
      "user\0pencil"s,         //
      "\0\0pencil"s,           // empty authcid
      "\0user\0"s,             // empty password
      "\0\0"s,                 //
      "\0user\0pen\0cil"s,     // extra NUL
      "a\0user\0pencil\0"s,    //
      "\0"s + big + "\0p"s,    // authcid too long
      "\0user\0"s + big,       // password too long
      big + "\0user\0p"s,      // authzid too long
      "\0us\xff\0p"s,          // invalid UTF-8
      "\0user\0\xc0\xafp"s,    // overlong encoding
      "\0user\0\xed\xa0\x80"s,  // encoded surrogate
      "\xe2\x82\0user\0p"s,    // truncated sequence
  };
  for (auto& b : bad) {
    INFO("size " << b.size());
    CHECK_FALSE(parse_plain(b));
  }
}

TEST_CASE("utf8 helper", "[sasl][plain]") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("abc"));
  CHECK(is_valid_utf8("\xf0\x9f\x98\x80"));      // U+1F600
  CHECK(is_valid_utf8("\xf4\x8f\xbf\xbf"));      // U+10FFFF
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  CHECK_FALSE(is_valid_utf8("\xe0\x80\xaf"));      // overlong
  CHECK_FALSE(is_valid_utf8("\x80"));
  CHECK_FALSE(is_valid_utf8("\xf0\x9f\x98"));
}

// ---------------------------------------------------------------- SCRAM vectors

TEST_CASE("scram: mechanism names and sizes", "[sasl][scram]") {
  CHECK(std::string(mechanism_name(Hash::sha1)) == "SCRAM-SHA-1");
  CHECK(std::string(mechanism_name(Hash::sha256)) == "SCRAM-SHA-256");
  CHECK(digest_size(Hash::sha1) == 20);
  CHECK(digest_size(Hash::sha256) == 32);
  CHECK(random_bytes(0).empty());
  CHECK(random_bytes(16).size() == 16);
  CHECK(random_bytes(16) != random_bytes(16));
}

TEST_CASE("scram: RFC 5802 section 5 SCRAM-SHA-1 exchange", "[sasl][scram]") {
  ScramServer s(Hash::sha1);
  s.set_server_nonce_for_test("3rfcNHYJY1ZVvWVs7j");
  auto first = s.client_first(kRfc5802First);
  REQUIRE(first.ok);
  CHECK(first.username == "user");
  CHECK(first.authzid.empty());
  CHECK(s.server_first(rfc5802_creds()) == kRfc5802ServerFirst);
  auto fin = s.client_final(kRfc5802Final);
  REQUIRE(fin.ok);
  CHECK(fin.server_final == kRfc5802ServerFinal);
  CHECK(fin.error.empty());
}

TEST_CASE("scram: RFC 7677 section 3 SCRAM-SHA-256 exchange", "[sasl][scram]") {
  ScramServer s(Hash::sha256);
  s.set_server_nonce_for_test("%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
  auto first = s.client_first("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  REQUIRE(first.ok);
  CHECK(first.username == "user");
  auto creds = make_scram_creds(Hash::sha256, "pencil", b64d("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
  CHECK(s.server_first(creds) ==
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
  auto fin = s.client_final(
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
      "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
  REQUIRE(fin.ok);
  CHECK(fin.server_final == "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
}

TEST_CASE("scram: exchange with the test client, both hashes, random server nonce", "[sasl][scram]") {
  for (Hash h : {Hash::sha1, Hash::sha256}) {
    TestClient c{h, "correct horse"};
    ScramServer s(h);
    REQUIRE(s.client_first(c.first("alice")).ok);
    const std::string sf = s.server_first(creds_for(h, "correct horse"));
    REQUIRE(sf.rfind("r=", 0) == 0);
    const std::string nonce = attr(sf, 'r');
    CHECK(nonce.size() > c.cnonce.size());
    CHECK(nonce.compare(0, c.cnonce.size(), c.cnonce) == 0);
    auto fin = s.client_final(c.final_msg(sf));
    REQUIRE(fin.ok);
    CHECK(fin.server_final == c.expected_server_final);
  }
}

// ---------------------------------------------------------------- SCRAM failures

TEST_CASE("scram: wrong proof fails", "[sasl][scram]") {
  auto s = rfc5802_server();
  // Last proof byte changed (still valid base64 of 20 bytes).
  auto fin = s.client_final("c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Tw=");
  CHECK_FALSE(fin.ok);
  CHECK(fin.error == "invalid-proof");
  CHECK_FALSE(fin.malformed);
  CHECK(fin.server_final.empty());

  // Wrong password through the test client.
  TestClient c{Hash::sha256, "wrong"};
  ScramServer s2(Hash::sha256);
  REQUIRE(s2.client_first(c.first("user")).ok);
  auto fin2 = s2.client_final(c.final_msg(s2.server_first(creds_for(Hash::sha256, "right"))));
  CHECK_FALSE(fin2.ok);
  CHECK(fin2.error == "invalid-proof");
}

TEST_CASE("scram: proof of the wrong length fails", "[sasl][scram]") {
  auto s = rfc5802_server();
  auto fin = s.client_final("c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
  CHECK_FALSE(fin.ok);
  CHECK(fin.error == "invalid-proof");
}

TEST_CASE("scram: wrong channel-binding data fails", "[sasl][scram]") {
  for (const char* c : {"eSws", "cCx0bHMtdW5pcXVlLCw=", "biwsAA==", ""}) {
    INFO("c=" << c);
    auto s = rfc5802_server();
    auto fin = s.client_final(std::string("c=") + c +
                              ",r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
    CHECK_FALSE(fin.ok);
    CHECK(fin.error == "channel-bindings-dont-match");
  }
}

TEST_CASE("scram: nonce mismatch fails", "[sasl][scram]") {
  for (const char* r : {"fyko+d2lbbFgONRv9qkxdawL", "fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7", "fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7jX",
                        "Xyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j"}) {
    INFO("r=" << r);
    auto s = rfc5802_server();
    auto fin = s.client_final(std::string("c=biws,r=") + r + ",p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
    CHECK_FALSE(fin.ok);
  }
}

TEST_CASE("scram: a finished exchange cannot be replayed", "[sasl][scram]") {
  auto s = rfc5802_server();
  REQUIRE(s.client_final(kRfc5802Final).ok);
  CHECK_FALSE(s.client_final(kRfc5802Final).ok);
  CHECK_FALSE(s.client_first(kRfc5802First).ok);
  CHECK(s.server_first(rfc5802_creds()).empty());
}

TEST_CASE("scram: calls out of order fail", "[sasl][scram]") {
  {
    ScramServer s(Hash::sha1);
    CHECK(s.server_first(rfc5802_creds()).empty());
    CHECK_FALSE(s.client_final(kRfc5802Final).ok);
  }
  {
    ScramServer s(Hash::sha1);
    CHECK_FALSE(s.client_final(kRfc5802Final).ok);
  }
  {
    ScramServer s(Hash::sha1);
    REQUIRE(s.client_first(kRfc5802First).ok);
    CHECK_FALSE(s.client_first(kRfc5802First).ok);
  }
  {
    ScramServer s(Hash::sha1);
    REQUIRE(s.client_first(kRfc5802First).ok);
    CHECK_FALSE(s.client_final(kRfc5802Final).ok);  // before server_first
  }
  {
    ScramServer s(Hash::sha1);  // a failed client_first ends the exchange
    CHECK_FALSE(s.client_first("garbage").ok);
    CHECK_FALSE(s.client_first(kRfc5802First).ok);
  }
}

TEST_CASE("scram: unknown user gets a plausible server-first and always fails", "[sasl][scram]") {
  for (Hash h : {Hash::sha1, Hash::sha256}) {
    TestClient c{h, "pencil"};
    ScramServer s(h);
    REQUIRE(s.client_first(c.first("ghost")).ok);
    const std::string sf = s.server_first(std::nullopt);
    INFO(sf);
    CHECK(attr(sf, 'r').compare(0, c.cnonce.size(), c.cnonce) == 0);
    CHECK(attr(sf, 'r').size() == c.cnonce.size() + 24);
    const auto salt = base64_decode(attr(sf, 's'));
    REQUIRE(salt);
    CHECK(salt->size() == 16);
    CHECK(attr(sf, 'i') == std::to_string(kDefaultScramIterations));
    CHECK(sf == "r=" + attr(sf, 'r') + ",s=" + attr(sf, 's') + ",i=" + attr(sf, 'i'));
    auto fin = s.client_final(c.final_msg(sf));
    CHECK_FALSE(fin.ok);
    CHECK(fin.error == "invalid-proof");  // same as a wrong password
    CHECK(fin.server_final.empty());

    // The fake salt is stable for one username and differs between usernames.
    ScramServer again(h);
    REQUIRE(again.client_first(c.first("ghost")).ok);
    CHECK(attr(again.server_first(std::nullopt), 's') == attr(sf, 's'));
    ScramServer other(h);
    REQUIRE(other.client_first(c.first("phantom")).ok);
    CHECK(attr(other.server_first(std::nullopt), 's') != attr(sf, 's'));
  }
  // The announced iteration count follows the configured one.
  ScramServer s(Hash::sha256, 4096);
  REQUIRE(s.client_first("n,,n=ghost,r=abc").ok);
  CHECK(attr(s.server_first(std::nullopt), 'i') == "4096");
}

TEST_CASE("scram: credentials for another hash or unusable ones are treated as unknown", "[sasl][scram]") {
  TestClient c{Hash::sha256, "pencil"};
  ScramServer s(Hash::sha256);
  REQUIRE(s.client_first(c.first("user")).ok);
  const std::string sf = s.server_first(creds_for(Hash::sha1, "pencil"));
  CHECK(attr(sf, 'i') == std::to_string(kDefaultScramIterations));
  CHECK_FALSE(s.client_final(c.final_msg(sf)).ok);

  ScramCreds broken = creds_for(Hash::sha256, "pencil");
  broken.stored_key.pop_back();
  ScramServer s2(Hash::sha256);
  REQUIRE(s2.client_first(c.first("user")).ok);
  CHECK_FALSE(s2.client_final(c.final_msg(s2.server_first(broken))).ok);
}

// ---------------------------------------------------------------- SCRAM client-first parsing

TEST_CASE("scram: username escapes are decoded", "[sasl][scram]") {
  TestClient c{Hash::sha1, "pencil"};
  ScramServer s(Hash::sha1);
  auto first = s.client_first(c.first("a=2Cb=3Dc=3D=2C"));
  REQUIRE(first.ok);
  CHECK(first.username == "a,b=c=,");
  auto fin = s.client_final(c.final_msg(s.server_first(creds_for(Hash::sha1, "pencil"))));
  REQUIRE(fin.ok);
  CHECK(fin.server_final == c.expected_server_final);
}

TEST_CASE("scram: bad username escapes are rejected", "[sasl][scram]") {
  for (const char* u : {"a=2cb", "a=3db", "a=41b", "a=b", "ab=", "ab=2", "=", "a==2Cb"}) {
    INFO("n=" << u);
    ScramServer s(Hash::sha1);
    auto r = s.client_first(std::string("n,,n=") + u + ",r=abc");
    CHECK_FALSE(r.ok);
    CHECK(r.error == "invalid-username-encoding");
    CHECK(r.malformed);
    CHECK(r.username.empty());
  }
}

TEST_CASE("scram: username is SASLprepped", "[sasl][scram]") {
  ScramServer s(Hash::sha1);
  auto r = s.client_first("n,,n=us\xc2\xad" "er\xc2\xa0one,r=abc");  // soft hyphen, NBSP
  REQUIRE(r.ok);
  CHECK(r.username == "user one");

  ScramServer s2(Hash::sha1);
  auto r2 = s2.client_first("n,,n=us\x07" "er,r=abc");  // control character
  CHECK_FALSE(r2.ok);
  CHECK(r2.error == "invalid-username-encoding");
  CHECK_FALSE(r2.malformed);

  ScramServer s3(Hash::sha1);
  CHECK_FALSE(s3.client_first("n,,n=\xc2\xad,r=abc").ok);  // empty after mapping
}

TEST_CASE("scram: channel binding requested by the client is refused", "[sasl][scram]") {
  for (const char* m : {"p=tls-unique,,n=user,r=abc", "p=tls-exporter,a=x@y,n=user,r=abc", "p=,,n=user,r=abc"}) {
    INFO(m);
    ScramServer s(Hash::sha256);
    auto r = s.client_first(m);
    CHECK_FALSE(r.ok);
    CHECK(r.error == "channel-binding-not-supported");
    CHECK_FALSE(r.malformed);
  }
}

TEST_CASE("scram: y flag is accepted and bound into c=", "[sasl][scram]") {
  TestClient c{Hash::sha256, "pencil"};
  c.gs2 = "y,,";
  ScramServer s(Hash::sha256);
  REQUIRE(s.client_first(c.first("user")).ok);
  const std::string sf = s.server_first(creds_for(Hash::sha256, "pencil"));
  const std::string fm = c.final_msg(sf);
  CHECK(fm.rfind("c=eSws,", 0) == 0);
  auto fin = s.client_final(fm);
  REQUIRE(fin.ok);
  CHECK(fin.server_final == c.expected_server_final);

  // A client that sent "y" cannot then claim "n" in c=.
  TestClient c2{Hash::sha256, "pencil"};
  c2.gs2 = "y,,";
  ScramServer s2(Hash::sha256);
  REQUIRE(s2.client_first(c2.first("user")).ok);
  const std::string sf2 = s2.server_first(creds_for(Hash::sha256, "pencil"));
  c2.gs2 = "n,,";
  CHECK_FALSE(s2.client_final(c2.final_msg(sf2)).ok);
}

TEST_CASE("scram: authzid is returned and bound into c=", "[sasl][scram]") {
  TestClient c{Hash::sha1, "pencil"};
  c.gs2 = "n,a=juliet@example.com/ba=2Cl=3Dcony,";
  ScramServer s(Hash::sha1);
  auto first = s.client_first(c.first("juliet"));
  REQUIRE(first.ok);
  CHECK(first.authzid == "juliet@example.com/ba,l=cony");
  CHECK(first.username == "juliet");
  auto fin = s.client_final(c.final_msg(s.server_first(creds_for(Hash::sha1, "pencil"))));
  REQUIRE(fin.ok);
  CHECK(fin.server_final == c.expected_server_final);
}

TEST_CASE("scram: extensions", "[sasl][scram]") {
  ScramServer s(Hash::sha1);
  auto r = s.client_first("n,,m=foo,n=user,r=abc");
  CHECK_FALSE(r.ok);
  CHECK(r.error == "extensions-not-supported");

  // Optional extensions after the nonce are ignored, in both client messages.
  TestClient c{Hash::sha1, "pencil"};
  ScramServer s2(Hash::sha1);
  c.bare = "n=user,r=" + c.cnonce + ",x=ext=value";
  REQUIRE(s2.client_first(c.gs2 + c.bare).ok);
  std::string bare = c.bare;
  const std::string sf = s2.server_first(creds_for(Hash::sha1, "pencil"));
  // Build a final message with an extension by hand.
  const std::string nonce = attr(sf, 'r');
  const std::string without_proof = "c=biws,r=" + nonce + ",y=1";
  const std::string sp = salted_password(Hash::sha1, "pencil", "saltsaltsaltsalt", kFastIter);
  const std::string ck = hmac(Hash::sha1, sp, "Client Key");
  const std::string am = bare + "," + sf + "," + without_proof;
  const std::string proof = xor_str(ck, hmac(Hash::sha1, hash_digest(Hash::sha1, ck), am));
  auto fin = s2.client_final(without_proof + ",p=" + base64_encode(proof));
  REQUIRE(fin.ok);
  CHECK(fin.server_final == "v=" + base64_encode(hmac(Hash::sha1, hmac(Hash::sha1, sp, "Server Key"), am)));
}

TEST_CASE("scram: malformed client-first messages fail without crashing", "[sasl][scram]") {
  const std::vector<std::string> bad = {
      "",
      ",",
      "n",
      "n,",
      "n,,",
      "n,,n=",
      "n,,n=user",
      "n,,n=user,",
      "n,,n=user,r=",
      "n,,r=abc,n=user",
      "n,,n=,r=abc",
      "x,,n=user,r=abc",
      "nn,,n=user,r=abc",
      "N,,n=user,r=abc",
      "n,x,n=user,r=abc",
      "n,a=,n=user,r=abc",
      "n,a=x@y",
      "n,a=x=41,n=user,r=abc",
      "n,,n=user,r=a b",
      "n,,n=user,r=abc,",
      "n,,n=user,r=abc,=x",
      "n,,n=user,r=abc,xx",
      "n,,n=user,r=abc,x=",
      "n,,n=user,r=abc,1=x",
      "n,,n=us\0er,r=abc"s,
      "n,,n=us\xff" "er,r=abc",
      "n,,n=user,r=ab\xc3\xa9",
      "\0\0\0"s,
      "n,,m=",
  };
  for (auto& m : bad) {
    INFO("msg: " << m);
    ScramServer s(Hash::sha256);
    auto r = s.client_first(m);
    CHECK_FALSE(r.ok);
    CHECK_FALSE(r.error.empty());
  }
  // Pure syntax errors map to <malformed-request/>.
  ScramServer s(Hash::sha256);
  CHECK(s.client_first("").malformed);
}

TEST_CASE("scram: malformed client-final messages fail without crashing", "[sasl][scram]") {
  const std::string r = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j";
  const std::string p = "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=";
  const std::vector<std::string> bad = {
      "",
      ",",
      ",,",
      "c=biws",
      "c=biws," + r,
      "c=biws," + r + ",",
      "c=biws," + r + ",p=",
      "c=biws," + r + ",p=!!!!",
      "c=biws," + r + "," + p + ",",
      "c=biws," + p + "," + r,
      r + ",c=biws," + p,
      "c=bi*s," + r + "," + p,
      "c=biw," + r + "," + p,
      "c=biws,r=," + p,
      "c=biws," + r + ",xx," + p,
      "c=biws," + r + ",=1," + p,
      "c=biws," + r + "\0," + p,
      "c=biws," + r + "\xff," + p,
      "d=biws," + r + "," + p,
      "c=biws,s=abc," + p,
      "\0\0\0"s,
      "garbage",
  };
  for (auto& m : bad) {
    INFO("msg: " << m);
    auto s = rfc5802_server();
    auto fin = s.client_final(m);
    CHECK_FALSE(fin.ok);
    CHECK_FALSE(fin.error.empty());
    CHECK(fin.server_final.empty());
  }
}

TEST_CASE("scram: random input never crashes or succeeds", "[sasl][scram]") {
  std::mt19937 rng(12345);
  const std::string alphabet = "nyp=a,rcsi0123456789+/=ABCxyz\0\xff\xc3\xa9"s;
  auto random_msg = [&](size_t max_len) {
    std::string m;
    size_t len = rng() % max_len;
    for (size_t i = 0; i < len; ++i) m.push_back(alphabet[rng() % alphabet.size()]);
    return m;
  };
  for (int i = 0; i < 2000; ++i) {
    ScramServer s(Hash::sha1);
    auto r = s.client_first(random_msg(40));
    if (r.ok) s.server_first(std::nullopt);
    CHECK_FALSE(s.client_final(random_msg(60)).ok);
  }
  // Mutations of a valid final message.
  for (int i = 0; i < 300; ++i) {
    auto s = rfc5802_server();
    std::string m = kRfc5802Final;
    const size_t pos = rng() % m.size();
    char repl = alphabet[rng() % alphabet.size()];
    if (repl == m[pos]) continue;
    m[pos] = repl;
    INFO("msg: " << m);
    CHECK_FALSE(s.client_final(m).ok);
  }
}

// ---------------------------------------------------------------- credentials

TEST_CASE("creds: make_scram_creds matches the RFC vectors", "[sasl][creds]") {
  auto c = rfc5802_creds();
  CHECK(c.hash == Hash::sha1);
  CHECK(c.iterations == 4096);
  CHECK(c.salt == b64d("QSXCR+Q6sek8bf92"));
  CHECK(c.stored_key.size() == 20);
  CHECK(c.server_key.size() == 20);
  auto c256 = make_scram_creds(Hash::sha256, "pencil", b64d("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
  CHECK(c256.stored_key.size() == 32);
  CHECK(c256.server_key.size() == 32);
}

TEST_CASE("creds: make_scram_creds + verify_password round trip", "[sasl][creds]") {
  for (Hash h : {Hash::sha1, Hash::sha256}) {
    auto c = make_scram_creds(h, "s3cret p\xc3\xa4ss", random_bytes(16), kFastIter);
    CHECK(verify_password(c, "s3cret p\xc3\xa4ss"));
    CHECK_FALSE(verify_password(c, "s3cret p\xc3\xa4sS"));
    CHECK_FALSE(verify_password(c, "s3cret p\xc3\xa4ss "));
    CHECK_FALSE(verify_password(c, ""));
    // SASLprep equivalents verify too.
    CHECK(verify_password(c, "s3cret\xc2\xa0p\xc3\xa4ss"));
    CHECK(verify_password(c, "s3c\xc2\xadret p\xc3\xa4ss"));
  }
  // Passwords SASLprep rejects are used as raw bytes, consistently.
  auto c = make_scram_creds(Hash::sha256, "tab\there", "salt", kFastIter);
  CHECK(verify_password(c, "tab\there"));
  CHECK_FALSE(verify_password(c, "tab here"));
  auto e = make_scram_creds(Hash::sha256, "", "salt", kFastIter);
  CHECK(verify_password(e, ""));
  CHECK_FALSE(verify_password(e, "x"));
}

TEST_CASE("creds: unusable creds never verify, bad iteration counts throw", "[sasl][creds]") {
  auto c = creds_for(Hash::sha1, "pw");
  auto bad = c;
  bad.stored_key.pop_back();
  CHECK_FALSE(verify_password(bad, "pw"));
  bad = c;
  bad.iterations = 0;
  CHECK_FALSE(verify_password(bad, "pw"));
  bad = c;
  bad.hash = Hash::sha256;  // 20-byte keys under SHA-256
  CHECK_FALSE(verify_password(bad, "pw"));
  CHECK_THROWS_AS(make_scram_creds(Hash::sha1, "pw", "salt", 0), std::invalid_argument);
  CHECK_THROWS_AS(make_scram_creds(Hash::sha1, "pw", "salt", 0x80000000u), std::invalid_argument);
}

TEST_CASE("creds: serialize_creds / parse_creds round trip", "[sasl][creds]") {
  std::vector<ScramCreds> in = {make_scram_creds(Hash::sha1, "pencil", random_bytes(16), 4096),
                                make_scram_creds(Hash::sha256, "pencil", random_bytes(16), 4096)};
  const std::string text = serialize_creds(in);
  INFO(text);
  CHECK(text.rfind("==MULTI_SCRAM==,4096,===SHA1===", 0) == 0);
  CHECK(text.find(",==SHA256==") != std::string::npos);
  CHECK(text == "==MULTI_SCRAM==,4096,===SHA1===" + base64_encode(in[0].salt) + "|" +
                    base64_encode(in[0].stored_key) + "|" + base64_encode(in[0].server_key) + ",==SHA256==" +
                    base64_encode(in[1].salt) + "|" + base64_encode(in[1].stored_key) + "|" +
                    base64_encode(in[1].server_key));
  auto out = parse_creds(text);
  REQUIRE(out);
  REQUIRE(out->size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    CHECK((*out)[i].hash == in[i].hash);
    CHECK((*out)[i].salt == in[i].salt);
    CHECK((*out)[i].iterations == 4096);
    CHECK((*out)[i].stored_key == in[i].stored_key);
    CHECK((*out)[i].server_key == in[i].server_key);
    CHECK(verify_password((*out)[i], "pencil"));
  }
  // Single hash.
  auto one = parse_creds(serialize_creds({in[1]}));
  REQUIRE(one);
  REQUIRE(one->size() == 1);
  CHECK(one->front().hash == Hash::sha256);
}

TEST_CASE("creds: serialize_creds argument errors", "[sasl][creds]") {
  auto a = creds_for(Hash::sha1, "x");
  auto b = creds_for(Hash::sha256, "x");
  CHECK_THROWS_AS(serialize_creds({}), std::invalid_argument);
  CHECK_THROWS_AS(serialize_creds({a, a}), std::invalid_argument);
  b.iterations = kFastIter + 1;
  CHECK_THROWS_AS(serialize_creds({a, b}), std::invalid_argument);
}

// MongooseIM's documented example (doc/developers-guide/SCRAM-serialization.md), password "padthai".
const std::string kMongooseExample =
    "==MULTI_SCRAM==,4096,"
    "===SHA1===QClQsw/sfPEnwj4AEp6E1w==|ys1104hRhqMoRputBY5sLHKXoSw=|EJvxXWM42tO7BgW21lNZyBc1dD0=,"
    "==SHA224==dk0ImXFVPoUfqD5FveV7YA==|G0ibQ/YYuCtoun4I+1IF2zJ7Q8x2T23ETnq5Gg==|EvE2EkZcUb3k4CooeOcVFy95P32t+NDX0xbQUA==,"
    "==SHA256==M7BYKSo04XbzBr4C7b056g==|A779MC05nSGQln5no0hKTGHFSaQ7oguKBZgORW3s+es=|XhtGFf6NDWsnVSCO4xkzPD3qc046fPL0pATZi7RmaWo=,"
    "==SHA384==Ryu0fA29gbwgqFOBk5Mczw==|k3QwC0Lb1y1/V/31byC5KML5t3mH4JTPjFyeAz7lV2l4SPfzi3JHvLEdoNB5K/VY|kR+LMI/E0QBG3oF405/MTAT6NAlCOfPrFOaWH3WBVGM0Viu9Brk6kGwVwXjSP8v0,"
    "==SHA512==SLNuVNcWiNBmnYZNIdj+zg==|3ey3gzSsmbxcLnoc1VKCR/739uKX6uuPCyAzn6x8o87ibcjOdUaU8qhL5X4MUI9UPTt667GagNpVTmAWTFNsjA==|jUUDbuQ9ae4UnAWS6RV6W4yifX3La3ESjfZjGol+TBROIb/ihR8UawPHrSHkp4yyDJXtRhR9RlHCHy4bcCm1Yg==";

TEST_CASE("creds: other hash sections are skipped", "[sasl][creds]") {
  auto in = std::vector<ScramCreds>{creds_for(Hash::sha1, "pw"), creds_for(Hash::sha256, "pw")};
  const std::string text = serialize_creds(in) +
                           ",==SHA512==SLNuVNcWiNBmnYZNIdj+zg==|3ey3gzSsmbxcLnoc1VKCR/739uKX6uuPCyAzn6x8o87ibcjOdU"
                           "aU8qhL5X4MUI9UPTt667GagNpVTmAWTFNsjA==|jUUDbuQ9ae4UnAWS6RV6W4yifX3La3ESjfZjGol+TBROIb/"
                           "ihR8UawPHrSHkp4yyDJXtRhR9RlHCHy4bcCm1Yg==";
  auto out = parse_creds(text);
  REQUIRE(out);
  REQUIRE(out->size() == 2);
  CHECK((*out)[0].hash == Hash::sha1);
  CHECK((*out)[1].hash == Hash::sha256);
  CHECK(verify_password((*out)[1], "pw"));

  auto m = parse_creds(kMongooseExample);
  REQUIRE(m);
  REQUIRE(m->size() == 2);
  CHECK((*m)[0].hash == Hash::sha1);
  CHECK((*m)[0].salt == b64d("QClQsw/sfPEnwj4AEp6E1w=="));
  CHECK((*m)[0].iterations == 4096);
  CHECK((*m)[1].hash == Hash::sha256);
  CHECK((*m)[1].stored_key == b64d("A779MC05nSGQln5no0hKTGHFSaQ7oguKBZgORW3s+es="));
}

TEST_CASE("creds: MongooseIM-made credentials verify", "[sasl][creds]") {
  auto m = parse_creds(kMongooseExample);
  REQUIRE(m);
  for (auto& c : *m) {
    INFO(mechanism_name(c.hash));
    CHECK(verify_password(c, "padthai"));
    CHECK_FALSE(verify_password(c, "padthaj"));
  }
  // Legacy SHA-1-only form, password "misio".
  auto legacy =
      parse_creds("==SCRAM==,tmi5IE+9pceRV/jkPLFHEaVY33c=,MiWNa8T3dniVDwmh77ufJ41fpAQ=,inKXODlSY5y5SCsLxibi0w==,4096");
  REQUIRE(legacy);
  REQUIRE(legacy->size() == 1);
  CHECK(legacy->front().hash == Hash::sha1);
  CHECK(legacy->front().iterations == 4096);
  CHECK(verify_password(legacy->front(), "misio"));
}

TEST_CASE("creds: malformed serializations", "[sasl][creds]") {
  const std::string s1 = "===SHA1===" + base64_encode("saltsalt") + "|" + base64_encode(std::string(20, 'a')) + "|" +
                         base64_encode(std::string(20, 'b'));
  const std::string s256 = "==SHA256==" + base64_encode("saltsalt") + "|" + base64_encode(std::string(32, 'a')) +
                           "|" + base64_encode(std::string(32, 'b'));
  REQUIRE(parse_creds("==MULTI_SCRAM==,4096," + s1));  // the baseline parses
  REQUIRE(parse_creds("==MULTI_SCRAM==,4096," + s256));
  const std::vector<std::string> bad = {
      "",
      "pencil",
      "==MULTI_SCRAM==",
      "==MULTI_SCRAM==,",
      "==MULTI_SCRAM==,4096",
      "==MULTI_SCRAM==,4096,",
      "==MULTI_SCRAM==,," + s1,
      "==MULTI_SCRAM==,0," + s1,
      "==MULTI_SCRAM==,-1," + s1,
      "==MULTI_SCRAM==,+4096," + s1,
      "==MULTI_SCRAM==,40x6," + s1,
      "==MULTI_SCRAM==,99999999999," + s1,
      "==MULTI_SCRAM==,2147483648," + s1,
      "==MULTI_SCRAM==,4096," + s1 + ",",
      "==MULTI_SCRAM==,4096," + s1 + "," + s1,            // duplicate section
      "==MULTI_SCRAM==,4096,,"+ s1,
      "==MULTI_SCRAM==,4096,SHA1" + s1.substr(10),         // no marker
      "==MULTI_SCRAM==,4096,==SHA1==" + s1.substr(10),     // SHA1 marker with two '='
      "==MULTI_SCRAM==,4096,===SHA1===a|b|c",              // bad base64
      "==MULTI_SCRAM==,4096,===SHA1===" + base64_encode("s") + "|" + base64_encode("short") + "|" +
          base64_encode(std::string(20, 'b')),             // wrong key length
      "==MULTI_SCRAM==,4096,===SHA1===|" + base64_encode(std::string(20, 'a')) + "|" +
          base64_encode(std::string(20, 'b')),             // empty salt
      "==MULTI_SCRAM==,4096,===SHA1===" + base64_encode("s") + "|" + base64_encode(std::string(20, 'a')),
      "==MULTI_SCRAM==,4096," + s1 + "|x",
      "==MULTI_SCRAM==,4096,===SHA1===" + base64_encode("saltsalt") + "|" + base64_encode(std::string(32, 'a')) +
          "|" + base64_encode(std::string(32, 'b')),      // SHA-256-sized keys under SHA1
      "==MULTI_SCRAM==,4096,==SHA512==abc",                // only unknown sections
      "==MULTI_SCRAM==,4096," + s1 + ",garbage",
      " ==MULTI_SCRAM==,4096," + s1,
      "==MULTI_SCRAM==,4096," + s1 + "\n",
      "==SCRAM==,a,b,c,4096",
      "==SCRAM==,tmi5IE+9pceRV/jkPLFHEaVY33c=,MiWNa8T3dniVDwmh77ufJ41fpAQ=,inKXODlSY5y5SCsLxibi0w==",
      "==SCRAM==,tmi5IE+9pceRV/jkPLFHEaVY33c=,MiWNa8T3dniVDwmh77ufJ41fpAQ=,inKXODlSY5y5SCsLxibi0w==,0",
  };
  for (auto& b : bad) {
    INFO("text: " << b);
    CHECK_FALSE(parse_creds(b));
  }
}

// ---------------------------------------------------------------- SASLprep

TEST_CASE("saslprep: ASCII passes through", "[sasl][saslprep]") {
  bool ok = false;
  CHECK(saslprep("user", &ok) == "user");
  CHECK(ok);
  std::string printable;
  for (char c = 0x20; c < 0x7F; ++c) printable.push_back(c);
  CHECK(saslprep(printable, &ok) == printable);
  CHECK(ok);
  CHECK(saslprep("I X", nullptr) == "I X");  // ok may be null
}

TEST_CASE("saslprep: non-ASCII spaces map to SPACE", "[sasl][saslprep]") {
  const std::vector<std::string> spaces = {"\xc2\xa0",     "\xe1\x9a\x80", "\xe2\x80\x80", "\xe2\x80\x85",
                                           "\xe2\x80\x8a", "\xe2\x80\xaf", "\xe2\x81\x9f", "\xe3\x80\x80"};
  for (auto& sp : spaces) {
    bool ok = false;
    CHECK(saslprep("a" + sp + "b", &ok) == "a b");
    CHECK(ok);
  }
}

TEST_CASE("saslprep: commonly-mapped-to-nothing characters are removed", "[sasl][saslprep]") {
  const std::vector<std::string> gone = {"\xc2\xad",     "\xcd\x8f",     "\xe1\xa0\x86", "\xe1\xa0\x8b",
                                         "\xe1\xa0\x8d", "\xe2\x80\x8b", "\xe2\x80\x8c", "\xe2\x80\x8d",
                                         "\xe2\x81\xa0", "\xef\xb8\x80", "\xef\xb8\x8f", "\xef\xbb\xbf"};
  for (auto& g : gone) {
    bool ok = false;
    CHECK(saslprep("I" + g + "X", &ok) == "IX");  // RFC 4013 §3 example 1
    CHECK(ok);
  }
}

TEST_CASE("saslprep: prohibited and invalid input", "[sasl][saslprep]") {
  const std::vector<std::string> bad = {
      "\x07"s,             // RFC 4013 §3 example 5
      "a\0b"s,             // NUL
      "a\tb",              // ASCII control
      "a\x1f",             //
      "a\x7f",             // DEL
      "a\xc2\x80",         // U+0080
      "a\xc2\x9f",         // U+009F
      "a\xe2\x80\xa8",     // U+2028 line separator
      "a\xee\x80\x80",     // U+E000 private use
      "a\xef\xbf\xbe",     // U+FFFE non-character
      "a\xef\xbf\xbd",     // U+FFFD
      "a\xe2\x80\x8e",     // U+200E LRM
      "a\xf3\xa0\x80\x81", // U+E0001 language tag
      "a\xed\xa0\x80",     // encoded surrogate
      "a\xff",             // invalid UTF-8
      "a\xc3",             // truncated
      "a\xc0\x80",         // overlong NUL
      "",                  // empty
      "\xc2\xad",          // empty after mapping
      "\xe2\x80\x8b\xef\xbb\xbf",
  };
  for (auto& b : bad) {
    INFO("input size " << b.size());
    bool ok = true;
    CHECK(saslprep(b, &ok).empty());
    CHECK_FALSE(ok);
  }
}

TEST_CASE("saslprep: other non-ASCII text passes through unnormalized", "[sasl][saslprep]") {
  bool ok = false;
  CHECK(saslprep("j\xc3\xbcrgen", &ok) == "j\xc3\xbcrgen");
  CHECK(ok);
  CHECK(saslprep("\xe6\x97\xa5\xe6\x9c\xac", &ok) == "\xe6\x97\xa5\xe6\x9c\xac");
  CHECK(ok);
  CHECK(saslprep("\xf0\x9f\x98\x80", &ok) == "\xf0\x9f\x98\x80");
  CHECK(ok);
  // No NFKC: U+00AA and U+2168 stay as they are (RFC 4013 would give "a" and "IX").
  CHECK(saslprep("\xc2\xaa", &ok) == "\xc2\xaa");
  CHECK(ok);
  CHECK(saslprep("\xe2\x85\xa8", &ok) == "\xe2\x85\xa8");
  CHECK(ok);
}
