#include <catch2/catch.hpp>

#include "http_config.hpp"

#include <functional>
#include <stdexcept>

using namespace ephttp;

namespace {

av::PushEvent chat(av_push_direction dir = AV_PUSH_DIR_SENT, av_push_chat_type t = AV_PUSH_TYPE_CHAT) {
  av::PushEvent e;
  e.kind = AV_PUSH_CHAT;
  e.chat_type = t;
  e.direction = dir;
  e.from = "Alice@LocalHost/Res1";
  e.to = "Bob@LocalHost";
  e.body = "Hi, Bob!";
  return e;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("http: form encoding is cow_qs's (space as +, only A-Z a-z 0-9 - . _ kept, uppercase hex)") {
  CHECK(form_urlencode("") == "");
  CHECK(form_urlencode("aBc123") == "aBc123");
  CHECK(form_urlencode(".-_") == ".-_");
  CHECK(form_urlencode(" ") == "+");
  CHECK(form_urlencode("%&=") == "%25%26%3D");
  CHECK(form_urlencode("extend/ranch") == "extend%2Franch");
  CHECK(form_urlencode("~*+'!") == "%7E%2A%2B%27%21");  // unlike RFC 3986, '~' is encoded
  CHECK(form_urlencode(std::string("\xFF\x00", 2)) == "%FF%00");
  CHECK(form_urlencode("za\xC5\xBC\xC3\xB3\xC5\x82\xC4\x87") == "za%C5%BC%C3%B3%C5%82%C4%87");
  CHECK(form_urlencode("a\r\nb") == "a%0D%0Ab");
  // cow_qs's own test vectors
  CHECK(form_body({}) == "");
  CHECK(form_body({{"a", ""}}) == "a=");
  CHECK(form_body({{"a", "b"}, {"c", "d"}}) == "a=b&c=d");
  CHECK(form_body({{"a", "b=c"}, {"d", "e=f"}, {"g", "h=i"}}) == "a=b%3Dc&d=e%3Df&g=h%3Di");
  CHECK(form_body({{" a ", " b "}, {" c ", " d "}}) == "+a+=+b+&+c+=+d+");
  CHECK(form_body({{"%&=", "%&="}, {"_-.", ".-_"}}) == "%25%26%3D=%25%26%3D&_-.=.-_");
}

TEST_CASE("http: the request body of the default callback, byte for byte") {
  auto n = notification_for(chat());
  REQUIRE(n);
  CHECK(n->author == "alice");
  CHECK(n->server == "localhost");
  CHECK(n->receiver == "bob");
  CHECK(n->message == "Hi, Bob!");
  CHECK(prepare_body(*n) == "author=alice&server=localhost&receiver=bob&message=Hi%2C+Bob%21");

  av::PushEvent e = chat();
  e.from = "alice@localhost";  // aviaryctl stanza sendMessage: bare sender
  e.to = "Carol@Other.Example/phone";
  e.body = "a&b=c\n\"q\" 100% za\xC5\xBC";
  auto m = notification_for(e);
  REQUIRE(m);
  // Only the recipient's localpart is sent: its domain is lost, as in MongooseIM.
  CHECK(prepare_body(*m) == "author=alice&server=localhost&receiver=carol&message=a%26b%3Dc%0A%22q%22+100%25+za%C5%BC");
  e.to = "localhost";  // a domain JID has no localpart
  CHECK(prepare_body(*notification_for(e)) ==
        "author=alice&server=localhost&receiver=&message=a%26b%3Dc%0A%22q%22+100%25+za%C5%BC");
}

TEST_CASE("http: only chat messages sent by a local user, with a body, make a request") {
  CHECK(notification_for(chat(AV_PUSH_DIR_SENT)));
  CHECK_FALSE(notification_for(chat(AV_PUSH_DIR_RECEIVED)));
  CHECK_FALSE(notification_for(chat(AV_PUSH_DIR_SENT, AV_PUSH_TYPE_GROUPCHAT)));
  CHECK_FALSE(notification_for(chat(AV_PUSH_DIR_RECEIVED, AV_PUSH_TYPE_GROUPCHAT)));
  av::PushEvent empty = chat();
  empty.body.clear();
  CHECK_FALSE(notification_for(empty));
  av::PushEvent presence;
  presence.kind = AV_PUSH_USER_STATUS;
  presence.user_jid = "alice@localhost/res";
  presence.online = true;
  CHECK_FALSE(notification_for(presence));
  av::PushEvent unack = chat();
  unack.kind = AV_PUSH_UNACK;
  CHECK_FALSE(notification_for(unack));
}

TEST_CASE("http: handlers with MongooseIM's defaults, and the leading '/' of a path is dropped") {
  CHECK(parse_handlers("").empty());  // absent: no handler, as MongooseIM's default []
  CHECK(parse_handlers("null").empty());
  CHECK(parse_handlers("[]").empty());
  auto one = parse_handlers("[{}]");
  REQUIRE(one.size() == 1);
  CHECK(one[0].pool_name == "http_pool");
  CHECK(one[0].path == "");
  auto hs = parse_handlers(R"([{"pool_name":"p1","path":"/notifications","callback_module":"mod_event_pusher_http_defaults"},
                               {"pool_name":"p1","path":"alerts"}, {"path":2024}, null])");
  REQUIRE(hs.size() == 4);
  CHECK(hs[0].pool_name == "p1");
  CHECK(hs[0].path == "notifications");
  CHECK(hs[1].path == "alerts");
  CHECK(hs[2].pool_name == "http_pool");
  CHECK(hs[2].path == "2024");  // an unquoted YAML number is still a path
  CHECK(hs[3].pool_name == "http_pool");
  CHECK(fix_path("//x") == "/x");  // one slash only, as fix_path/1
  CHECK(fix_path("") == "");
}

TEST_CASE("http: bad handlers are clear config errors") {
  CHECK(error_of([] { parse_handlers(R"([{"callback_module":"my_callbacks"}])"); }) ==
        "handlers[0].callback_module: only mod_event_pusher_http_defaults is available, not 'my_callbacks'");
  CHECK(error_of([] { parse_handlers(R"({"pool_name":"p"})"); }) ==
        "handlers must be a list of maps {pool_name, path, callback_module}");
  CHECK(error_of([] { parse_handlers(R"([{}, "p"])"); }) ==
        "handlers[1] must be a map {pool_name, path, callback_module}");
  CHECK(error_of([] { parse_handlers(R"([{"pool":"p"}])"); }) ==
        "handlers[0]: unknown key 'pool' (expected pool_name, path, callback_module)");
  CHECK(error_of([] { parse_handlers(R"([{"pool_name":""}])"); }) == "handlers[0].pool_name must not be empty");
  CHECK(error_of([] { parse_handlers(R"([{"path":{"a":1}}])"); }) == "handlers[0].path must be a string");
  CHECK(error_of([] { parse_handlers(R"([{"path":"/a b"}])"); }) ==
        "handlers[0].path has a character not allowed in a URL path");
  CHECK(error_of([] { parse_handlers(R"([{"path":"/n"}, {"path":"n"}])"); }) ==
        "handlers[1] repeats an earlier handler (pool http_pool, path 'n'): every event would be sent twice");
}

TEST_CASE("http: pool settings from av.pools/1") {
  PoolConfig p = parse_pool("http_pool", R"({"workers":50,"connection":{"host":"http://127.0.0.1:8000",
      "path_prefix":"/","request_timeout":2000,"max_queue_len":10000}})");
  CHECK(p.name == "http_pool");
  CHECK(p.workers == 50);
  CHECK(p.host == "http://127.0.0.1:8000");
  CHECK(p.path_prefix == "/");
  CHECK(p.request_timeout_ms == 2000);
  CHECK(p.max_queue_len == 10000);
  CHECK_FALSE(p.tls.enabled);

  PoolConfig t = parse_pool("secure", R"({"workers":2,"connection":{"host":"https://push.example:8443/",
      "path_prefix":"/hook/","request_timeout":500,"max_queue_len":3,
      "tls":{"verify_mode":"none","cacertfile":"/ca.pem","certfile":"/c.pem","keyfile":"/k.pem"}}})");
  CHECK(t.host == "https://push.example:8443");  // one trailing '/' dropped
  CHECK(t.tls.enabled);
  CHECK_FALSE(t.tls.verify_peer);
  CHECK(t.tls.cacertfile == "/ca.pem");
  CHECK(t.tls.certfile == "/c.pem");
  CHECK(t.tls.keyfile == "/k.pem");
  CHECK(parse_pool("p", R"({"connection":{"host":"http://h","tls":{}}})").tls.verify_peer);
  CHECK(error_of([] {
          parse_pool("p", R"({"connection":{"host":"https://h","tls":{"server_name_indication":"x.example"}}})");
        }) == "outgoing_pools.http.p.connection.tls.server_name_indication is not supported by "
              "mod_event_pusher_http: the name in host is the one sent and verified");

  CHECK(error_of([] { parse_pool("p", R"({"connection":{"host":"localhost:8000"}})"); }) ==
        "outgoing_pools.http.p.connection.host must look like http://host[:port] or https://host[:port] (the path "
        "goes in path_prefix), not 'localhost:8000'");
  CHECK_THROWS(parse_pool("p", R"({"connection":{"host":"http://h/path"}})"));
  CHECK_THROWS(parse_pool("p", R"({"connection":{"host":"http://"}})"));
  CHECK_THROWS(parse_pool("p", R"({"connection":{"host":"ftp://h"}})"));
  CHECK_THROWS(parse_pool("p", R"({"connection":{"host":"http://u:pw@h"}})"));
  CHECK_THROWS(parse_pool("p", R"({"connection":{}})"));
  CHECK(error_of([] { parse_pool("p", R"({"connection":{"host":"http://h","path_prefix":"hook"}})"); }) ==
        "outgoing_pools.http.p.connection.path_prefix must start with '/', not 'hook'");
  CHECK(error_of([] { parse_pool("p", R"({"workers":"many","connection":{"host":"http://h"}})"); }) ==
        "outgoing_pools.http.p.workers has the wrong type");
  CHECK_THROWS(parse_pool("p", "not json"));
}

TEST_CASE("http: the URL is host + path_prefix + path, concatenated as MongooseIM does") {
  PoolConfig p = parse_pool("p", R"({"connection":{"host":"http://localhost:8000","path_prefix":"/"}})");
  Handler h;
  CHECK(request_url(p, h) == "http://localhost:8000/");
  h.path = fix_path("/notifications");
  CHECK(request_url(p, h) == "http://localhost:8000/notifications");
  p.path_prefix = "/webservice/";
  CHECK(request_url(p, h) == "http://localhost:8000/webservice/notifications");
  p.path_prefix = "/webservice";  // no slash added in between (mongoose_http_client)
  CHECK(request_url(p, h) == "http://localhost:8000/webservicenotifications");
}
