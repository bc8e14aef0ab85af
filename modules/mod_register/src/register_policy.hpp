// Who may register in band (XEP-0077), as pure logic: the ip_access rules (first match wins,
// "allow:CIDR" / "deny:CIDR"), the per-IP registration_timeout, and password strength.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mod_register {

// One "allow:10.0.0.0/8" / "deny:::1/128" rule.
struct IpRule {
  bool allow = true;
  uint8_t addr[16] = {};  // IPv4 mapped to ::ffff:a.b.c.d
  int prefix = 0;         // in bits of the 128-bit form
};

// Parses "allow:ADDR[/LEN]" or "deny:ADDR[/LEN]"; nullopt with *err on bad input.
std::optional<IpRule> parse_ip_rule(std::string_view text, std::string* err);
// ADDR as 16 bytes (IPv4 mapped); false when not an address.
bool parse_ip(std::string_view text, uint8_t out[16]);
// First matching rule decides; no rule matches: allowed.
bool ip_allowed(const std::vector<IpRule>& rules, std::string_view ip);

// At most one registration per IP every `timeout` (0 = no limit). Thread-safe.
class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RateLimiter(std::chrono::seconds timeout) : timeout_(timeout) {}
  // True (and records `now`) when `ip` may register now.
  bool try_acquire(const std::string& ip, Clock::time_point now = Clock::now());
  // Gives the slot back (the registration failed for another reason).
  void release(const std::string& ip);

 private:
  std::chrono::seconds timeout_;
  std::mutex mu_;
  std::map<std::string, Clock::time_point> last_;
};

// Estimated entropy of a password in bits (character classes x length), for
// password_strength (MongooseIM's option: 0 = no check).
double password_entropy(std::string_view pw);

}  // namespace mod_register
