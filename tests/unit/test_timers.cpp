// "av.timer/1": one-shot timers fire once on the asked thread, cancel wins or loses cleanly.
#include "core/runtime.hpp"
#include "ext/timers.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

using namespace aviary;

namespace {
struct Shot {
  std::atomic<int> calls{0};
  std::atomic<av_executor> ran_on{0};
  Runtime* rt = nullptr;
};
void on_fire(void* arg) {
  auto* s = static_cast<Shot*>(arg);
  s->ran_on = s->rt->current();
  s->calls++;
}
bool wait_for(const std::function<bool()>& f, int ms = 3000) {
  for (int i = 0; i < ms / 5; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return f();
}
}  // namespace

TEST_CASE("timers: fire once on the requested network thread", "[timer]") {
  Runtime rt(2, 1);
  Timers timers(rt);
  rt.start_io();
  const av_ext_timer_v1* x = timers.ext();
  Shot a, b;
  a.rt = b.rt = &rt;
  uint64_t t0 = x->now_ms();
  av_timer_id ia = x->start(AV_EXEC_IO_BASE + 1, 30, on_fire, &a);
  av_timer_id ib = x->start(AV_EXEC_IO_BASE + 0, 1, on_fire, &b);
  REQUIRE(ia != 0);
  REQUIRE(ib != 0);
  CHECK(ia != ib);
  REQUIRE(wait_for([&] { return a.calls == 1 && b.calls == 1; }));
  CHECK(x->now_ms() - t0 >= 30);
  CHECK(a.ran_on == AV_EXEC_IO_BASE + 1);
  CHECK(b.ran_on == AV_EXEC_IO_BASE + 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(a.calls == 1);              // one-shot
  CHECK_FALSE(x->cancel(ia));       // already ran
  rt.stop_io();
}

TEST_CASE("timers: a cancelled timer never fires; bad executors are refused", "[timer]") {
  Runtime rt(1, 1);
  Timers timers(rt);
  rt.start_io();
  const av_ext_timer_v1* x = timers.ext();
  Shot s;
  s.rt = &rt;
  av_timer_id id = x->start(AV_EXEC_IO_ANY, 50, on_fire, &s);
  REQUIRE(id != 0);
  CHECK(x->cancel(id));
  CHECK_FALSE(x->cancel(id));
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  CHECK(s.calls == 0);
  CHECK(x->start(AV_EXEC_BLOCKING, 1, on_fire, &s) == 0);
  CHECK(x->start(AV_EXEC_IO_BASE + 7, 1, on_fire, &s) == 0);
  CHECK(x->start(AV_EXEC_MAIN, 1, nullptr, &s) == 0);
  rt.stop_io();
}
