#include <catch2/catch.hpp>

#include "mongoosepush.hpp"

#include <nlohmann/json.hpp>

using namespace mpush;

namespace {

KeyValues summary(const std::string& count = "1") {
  return {{"message-count", count}, {"last-message-sender", "alice@localhost"}, {"last-message-body", "Hi \"bob\""}};
}

}  // namespace

TEST_CASE("mongoosepush: alert body (not silent), MongooseIM's keys and order") {
  Body b = make_body(summary("3"), {{"device_id", "d1"},
                                    {"mode", "prod"},
                                    {"priority", "high"},
                                    {"service", "fcm"},
                                    {"silent", "false"},
                                    {"sound", "bing.wav"},
                                    {"tags", "secret-pool"},
                                    {"time_to_live", "3600"},
                                    {"topic", "com.example.app"},
                                    {"mutable_content", "true"},
                                    {"click_action", "OPEN"}});
  REQUIRE(b.ok);
  CHECK(b.json ==
        R"({"alert":{"badge":3,"body":"Hi \"bob\"","tag":"alice@localhost","title":"alice@localhost",)"
        R"("click_action":"OPEN","sound":"bing.wav"},"service":"fcm","mode":"prod","mutable_content":"true",)"
        R"("priority":"high","time_to_live":"3600","topic":"com.example.app"})");
  // Only what is given: no optional keys, no click_action/sound; "tags" never.
  Body minimal = make_body(summary(), {{"device_id", "d1"}, {"service", "apns"}});
  REQUIRE(minimal.ok);
  CHECK(minimal.json ==
        R"({"alert":{"badge":1,"body":"Hi \"bob\"","tag":"alice@localhost","title":"alice@localhost"},"service":"apns"})");
  CHECK(minimal.json.find("tags") == std::string::npos);
}

TEST_CASE("mongoosepush: silent body carries the notification as data, message-count an integer") {
  Body b = make_body(summary("7"), {{"device_id", "d1"}, {"service", "apns"}, {"silent", "true"}, {"sound", "x"},
                                    {"mode", "dev"}});
  REQUIRE(b.ok);
  CHECK(b.json == R"({"data":{"last-message-body":"Hi \"bob\"","last-message-sender":"alice@localhost",)"
                  R"("message-count":7},"service":"apns","mode":"dev"})");
  auto j = nlohmann::json::parse(b.json);
  CHECK(j["data"]["message-count"].is_number_integer());
  CHECK_FALSE(j.contains("alert"));
  // "silent" other than exactly "true" is an alert.
  Body loud = make_body(summary(), {{"service", "apns"}, {"silent", "TRUE"}});
  REQUIRE(loud.ok);
  CHECK(nlohmann::json::parse(loud.json).contains("alert"));
}

TEST_CASE("mongoosepush: bodies that cannot be made") {
  Body no_service = make_body(summary(), {{"device_id", "d1"}});
  CHECK_FALSE(no_service.ok);
  CHECK(no_service.error.find("service") != std::string::npos);
  CHECK_FALSE(make_body(summary("many"), {{"service", "fcm"}}).ok);
  CHECK_FALSE(make_body(summary(""), {{"service", "fcm"}}).ok);
  CHECK_FALSE(make_body({{"message-count", "1"}}, {{"service", "fcm"}}).ok);  // no sender/body for an alert
  CHECK(make_body({{"message-count", "1"}}, {{"service", "fcm"}, {"silent", "true"}}).ok);
}

TEST_CASE("mongoosepush: v3 and v2 paths under the pool's host and path_prefix") {
  Pool p = parse_pool(R"({"workers":50,"connection":{"host":"http://127.0.0.1:8443","path_prefix":"/",)"
                      R"("request_timeout":2000,"max_queue_len":10000}})");
  CHECK(notification_url(p, "v3", "abc123") == "http://127.0.0.1:8443/v3/notification/abc123");
  CHECK(notification_url(p, "v2", "abc123") == "http://127.0.0.1:8443/v2/notification/abc123");
  Pool q = parse_pool(R"({"connection":{"host":"push.example.com/","path_prefix":"/mongoosepush/"}})");
  CHECK(q.base == "http://push.example.com");
  CHECK(notification_url(q, "v3", "d") == "http://push.example.com/mongoosepush/v3/notification/d");
  // Device ids stay as they are unless a character cannot be in a path segment.
  CHECK(notification_url(p, "v3", "fcm:APA91b-x_y.z~") == "http://127.0.0.1:8443/v3/notification/fcm:APA91b-x_y.z~");
  CHECK(notification_url(p, "v3", "a/b?c d#é") ==
        "http://127.0.0.1:8443/v3/notification/a%2Fb%3Fc%20d%23%C3%A9");
}

TEST_CASE("mongoosepush: pool settings") {
  Pool p = parse_pool(R"({"workers":4,"connection":{"host":"https://mp.example:443","request_timeout":500,)"
                      R"("max_queue_len":7,"tls":{"verify_mode":"none","cacertfile":"/ca.pem"}}})");
  CHECK(p.base == "https://mp.example:443");
  CHECK(p.workers == 4);
  CHECK(p.request_timeout_ms == 500);
  CHECK(p.max_queue_len == 7);
  CHECK(p.tls.enabled);
  CHECK_FALSE(p.tls.verify_peer);
  CHECK(p.tls.cacertfile == "/ca.pem");
  CHECK(parse_pool(R"({"connection":{"host":"mp.example","tls":{}}})").base == "https://mp.example");
  CHECK_THROWS(parse_pool("[]"));
  CHECK_THROWS(parse_pool(R"({"connection":{}})"));
  CHECK_THROWS(parse_pool(R"({"connection":{"host":"ftp://x"}})"));
  CHECK_THROWS(parse_pool(R"({"connection":{"host":"http://"}})"));
  CHECK_THROWS(parse_pool(R"({"connection":{"host":7}})"));
  CHECK_THROWS(parse_pool(R"({"workers":0,"connection":{"host":"h"}})"));
}

TEST_CASE("mongoosepush: response status -> result") {
  CHECK(result_of(200) == AV_PUSH_RESULT_OK);
  CHECK(result_of(204) == AV_PUSH_RESULT_OK);
  CHECK(result_of(410) == AV_PUSH_RESULT_DEVICE_NOT_REGISTERED);
  CHECK(result_of(400) == AV_PUSH_RESULT_ERROR);
  CHECK(result_of(404) == AV_PUSH_RESULT_ERROR);
  CHECK(result_of(500) == AV_PUSH_RESULT_ERROR);
  CHECK(result_of(301) == AV_PUSH_RESULT_ERROR);
  CHECK(result_of(0) == AV_PUSH_RESULT_ERROR);
}
