#include "net/session_manager.hpp"

#include <functional>

namespace aviary {

SessionManager::SessionManager(size_t vhost_count) {
  for (size_t i = 0; i < vhost_count; ++i) counts_.push_back(std::make_unique<std::atomic<size_t>>(0));
}

SessionManager::Shard& SessionManager::shard(const std::string& bare) const {
  return shards_[std::hash<std::string>{}(bare) % kShards];
}

std::shared_ptr<C2sSession> SessionManager::add(const Jid& jid, uint32_t vh, std::shared_ptr<C2sSession> s) {
  std::string bare = jid.bare();
  Shard& sh = shard(bare);
  std::shared_ptr<C2sSession> old;
  std::lock_guard<std::mutex> lk(sh.mu);
  auto& list = sh.by_bare[bare];
  for (auto& e : list)
    if (e.resource == jid.resource) {
      old = std::move(e.session);
      e = SessionEntry{std::move(s), jid.resource, 0, false};
      return old;
    }
  list.push_back(SessionEntry{std::move(s), jid.resource, 0, false});
  if (vh < counts_.size()) counts_[vh]->fetch_add(1, std::memory_order_relaxed);
  return old;
}

void SessionManager::remove(const Jid& jid, uint32_t vh, const C2sSession* s) {
  std::string bare = jid.bare();
  Shard& sh = shard(bare);
  std::lock_guard<std::mutex> lk(sh.mu);
  auto it = sh.by_bare.find(bare);
  if (it == sh.by_bare.end()) return;
  auto& list = it->second;
  for (size_t i = 0; i < list.size(); ++i)
    if (list[i].session.get() == s) {
      list.erase(list.begin() + static_cast<long>(i));
      if (vh < counts_.size()) counts_[vh]->fetch_sub(1, std::memory_order_relaxed);
      break;
    }
  if (list.empty()) sh.by_bare.erase(it);
}

void SessionManager::set_presence(const Jid& jid, const C2sSession* s, bool available, int priority) {
  std::string bare = jid.bare();
  Shard& sh = shard(bare);
  std::lock_guard<std::mutex> lk(sh.mu);
  auto it = sh.by_bare.find(bare);
  if (it == sh.by_bare.end()) return;
  for (auto& e : it->second)
    if (e.session.get() == s) {
      e.available = available;
      e.priority = priority;
    }
}

std::shared_ptr<C2sSession> SessionManager::find(const Jid& full) const {
  std::string bare = full.bare();
  Shard& sh = shard(bare);
  std::lock_guard<std::mutex> lk(sh.mu);
  auto it = sh.by_bare.find(bare);
  if (it == sh.by_bare.end()) return nullptr;
  for (auto& e : it->second)
    if (e.resource == full.resource) return e.session;
  return nullptr;
}

std::vector<SessionEntry> SessionManager::find_bare(const std::string& bare) const {
  Shard& sh = shard(bare);
  std::lock_guard<std::mutex> lk(sh.mu);
  auto it = sh.by_bare.find(bare);
  if (it == sh.by_bare.end()) return {};
  return it->second;
}

size_t SessionManager::count(int vh) const {
  if (vh >= 0) return static_cast<size_t>(vh) < counts_.size() ? counts_[vh]->load() : 0;
  size_t n = 0;
  for (auto& c : counts_) n += c->load();
  return n;
}

std::vector<std::string> SessionManager::list(const std::string& domain) const {
  std::vector<std::string> out;
  for (auto& sh : shards_) {
    std::lock_guard<std::mutex> lk(sh.mu);
    for (auto& [bare, entries] : sh.by_bare) {
      auto at = bare.find('@');
      if (!domain.empty() && bare.compare(at + 1, std::string::npos, domain) != 0) continue;
      for (auto& e : entries) out.push_back(bare + "/" + e.resource);
    }
  }
  return out;
}

uint64_t SessionManager::add_connection(std::weak_ptr<C2sSession> s) {
  std::lock_guard<std::mutex> lk(conn_mu_);
  uint64_t t = next_token_++;
  conns_.emplace(t, std::move(s));
  return t;
}

void SessionManager::remove_connection(uint64_t token) {
  std::lock_guard<std::mutex> lk(conn_mu_);
  conns_.erase(token);
}

std::shared_ptr<C2sSession> SessionManager::connection(uint64_t token) const {
  std::lock_guard<std::mutex> lk(conn_mu_);
  auto it = conns_.find(token);
  return it == conns_.end() ? nullptr : it->second.lock();
}

}  // namespace aviary
