// Remembers passwords that passed a full PBKDF2 check, so that the next SASL PLAIN login of
// the same user costs one HMAC instead of thousands of hash rounds (DESIGN.md: "cache what
// the next login needs"). Entries are keyed by a digest of the stored credential, so a
// password change (new salt) invalidates them without any bookkeeping. Only an HMAC of the
// password under a per-process random key is held, in memory, never on disk. A miss or a
// mismatch always falls back to the full check, so wrong passwords cost the same as before.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace aviary {

class LoginCache {
 public:
  explicit LoginCache(size_t max_entries = 200000);
  // [any-thread] True when `password` is the one last verified against `secret`.
  bool known_good(std::string_view secret, std::string_view password) const;
  // [any-thread] Record a successful full verification.
  void remember(std::string_view secret, std::string_view password);

 private:
  std::string key_of(std::string_view secret) const;
  std::string tag_of(std::string_view password) const;
  std::string process_key_;
  size_t max_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::string> map_;
};

}  // namespace aviary
