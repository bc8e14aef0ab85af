// mod_event_pusher_push: the in-memory cache of users' registrations (pure, thread-safe).
// A notification needs the recipient's registrations; the first lookup of a user loads them
// from SQL (asynchronously) while later lookups of that user wait behind the same load; then
// the cache answers at once, also "none" (most users have no registration). Any change in
// storage invalidates the user's entry. Bounded: past max_entries, loaded entries are evicted.
#pragma once

#include "push_logic.hpp"

#include <functional>
#include <mutex>
#include <unordered_map>

namespace push {

using Registrations = std::vector<Registration>;

class RegCache {
 public:
  using Waiter = std::function<void(bool ok, const Registrations&)>;
  explicit RegCache(size_t max_entries) : max_(max_entries ? max_entries : 1) {}

  struct Begin {
    enum class What { hit, wait, load } what = What::hit;
    Registrations regs;  // hit: the cached list
    uint64_t gen = 0;    // load: pass it back to loaded()
  };
  // [any-thread] hit: `regs` is the list and `w` is not kept (the caller continues with it).
  // wait: `w` runs when the load in flight ends. load: `w` is queued too, and the caller
  // must load the list and call loaded(owner, gen, ...).
  Begin begin(const std::string& owner, Waiter w);
  // [any-thread] Ends a load: every queued waiter runs (outside the lock, in order) with
  // the result, which is kept unless the load failed or the entry was invalidated since.
  void loaded(const std::string& owner, uint64_t gen, bool ok, Registrations regs);
  // [any-thread] The user's registrations changed in storage: forget them. A load in flight
  // still answers its waiters but its result is not kept.
  void invalidate(const std::string& owner);
  // [any-thread] Drops matching registrations from a cached list at once (a disable, before
  // storage confirms it); node absent = every node of that service.
  void remove(const std::string& owner, std::string_view pubsub_jid, const std::optional<std::string>& node);
  size_t size() const;

 private:
  struct Entry {
    bool loaded = false;
    bool stale = false;  // invalidated while loading
    uint64_t gen = 0;
    Registrations regs;
    std::vector<Waiter> waiters;
  };
  void evict_locked();
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> map_;
  uint64_t next_gen_ = 0;
  size_t max_;
};

}  // namespace push
