// av::CurlPost as mod_event_pusher_sns makes it (sns::curl_options()) against a tiny loopback
// server: the signed request on the wire with Host = sns_host (not the endpoint's), the
// response body kept (1 KiB at most), no response.
#include <catch2/catch.hpp>

#include "mini_server.hpp"
#include "sns_config.hpp"
#include "publisher.hpp"

#include <aviary/cpp/curl_post.hpp>

using namespace std::chrono;

TEST_CASE("sns transport: the signed publish on the wire, status and body of the answer") {
  av::CurlGlobal init;
  testsrv::MiniServer srv;
  const std::string error_xml = "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code></Error></ErrorResponse>";
  srv.script({"403 " + error_xml, "200 " + std::string(3000, 'y')});
  sns::Settings s;
  s.pm_topic = "pm";
  s.sns_host = "sns.eu-west-1.amazonaws.com";
  s.region = "eu-west-1";
  s.account_id = "123456789012";
  s.creds = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  s.endpoint = "http://127.0.0.1:" + std::to_string(srv.port());
  sns::validate(s);
  av::PostRequest req = sns::signed_publish(
      s, sns::Publication{"arn:aws:sns:eu-west-1:123456789012:pm", R"({"present":true})"}, "20150830T123600Z");
  av::CurlPost t(sns::curl_options());
  std::atomic<bool> abort{false};
  av::PostResult a = t.post(req, 2000, abort);
  CHECK(a.delivered);
  CHECK(a.status == 403);
  CHECK_FALSE(a.ok());
  CHECK(a.body == error_xml);
  av::PostResult b = t.post(req, 2000, abort);
  CHECK(b.ok());
  CHECK(b.body == std::string(1024, 'y'));  // kept short

  auto reqs = srv.requests();
  REQUIRE(reqs.size() == 2);
  std::string head = "POST / HTTP/1.1\r\nHost: sns.eu-west-1.amazonaws.com\r\n"
                     "content-type: application/x-www-form-urlencoded; charset=utf-8\r\n"
                     "x-amz-date: 20150830T123600Z\r\n";
  REQUIRE(req.headers.size() == 4);
  CHECK(req.headers[3].rfind("Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/sns/"
                             "aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=", 0) == 0);
  // Exactly these bytes: nothing but the signed headers, Authorization and Content-Length.
  CHECK(reqs[0] == head + req.headers[3] + "\r\nContent-Length: " + std::to_string(req.body.size()) + "\r\n\r\n" +
                       req.body);
  CHECK(reqs[1] == reqs[0]);
  CHECK(srv.connections() == 1);
}

TEST_CASE("sns transport: no answer within the timeout is no response") {
  av::CurlGlobal init;
  testsrv::MiniServer srv;
  srv.script({""});
  av::CurlPost t(sns::curl_options());
  std::atomic<bool> abort{false};
  auto t0 = steady_clock::now();
  av::PostResult r = t.post(av::PostRequest{"http://127.0.0.1:" + std::to_string(srv.port()) + "/", {}, "x"}, 300, abort);
  CHECK_FALSE(r.delivered);
  CHECK_FALSE(r.ok());
  CHECK_FALSE(r.error.empty());
  CHECK(steady_clock::now() - t0 < milliseconds(2500));
}
