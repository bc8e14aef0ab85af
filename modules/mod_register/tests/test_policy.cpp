#include "register_policy.hpp"

#include <catch2/catch.hpp>

using namespace mod_register;

TEST_CASE("ip rules: parse, first match wins, IPv4 and IPv6", "[register]") {
  std::string err;
  std::vector<IpRule> rules;
  for (auto t : {"deny:10.1.0.0/16", "allow:10.0.0.0/8", "deny:0.0.0.0/0", "allow:::1"}) {
    auto r = parse_ip_rule(t, &err);
    REQUIRE(r);
    rules.push_back(*r);
  }
  CHECK_FALSE(ip_allowed(rules, "10.1.2.3"));
  CHECK(ip_allowed(rules, "10.2.2.3"));
  CHECK_FALSE(ip_allowed(rules, "192.168.1.1"));
  CHECK(ip_allowed(rules, "::1"));
  CHECK(ip_allowed(rules, "2001:db8::1"));  // IPv6, no IPv6 rule matches it
  CHECK(ip_allowed({}, "127.0.0.1"));
}

TEST_CASE("ip rules: bad input gets a clear error", "[register]") {
  std::string err;
  CHECK_FALSE(parse_ip_rule("maybe:1.2.3.4", &err));
  CHECK(err == "'maybe:1.2.3.4': expected allow:ADDRESS[/LENGTH] or deny:ADDRESS[/LENGTH]");
  CHECK_FALSE(parse_ip_rule("allow:1.2.3", &err));
  CHECK(err == "'allow:1.2.3': '1.2.3' is not an IP address");
  CHECK_FALSE(parse_ip_rule("deny:1.2.3.4/33", &err));
  CHECK(err == "'deny:1.2.3.4/33': prefix length must be 0..32");
  CHECK(parse_ip_rule("deny:2001:db8::/32", &err));
}

TEST_CASE("rate limiter: one registration per IP per timeout", "[register]") {
  RateLimiter rl(std::chrono::seconds(600));
  auto t0 = RateLimiter::Clock::now();
  CHECK(rl.try_acquire("1.2.3.4", t0));
  CHECK_FALSE(rl.try_acquire("1.2.3.4", t0 + std::chrono::seconds(10)));
  CHECK(rl.try_acquire("5.6.7.8", t0 + std::chrono::seconds(10)));
  CHECK(rl.try_acquire("1.2.3.4", t0 + std::chrono::seconds(601)));
  rl.release("5.6.7.8");
  CHECK(rl.try_acquire("5.6.7.8", t0 + std::chrono::seconds(20)));
  RateLimiter none(std::chrono::seconds(0));
  CHECK(none.try_acquire("1.2.3.4", t0));
  CHECK(none.try_acquire("1.2.3.4", t0));
}

TEST_CASE("password entropy grows with classes and distinct characters", "[register]") {
  CHECK(password_entropy("") == 0);
  CHECK(password_entropy("aaaaaaaa") < password_entropy("abcdefgh"));
  CHECK(password_entropy("abcdefgh") < password_entropy("abcdEFG1"));
  CHECK(password_entropy("Tr0ub4dor&3") > 50);
}
