// Aviary C++ layer: a bounded multi-producer queue for a transport's own thread(s).
// Hook handlers push without blocking (a full queue refuses, the caller counts a drop);
// the transport thread waits for work. Only a push into an empty queue wakes the consumer:
// a consumer that is busy finds the rest when it comes back, so a burst costs one wake-up
// (a context switch per event was the largest cost of a transport). So it is meant for ONE
// consumer per queue (a worker and its own queue): with several consumers on one queue, a
// burst wakes only one of them and the others sleep until their timeout. Header-only.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>

namespace av {

template <class T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity = 0) : cap_(capacity) {}  // 0 = unbounded
  void set_capacity(size_t capacity) {
    std::lock_guard<std::mutex> lk(mu_);
    cap_ = capacity;
  }

  // [any-thread, never blocks] false when full or closed (the item is not taken).
  bool try_push(T&& v) {
    bool wake;
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (closed_ || (cap_ && q_.size() >= cap_)) return false;
      wake = q_.empty() && waiting_ > 0;
      q_.push_back(std::move(v));
      size_.store(q_.size(), std::memory_order_relaxed);
    }
    if (wake) cv_.notify_one();
    return true;
  }

  // Puts an item back at the front (a publish that failed and will be retried).
  void push_front(T&& v) {
    std::lock_guard<std::mutex> lk(mu_);
    q_.push_front(std::move(v));
    size_.store(q_.size(), std::memory_order_relaxed);
  }

  // Waits up to `timeout` for an item; nullopt on timeout, or when closed and empty.
  template <class Rep, class Period>
  std::optional<T> pop(std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock<std::mutex> lk(mu_);
    wait(lk, timeout);
    if (q_.empty()) return std::nullopt;
    T v = std::move(q_.front());
    q_.pop_front();
    size_.store(q_.size(), std::memory_order_relaxed);
    return v;
  }

  // Waits up to `timeout` for at least one item, then moves up to `max` items into `out`
  // (one lock for a whole batch). Returns how many.
  template <class Rep, class Period>
  size_t pop_batch(std::deque<T>& out, size_t max, std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock<std::mutex> lk(mu_);
    wait(lk, timeout);
    size_t n = 0;
    while (n < max && !q_.empty()) {
      out.push_back(std::move(q_.front()));
      q_.pop_front();
      ++n;
    }
    size_.store(q_.size(), std::memory_order_relaxed);
    return n;
  }

  // After close(): pushes fail, pop() drains what is left, then returns nullopt at once.
  void close() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      closed_ = true;
    }
    cv_.notify_all();
  }
  bool closed() const {
    std::lock_guard<std::mutex> lk(mu_);
    return closed_;
  }
  size_t size() const {
    std::lock_guard<std::mutex> lk(mu_);
    return q_.size();
  }
  // Without the lock: a recent value, enough to pick the shortest of several queues.
  size_t approx_size() const { return size_.load(std::memory_order_relaxed); }

 private:
  template <class Rep, class Period>
  void wait(std::unique_lock<std::mutex>& lk, std::chrono::duration<Rep, Period> timeout) {
    ++waiting_;
    cv_.wait_for(lk, timeout, [&] { return closed_ || !q_.empty(); });
    --waiting_;
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<T> q_;
  size_t cap_;
  bool closed_ = false;
  int waiting_ = 0;                // consumers inside wait()
  std::atomic<size_t> size_{0};    // q_.size(), readable without the lock
};

}  // namespace av
