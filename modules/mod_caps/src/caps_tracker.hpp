// mod_caps pure logic: which full JID advertised which caps, which disco#info queries are
// in flight, and the cache of verified ver -> features. No host calls, no locking (the
// module holds one mutex around it).
#pragma once

#include "caps_ver.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace caps {

struct Features {
  std::vector<std::string> features;  // sorted, unique
  std::vector<Identity> identities;
  bool verified = false;  // from a verified ver (shared), or one JID's own answer
};
using FeaturesPtr = std::shared_ptr<const Features>;

enum class State { pending, known, invalid };

struct JidCaps {
  std::string node, ver, hash;
  State state = State::pending;
  FeaturesPtr features;  // set when known
  std::string query_id;  // the query in flight to this JID, if any
};

// A disco#info query to send: <iq id=id to=to><query node='node#ver'/></iq>.
struct Query {
  std::string id, to, node, ver;
};

class Tracker {
 public:
  explicit Tracker(size_t max_cached = 4096) : max_cached_(max_cached ? max_cached : 1) {}

  struct Update {
    std::vector<Query> queries;       // to send
    std::vector<std::string> known;   // full JIDs whose features just became known
  };

  // An available presence (broadcast) from full JID `jid` with caps node/ver/hash (hash ""
  // for legacy caps). Same caps as before: nothing. A ver verified before: known at once.
  // Else one query per unknown ver at a time (other JIDs advertising it wait for it),
  // or, for an unsupported or missing hash, a query to this JID for itself.
  Update presence(const std::string& jid, const std::string& node, const std::string& ver, const std::string& hash);
  // An available presence without caps, or the JID went unavailable / away: forget it.
  // Its query in flight, if any, is handed to the next JID waiting for the same ver.
  Update forget(const std::string& jid);

  struct Answer {
    bool ours = false;  // the id and sender match a query in flight
    bool error = false; // the client answered with an IQ error
    Check check = Check::valid;
    bool cached = false;  // ver -> features entered the shared cache
    std::string jid, node, ver, hash;
    Update update;
  };
  // A disco#info result (info) or error (info == nullptr) from `from` to the query `id`.
  Answer answer(const std::string& id, const std::string& from, const DiscoInfo* info);

  const JidCaps* find(const std::string& jid) const;
  bool is_cached(const std::string& hash, const std::string& ver) const;
  size_t cached() const { return cache_.size(); }
  size_t in_flight() const { return pending_.size(); }

 private:
  struct Pending {
    std::string jid, node, ver, hash;
    bool shared = false;  // a supported hash: the answer may enter the cache
  };
  static std::string key(const std::string& hash, const std::string& ver) { return hash + '\n' + ver; }
  Query ask(const std::string& jid, const std::string& node, const std::string& ver, const std::string& hash, bool shared);
  void hand_off(const std::string& k, Update& u);  // the query for k is gone: ask the next waiter
  void drop(const std::string& jid, Update& u);
  void remember(const std::string& k, FeaturesPtr f);

  size_t max_cached_;
  uint64_t seq_ = 0;
  std::unordered_map<std::string, JidCaps> jids_;
  std::unordered_map<std::string, Pending> pending_;              // query id -> what was asked
  std::unordered_map<std::string, std::string> inflight_;         // key -> query id (shared only)
  std::unordered_map<std::string, std::vector<std::string>> waiting_;  // key -> JIDs waiting
  std::unordered_map<std::string, FeaturesPtr> cache_;             // key -> verified features
  std::deque<std::string> order_;                                  // cache keys, oldest first
};

// The features and identities of a disco#info answer, as kept (features sorted, unique).
FeaturesPtr make_features(const DiscoInfo& info, bool verified);

}  // namespace caps
