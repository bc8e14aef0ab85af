// Authentication: the providers chosen by auth.methods, and the host's "av.auth/1"
// hashing extension. Callbacks may run on any thread.
#pragma once

#include <aviary/ext/auth_provider.h>

#include <functional>
#include <string>
#include <vector>

namespace aviary {

class AuthService {
 public:
  explicit AuthService(uint32_t scram_iterations);
  // [main] After modules started: pick providers named in `methods`, in that order.
  bool bind_providers(const std::vector<std::string>& methods, std::string* err);
  const av_auth_provider_v1* primary() const { return providers_.empty() ? nullptr : providers_.front(); }
  const av_ext_auth_v1* ext() const;

  using SecretCb = std::function<void(av_status, std::string secret)>;
  using BoolCb = std::function<void(av_status, bool)>;
  using DoneCb = std::function<void(av_status)>;
  using ListCb = std::function<void(av_status, std::vector<std::string>)>;
  using CountCb = std::function<void(av_status, int64_t)>;

  // Each returns false (and does not call cb) when no provider can do it.
  bool get_secret(const std::string& user, const std::string& server, SecretCb cb);
  bool check_password(const std::string& user, const std::string& server, const std::string& password, BoolCb cb);
  bool user_exists(const std::string& user, const std::string& server, BoolCb cb);
  bool register_user(const std::string& user, const std::string& server, const std::string& password, DoneCb cb);
  bool remove_user(const std::string& user, const std::string& server, DoneCb cb);
  bool set_password(const std::string& user, const std::string& server, const std::string& password, DoneCb cb);
  bool list_users(const std::string& server, ListCb cb);
  bool count_users(const std::string& server, CountCb cb);

  uint32_t iterations() const { return iterations_; }

 private:
  std::vector<const av_auth_provider_v1*> providers_;
  uint32_t iterations_;
};

}  // namespace aviary
