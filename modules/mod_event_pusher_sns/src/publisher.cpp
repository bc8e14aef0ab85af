#include "publisher.hpp"

namespace sns {

using namespace std::chrono;

namespace {

// "HTTP 403: <Code>SignatureDoesNotMatch</Code>..." on one line, short.
std::string describe(const av::PostResult& r) {
  if (!r.delivered) return r.error;
  std::string out = "HTTP " + std::to_string(r.status);
  if (!r.body.empty()) {
    std::string b = r.body.substr(0, 300);
    for (char& c : b)
      if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    out += ": " + b;
  }
  return out;
}

}  // namespace

Publisher::Publisher(Settings s, TransportFactory make, LogFn log, BuildFn build)
    : s_(std::move(s)), make_(std::move(make)), log_(std::move(log)), build_(std::move(build)) {
  if (!build_) build_ = [this](const Publication& p) { return signed_publish(s_, p, amz_date_now()); };
}

Publisher::~Publisher() { stop(milliseconds(0)); }

void Publisher::start() {
  for (int i = 0; i < s_.pool_size; ++i) transports_.push_back(make_());
  std::random_device rd;
  for (auto& t : transports_) {
    av::PostTransport* tp = t.get();
    const unsigned seed = rd();
    {
      std::lock_guard<std::mutex> lk(mu_);
      ++running_;
    }
    try {
      threads_.emplace_back([this, tp, seed] { run(*tp, seed); });
    } catch (...) {
      std::lock_guard<std::mutex> lk(mu_);
      --running_;
      throw;
    }
  }
}

bool Publisher::submit(Publication p) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!closed_ && ready_.size() + waiting_.size() < s_.max_queue_len) {
      ready_.push_back(Job{std::move(p), s_.retry_count});
      cv_.notify_one();
      return true;
    }
  }
  stats_.dropped.fetch_add(1, std::memory_order_relaxed);
  if (!dropping_.exchange(true))
    log_(true, "queue full (max_queue_len " + std::to_string(s_.max_queue_len) +
                   ", retries waiting included), dropping events (counted, not logged, until the queue drains)");
  return false;
}

size_t Publisher::queued() const {
  std::lock_guard<std::mutex> lk(mu_);
  return ready_.size() + waiting_.size();
}

void Publisher::stop(milliseconds grace) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (stopped_) return;
    stopped_ = closed_ = true;
  }
  cv_.notify_all();
  {
    std::unique_lock<std::mutex> lk(mu_);
    done_cv_.wait_for(lk, grace, [&] { return running_ == 0; });
    abort_ = true;  // attempts in flight give up, waiting workers leave
  }
  cv_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  std::lock_guard<std::mutex> lk(mu_);
  stats_.dropped.fetch_add(ready_.size() + waiting_.size(), std::memory_order_relaxed);
  ready_.clear();
  waiting_.clear();
}

bool Publisher::next_job(Job& out) {
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    if (abort_) return false;
    const auto now = Clock::now();
    while (!waiting_.empty() && waiting_.begin()->first <= now) {
      ready_.push_back(std::move(waiting_.begin()->second));
      waiting_.erase(waiting_.begin());
    }
    if (!ready_.empty()) {
      out = std::move(ready_.front());
      ready_.pop_front();
      if (ready_.empty()) dropping_ = false;
      return true;
    }
    if (closed_ && waiting_.empty()) return false;
    if (waiting_.empty()) {
      cv_.wait(lk);
    } else {
      // A copy: wait_until reads the time point again after waking, when another worker may
      // have taken (and freed) that entry.
      const Clock::time_point due = waiting_.begin()->first;
      cv_.wait_until(lk, due);
    }
  }
}

void Publisher::run(av::PostTransport& t, unsigned seed) {
  std::mt19937 rng(seed);
  Job job;
  while (next_job(job)) {
    av::PostRequest req;
    try {
      req = build_(job.pub);
    } catch (const std::exception& e) {  // cannot happen with valid settings; never retried
      stats_.failed.fetch_add(1, std::memory_order_relaxed);
      log_(true, "cannot build the publish request for " + job.pub.topic_arn + ": " + e.what());
      continue;
    }
    const av::PostResult r = t.post(req, s_.request_timeout_ms, abort_);
    if (r.ok()) {
      stats_.published.fetch_add(1, std::memory_order_relaxed);
      if (failing_.exchange(false)) log_(false, "publishing to SNS works again");
      continue;
    }
    if (abort_) {
      stats_.dropped.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (job.retry_left > 0) {
      const int draw = s_.retry_time_ms > 0 ? std::uniform_int_distribution<int>(1, s_.retry_time_ms)(rng) : 0;
      const int64_t delay = backoff_ms(s_.retry_count, job.retry_left, s_.retry_time_ms, draw);
      if (!failing_.exchange(true))
        log_(true, "publish to " + job.pub.topic_arn + " failed (" + describe(r) + "); retrying in " +
                       std::to_string(delay) + " ms (at most " + std::to_string(s_.retry_count) +
                       " retries; further failures are counted, not logged, until a publish succeeds)");
      --job.retry_left;
      stats_.retried.fetch_add(1, std::memory_order_relaxed);
      {
        std::lock_guard<std::mutex> lk(mu_);
        waiting_.emplace(Clock::now() + milliseconds(delay), std::move(job));
      }
      cv_.notify_one();
    } else {
      stats_.failed.fetch_add(1, std::memory_order_relaxed);
      if (!failing_.exchange(true))
        log_(true, "publish to " + job.pub.topic_arn + " failed (" + describe(r) + "); dropped after " +
                       std::to_string(s_.retry_count) +
                       " retries (further failures are counted, not logged, until a publish succeeds)");
    }
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    --running_;
  }
  done_cv_.notify_all();
}

}  // namespace sns
