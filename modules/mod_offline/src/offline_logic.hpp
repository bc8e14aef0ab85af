// mod_offline: pure logic (no host calls; unit tested): which messages to store (XEP-0160,
// XEP-0085, XEP-0334), the per-user limit, XEP-0023 expiry, XEP-0203/XEP-0082 delay stamps,
// the SQL text per dialect, and a per-key FIFO that keeps one user's stores in order.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mod_offline {

// ---- what to store ----
struct Child {
  std::string name, xmlns;
};

enum class Decision {
  store,     // store it (set handled)
  discard,   // handled, silently not stored (standalone chat states, no-store hint, empty)
  not_ours,  // leave unhandled: the host bounces it (type error/groupchat/headline)
};

// `type` is the message's type attribute ("" = normal), `children` its child elements.
Decision classify(const std::string& type, const std::vector<Child>& children);

// ---- limit ----
// max <= 0 means no limit. true when one more message does not fit.
inline bool limit_reached(int64_t stored, int64_t max) { return max > 0 && stored >= max; }

// ---- XEP-0023 expiry ----
// The 'seconds' attribute of <x xmlns='jabber:x:expire'/>: the absolute expiry time in
// microseconds, or nullopt when absent/invalid.
std::optional<int64_t> expire_at(const std::string& seconds_attr, int64_t now_us);

// ---- XEP-0203 delay ----
// XEP-0082 DateTime with microseconds and 'Z': "2024-01-02T03:04:05.000006Z".
std::string stamp(int64_t unix_us);
// <delay xmlns='urn:xmpp:delay' from='domain' stamp='...'>Offline Storage</delay>
std::string delay_xml(const std::string& domain, int64_t unix_us);

// ---- SQL (MongooseIM's offline_message table) ----
enum class Dialect { sqlite, pgsql, mysql };
// The schema, one statement per entry.
std::vector<std::string> schema(Dialect d);
// INSERT of one message, guarded by the limit in the same statement (max <= 0: no guard).
// Params: timestamp, expire (NULL ok), server, username, from_jid, packet[, server, username].
std::string insert_sql(Dialect d, int64_t max);
// Params: server, username, now_us. Columns: id, timestamp, packet, in id order.
std::string select_sql();
// Params: server, username, then `n` ids.
std::string delete_ids_sql(size_t n);

// ---- per-key FIFO ----
// Jobs of one key run one at a time, in arrival order; different keys run in parallel.
template <class T>
class KeyedQueue {
 public:
  // Queues job; true when the caller must start it now (nothing else was running for key).
  bool push(const std::string& key, T job) {
    auto& q = q_[key];
    q.push_back(std::move(job));
    return q.size() == 1;
  }
  // The running job of key finished: returns the next one to start, if any.
  std::optional<T> next(const std::string& key) {
    auto it = q_.find(key);
    if (it == q_.end()) return std::nullopt;
    if (!it->second.empty()) it->second.pop_front();
    if (it->second.empty()) {
      q_.erase(it);
      return std::nullopt;
    }
    return it->second.front();
  }
  size_t keys() const { return q_.size(); }

 private:
  std::unordered_map<std::string, std::deque<T>> q_;
};

}  // namespace mod_offline
