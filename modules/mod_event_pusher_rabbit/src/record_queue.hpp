// One worker's bounded queue of encoded records (record.hpp), kept as a list of chunks:
// producers (hook threads) write a record straight into the last chunk under the lock; the one
// consumer (the worker) takes the first chunk whole and hands its buffer back for reuse,
// so in steady state nothing is allocated per event. Only a push into an empty queue wakes
// the worker (as av::BoundedQueue: one wake-up per burst).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "record.hpp"

namespace rabbit {

class RecordQueue {
 public:
  // capacity: records in all chunks (0 = no limit); a chunk closes at chunk_records
  // records or chunk_bytes bytes, whichever comes first.
  explicit RecordQueue(size_t capacity, size_t chunk_records = 256, size_t chunk_bytes = 64 * 1024)
      : cap_(capacity), chunk_records_(chunk_records), chunk_bytes_(chunk_bytes) {}

  enum class Push { ok, full, refused };
  // [any-thread, never blocks] append(std::string& chunk) appends one record to the chunk
  // and returns true, or returns false (refused; the queue drops what it appended). full:
  // the queue is full or closed and append was not called. append runs under the lock:
  // it must only format.
  template <class Append>
  Push try_append(Append&& append) {
    bool wake;
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (closed_ || (cap_ && count_ >= cap_)) return Push::full;
      wake = count_ == 0 && waiting_;
      std::string& bytes = open_chunk();
      const size_t before = bytes.size();
      if (!append(bytes)) {
        bytes.resize(before);
        drop_empty_chunk();
        return Push::refused;
      }
      ++chunks_.back().count;
      size_.store(++count_, std::memory_order_relaxed);
    }
    if (wake) cv_.notify_one();
    return Push::ok;
  }

  // [the consumer] Waits up to `timeout` until a record is queued or the queue is closed;
  // true when records are queued.
  bool wait(std::chrono::milliseconds timeout);
  // [the consumer] Moves the first chunk into `out` (the buffer `out` had is kept for
  // reuse). Returns the number of records taken (0 when empty).
  size_t take(Chunk& out);

  // After close(): pushes fail; take() returns what is left, then 0 at once.
  void close();
  bool closed() const;
  size_t size() const;
  // Without the lock: a recent value, enough to pick the shortest of several queues.
  size_t approx_size() const { return size_.load(std::memory_order_relaxed); }

 private:
  std::string& open_chunk();  // the chunk to append to (a new one when the last is full)
  void drop_empty_chunk();    // after a refusal: the last chunk again, if it holds nothing

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Chunk> chunks_;
  std::vector<std::string> spare_;  // emptied buffers, capacity kept
  size_t count_ = 0;                // records in chunks_
  size_t cap_, chunk_records_, chunk_bytes_;
  bool closed_ = false;
  bool waiting_ = false;
  std::atomic<size_t> size_{0};
};

}  // namespace rabbit
