#include "log_limiter.hpp"

namespace kafka {

bool LogLimiter::allow(const std::string& key, Clock::time_point now, uint64_t* suppressed) {
  std::lock_guard<std::mutex> lk(mu_);
  if (keys_.size() >= kMaxKeys && !keys_.count(key)) keys_.clear();  // bounded, whatever the keys
  Entry& e = keys_[key];
  if (e.seen && now - e.last < interval_) {
    ++e.suppressed;
    return false;
  }
  *suppressed = e.suppressed;
  e.suppressed = 0;
  e.last = now;
  e.seen = true;
  return true;
}

std::string LogLimiter::filter(const std::string& key, const std::string& msg) {
  uint64_t n = 0;
  if (!allow(key, Clock::now(), &n)) return {};
  if (n == 0) return msg;
  return msg + " (" + std::to_string(n) + " similar message" + (n == 1 ? "" : "s") + " suppressed)";
}

}  // namespace kafka
