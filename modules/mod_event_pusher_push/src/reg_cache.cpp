#include "reg_cache.hpp"

#include <algorithm>

namespace push {

RegCache::Begin RegCache::begin(const std::string& owner, Waiter w) {
  std::lock_guard<std::mutex> lk(mu_);
  Begin b;
  auto it = map_.find(owner);
  if (it != map_.end()) {
    if (it->second.loaded) {
      b.what = Begin::What::hit;
      b.regs = it->second.regs;
      return b;
    }
    it->second.waiters.push_back(std::move(w));
    b.what = Begin::What::wait;
    return b;
  }
  if (map_.size() >= max_) evict_locked();
  Entry& e = map_[owner];
  e.gen = ++next_gen_;
  e.waiters.push_back(std::move(w));
  b.what = Begin::What::load;
  b.gen = e.gen;
  return b;
}

void RegCache::loaded(const std::string& owner, uint64_t gen, bool ok, Registrations regs) {
  std::vector<Waiter> waiters;
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = map_.find(owner);
    if (it != map_.end() && !it->second.loaded && it->second.gen == gen) {
      waiters = std::move(it->second.waiters);
      if (ok && !it->second.stale) {
        it->second.loaded = true;
        it->second.waiters.clear();
        it->second.regs = regs;
      } else {
        map_.erase(it);
      }
    }
  }
  for (auto& w : waiters) w(ok, regs);
}

void RegCache::invalidate(const std::string& owner) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = map_.find(owner);
  if (it == map_.end()) return;
  if (it->second.loaded)
    map_.erase(it);
  else
    it->second.stale = true;
}

void RegCache::remove(const std::string& owner, std::string_view pubsub_jid, const std::optional<std::string>& node) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = map_.find(owner);
  if (it == map_.end()) return;
  if (!it->second.loaded) {
    it->second.stale = true;
    return;
  }
  auto& r = it->second.regs;
  r.erase(std::remove_if(r.begin(), r.end(), [&](const Registration& x) { return matches(x, pubsub_jid, node); }),
          r.end());
}

size_t RegCache::size() const {
  std::lock_guard<std::mutex> lk(mu_);
  return map_.size();
}

void RegCache::evict_locked() {
  // Loaded entries only (a loading one has waiters); a sixteenth at a time, so that a full
  // cache does not scan on every miss.
  size_t want = max_ / 16 + 1;
  for (auto it = map_.begin(); it != map_.end() && want > 0;) {
    if (it->second.loaded) {
      it = map_.erase(it);
      --want;
    } else {
      ++it;
    }
  }
}

}  // namespace push
