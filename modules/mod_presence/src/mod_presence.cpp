// mod_presence: RFC 6121 presence broadcast, probes, directed presence and inbound filtering,
// on top of mod_roster's in-memory rosters ("av.roster/1"). Remembers each available
// resource's last presence (and its XEP-0115 caps), offered as "av.presence/1".
#include <aviary/aviary.hpp>
#include <aviary/ext/draft/presence.h>
#include <aviary/ext/draft/roster.h>
#include <aviary/ext/router.h>

#include "presence_logic.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using presence::Sub;

constexpr const char* kNsCaps = "http://jabber.org/protocol/caps";

struct Res {
  bool available = false;
  uint64_t order = 0;
  av::StanzaRef last;  // last available presence as sent (from = full JID)
  int32_t priority = 0;
  std::string show, status, node, ver, hash;
  bool has_caps = false;
  std::set<std::string> directed;  // JIDs that got directed available presence
};

struct Core : std::enable_shared_from_this<Core> {
  const av_ext_router_v1* router = nullptr;
  const av_ext_roster_v1* roster = nullptr;
  std::mutex mu;
  std::unordered_map<std::string, std::map<std::string, Res>> users;  // bare -> full -> state
  uint64_t order = 0;

  void route(const av::StanzaRef& s) {
    if (s && router->route(s.get()) != AV_OK) av::log_warning("mod_presence: route failed");
  }
  void route_xml(const std::string& xml) {
    try {
      route(av::StanzaRef::parse(xml));
    } catch (const std::exception& e) {
      av::log_error(std::string("mod_presence: ") + e.what());
    }
  }
  // A copy of s addressed to `to`.
  static av::StanzaRef readdress(const av::StanzaRef& s, const std::string& to) {
    av::StanzaRef c = av::StanzaRef::adopt(av::stanza_api().clone(s.get()));
    av_xml_el* r = c ? av::stanza_api().mut_root(c.get()) : nullptr;
    if (!r) return {};
    av::stanza_api().set_attr(r, av_cstr("to"), av::str(to));
    return c;
  }

  // Contacts of user whose subscription is in mask; nullopt when the roster is not in memory.
  std::optional<std::vector<std::string>> contacts(const std::string& user, uint32_t mask) {
    std::vector<std::string> out;
    av_status st = roster->list(av::str(user), mask, [](void* u, const av_roster_contact* items, size_t n) {
      auto* v = static_cast<std::vector<std::string>*>(u);
      for (size_t i = 0; i < n; ++i) v->emplace_back(av::sv(items[i].jid));
    }, &out);
    if (st != AV_OK) return std::nullopt;
    return out;
  }
  Sub sub_of(const std::string& user, const std::string& contact) {
    av_roster_sub s = AV_ROSTER_SUB_NONE;
    av_status st = roster->get_contact(av::str(user), av::str(contact), &s, nullptr, nullptr);
    if (st == AV_E_NOT_FOUND) return Sub::none;
    if (st != AV_OK) return Sub::unknown;
    switch (s) {
      case AV_ROSTER_SUB_TO: return Sub::to;
      case AV_ROSTER_SUB_FROM: return Sub::from;
      case AV_ROSTER_SUB_BOTH: return Sub::both;
      default: return Sub::none;
    }
  }
  // Runs fn once the user's roster is in memory (on executor ex).
  void defer(const std::string& user, av_executor ex, std::function<void()> fn) {
    auto* f = new std::function<void()>(std::move(fn));
    av_status st = roster->when_cached(av::str(user), ex, [](void* a) {
      std::unique_ptr<std::function<void()>> g(static_cast<std::function<void()>*>(a));
      av::detail::guard<int>("mod_presence deferred", 0, [&] { (*g)(); return 0; });
    }, f);
    if (st != AV_OK) delete f;
  }

