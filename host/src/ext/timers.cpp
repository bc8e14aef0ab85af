#include "ext/timers.hpp"

#include <boost/asio/post.hpp>

#include <chrono>

namespace aviary {

namespace {
Timers* g_timers = nullptr;
av_timer_id x_start(av_executor ex, uint64_t ms, void (*fn)(void*), void* arg) {
  if (!g_timers || !fn) return 0;
  try {
    return g_timers->start(ex, ms, fn, arg);
  } catch (...) {
    return 0;
  }
}
bool x_cancel(av_timer_id id) { return g_timers && g_timers->cancel(id); }
uint64_t x_now() { return Timers::now_ms(); }
const av_ext_timer_v1 kExt = {sizeof(av_ext_timer_v1), x_start, x_cancel, x_now};
}  // namespace

Timers::Timers(Runtime& rt) : rt_(rt) { g_timers = this; }

Timers::~Timers() {
  if (g_timers == this) g_timers = nullptr;
  std::lock_guard<std::mutex> lk(mu_);
  pending_.clear();  // io contexts are stopped by now: nothing fires any more
}

const av_ext_timer_v1* Timers::ext() const { return &kExt; }

uint64_t Timers::now_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

av_timer_id Timers::start(av_executor ex, uint64_t delay_ms, void (*fn)(void*), void* arg) {
  boost::asio::io_context* io = nullptr;
  if (ex == AV_EXEC_MAIN) io = &rt_.main();
  else if (ex == AV_EXEC_IO_ANY) io = &rt_.io(rt_.next_io());
  else if (ex >= AV_EXEC_IO_BASE && ex - AV_EXEC_IO_BASE < rt_.io_count()) io = &rt_.io(ex - AV_EXEC_IO_BASE);
  if (!io) return 0;
  av_timer_id id = next_.fetch_add(1, std::memory_order_relaxed);
  auto t = std::make_unique<boost::asio::steady_timer>(*io, std::chrono::milliseconds(delay_ms));
  std::lock_guard<std::mutex> lk(mu_);
  t->async_wait([this, id](const boost::system::error_code& ec) {
    if (!ec) fire(id);
  });
  pending_.emplace(id, Pending{std::move(t), fn, arg});
  return id;
}

void Timers::fire(av_timer_id id) {
  void (*fn)(void*) = nullptr;
  void* arg = nullptr;
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = pending_.find(id);
    if (it == pending_.end()) return;  // cancelled meanwhile
    fn = it->second.fn;
    arg = it->second.arg;
    pending_.erase(it);  // we are inside this timer's handler: destroying it here is fine
  }
  fn(arg);
}

bool Timers::cancel(av_timer_id id) {
  std::unique_ptr<boost::asio::steady_timer> t;
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = pending_.find(id);
    if (it == pending_.end()) return false;
    t = std::move(it->second.timer);
    pending_.erase(it);
  }
  // Destroying a steady_timer from another thread than its io_context's is not safe:
  // hand it to its own context, which cancels and frees it there.
  auto ex = t->get_executor();
  boost::asio::post(ex, [t = std::shared_ptr<boost::asio::steady_timer>(std::move(t))] { t->cancel(); });
  return true;
}

}  // namespace aviary
