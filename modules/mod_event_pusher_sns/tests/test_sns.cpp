// mod_event_pusher_sns: routing, payloads, ARNs, the retry schedule, the signed request of
// one attempt, and the publisher with a scripted transport.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "publisher.hpp"
#include "sns_config.hpp"
#include "sns_request.hpp"

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

using namespace std::chrono;

namespace {

sns::Settings settings() {
  sns::Settings s;
  s.presence_topic = "user_presence_updated";
  s.pm_topic = "user_message_sent";
  s.muc_topic = "user_messagegroup_sent";
  s.sns_host = "sns.eu-west-1.amazonaws.com";
  s.region = "eu-west-1";
  s.account_id = "123456789012";
  s.creds = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  return s;
}

av::PushEvent chat(av_push_direction dir, av_push_chat_type t = AV_PUSH_TYPE_CHAT) {
  av::PushEvent e;
  e.kind = AV_PUSH_CHAT;
  e.chat_type = t;
  e.direction = dir;
  e.from = "Alice@LocalHost/Res1";
  e.to = t == AV_PUSH_TYPE_GROUPCHAT ? "Room@MUC.localhost" : "Bob@LocalHost/phone";
  e.body = "hi \"bob\"";
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

std::string header(const av::PostRequest& r, const std::string& name) {
  for (auto& h : r.headers)
    if (h.rfind(name + ": ", 0) == 0) return h.substr(name.size() + 2);
  return "(absent)";
}

}  // namespace

TEST_CASE("sns: presence goes to the presence topic with the lowercased bare JID") {
  sns::Settings s = settings();
  av::PushEvent p;
  p.kind = AV_PUSH_USER_STATUS;
  p.user_jid = "Alice@LocalHost/Res1";
  p.online = true;
  auto pub = sns::publication_for(s, p);
  REQUIRE(pub);
  CHECK(pub->topic_arn == "arn:aws:sns:eu-west-1:123456789012:user_presence_updated");
  CHECK(pub->json == R"({"user_id":"alice@localhost","present":true})");
  p.online = false;
  CHECK(sns::publication_for(s, p)->json == R"({"user_id":"alice@localhost","present":false})");
  s.presence_topic.reset();
  CHECK_FALSE(sns::publication_for(s, p));
}

TEST_CASE("sns: only sent chat (pm topic) and groupchat (muc topic) messages, bare JIDs") {
  sns::Settings s = settings();
  auto pm = sns::publication_for(s, chat(AV_PUSH_DIR_SENT));
  REQUIRE(pm);
  CHECK(pm->topic_arn == "arn:aws:sns:eu-west-1:123456789012:user_message_sent");
  CHECK(pm->json == R"({"from_user_id":"alice@localhost","to_user_id":"bob@localhost","message":"hi \"bob\""})");
  auto muc = sns::publication_for(s, chat(AV_PUSH_DIR_SENT, AV_PUSH_TYPE_GROUPCHAT));
  REQUIRE(muc);
  CHECK(muc->topic_arn == "arn:aws:sns:eu-west-1:123456789012:user_messagegroup_sent");
  CHECK(muc->json ==
        R"({"from_user_id":"alice@localhost","to_user_id":"room@muc.localhost","message":"hi \"bob\""})");
  CHECK_FALSE(sns::publication_for(s, chat(AV_PUSH_DIR_RECEIVED)));
  CHECK_FALSE(sns::publication_for(s, chat(AV_PUSH_DIR_RECEIVED, AV_PUSH_TYPE_GROUPCHAT)));
  av::PushEvent unack = chat(AV_PUSH_DIR_SENT);
  unack.kind = AV_PUSH_UNACK;
  CHECK_FALSE(sns::publication_for(s, unack));
  s.pm_topic.reset();
  CHECK_FALSE(sns::publication_for(s, chat(AV_PUSH_DIR_SENT)));
  CHECK(sns::publication_for(s, chat(AV_PUSH_DIR_SENT, AV_PUSH_TYPE_GROUPCHAT)));
  s.muc_topic.reset();
  CHECK_FALSE(sns::publication_for(s, chat(AV_PUSH_DIR_SENT, AV_PUSH_TYPE_GROUPCHAT)));
}

