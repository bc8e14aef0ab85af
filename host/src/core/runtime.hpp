// Threads: the main loop, N network threads (one io_context each; a connection stays on
// one for its life) and the bounded blocking pool.
#pragma once

#include "core/executors.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace aviary {

// An io_context whose first teardown phase (destroying every pending handler, see
// boost::asio::execution_context::shutdown) can be run before the destructor; see ~Runtime.
class IoContext : public boost::asio::io_context {
 public:
  using boost::asio::io_context::io_context;
  void destroy_handlers() { shutdown(); }
};

class Runtime final : public Executors {
 public:
  Runtime(int io_threads, int blocking_threads, size_t blocking_queue_max = 100000);
  ~Runtime() override;

  boost::asio::io_context& main() { return main_; }
  boost::asio::io_context& io(size_t i) { return *io_[i]; }
  size_t io_count() const { return io_.size(); }
  size_t next_io();  // round-robin pick for a new connection

  void start_io();   // spawn network and blocking threads
  void stop_io();    // stop and join them
  // After stop_io: runs the handlers ready on main and on every network context on the
  // calling thread (current() tells which context each belongs to). Returns how many ran.
  size_t run_ready();

  av_status post(av_executor ex, std::function<void()> fn) override;
  av_executor current() const override;

 private:
  IoContext main_;
  std::vector<std::unique_ptr<IoContext>> io_;
  using Guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<Guard> guards_;
  std::vector<std::thread> threads_;
  std::unique_ptr<boost::asio::thread_pool> blocking_;
  int blocking_threads_;
  size_t blocking_max_;
  std::atomic<size_t> blocking_pending_{0};
  std::atomic<size_t> rr_{0};
};

}  // namespace aviary
