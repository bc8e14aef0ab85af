// The host side of "av.timer/1": one-shot timers on the main or a network io_context.
#pragma once

#include "core/runtime.hpp"

#include <aviary/ext/timer.h>

#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace aviary {

class Timers {
 public:
  explicit Timers(Runtime& rt);
  ~Timers();
  // [any-thread] See av_ext_timer_v1. 0 on an invalid executor.
  av_timer_id start(av_executor ex, uint64_t delay_ms, void (*fn)(void*), void* arg);
  bool cancel(av_timer_id id);
  static uint64_t now_ms();
  const av_ext_timer_v1* ext() const;

 private:
  struct Pending {
    std::unique_ptr<boost::asio::steady_timer> timer;
    void (*fn)(void*);
    void* arg;
  };
  void fire(av_timer_id id);
  Runtime& rt_;
  std::mutex mu_;
  std::unordered_map<av_timer_id, Pending> pending_;  // erased by whoever wins: fire or cancel
  std::atomic<av_timer_id> next_{1};
};

}  // namespace aviary
