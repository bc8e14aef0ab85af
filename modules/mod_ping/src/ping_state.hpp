// mod_ping: the per-session bookkeeping of server-side pings (XEP-0199 section 4.2), pure
// (no host calls; unit tested). The glue in mod_ping.cpp keeps exactly one timer per
// session and asks this state what to do each time it fires.
#pragma once

#include <cstdint>
#include <string>

namespace mod_ping {

struct PingConfig {
  uint64_t interval_ms = 60000;  // ping_interval: client inactivity before a ping
  uint64_t timeout_ms = 32000;   // ping_req_timeout: how long to wait for the answer
  bool kill = false;             // timeout_action: kill (true) | none (false)
};

// What the timer callback must do now.
struct TimerAction {
  enum Kind { none, send_ping, kill } kind = none;
  std::string ping_id;        // send_ping: the id of the IQ to send
  uint64_t next_delay_ms = 0;  // 0: no new timer (kill); otherwise start one with this delay
};

// The id of the n-th ping of session `serial` ("ping-<serial>-<n>").
std::string ping_id(uint64_t serial, uint64_t n);

class PingState {
 public:
  PingState(const PingConfig& cfg, uint64_t serial, uint64_t now_ms)
      : cfg_(cfg), serial_(serial), last_activity_ms_(now_ms) {}

  // Delay of the first timer after the session opened.
  uint64_t first_delay_ms() const { return cfg_.interval_ms; }

  // The client sent something: it is alive (the ping is due one interval after this).
  void on_activity(uint64_t now_ms) {
    if (now_ms > last_activity_ms_) last_activity_ms_ = now_ms;
  }

  // An IQ result/error with this id arrived from the session's JID. true when it answers
  // the pending ping (the caller then marks the IQ handled).
  bool on_response(const std::string& id, uint64_t now_ms);

  // The session's timer fired.
  TimerAction on_timer(uint64_t now_ms);

  bool waiting() const { return !pending_.empty(); }
  const std::string& pending_id() const { return pending_; }

 private:
  PingConfig cfg_;
  uint64_t serial_;
  uint64_t last_activity_ms_;
  uint64_t sent_ms_ = 0;
  uint64_t count_ = 0;
  std::string pending_;
};

}  // namespace mod_ping