  struct Peer {
    std::string full;
    av::StanzaRef last;
  };
  std::vector<Peer> available_resources(const std::string& user) {
    std::vector<std::pair<uint64_t, Peer>> v;
    {
      std::lock_guard<std::mutex> g(mu);
      auto it = users.find(user);
      if (it != users.end())
        for (auto& [full, r] : it->second)
          if (r.available && r.last) v.push_back({r.order, Peer{full, r.last}});
    }
    std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.first < b.first; });
    std::vector<Peer> out;
    for (auto& [o, p] : v) out.push_back(std::move(p));
    return out;
  }

  // --- outbound ---------------------------------------------------------------------
  void on_available(const av_stanza_params& p) {
    std::string full(av::sv(p.from));
    std::string user = av::bare_jid(full);
    if (user.empty()) return;
    av::StanzaRef ref = av::StanzaRef::share(p.stanza);
    av::StanzaView v(p.stanza);
    bool initial;
    {
      std::lock_guard<std::mutex> g(mu);
      Res& r = users[user][full];
      initial = !r.available;
      if (initial) r.order = ++order;
      r.available = true;
      r.last = ref;
      r.show = std::string(v.child("show").text());
      r.status = std::string(v.child("status").text());
      try {
        r.priority = std::stoi(std::string(v.child("priority").text()));
      } catch (...) {
        r.priority = 0;
      }
      auto c = v.child("c", kNsCaps);
      r.has_caps = static_cast<bool>(c);
      r.node = std::string(c.attr("node"));
      r.ver = std::string(c.attr("ver"));
      r.hash = std::string(c.attr("hash"));
    }
    broadcast_available(user, full, ref, p.executor, true);
  }

  // Probes go out on session/available, once the host counts the resource as available
  // (answers to the bare JID then reach it), so initial and later presences go out alike.
  void broadcast_available(const std::string& user, const std::string& full, const av::StanzaRef& ref,
                           av_executor ex, bool may_defer) {
    auto from_contacts = contacts(user, AV_ROSTER_MASK(AV_ROSTER_SUB_FROM) | AV_ROSTER_MASK(AV_ROSTER_SUB_BOTH));
    if (!from_contacts && may_defer) {  // roster not in memory yet
      defer(user, ex, [self = shared_from_this(), user, full, ref, ex] {
        self->broadcast_available(user, full, ref, ex, false);
      });
      return;
    }
    if (from_contacts)
      for (const auto& c : *from_contacts) route(readdress(ref, c));
    auto own = available_resources(user);
    for (const auto& o : own) route(readdress(ref, o.full));  // including the sender (RFC 6121 4.2.2)
  }

  // session/available: probe the contacts the user is subscribed to, and tell the new
  // resource about the user's other available resources.
  void probe_contacts(const std::string& full, av_executor ex, bool may_defer) {
    std::string user = av::bare_jid(full);
    if (user.empty()) return;
    auto to_contacts = contacts(user, AV_ROSTER_MASK(AV_ROSTER_SUB_TO) | AV_ROSTER_MASK(AV_ROSTER_SUB_BOTH));
    if (!to_contacts && may_defer) {
      defer(user, ex, [self = shared_from_this(), full, ex] { self->probe_contacts(full, ex, false); });
      return;
    }
    if (to_contacts)
      for (const auto& c : *to_contacts) route_xml(presence::probe_xml(user, c));
    for (const auto& o : available_resources(user))
      if (o.full != full) route(readdress(o.last, full));
  }

  // Unavailable from `full`: to from/both contacts, the other resources and directed peers.
  void go_unavailable(const std::string& full, const av::StanzaRef* given) {
    std::string user = av::bare_jid(full);
    if (user.empty()) return;
    bool was_available = false;
    std::set<std::string> directed;
    {
      std::lock_guard<std::mutex> g(mu);
      auto u = users.find(user);
      if (u == users.end()) return;
      auto r = u->second.find(full);
      if (r == u->second.end()) return;
      was_available = r->second.available;
      r->second.available = false;
      r->second.last = av::StanzaRef();
      directed.swap(r->second.directed);
    }
    if (!was_available && directed.empty()) return;
    av::StanzaRef s = given ? *given : av::StanzaRef::parse(presence::unavailable_xml(full));
    std::set<std::string> sent;
    if (was_available) {
      if (auto cs = contacts(user, AV_ROSTER_MASK(AV_ROSTER_SUB_FROM) | AV_ROSTER_MASK(AV_ROSTER_SUB_BOTH)))
        for (const auto& c : *cs)
          if (sent.insert(c).second) route(readdress(s, c));
      for (const auto& o : available_resources(user))
        if (sent.insert(o.full).second) route(readdress(s, o.full));
    }
    for (const auto& d : directed)
      if (sent.insert(d).second) route(readdress(s, d));
  }

  void on_send(const av_stanza_params& p, av_stanza_acc& acc) {
    av::StanzaView v(p.stanza);
    std::string full(av::sv(p.from));
    std::string user = av::bare_jid(full);
    if (user.empty()) return;
    std::string type(v.type());
    if (!v.root().has_attr("to")) {
      if (acc.drop) return;
      if (type.empty()) return on_available(p);
      if (type == "unavailable") {
        av::StanzaRef s = av::StanzaRef::share(p.stanza);
        return go_unavailable(full, &s);
      }
      return;
    }
    auto target = av::parse_jid(v.to());
    if (!target) return;
    std::string tbare = target->bare();
    if (type.empty() || type == "unavailable") {
      // Directed presence (RFC 6121 4.6): remember who must hear of our logout.
      Sub sub = sub_of(user, tbare);
      if (!presence::track_directed(tbare == user, sub)) return;
      std::lock_guard<std::mutex> g(mu);
      auto u = users.find(user);
      if (u == users.end()) return;
      auto r = u->second.find(full);
      if (r == u->second.end()) return;
      if (type.empty())
        r->second.directed.insert(target->full());
      else
        r->second.directed.erase(target->full());
      return;
    }
  }

  // roster/subscription-changed (mod_roster): a new 'from' subscriber gets the user's current
  // presence (RFC 6121 3.1.5, 3.4); a former one gets 'unavailable' (3.2.2, 3.3.3, 2.5.2).
  void on_change(const av_roster_change_params& p) {
    auto from_like = [](av_roster_sub s) { return s == AV_ROSTER_SUB_FROM || s == AV_ROSTER_SUB_BOTH; };
    bool had = from_like(p.old_sub), has = !p.removed && from_like(p.new_sub);
    if (had == has) return;
    std::string user = av::bare_jid(av::sv(p.user)), contact = av::bare_jid(av::sv(p.contact));
    if (user.empty() || contact.empty()) return;
    for (const auto& o : available_resources(user)) {
      if (has)
        route(readdress(o.last, contact));
      else
        route_xml(presence::unavailable_xml(o.full, contact));
    }
  }

  // --- inbound ----------------------------------------------------------------------
  av::Next on_filter(const av_stanza_params& p, av_stanza_acc& acc) {
    if (av::stanza_api().kind(p.stanza) != AV_STANZA_PRESENCE) return av::next;
    av::StanzaView v(p.stanza);
    auto to = av::parse_jid(av::sv(p.to));
    auto from = av::parse_jid(av::sv(p.from));
    if (!to || !from || to->user.empty()) return av::next;
    std::string user = to->bare(), sender = from->bare();
    std::string type(v.type());
    bool self = sender == user;
    Sub sub = self ? Sub::both : sub_of(user, sender);
    bool peer = false;
    if (!self && sub != Sub::to && sub != Sub::both) {
      std::lock_guard<std::mutex> g(mu);
      auto u = users.find(user);
      if (u != users.end())
        for (auto& [f, r] : u->second)
          if (r.directed.count(from->full()) || r.directed.count(sender)) peer = true;
    }
    switch (presence::inbound(type, !to->resource.empty(), self, sub, peer)) {
      case presence::Verdict::probe:
        acc.drop = true;
        answer_probe(user, from->full(), p.executor, true);
        return av::stop;
      case presence::Verdict::drop:
        acc.drop = true;
        return av::stop;
      default:
        return av::next;
    }
  }

  void answer_probe(const std::string& user, const std::string& prober, av_executor ex, bool may_defer) {
    std::string pbare = av::bare_jid(prober);
    Sub sub = pbare == user ? Sub::both : sub_of(user, pbare);
    if (sub == Sub::unknown) {
      if (may_defer)
        defer(user, ex, [self = shared_from_this(), user, prober, ex] { self->answer_probe(user, prober, ex, false); });
      return;
    }
    if (sub != Sub::from && sub != Sub::both) return;  // RFC 6121 4.3.2: no subscription, no answer
    for (const auto& o : available_resources(user)) route(readdress(o.last, prober));
  }

  void closed(const std::string& full) {
    std::string user = av::bare_jid(full);
    std::lock_guard<std::mutex> g(mu);
    auto u = users.find(user);
    if (u == users.end()) return;
    u->second.erase(full);
    if (u->second.empty()) users.erase(u);
  }
};

