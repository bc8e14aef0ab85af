// WorkerPool with a scripted transport: counting, dropping, shutdown.
#include <catch2/catch.hpp>

#include "worker_pool.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

using namespace ephttp;
using namespace std::chrono;

namespace {

// Shared by the fake transports of one pool: records requests, answers from a script, and
// can hold every request until released.
struct Script {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<av::PostResult> answers;  // empty: delivered with 200
  std::vector<av::PostRequest> seen;
  std::vector<long> timeouts;
  bool hold = false;
  int in_flight = 0;

  av::PostResult next(const av::PostRequest& r, long timeout_ms, const std::atomic<bool>& abort) {
    std::unique_lock<std::mutex> lk(mu);
    seen.push_back(r);
    timeouts.push_back(timeout_ms);
    ++in_flight;
    cv.notify_all();
    while (hold && !abort) cv.wait_for(lk, milliseconds(5));
    --in_flight;
    if (abort && hold) return av::PostResult{false, 0, "", "aborted at shutdown"};
    if (answers.empty()) return av::PostResult{true, 200, "", ""};
    av::PostResult a = answers.front();
    answers.pop_front();
    return a;
  }
  bool wait_in_flight(int n) {
    std::unique_lock<std::mutex> lk(mu);
    return cv.wait_for(lk, seconds(5), [&] { return in_flight >= n; });
  }
  void release() {
    std::lock_guard<std::mutex> lk(mu);
    hold = false;
    cv.notify_all();
  }
};

struct Fake final : av::PostTransport {
  explicit Fake(Script& s) : s(s) {}
  av::PostResult post(const av::PostRequest& r, long timeout_ms, const std::atomic<bool>& abort) override {
    return s.next(r, timeout_ms, abort);
  }
  Script& s;
};

PoolConfig config(int workers, size_t max_queue) {
  PoolConfig c;
  c.name = "p";
  c.host = "http://127.0.0.1:1";
  c.workers = workers;
  c.max_queue_len = max_queue;
  c.request_timeout_ms = 1234;
  return c;
}

struct Logs {
  std::mutex mu;
  std::vector<std::string> lines;
  WorkerPool::LogFn fn() {
    return [this](bool warning, const std::string& m) {
      std::lock_guard<std::mutex> lk(mu);
      lines.push_back((warning ? "W " : "I ") + m);
    };
  }
  size_t count() {
    std::lock_guard<std::mutex> lk(mu);
    return lines.size();
  }
};

av::PostRequest req(int i) { return av::PostRequest{"http://127.0.0.1:1/x", {"content-type: a"}, "n=" + std::to_string(i)}; }

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

TEST_CASE("http pool: any response counts as sent, no response as failed, nothing retried") {
  Script s;
  s.answers = {av::PostResult{true, 500, "", ""}, av::PostResult{false, 0, "", "Connection refused"}, av::PostResult{true, 410, "", ""}};
  Logs logs;
  WorkerPool pool(config(1, 100), [&] { return std::make_unique<Fake>(s); }, logs.fn());
  pool.start();
  for (int i = 0; i < 4; ++i) CHECK(pool.submit(req(i)));
  REQUIRE(eventually([&] { return pool.stats().sent + pool.stats().failed == 4; }));
  CHECK(pool.stats().sent == 3);  // 500, 410 and 200: the status is ignored
  CHECK(pool.stats().failed == 1);
  CHECK(pool.stats().dropped == 0);
  pool.stop();
  std::lock_guard<std::mutex> lk(s.mu);
  REQUIRE(s.seen.size() == 4);  // no retry of the failed one
  for (int i = 0; i < 4; ++i) CHECK(s.seen[i].body == "n=" + std::to_string(i));  // one worker: in order
  CHECK(s.timeouts[0] == 1234);  // request_timeout
  // The failure is logged once, then the recovery.
  REQUIRE(logs.lines.size() == 2);
  CHECK(logs.lines[0].rfind("W pool p: POST http://127.0.0.1:1/x failed: Connection refused", 0) == 0);
  CHECK(logs.lines[1] == "I pool p: requests get through again");
}

TEST_CASE("http pool: a full queue drops and counts, and the workers run in parallel") {
  Script s;
  s.hold = true;
  Logs logs;
  WorkerPool pool(config(2, 3), [&] { return std::make_unique<Fake>(s); }, logs.fn());
  pool.start();
  CHECK(pool.submit(req(0)));
  CHECK(pool.submit(req(1)));
  REQUIRE(s.wait_in_flight(2));  // both workers busy at once
  for (int i = 2; i < 5; ++i) CHECK(pool.submit(req(i)));
  CHECK(pool.queued() == 3);
  CHECK_FALSE(pool.submit(req(5)));
  CHECK_FALSE(pool.submit(req(6)));
  CHECK(pool.stats().dropped == 2);
  CHECK(logs.count() == 1);  // the first drop is logged, not every one
  s.release();
  REQUIRE(eventually([&] { return pool.stats().sent == 5; }));
  CHECK(pool.queued() == 0);
  pool.stop();
  CHECK(pool.stats().dropped == 2);
}

TEST_CASE("http pool: stop sends what is queued within the grace period") {
  Script s;
  WorkerPool pool(config(1, 100), [&] { return std::make_unique<Fake>(s); }, quiet());
  pool.start();
  for (int i = 0; i < 20; ++i) pool.submit(req(i));
  pool.stop(seconds(5));
  CHECK(pool.stats().sent == 20);
  CHECK(pool.stats().dropped == 0);
  CHECK_FALSE(pool.submit(req(99)));  // stopped
  CHECK(pool.stats().dropped == 1);
}

TEST_CASE("http pool: past the grace period requests in flight are aborted and the rest dropped") {
  Script s;
  s.hold = true;  // the server never answers
  WorkerPool pool(config(1, 100), [&] { return std::make_unique<Fake>(s); }, quiet());
  pool.start();
  for (int i = 0; i < 5; ++i) pool.submit(req(i));
  REQUIRE(s.wait_in_flight(1));
  auto t0 = steady_clock::now();
  pool.stop(milliseconds(100));
  CHECK(steady_clock::now() - t0 < seconds(2));
  CHECK(pool.stats().sent == 0);
  CHECK(pool.stats().failed == 0);
  CHECK(pool.stats().dropped == 5);  // the aborted one and the four queued
}

TEST_CASE("http pool: a transport that cannot be made fails start") {
  WorkerPool pool(config(3, 10), []() -> std::unique_ptr<av::PostTransport> { throw std::runtime_error("curl_easy_init failed"); },
                  quiet());
  CHECK_THROWS_WITH(pool.start(), "curl_easy_init failed");
}
