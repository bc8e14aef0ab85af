#include <catch2/catch.hpp>

#include "ping_state.hpp"

using namespace mod_ping;

TEST_CASE("ping ids are unique per session and count", "[mod_ping]") {
  CHECK(ping_id(7, 1) == "ping-7-1");
  CHECK(ping_id(7, 2) != ping_id(8, 2));
}

TEST_CASE("an idle session is pinged after the interval and stays when it answers", "[mod_ping]") {
  PingState s({1000, 500, true}, 3, 0);
  CHECK(s.first_delay_ms() == 1000);
  auto a = s.on_timer(1000);
  REQUIRE(a.kind == TimerAction::send_ping);
  CHECK(a.ping_id == "ping-3-1");
  CHECK(a.next_delay_ms == 500);
  CHECK(s.waiting());
  CHECK_FALSE(s.on_response("ping-3-9", 1100));  // not ours
  CHECK(s.on_response("ping-3-1", 1200));
  CHECK_FALSE(s.waiting());
  CHECK_FALSE(s.on_response("ping-3-1", 1200));  // answered twice: the second is not ours
  // The timeout timer still fires: the session was active at 1200, next check at 2200.
  a = s.on_timer(1500);
  CHECK(a.kind == TimerAction::none);
  CHECK(a.next_delay_ms == 700);
  a = s.on_timer(2200);
  CHECK(a.kind == TimerAction::send_ping);
  CHECK(a.ping_id == "ping-3-2");
}

TEST_CASE("activity postpones the ping", "[mod_ping]") {
  PingState s({1000, 500, false}, 1, 0);
  s.on_activity(600);
  auto a = s.on_timer(1000);
  CHECK(a.kind == TimerAction::none);
  CHECK(a.next_delay_ms == 600);
  s.on_activity(100);  // clocks never go back
  a = s.on_timer(1600);
  CHECK(a.kind == TimerAction::send_ping);
}

TEST_CASE("no answer: kill, or with timeout_action none carry on", "[mod_ping]") {
  PingState k({1000, 500, true}, 1, 0);
  REQUIRE(k.on_timer(1000).kind == TimerAction::send_ping);
  auto a = k.on_timer(1200);  // early wake-up: wait for the rest
  CHECK(a.kind == TimerAction::none);
  CHECK(a.next_delay_ms == 300);
  a = k.on_timer(1500);
  CHECK(a.kind == TimerAction::kill);
  CHECK(a.next_delay_ms == 0);

  PingState n({1000, 500, false}, 2, 0);
  REQUIRE(n.on_timer(1000).kind == TimerAction::send_ping);
  a = n.on_timer(1500);
  CHECK(a.kind == TimerAction::none);
  CHECK(a.next_delay_ms == 1000);
  CHECK_FALSE(n.waiting());
  CHECK(n.on_timer(2500).kind == TimerAction::send_ping);
}