TEST_CASE("sns: message JSON escapes, and replaces invalid UTF-8") {
  CHECK(sns::message_json("a@b", "c@d", "za\xC5\xBC\n<&>\\") ==
        "{\"from_user_id\":\"a@b\",\"to_user_id\":\"c@d\",\"message\":\"za\xC5\xBC\\n<&>\\\\\"}");
  CHECK(sns::message_json("a@b", "c@d", "\xFF") ==
        "{\"from_user_id\":\"a@b\",\"to_user_id\":\"c@d\",\"message\":\"\xEF\xBF\xBD\"}");
}

TEST_CASE("sns: backoff schedule is MongooseIM's 2^(max - retry_left) * base - rand[1, base]") {
  // publish_retry_count 2, publish_retry_time_ms 50: retry 1 waits 0..49 ms, retry 2 50..99.
  CHECK(sns::backoff_ms(2, 2, 50, 50) == 0);
  CHECK(sns::backoff_ms(2, 2, 50, 1) == 49);
  CHECK(sns::backoff_ms(2, 1, 50, 50) == 50);
  CHECK(sns::backoff_ms(2, 1, 50, 1) == 99);
  // a third retry (publish_retry_count 3): 150..199
  CHECK(sns::backoff_ms(3, 1, 50, 50) == 150);
  CHECK(sns::backoff_ms(3, 1, 50, 1) == 199);
  CHECK(sns::backoff_ms(2, 2, 0, 0) == 0);        // base 0: no wait
  CHECK(sns::backoff_ms(2, 2, 50, 999) == 0);     // r clamped to [1, base]
  CHECK(sns::backoff_ms(30, 0, 60000, 1) == (int64_t{1} << 30) * 60000 - 1);  // no overflow at the limits
}

TEST_CASE("sns: settings checks and the default endpoint") {
  sns::Settings s = settings();
  sns::validate(s);
  CHECK(s.endpoint == "https://sns.eu-west-1.amazonaws.com");
  s = settings();
  s.endpoint = "http://127.0.0.1:4566/";
  sns::validate(s);
  CHECK(s.endpoint == "http://127.0.0.1:4566");
  CHECK(error_of([] {
          sns::Settings b = settings();
          b.endpoint = "127.0.0.1:4566";
          sns::validate(b);
        }) == "sns_endpoint must look like https://host[:port] or http://host[:port], not '127.0.0.1:4566'");
  CHECK(error_of([] {
          sns::Settings b = settings();
          b.endpoint = "http://h/path";
          sns::validate(b);
        }) != "(no error)");
  CHECK(error_of([] {
          sns::Settings b = settings();
          b.pm_topic = "";
          sns::validate(b);
        }) == "pm_messages_topic must not be empty");
  CHECK(error_of([] {
          sns::Settings b = settings();
          b.muc_topic = "a:b";
          sns::validate(b);
        }) == "muc_messages_topic has a character it cannot contain: 'a:b'");
  CHECK(error_of([] {
          sns::Settings b = settings();
          b.sns_host = "https://sns.eu-west-1.amazonaws.com";
          sns::validate(b);
        }) == "sns_host is a host name (e.g. sns.eu-west-1.amazonaws.com), not 'https://sns.eu-west-1.amazonaws.com'");
  CHECK(error_of([] {
          sns::Settings b = settings();
          b.creds.secret_access_key = "";
          sns::validate(b);
        }) == "secret_access_key must not be empty");
}

