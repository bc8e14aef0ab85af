#include "caps_tracker.hpp"

#include <algorithm>

namespace caps {

FeaturesPtr make_features(const DiscoInfo& info, bool verified) {
  auto f = std::make_shared<Features>();
  f->features = info.features;
  std::sort(f->features.begin(), f->features.end());
  f->features.erase(std::unique(f->features.begin(), f->features.end()), f->features.end());
  f->identities = info.identities;
  f->verified = verified;
  return f;
}

Query Tracker::ask(const std::string& jid, const std::string& node, const std::string& ver, const std::string& hash,
                   bool shared) {
  std::string id = "caps-" + std::to_string(++seq_);
  pending_[id] = Pending{jid, node, ver, hash, shared};
  if (shared) inflight_[key(hash, ver)] = id;
  auto it = jids_.find(jid);
  if (it != jids_.end()) it->second.query_id = id;
  return Query{id, jid, node, ver};
}

void Tracker::hand_off(const std::string& k, Update& u) {
  auto w = waiting_.find(k);
  if (w == waiting_.end()) return;
  std::vector<std::string> list = std::move(w->second);
  waiting_.erase(w);
  for (size_t i = 0; i < list.size(); ++i) {
    auto it = jids_.find(list[i]);
    if (it == jids_.end() || it->second.state != State::pending || key(it->second.hash, it->second.ver) != k) continue;
    u.queries.push_back(ask(list[i], it->second.node, it->second.ver, it->second.hash, true));
    std::vector<std::string> rest(list.begin() + static_cast<std::ptrdiff_t>(i) + 1, list.end());
    if (!rest.empty()) waiting_[k] = std::move(rest);
    return;
  }
}

void Tracker::drop(const std::string& jid, Update& u) {
  auto it = jids_.find(jid);
  if (it == jids_.end()) return;
  JidCaps old = std::move(it->second);
  jids_.erase(it);
  std::string k = key(old.hash, old.ver);
  auto w = waiting_.find(k);
  if (w != waiting_.end()) {
    w->second.erase(std::remove(w->second.begin(), w->second.end(), jid), w->second.end());
    if (w->second.empty()) waiting_.erase(w);
  }
  if (old.query_id.empty()) return;
  auto p = pending_.find(old.query_id);
  if (p == pending_.end()) return;
  bool shared = p->second.shared;
  pending_.erase(p);
  if (!shared) return;
  auto in = inflight_.find(k);
  if (in != inflight_.end() && in->second == old.query_id) {
    inflight_.erase(in);
    hand_off(k, u);
  }
}

void Tracker::remember(const std::string& k, FeaturesPtr f) {
  auto it = cache_.find(k);
  if (it != cache_.end()) {
    it->second = std::move(f);
    return;
  }
  cache_.emplace(k, std::move(f));
  order_.push_back(k);
  while (cache_.size() > max_cached_ && !order_.empty()) {
    cache_.erase(order_.front());
    order_.pop_front();
  }
}

Tracker::Update Tracker::presence(const std::string& jid, const std::string& node, const std::string& ver,
                                  const std::string& hash) {
  Update u;
  if (node.empty() || ver.empty()) {  // not usable caps (both are REQUIRED)
    drop(jid, u);
    return u;
  }
  auto it = jids_.find(jid);
  if (it != jids_.end() && it->second.node == node && it->second.ver == ver && it->second.hash == hash) return u;
  drop(jid, u);
  JidCaps& c = jids_[jid];
  c.node = node;
  c.ver = ver;
  c.hash = hash;
  if (!hash_supported(hash)) {  // XEP-0115 5.4 step 2 (and legacy caps): ask, keep for this JID only
    u.queries.push_back(ask(jid, node, ver, hash, false));
    return u;
  }
  std::string k = key(hash, ver);
  auto hit = cache_.find(k);
  if (hit != cache_.end()) {
    c.state = State::known;
    c.features = hit->second;
    u.known.push_back(jid);
    return u;
  }
  if (inflight_.count(k)) {
    waiting_[k].push_back(jid);
    return u;
  }
  u.queries.push_back(ask(jid, node, ver, hash, true));
  return u;
}

Tracker::Update Tracker::forget(const std::string& jid) {
  Update u;
  drop(jid, u);
  return u;
}

Tracker::Answer Tracker::answer(const std::string& id, const std::string& from, const DiscoInfo* info) {
  Answer a;
  auto it = pending_.find(id);
  if (it == pending_.end() || it->second.jid != from) return a;
  a.ours = true;
  Pending p = std::move(it->second);
  pending_.erase(it);
  a.jid = p.jid;
  a.node = p.node;
  a.ver = p.ver;
  a.hash = p.hash;
  std::string k = key(p.hash, p.ver);
  if (p.shared) {
    auto in = inflight_.find(k);
    if (in != inflight_.end() && in->second == id) inflight_.erase(in);
  }
  // Is the JID still advertising what was asked?
  JidCaps* cur = nullptr;
  auto jc = jids_.find(p.jid);
  if (jc != jids_.end() && jc->second.query_id == id) {
    cur = &jc->second;
    cur->query_id.clear();
  }
  if (!info) {
    a.error = true;
    a.check = Check::ill_formed;
    if (cur) cur->state = State::invalid;
    if (p.shared) hand_off(k, a.update);
    return a;
  }
  if (!p.shared) {
    a.check = Check::unsupported_hash;
    if (!verification_string(*info)) {
      a.check = Check::ill_formed;
      if (cur) cur->state = State::invalid;
      return a;
    }
    if (cur) {
      cur->state = State::known;
      cur->features = make_features(*info, false);
      a.update.known.push_back(p.jid);
    }
    return a;
  }
  a.check = verify(p.hash, p.ver, *info);
  if (a.check != Check::valid) {
    // XEP-0115 5.4 step 3.9: not cached; ask another JID that advertises the same ver.
    if (cur) cur->state = State::invalid;
    hand_off(k, a.update);
    return a;
  }
  FeaturesPtr f = make_features(*info, true);
  remember(k, f);
  a.cached = true;
  if (cur) {
    cur->state = State::known;
    cur->features = f;
    a.update.known.push_back(p.jid);
  }
  auto w = waiting_.find(k);
  if (w != waiting_.end()) {
    for (const auto& j : w->second) {
      auto o = jids_.find(j);
      if (o == jids_.end() || o->second.state != State::pending || key(o->second.hash, o->second.ver) != k) continue;
      o->second.state = State::known;
      o->second.features = f;
      a.update.known.push_back(j);
    }
    waiting_.erase(w);
  }
  return a;
}

const JidCaps* Tracker::find(const std::string& jid) const {
  auto it = jids_.find(jid);
  return it == jids_.end() ? nullptr : &it->second;
}

bool Tracker::is_cached(const std::string& hash, const std::string& ver) const { return cache_.count(key(hash, ver)) > 0; }

}  // namespace caps