std::shared_ptr<Core> g_core;

av_presence_resource to_c(const std::string& full, const Res& r) {
  auto opt = [](const std::string& s, bool present) { return present ? av::str(s) : av::str_absent(); };
  return av_presence_resource{sizeof(av_presence_resource), av::str(full), r.priority,
                              opt(r.show, !r.show.empty()), opt(r.status, !r.status.empty()),
                              opt(r.node, r.has_caps), opt(r.ver, r.has_caps), opt(r.hash, r.has_caps)};
}

av_status x_available(av_str bare, av_presence_list_fn fn, void* user) {
  return av::detail::guard<av_status>("av.presence/1 available", AV_E_EXCEPTION, [&]() -> av_status {
    auto core = g_core;
    std::string b = av::bare_jid(av::sv(bare));
    if (!core || b.empty() || !fn) return AV_E_INVALID_ARG;
    std::vector<std::pair<uint64_t, std::pair<std::string, Res>>> copy;
    {
      std::lock_guard<std::mutex> g(core->mu);
      auto u = core->users.find(b);
      if (u != core->users.end())
        for (auto& [full, r] : u->second)
          if (r.available) copy.push_back({r.order, {full, r}});
    }
    std::sort(copy.begin(), copy.end(), [](auto& a, auto& b2) { return a.first < b2.first; });
    std::vector<av_presence_resource> v;
    for (auto& [o, fr] : copy) v.push_back(to_c(fr.first, fr.second));
    fn(user, v.data(), v.size());
    return AV_OK;
  });
}

