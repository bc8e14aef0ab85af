#include "core/login_cache.hpp"

#include "sasl/scram.hpp"

#include <openssl/crypto.h>

namespace aviary {

LoginCache::LoginCache(size_t max_entries) : process_key_(sasl::random_bytes(32)), max_(max_entries) {}

std::string LoginCache::key_of(std::string_view secret) const { return sasl::hash_digest(sasl::Hash::sha256, secret); }

std::string LoginCache::tag_of(std::string_view password) const {
  return sasl::hmac(sasl::Hash::sha256, process_key_, password);
}

bool LoginCache::known_good(std::string_view secret, std::string_view password) const {
  std::string key = key_of(secret), tag = tag_of(password);
  std::lock_guard<std::mutex> lk(mu_);
  auto it = map_.find(key);
  return it != map_.end() && it->second.size() == tag.size() &&
         CRYPTO_memcmp(it->second.data(), tag.data(), tag.size()) == 0;
}

void LoginCache::remember(std::string_view secret, std::string_view password) {
  std::string key = key_of(secret), tag = tag_of(password);
  std::lock_guard<std::mutex> lk(mu_);
  if (map_.size() >= max_) map_.clear();  // crude bound: a full cache starts over
  map_[std::move(key)] = std::move(tag);
}

}  // namespace aviary
