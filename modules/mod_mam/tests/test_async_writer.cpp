// The archive's batch writer against a scripted storage and a manual clock.
#include <catch2/catch.hpp>

#include "async_writer.hpp"

using namespace mod_mam;

namespace {

struct FakeBackend : WriterBackend {
  struct Call {
    std::vector<int64_t> ids;
    std::function<void(bool, const std::string&)> done;
  };
  std::vector<Call> calls;            // writes in flight, answered by the test
  std::vector<std::vector<int64_t>> written;  // stored, in completion order
  std::vector<std::pair<uint64_t, std::function<void()>>> timers;
  std::vector<std::string> warnings;
  bool accept = true;   // submit succeeds
  bool sync_ok = true;  // write_now succeeds

  bool write(const std::vector<Record>& b, std::function<void(bool, const std::string&)> done) override {
    if (!accept) return false;
    Call c;
    for (auto& r : b) c.ids.push_back(r.id);
    c.done = std::move(done);
    calls.push_back(std::move(c));
    return true;
  }
  bool write_now(const std::vector<Record>& b, std::string* err) override {
    if (!sync_ok) {
      *err = "down";
      return false;
    }
    std::vector<int64_t> ids;
    for (auto& r : b) ids.push_back(r.id);
    written.push_back(ids);
    return true;
  }
  bool after(uint64_t ms, std::function<void()> fn) override {
    timers.emplace_back(ms, std::move(fn));
    return true;
  }
  void log_warning(const std::string& m) override { warnings.push_back(m); }

  void finish(size_t i, bool ok) {
    Call c = std::move(calls.at(i));
    calls.erase(calls.begin() + static_cast<long>(i));
    if (ok) written.push_back(c.ids);
    c.done(ok, ok ? "" : "database down");
  }
  void fire_timers() {
    auto t = std::move(timers);
    timers.clear();
    for (auto& [ms, fn] : t) fn();
  }
};

Record rec(int64_t id) {
  Record r;
  r.id = id;
  r.owner_user = "u";
  r.owner_server = "localhost";
  return r;
}

}  // namespace

TEST_CASE("writer: flush on size, on time, bigger batches while one is written") {
  auto be = std::make_shared<FakeBackend>();
  WriterConfig cfg;
  cfg.batch_size = 3;
  cfg.max_inflight = 1;
  cfg.flush_interval_ms = 2000;
  auto w = std::make_shared<AsyncWriter>(be, cfg);
  w->push(rec(1));
  w->push(rec(2));
  CHECK(be->calls.empty());
  REQUIRE(be->timers.size() == 1);
  CHECK(be->timers[0].first == 2000);
  w->push(rec(3));
  REQUIRE(be->calls.size() == 1);
  CHECK(be->calls[0].ids == std::vector<int64_t>{1, 2, 3});
  for (int i = 4; i <= 10; ++i) w->push(rec(i));  // one slot, busy: they pile up
  CHECK(be->calls.size() == 1);
  be->finish(0, true);
  REQUIRE(be->calls.size() == 1);
  CHECK(be->calls[0].ids.size() == 7);  // the whole pile in one batch
  be->finish(0, true);
  w->push(rec(11));
  be->fire_timers();  // the interval passes
  REQUIRE(be->calls.size() == 1);
  CHECK(be->calls[0].ids == std::vector<int64_t>{11});
  be->finish(0, true);
  auto st = w->stats();
  CHECK(st.written == 11);
  CHECK(st.batches == 3);
  CHECK(st.queued == 0);
  be->calls.clear();  // their callbacks hold the writer
  be->timers.clear();
}

TEST_CASE("writer: sync waits for what was pushed before, not for later records") {
  auto be = std::make_shared<FakeBackend>();
  WriterConfig cfg;
  cfg.batch_size = 100;
  cfg.max_inflight = 1;
  auto w = std::make_shared<AsyncWriter>(be, cfg);
  bool idle_sync = false;
  w->sync([&] { idle_sync = true; });
  CHECK(idle_sync);  // nothing outstanding: at once
  w->push(rec(1));
  bool synced = false;
  w->sync([&] { synced = true; });
  REQUIRE(be->calls.size() == 1);  // sync forced the flush
  w->push(rec(2));                 // after the sync: not waited for
  CHECK_FALSE(synced);
  be->finish(0, true);
  CHECK(synced);
  be->calls.clear();  // their callbacks hold the writer
  be->timers.clear();
}

