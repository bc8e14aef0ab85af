// av::CurlPost as mod_event_pusher_http makes it (response body discarded) against a tiny
// loopback server: the exact bytes on the wire, keep-alive, connection refused, request
// timeout, abort at shutdown.
#include <catch2/catch.hpp>

#include "mini_server.hpp"

#include <aviary/cpp/curl_post.hpp>

#include <chrono>
#include <thread>

using namespace std::chrono;

namespace {

int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace

TEST_CASE("http transport: the request on the wire, any status delivered, one kept-alive connection") {
  av::CurlGlobal init;
  testsrv::MiniServer srv;
  srv.script({"500", "410 gone"});
  av::CurlPost t(av::CurlPostOptions{});
  std::atomic<bool> abort{false};
  const std::string body = "author=alice&server=localhost&receiver=bob&message=Hi%2C+Bob%21";
  av::PostRequest r{srv.url("/hook/notifications"), {"content-type: application/x-www-form-urlencoded"}, body};
  av::PostResult a = t.post(r, 2000, abort);
  CHECK(a.delivered);
  CHECK(a.status == 500);
  av::PostResult b = t.post(r, 2000, abort);
  CHECK(b.delivered);
  CHECK(b.status == 410);
  CHECK(b.body.empty());  // "gone" was answered, not kept
  std::string big(5000, 'x');  // no "Expect: 100-continue" for a large body either
  av::PostResult c = t.post(av::PostRequest{srv.url("/big"), {"content-type: application/x-www-form-urlencoded"}, big}, 2000, abort);
  CHECK(c.delivered);
  CHECK(c.status == 200);
  auto reqs = srv.requests();
  REQUIRE(reqs.size() == 3);
  CHECK(reqs[0] == "POST /hook/notifications HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(srv.port()) +
                       "\r\ncontent-type: application/x-www-form-urlencoded\r\nContent-Length: 63\r\n\r\n" + body);
  CHECK(reqs[1] == reqs[0]);
  CHECK(reqs[2] == "POST /big HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(srv.port()) +
                       "\r\ncontent-type: application/x-www-form-urlencoded\r\nContent-Length: 5000\r\n\r\n" + big);
  CHECK(srv.connections() == 1);  // kept alive
}

TEST_CASE("http transport: connection refused is not delivered") {
  av::CurlGlobal init;
  av::CurlPost t(av::CurlPostOptions{});
  std::atomic<bool> abort{false};
  av::PostResult r = t.post(av::PostRequest{"http://127.0.0.1:" + std::to_string(closed_port()) + "/", {}, "a=b"}, 2000, abort);
  CHECK_FALSE(r.delivered);
  CHECK_FALSE(r.error.empty());
}

TEST_CASE("http transport: request_timeout bounds a silent server, abort ends a request early") {
  av::CurlGlobal init;
  testsrv::MiniServer srv;
  srv.script({"", ""});
  av::CurlPost t(av::CurlPostOptions{});
  std::atomic<bool> abort{false};
  auto t0 = steady_clock::now();
  av::PostResult r = t.post(av::PostRequest{srv.url("/"), {}, "a=b"}, 300, abort);
  CHECK_FALSE(r.delivered);
  CHECK(steady_clock::now() - t0 >= milliseconds(250));
  CHECK(steady_clock::now() - t0 < milliseconds(2500));

  std::thread stopper([&] {
    std::this_thread::sleep_for(milliseconds(200));
    abort = true;
  });
  t0 = steady_clock::now();
  r = t.post(av::PostRequest{srv.url("/"), {}, "a=b"}, 30000, abort);
  stopper.join();
  CHECK_FALSE(r.delivered);
  CHECK(r.error == "aborted at shutdown");
  CHECK(steady_clock::now() - t0 < milliseconds(5000));
}
