#include "record_queue.hpp"

namespace rabbit {

namespace {
constexpr size_t kSpareMax = 4;  // buffers kept for reuse
}

std::string& RecordQueue::open_chunk() {
  if (chunks_.empty() || chunks_.back().count >= chunk_records_ || chunks_.back().bytes.size() >= chunk_bytes_) {
    chunks_.emplace_back();
    if (!spare_.empty()) {
      chunks_.back().bytes.swap(spare_.back());
      spare_.pop_back();
    }
  }
  return chunks_.back().bytes;
}

void RecordQueue::drop_empty_chunk() {
  if (chunks_.empty() || chunks_.back().count > 0) return;
  if (spare_.size() < kSpareMax) spare_.push_back(std::move(chunks_.back().bytes));
  chunks_.pop_back();
}

bool RecordQueue::wait(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lk(mu_);
  if (count_ == 0 && !closed_) {
    waiting_ = true;
    cv_.wait_for(lk, timeout, [&] { return closed_ || count_ > 0; });
    waiting_ = false;
  }
  return count_ > 0;
}

size_t RecordQueue::take(Chunk& out) {
  std::lock_guard<std::mutex> lk(mu_);
  if (spare_.size() < kSpareMax && out.bytes.capacity() > 0) {
    out.bytes.clear();
    spare_.push_back(std::move(out.bytes));
  }
  out = Chunk{};
  if (chunks_.empty()) return 0;
  out = std::move(chunks_.front());
  chunks_.pop_front();
  count_ -= out.count;
  size_.store(count_, std::memory_order_relaxed);
  return out.count;
}

void RecordQueue::close() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

bool RecordQueue::closed() const {
  std::lock_guard<std::mutex> lk(mu_);
  return closed_;
}

size_t RecordQueue::size() const {
  std::lock_guard<std::mutex> lk(mu_);
  return count_;
}

}  // namespace rabbit