TEST_CASE("writer: a failed batch is retried with backoff; sync does not wait for retries") {
  auto be = std::make_shared<FakeBackend>();
  WriterConfig cfg;
  cfg.batch_size = 2;
  cfg.max_inflight = 1;
  auto w = std::make_shared<AsyncWriter>(be, cfg);
  w->push(rec(1));
  w->push(rec(2));
  be->timers.clear();  // the flush timer armed by the first record (nothing left to flush)
  bool synced = false;
  w->sync([&] { synced = true; });
  be->finish(0, false);
  CHECK(synced);
  CHECK(w->stats().retrying == 2);
  REQUIRE(be->timers.size() == 1);
  CHECK(be->timers[0].first == 100);
  be->fire_timers();
  REQUIRE(be->calls.size() == 1);
  be->finish(0, false);
  REQUIRE(be->timers.size() == 1);
  CHECK(be->timers[0].first == 200);  // doubled
  be->fire_timers();
  be->finish(0, true);
  CHECK(be->written == std::vector<std::vector<int64_t>>{{1, 2}});
  auto st = w->stats();
  CHECK(st.failed_batches == 2);
  CHECK(st.retried_batches == 2);
  CHECK(st.written == 2);
  CHECK(st.dropped == 0);
  be->calls.clear();  // their callbacks hold the writer
  be->timers.clear();
}

TEST_CASE("writer: past the queue limit the oldest failed batch is dropped and logged with its ids") {
  auto be = std::make_shared<FakeBackend>();
  WriterConfig cfg;
  cfg.batch_size = 2;
  cfg.max_inflight = 1;
  cfg.queue_max = 4;
  auto w = std::make_shared<AsyncWriter>(be, cfg);
  w->push(rec(1));
  w->push(rec(2));
  be->finish(0, false);  // 1,2 wait for a retry
  be->timers.clear();    // (the retry never comes in this test)
  w->push(rec(3));
  w->push(rec(4));       // a new batch: in flight
  REQUIRE(be->calls.size() == 1);
  be->finish(0, false);  // 3,4 wait too: 4 records retrying
  w->push(rec(5));       // full: 1,2 go
  auto st = w->stats();
  CHECK(st.dropped == 2);
  bool logged = false;
  for (auto& m : be->warnings) logged |= m.find("ids 1 2") != std::string::npos;
  CHECK(logged);
  be->accept = false;  // the database refuses new work: records still are not lost
  w->push(rec(6));
  CHECK(w->stats().dropped == 2);
  be->calls.clear();  // their callbacks hold the writer
  be->timers.clear();
}

TEST_CASE("writer: drain writes what is pending and what waits for a retry") {
  auto be = std::make_shared<FakeBackend>();
  WriterConfig cfg;
  cfg.batch_size = 2;
  cfg.max_inflight = 1;
  auto w = std::make_shared<AsyncWriter>(be, cfg);
  w->push(rec(1));
  w->push(rec(2));
  be->finish(0, false);
  w->push(rec(3));
  CHECK(w->drain() == 0);
  CHECK(be->written == std::vector<std::vector<int64_t>>{{1, 2}, {3}});
  w->push(rec(4));
  be->calls.clear();
  be->sync_ok = false;
  w->push(rec(5));
  w->push(rec(6));
  CHECK(w->drain() > 0);
  CHECK(w->stats().dropped > 0);
  be->calls.clear();  // their callbacks hold the writer
  be->timers.clear();
}

TEST_CASE("writer: saturated once the queue is full with nothing to retry; refused records are counted") {
  auto be = std::make_shared<FakeBackend>();
  WriterConfig cfg;
  cfg.batch_size = 100;
  cfg.max_inflight = 1;
  cfg.queue_max = 3;
  auto w = std::make_shared<AsyncWriter>(be, cfg);
  w->push(rec(1));
  w->push(rec(2));
  CHECK_FALSE(w->saturated());
  w->push(rec(3));
  CHECK(w->saturated());
  w->refuse("u@localhost");
  CHECK(w->stats().dropped == 1);
  bool logged = false;
  for (auto& m : be->warnings) logged |= m.find("(u@localhost)") != std::string::npos;
  CHECK(logged);
  be->fire_timers();  // the interval flushes all three
  REQUIRE(be->calls.size() == 1);
  CHECK_FALSE(w->saturated());
  be->finish(0, true);
  be->calls.clear();  // their callbacks hold the writer
  be->timers.clear();
}
