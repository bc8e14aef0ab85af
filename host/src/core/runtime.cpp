#include "core/runtime.hpp"

#include <boost/asio/post.hpp>

namespace aviary {

namespace {
thread_local av_executor t_current = 0;
}

Runtime::Runtime(int io_threads, int blocking_threads, size_t blocking_queue_max)
    : blocking_threads_(blocking_threads), blocking_max_(blocking_queue_max) {
  for (int i = 0; i < io_threads; ++i) io_.push_back(std::make_unique<IoContext>(1));
  t_current = AV_EXEC_MAIN;  // the constructing thread is the main thread
}

Runtime::~Runtime() {
  stop_io();
  // A pending operation of one context can own an I/O object of another: the c2s accept
  // queued on main_ holds the socket it would hand to an io_ context. Destroying the
  // contexts one by one then destroys that socket after its context's services were freed
  // (heap-use-after-free at exit). So destroy every context's pending handlers first, while
  // all services are still alive; the destructors then have nothing left to destroy.
  main_.destroy_handlers();
  for (auto& io : io_) io->destroy_handlers();
}

size_t Runtime::next_io() { return rr_.fetch_add(1, std::memory_order_relaxed) % io_.size(); }

void Runtime::start_io() {
  blocking_ = std::make_unique<boost::asio::thread_pool>(blocking_threads_);
  for (size_t i = 0; i < io_.size(); ++i) {
    guards_.emplace_back(io_[i]->get_executor());
    threads_.emplace_back([this, i] {
      t_current = AV_EXEC_IO_BASE + i;
      io_[i]->run();
    });
  }
}

void Runtime::stop_io() {
  for (auto& g : guards_) g.reset();
  guards_.clear();
  for (auto& io : io_) io->stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
  if (blocking_) {
    blocking_->join();
    blocking_.reset();
  }
}

size_t Runtime::run_ready() {
  const av_executor caller = t_current;
  t_current = AV_EXEC_MAIN;
  main_.restart();
  size_t n = main_.poll();
  for (size_t i = 0; i < io_.size(); ++i) {
    t_current = AV_EXEC_IO_BASE + i;
    io_[i]->restart();
    n += io_[i]->poll();
  }
  t_current = caller;
  return n;
}

av_status Runtime::post(av_executor ex, std::function<void()> fn) {
  if (ex == AV_EXEC_MAIN) {
    boost::asio::post(main_, std::move(fn));
    return AV_OK;
  }
  if (ex == AV_EXEC_BLOCKING) {
    if (!blocking_) return AV_E_INVALID_ARG;
    if (blocking_pending_.fetch_add(1, std::memory_order_relaxed) >= blocking_max_) {
      blocking_pending_.fetch_sub(1, std::memory_order_relaxed);
      return AV_E_BUSY;
    }
    boost::asio::post(*blocking_, [this, fn = std::move(fn)] {
      t_current = AV_EXEC_BLOCKING;
      blocking_pending_.fetch_sub(1, std::memory_order_relaxed);
      fn();
    });
    return AV_OK;
  }
  if (ex == AV_EXEC_IO_ANY) ex = AV_EXEC_IO_BASE + next_io();
  if (ex >= AV_EXEC_IO_BASE && ex - AV_EXEC_IO_BASE < io_.size()) {
    boost::asio::post(*io_[ex - AV_EXEC_IO_BASE], std::move(fn));
    return AV_OK;
  }
  return AV_E_INVALID_ARG;
}

av_executor Runtime::current() const { return t_current; }

}  // namespace aviary
