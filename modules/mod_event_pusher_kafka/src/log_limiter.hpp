// Rate-limited logging for the Kafka transport: a broker outage makes librdkafka report the
// same error many times a second, and the server log must stay readable. At most one line
// per key (an error code, a librdkafka log facility) per interval; the next line that passes
// says how many were suppressed in between. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace kafka {

class LogLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit LogLimiter(std::chrono::milliseconds interval) : interval_(interval) {}

  // True when a line for `key` may be logged at `now`; *suppressed is then the number of
  // lines of that key refused since the last one allowed.
  bool allow(const std::string& key, Clock::time_point now, uint64_t* suppressed);

  // The line to log for `msg`, or "" when it is suppressed (uses Clock::now()).
  std::string filter(const std::string& key, const std::string& msg);

 private:
  struct Entry {
    Clock::time_point last{};
    uint64_t suppressed = 0;
    bool seen = false;
  };
  static constexpr size_t kMaxKeys = 1024;
  std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> keys_;
};

}  // namespace kafka