TEST_CASE("sns: the signed request of one attempt") {
  sns::Settings s = settings();
  s.endpoint = "http://127.0.0.1:4566";
  sns::validate(s);
  sns::Publication p{sns::topic_arn(s.region, s.account_id, "pm"), R"({"from_user_id":"a@b"})"};
  av::PostRequest r = sns::signed_publish(s, p, "20150830T123600Z");
  CHECK(r.url == "http://127.0.0.1:4566/");
  REQUIRE(r.headers.size() == 4);
  CHECK(header(r, "host") == "sns.eu-west-1.amazonaws.com");  // the signed Host, not the endpoint's
  CHECK(header(r, "content-type") == "application/x-www-form-urlencoded; charset=utf-8");
  CHECK(header(r, "x-amz-date") == "20150830T123600Z");
  CHECK(r.body == sns::publish_body(p.topic_arn, p.json));
  // The same request signed independently through the SigV4 code.
  sns::Request unsigned_req = sns::publish_request(s.sns_host, r.body, "20150830T123600Z");
  CHECK(header(r, "Authorization") == sns::sign(unsigned_req, s.creds, "eu-west-1", "sns", "20150830T123600Z").authorization);
  CHECK(header(r, "Authorization").rfind(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/sns/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date, Signature=", 0) == 0);
}

// ---- the publisher, with a scripted transport ----

namespace {

struct Attempt {
  std::string body;
  steady_clock::time_point at;
};

struct Script {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<av::PostResult> answers;  // empty: 200
  std::vector<Attempt> attempts;
  bool hold = false;
  int in_flight = 0;

  av::PostResult next(const av::PostRequest& r, const std::atomic<bool>& abort) {
    std::unique_lock<std::mutex> lk(mu);
    attempts.push_back(Attempt{r.body, steady_clock::now()});
    ++in_flight;
    cv.notify_all();
    while (hold && !abort) cv.wait_for(lk, milliseconds(5));
    --in_flight;
    cv.notify_all();
    if (abort && hold) return av::PostResult{false, 0, "", "aborted at shutdown"};
    if (answers.empty()) return av::PostResult{true, 200, "<PublishResponse/>", ""};
    av::PostResult a = answers.front();
    answers.pop_front();
    return a;
  }
  size_t count() {
    std::lock_guard<std::mutex> lk(mu);
    return attempts.size();
  }
  bool wait_attempts(size_t n, milliseconds t = milliseconds(5000)) {
    std::unique_lock<std::mutex> lk(mu);
    return cv.wait_for(lk, t, [&] { return attempts.size() >= n; });
  }
};

struct Fake final : av::PostTransport {
  explicit Fake(Script& s) : s(s) {}
  av::PostResult post(const av::PostRequest& r, long, const std::atomic<bool>& abort) override {
    return s.next(r, abort);
  }
  Script& s;
};

av::PostResult status(long code) { return av::PostResult{true, code, "<Error><Code>InternalError</Code></Error>", ""}; }
av::PostResult refused() { return av::PostResult{false, 0, "", "Connection refused"}; }

sns::Settings pub_settings(int pool, int retries, int base_ms, size_t max_queue = 100) {
  sns::Settings s = settings();
  s.pool_size = pool;
  s.retry_count = retries;
  s.retry_time_ms = base_ms;
  s.max_queue_len = max_queue;
  s.endpoint = "http://127.0.0.1:1";
  return s;
}

// The request body is just the event JSON here: attempts are easy to tell apart.
av::PostRequest plain(const sns::Publication& p) { return av::PostRequest{"http://x/", {}, p.json}; }

sns::Publication pub(const std::string& json) { return sns::Publication{"arn:aws:sns:r:1:t", json}; }

struct Logs {
  std::mutex mu;
  std::vector<std::string> lines;
  sns::Publisher::LogFn fn() {
    return [this](bool warning, const std::string& m) {
      std::lock_guard<std::mutex> lk(mu);
      lines.push_back((warning ? "W " : "I ") + m);
    };
  }
};

// A logger that drops the lines (for tests that do not look at them).
std::function<void(bool, const std::string&)> quiet() {
  return [](bool, const std::string&) {};
}

bool eventually(const std::function<bool()>& f) {
  for (auto end = steady_clock::now() + seconds(5); steady_clock::now() < end; std::this_thread::sleep_for(milliseconds(2)))
    if (f()) return true;
  return f();
}

}  // namespace

TEST_CASE("sns publisher: 500, 500, 200 is three attempts, spaced by the backoff") {
  Script s;
  s.answers = {status(500), refused(), av::PostResult{true, 200, "", ""}};
  Logs logs;
  sns::Publisher p(pub_settings(2, 2, 50), [&] { return std::make_unique<Fake>(s); }, logs.fn(), plain);
  p.start();
  CHECK(p.submit(pub("e1")));
  REQUIRE(eventually([&] { return p.stats().published == 1; }));
  CHECK(p.stats().retried == 2);
  CHECK(p.stats().failed == 0);
  p.stop();
  REQUIRE(s.attempts.size() == 3);
  for (auto& a : s.attempts) CHECK(a.body == "e1");
  // retry 1 after 0..49 ms, retry 2 after 50..99 ms
  CHECK(s.attempts[2].at - s.attempts[1].at >= milliseconds(50));
  CHECK(s.attempts[2].at - s.attempts[0].at >= milliseconds(50));
  REQUIRE(logs.lines.size() == 2);
  CHECK(logs.lines[0].rfind("W publish to arn:aws:sns:r:1:t failed (HTTP 500: <Error><Code>InternalError</Code></Error>); "
                            "retrying in ", 0) == 0);
  CHECK(logs.lines[1] == "I publishing to SNS works again");
}

TEST_CASE("sns publisher: gives up after publish_retry_count retries") {
  Script s;
  s.answers = {status(500), status(503), status(400), status(500)};
  sns::Publisher p(pub_settings(1, 2, 1), [&] { return std::make_unique<Fake>(s); }, quiet(), plain);
  p.start();
  p.submit(pub("doomed"));
  REQUIRE(eventually([&] { return p.stats().failed == 1; }));
  std::this_thread::sleep_for(milliseconds(50));
  CHECK(s.count() == 3);  // 1 + publish_retry_count
  CHECK(p.stats().retried == 2);
  CHECK(p.stats().published == 0);
  p.stop();

  Script s0;
  s0.answers = {refused()};
  sns::Publisher p0(pub_settings(1, 0, 50), [&] { return std::make_unique<Fake>(s0); }, quiet(), plain);
  p0.start();
  p0.submit(pub("once"));
  REQUIRE(eventually([&] { return p0.stats().failed == 1; }));
  p0.stop();
  CHECK(s0.count() == 1);
  CHECK(p0.stats().retried == 0);
}

TEST_CASE("sns publisher: a job waiting for its retry does not hold a worker") {
  Script s;
  s.answers = {status(500)};  // the first attempt of "slow" fails: its retry waits 2^0*2000 - r ms
  sns::Publisher p(pub_settings(1, 1, 2000), [&] { return std::make_unique<Fake>(s); }, quiet(), plain);
  p.start();
  p.submit(pub("slow"));
  REQUIRE(s.wait_attempts(1));
  REQUIRE(eventually([&] { return p.stats().retried == 1; }));
  const auto t0 = steady_clock::now();
  p.submit(pub("fast"));
  // The one worker takes "fast" at once, while "slow" waits up to 2 s for its retry (unless
  // the random part of the backoff made that wait tiny: then it went first, which is fine).
  auto fast_at = [&]() -> std::optional<steady_clock::time_point> {
    std::lock_guard<std::mutex> lk(s.mu);
    for (auto& a : s.attempts)
      if (a.body == "fast") return a.at;
    return std::nullopt;
  };
  REQUIRE(eventually([&] { return fast_at().has_value(); }));
  CHECK(*fast_at() - t0 < milliseconds(1000));
  p.stop(milliseconds(0));
}

TEST_CASE("sns publisher: submit never blocks, and a full queue (retries included) drops") {
  Script s;
  s.hold = true;
  Logs logs;
  sns::Publisher p(pub_settings(1, 2, 50, 2), [&] { return std::make_unique<Fake>(s); }, logs.fn(), plain);
  p.start();
  const auto t0 = steady_clock::now();
  CHECK(p.submit(pub("a")));
  REQUIRE(s.wait_attempts(1));  // in flight, held
  CHECK(p.submit(pub("b")));
  CHECK(p.submit(pub("c")));
  CHECK_FALSE(p.submit(pub("d")));
  CHECK(steady_clock::now() - t0 < milliseconds(1000));
  CHECK(p.stats().dropped == 1);
  CHECK(p.queued() == 2);
  {
    std::lock_guard<std::mutex> lk(s.mu);
    s.hold = false;
  }
  REQUIRE(eventually([&] { return p.stats().published == 3; }));
  p.stop();
  CHECK(logs.lines.size() == 1);
}

TEST_CASE("sns publisher: at stop, retries due within the grace period still go, later ones are dropped") {
  Script s;
  s.answers = {status(500), status(500)};
  sns::Publisher p(pub_settings(1, 1, 1), [&] { return std::make_unique<Fake>(s); }, quiet(), plain);
  p.start();
  p.submit(pub("x"));
  REQUIRE(s.wait_attempts(1));
  p.stop(seconds(3));  // the retry (0 ms) is made, fails, and the job gives up
  CHECK(s.count() == 2);
  CHECK(p.stats().failed == 1);
  CHECK(p.stats().dropped == 0);

  Script late;
  late.answers = {status(500)};
  sns::Publisher q(pub_settings(1, 1, 30000), [&] { return std::make_unique<Fake>(late); }, quiet(), plain);
  q.start();
  q.submit(pub("y"));
  REQUIRE(eventually([&] { return q.stats().retried == 1; }));
  const auto t0 = steady_clock::now();
  q.stop(milliseconds(100));  // its retry is due in up to 30 s
  CHECK(steady_clock::now() - t0 < seconds(2));
  CHECK(late.count() == 1);
  CHECK(q.stats().dropped == 1);
  CHECK(q.queued() == 0);
}