av_status x_resource(av_str full, av_presence_list_fn fn, void* user) {
  return av::detail::guard<av_status>("av.presence/1 resource", AV_E_EXCEPTION, [&]() -> av_status {
    auto core = g_core;
    auto j = av::parse_jid(av::sv(full));
    if (!core || !j || !fn) return AV_E_INVALID_ARG;
    std::optional<Res> copy;
    std::string f = j->full();
    {
      std::lock_guard<std::mutex> g(core->mu);
      auto u = core->users.find(j->bare());
      if (u != core->users.end()) {
        auto r = u->second.find(f);
        if (r != u->second.end() && r->second.available) copy = r->second;
      }
    }
    if (!copy) return AV_E_NOT_FOUND;
    av_presence_resource c = to_c(f, *copy);
    fn(user, &c, 1);
    return AV_OK;
  });
}

const av_ext_presence_v1 kPresenceExt = {sizeof(av_ext_presence_v1), x_available, x_resource};

class PresenceModule final : public av::Module {
 public:
  static const av_dep* deps() {
    static const av_dep d[] = {{"mod_roster", AV_DEP_HARD}, {nullptr, 0}};
    return d;
  }

  av_status start(av::Context& cx) override {
    core_ = std::make_shared<Core>();
    core_->router = cx.require<av_ext_router_v1>(AV_EXT_ROUTER);
    core_->roster = cx.require<av_ext_roster_v1>(AV_EXT_ROSTER);
    g_core = core_;
    auto core = core_;
    // After mod_roster (NORMAL), which handles the subscription types first.
    hooks_.add(av::hooks::user_send_presence, AV_PRIO_LATE, [core](const av_stanza_params& p, av_stanza_acc& acc) {
      core->on_send(p, acc);
      return av::next;
    });
    hooks_.add(av::hooks::filter_local_packet, AV_PRIO_LATE,
               [core](const av_stanza_params& p, av_stanza_acc& acc) { return core->on_filter(p, acc); });
    hooks_.add_named<av_roster_change_params, void>(
        AV_HOOK_ROSTER_SUBSCRIPTION_CHANGED, AV_PRIO_NORMAL,
        [core](const av_roster_change_params& p) { core->on_change(p); });
    hooks_.add(av::hooks::session_available, AV_PRIO_NORMAL, [core](const av_session_params& p) {
      core->probe_contacts(std::string(av::sv(p.jid)), p.executor, true);
    });
    hooks_.add(av::hooks::session_unavailable, AV_PRIO_NORMAL,
               [core](const av_session_params& p) { core->go_unavailable(std::string(av::sv(p.jid)), nullptr); });
    hooks_.add(av::hooks::session_closed, AV_PRIO_NORMAL,
               [core](const av_session_params& p) { core->closed(std::string(av::sv(p.jid))); });
    return AV_OK;
  }

  void stop() override {
    hooks_.clear();
    g_core.reset();
    core_.reset();
  }

  const void* extension(const char* id) override {
    return std::string(id) == AV_EXT_PRESENCE ? &kPresenceExt : nullptr;
  }

 private:
  std::shared_ptr<Core> core_;
  av::HookSet hooks_;
};

}  // namespace

AV_MODULE(PresenceModule, "mod_presence", "0.1.0", "RFC 6121 presence broadcast, probes and directed presence")
