#include "register_policy.hpp"

#include <arpa/inet.h>

#include <cmath>
#include <cstring>
#include <set>

namespace mod_register {

bool parse_ip(std::string_view text, uint8_t out[16]) {
  std::string t(text);
  in6_addr a6{};
  if (inet_pton(AF_INET6, t.c_str(), &a6) == 1) {
    std::memcpy(out, &a6, 16);
    return true;
  }
  in_addr a4{};
  if (inet_pton(AF_INET, t.c_str(), &a4) == 1) {
    std::memset(out, 0, 10);
    out[10] = out[11] = 0xff;
    std::memcpy(out + 12, &a4, 4);
    return true;
  }
  return false;
}

std::optional<IpRule> parse_ip_rule(std::string_view text, std::string* err) {
  IpRule r;
  auto colon = text.find(':');
  std::string_view policy = text.substr(0, colon == std::string_view::npos ? 0 : colon);
  if (policy == "allow") r.allow = true;
  else if (policy == "deny") r.allow = false;
  else {
    if (err) *err = "'" + std::string(text) + "': expected allow:ADDRESS[/LENGTH] or deny:ADDRESS[/LENGTH]";
    return std::nullopt;
  }
  std::string_view rest = text.substr(colon + 1);
  auto slash = rest.rfind('/');
  std::string_view addr = rest.substr(0, slash);
  bool v4 = addr.find(':') == std::string_view::npos;
  if (!parse_ip(addr, r.addr)) {
    if (err) *err = "'" + std::string(text) + "': '" + std::string(addr) + "' is not an IP address";
    return std::nullopt;
  }
  int max = v4 ? 32 : 128;
  int len = max;
  if (slash != std::string_view::npos) {
    std::string l(rest.substr(slash + 1));
    char* end = nullptr;
    long v = std::strtol(l.c_str(), &end, 10);
    if (l.empty() || *end || v < 0 || v > max) {
      if (err) *err = "'" + std::string(text) + "': prefix length must be 0.." + std::to_string(max);
      return std::nullopt;
    }
    len = static_cast<int>(v);
  }
  r.prefix = v4 ? 96 + len : len;
  return r;
}

namespace {
bool matches(const IpRule& r, const uint8_t ip[16]) {
  int bits = r.prefix;
  for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((ip[i] & mask) != (r.addr[i] & mask)) return false;
  }
  return true;
}
}  // namespace

bool ip_allowed(const std::vector<IpRule>& rules, std::string_view ip) {
  uint8_t a[16];
  if (!parse_ip(ip, a)) return rules.empty();  // unknown peer: only when nothing is configured
  for (auto& r : rules)
    if (matches(r, a)) return r.allow;
  return true;
}

bool RateLimiter::try_acquire(const std::string& ip, Clock::time_point now) {
  if (timeout_.count() == 0) return true;
  std::lock_guard<std::mutex> lk(mu_);
  // Forget entries that no longer limit anything, so the map stays small.
  for (auto it = last_.begin(); it != last_.end();) it = now - it->second >= timeout_ ? last_.erase(it) : std::next(it);
  auto it = last_.find(ip);
  if (it != last_.end()) return false;
  last_[ip] = now;
  return true;
}

void RateLimiter::release(const std::string& ip) {
  std::lock_guard<std::mutex> lk(mu_);
  last_.erase(ip);
}

double password_entropy(std::string_view pw) {
  bool lower = false, upper = false, digit = false, other = false;
  std::set<char> distinct;
  for (unsigned char c : pw) {
    distinct.insert(static_cast<char>(c));
    if (c >= 'a' && c <= 'z') lower = true;
    else if (c >= 'A' && c <= 'Z') upper = true;
    else if (c >= '0' && c <= '9') digit = true;
    else other = true;
  }
  double pool = (lower ? 26 : 0) + (upper ? 26 : 0) + (digit ? 10 : 0) + (other ? 32 : 0);
  if (pool == 0) return 0;
  // Repeated characters add little: count distinct characters, not the length.
  return static_cast<double>(distinct.size()) * std::log2(pool);
}

}  // namespace mod_register
