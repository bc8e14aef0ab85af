// Bound client sessions by JID. Sharded by bare JID so lookups from different network
// threads rarely contend; no global lock.
#pragma once

#include "core/jid.hpp"

#include <aviary/types.h>

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace aviary {

class C2sSession;

struct SessionEntry {
  std::shared_ptr<C2sSession> session;
  std::string resource;
  int priority = 0;
  bool available = false;  // sent initial presence and not unavailable since
};

class SessionManager {
 public:
  explicit SessionManager(size_t vhost_count);
  // Register a bound session; returns the session it replaces (same full JID), if any.
  std::shared_ptr<C2sSession> add(const Jid& jid, uint32_t vhost_index, std::shared_ptr<C2sSession> s);
  void remove(const Jid& jid, uint32_t vhost_index, const C2sSession* s);
  void set_presence(const Jid& jid, const C2sSession* s, bool available, int priority);
  std::shared_ptr<C2sSession> find(const Jid& full) const;
  std::vector<SessionEntry> find_bare(const std::string& bare) const;
  size_t count(int vhost_index = -1) const;  // -1 = all
  std::vector<std::string> list(const std::string& domain = {}) const;  // full JIDs; "" = all

  // Every connection (bound or not) by its token, for av.sessions/1 send_to (pre-auth replies,
  // nonzas). Tokens are never reused.
  uint64_t add_connection(std::weak_ptr<C2sSession> s);
  void remove_connection(uint64_t token);
  std::shared_ptr<C2sSession> connection(uint64_t token) const;

 private:
  static constexpr size_t kShards = 64;
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, std::vector<SessionEntry>> by_bare;
  };
  Shard& shard(const std::string& bare) const;
  mutable std::array<Shard, kShards> shards_;
  std::vector<std::unique_ptr<std::atomic<size_t>>> counts_;
  mutable std::mutex conn_mu_;
  std::unordered_map<uint64_t, std::weak_ptr<C2sSession>> conns_;
  uint64_t next_token_ = 1;
};

}  // namespace aviary
