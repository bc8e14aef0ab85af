#include "ping_state.hpp"

namespace mod_ping {

std::string ping_id(uint64_t serial, uint64_t n) {
  return "ping-" + std::to_string(serial) + "-" + std::to_string(n);
}

bool PingState::on_response(const std::string& id, uint64_t now_ms) {
  if (pending_.empty() || id != pending_) return false;
  pending_.clear();
  on_activity(now_ms);
  return true;
}

TimerAction PingState::on_timer(uint64_t now_ms) {
  TimerAction a;
  if (!pending_.empty()) {
    uint64_t waited = now_ms > sent_ms_ ? now_ms - sent_ms_ : 0;
    if (waited < cfg_.timeout_ms) {  // fired early: wait for the rest
      a.next_delay_ms = cfg_.timeout_ms - waited;
      return a;
    }
    pending_.clear();
    if (cfg_.kill) {
      a.kind = TimerAction::kill;
      return a;
    }
    // timeout_action none: forget this ping, count from now.
    last_activity_ms_ = now_ms;
    a.next_delay_ms = cfg_.interval_ms;
    return a;
  }
  uint64_t idle = now_ms > last_activity_ms_ ? now_ms - last_activity_ms_ : 0;
  if (idle < cfg_.interval_ms) {  // the client was active meanwhile
    a.next_delay_ms = cfg_.interval_ms - idle;
    return a;
  }
  a.kind = TimerAction::send_ping;
  a.ping_id = ping_id(serial_, ++count_);
  pending_ = a.ping_id;
  sent_ms_ = now_ms;
  a.next_delay_ms = cfg_.timeout_ms;
  return a;
}

}  // namespace mod_ping
