// mod_carboncopy: XEP-0280 Message Carbons (urn:xmpp:carbons:2).
//
// - iq/bare/urn:xmpp:carbons:2: <enable/> / <disable/> per session (kept in memory, forgotten
//   on session/closed).
// - c2s/user-send-message (LATE): an eligible message a user sends is copied, wrapped in
//   <sent/>, to every OTHER carbons-enabled session of the sender.
// - router/filter-local-packet (LATE): an eligible message routed to a local user is copied,
//   wrapped in <received/>, to every carbons-enabled session of the recipient that the router
//   will not hand the original to (the router's rule is mirrored from av.sessions/1).
// - disco/server-info: feature urn:xmpp:carbons:2.
// Rules for eligibility and delivery live in carbons.cpp (unit tested).
#include <aviary/aviary.hpp>
#include <aviary/ext/draft/disco.h>

#include "carbons.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace {

using carbons::Direction;
using carbons::El;

constexpr size_t kMaxDepth = 4;    // message > sent > forwarded > message > body
constexpr size_t kMaxKids = 64;    // children summarized per element

// Summary of an element for the rules (namespaces inherited from the parent).
El summarize(const av_xml_el* e, std::string_view parent_ns, size_t depth) {
  const auto& api = av::stanza_api();
  El out;
  out.name = std::string(av::sv(api.name(e)));
  av_str ns = api.attr(e, av_cstr("xmlns"));
  out.ns = ns.ptr ? std::string(av::sv(ns)) : std::string(parent_ns);
  out.type = std::string(av::sv(api.attr(e, av_cstr("type"))));
  if (depth >= kMaxDepth) return out;
  size_t n = std::min(api.child_count(e), kMaxKids);
  out.kids.reserve(n);
  for (size_t i = 0; i < n; ++i)
    if (const av_xml_el* c = api.child_at(e, i)) out.kids.push_back(summarize(c, out.ns, depth + 1));
  return out;
}

class CarbonCopy final : public av::Module {
 public:
  av_status start(av::Context& cx) override {
    router_ = cx.require<av_ext_router_v1>(AV_EXT_ROUTER);
    sessions_ = cx.require<av_ext_sessions_v1>(AV_EXT_SESSIONS);

    hooks_.add_named<av_stanza_params, av_iq_acc>(
        std::string(AV_HOOK_IQ_BARE_PREFIX) + std::string(carbons::kNs), AV_PRIO_NORMAL,
        [this](const av_stanza_params& p, av_iq_acc& acc) { return on_iq(p, acc); });
    // LATE: after modules that may drop the message (privacy, blocking).
    hooks_.add(av::hooks::user_send_message, AV_PRIO_LATE,
               [this](const av_stanza_params& p, av_stanza_acc& acc) { return on_send(p, acc); });
    hooks_.add(av::hooks::filter_local_packet, AV_PRIO_LATE,
               [this](const av_stanza_params& p, av_stanza_acc& acc) { return on_local(p, acc); });
    // A new session starts without carbons; a closing one forgets them unless a newer session
    // already took its resource (resource conflict: the old one closes after the new opened).
    hooks_.add(av::hooks::session_opened, AV_PRIO_NORMAL,
               [this](const av_session_params& p) { registry_.disable(av::sv(p.jid)); });
    hooks_.add(av::hooks::session_closed, AV_PRIO_NORMAL, [this](const av_session_params& p) {
      std::string_view jid = av::sv(p.jid), res = av::jid_resource_part(jid);
      auto bound = bound_resources(av::jid_bare_part(jid));
      if (std::none_of(bound.begin(), bound.end(), [&](const carbons::SessionInfo& s) { return s.resource == res; }))
        registry_.disable(jid);
    });
    hooks_.add(av::hooks::account_removed, AV_PRIO_NORMAL,
               [this](const av_session_params& p) { registry_.forget_user(av::jid_bare_part(av::sv(p.jid))); });
    hooks_.add_named<av_disco_params, av_disco_acc>(
        AV_HOOK_DISCO_SERVER_INFO, AV_PRIO_NORMAL,
        [](const av_disco_params& p, av_disco_acc& acc) { return on_disco(p, acc); });
    return AV_OK;
  }

 private:
  // [any-thread] <iq type='set'><enable|disable xmlns='urn:xmpp:carbons:2'/></iq>
  av::Next on_iq(const av_stanza_params& p, av_iq_acc& acc) {
    const auto& api = av::stanza_api();
    av::StanzaView v(p.stanza);
    std::string_view from = av::sv(p.from), to = av::sv(p.to);
    // A client's IQ without 'to' is addressed to its own account: answer from that bare JID.
    auto answer = [&](av_stanza* r) {
      acc.handled = true;
      acc.reply = r;
      av_xml_el* root = r ? api.mut_root(r) : nullptr;
      if (root && !api.attr(root, av_cstr("from")).ptr && !to.empty()) api.set_attr(root, av_cstr("from"), p.to);
      return av::stop;
    };
    auto error = [&](const char* type, const char* cond, const char* text) {
      return answer(api.make_error(p.stanza, av_cstr(type), av_cstr(cond), av_cstr(text)));
    };
    if (v.type() != "set") return error("modify", "bad-request", "Carbons are enabled and disabled with an IQ set");
    const bool enable = static_cast<bool>(v.child("enable", carbons::kNs));
    const bool disable = static_cast<bool>(v.child("disable", carbons::kNs));
    if (enable == disable) return error("modify", "bad-request", "Expected <enable/> or <disable/>");
    if (av::jid_bare_part(from) != av::jid_bare_part(to) || av::jid_resource_part(from).empty())
      return error("cancel", "not-allowed", "Only a session of this account can change its own Carbons");
    if (enable)
      registry_.enable(from);
    else
      registry_.disable(from);
    return answer(api.make_result(p.stanza));
  }

  // [session] Sent carbons.
  av::Next on_send(const av_stanza_params& p, av_stanza_acc& acc) {
    if (acc.drop || registry_.empty() || av::stanza_api().kind(p.stanza) != AV_STANZA_MESSAGE) return av::next;
    std::string_view from = av::sv(p.from);
    std::string bare(av::jid_bare_part(from));
    if (!registry_.any(bare)) return av::next;
    std::string_view own_res = av::jid_resource_part(from);
    std::vector<std::string> copies;
    for (auto& r : registry_.resources(bare))
      if (r != own_res) copies.push_back(std::move(r));
    if (copies.empty()) return av::next;
    av::StanzaView v(p.stanza);
    std::string_view to = v.to();  // none: the sender's own account
    if (to.empty() || av::jid_bare_part(to) == bare) return av::next;  // own account: nothing to mirror
    El m = summarize(av::stanza_api().root(p.stanza), carbons::kNsClient, 0);
    if (!carbons::eligible(m, Direction::sent)) return av::next;
    auto bound = bound_resources(bare);
    copies.erase(std::remove_if(copies.begin(), copies.end(),
                                [&](const std::string& r) {
                                  return std::none_of(bound.begin(), bound.end(),
                                                      [&](const carbons::SessionInfo& s) { return s.resource == r; });
                                }),
                 copies.end());
    if (copies.empty()) return av::next;
    send_copies(Direction::sent, p.stanza, from, bare, v.type(), copies);
    return av::next;
  }

  // [any-thread] Received carbons; also keeps our own copies from being re-routed.
  av::Next on_local(const av_stanza_params& p, av_stanza_acc& acc) {
    if (p.stanza == routing_own_) {
      // A copy for a resource that went away must not fall back to bare-JID delivery.
      std::string_view to = av::sv(p.to);
      auto bound = bound_resources(av::jid_bare_part(to));
      std::string_view res = av::jid_resource_part(to);
      if (std::none_of(bound.begin(), bound.end(), [&](const carbons::SessionInfo& s) { return s.resource == res; }))
        acc.drop = true;
      return av::next;
    }
    if (acc.drop || registry_.empty() || av::stanza_api().kind(p.stanza) != AV_STANZA_MESSAGE) return av::next;
    std::string_view to = av::sv(p.to);
    std::string bare(av::jid_bare_part(to));
    if (!registry_.any(bare)) return av::next;
    if (av::jid_bare_part(av::sv(p.from)) == bare) return av::next;  // own account: sent carbons cover it
    El m = summarize(av::stanza_api().root(p.stanza), carbons::kNsClient, 0);
    if (!carbons::eligible(m, Direction::received)) return av::next;
    auto bound = bound_resources(bare);
    auto targets = carbons::delivery_targets(bound, av::jid_resource_part(to), m.type);
    std::vector<std::string> copies;
    for (auto& r : registry_.resources(bare)) {
      if (std::find(targets.begin(), targets.end(), r) != targets.end()) continue;
      if (std::none_of(bound.begin(), bound.end(), [&](const carbons::SessionInfo& s) { return s.resource == r; }))
        continue;
      copies.push_back(std::move(r));
    }
    if (!copies.empty()) send_copies(Direction::received, p.stanza, av::sv(p.from), bare, m.type, copies);
    return av::next;
  }

  static av::Next on_disco(const av_disco_params& p, av_disco_acc& acc) {
    if (p.node.ptr || !acc.query) return av::next;
    const auto& api = av::stanza_api();
    av_xml_el* q = api.mut_root(acc.query);
    if (!q) return av::next;
    av_xml_el* f = api.add_child(q, av_cstr("feature"), av::str_absent());
    if (f) api.set_attr(f, av_cstr("var"), av::str(carbons::kNs));
    return av::next;
  }

  std::vector<carbons::SessionInfo> bound_resources(std::string_view bare) const {
    std::vector<carbons::SessionInfo> out;
    sessions_->list(
        av::str(bare),
        [](void* user, const av_session_info* items, size_t n) {
          auto* o = static_cast<std::vector<carbons::SessionInfo>*>(user);
          for (size_t i = 0; i < n; ++i)
            o->push_back(carbons::SessionInfo{std::string(av::sv(items[i].resource)), items[i].priority,
                                              items[i].available});
        },
        &out);
    return out;
  }

  // The original, serialized as the <forwarded/> payload: xmlns='jabber:client' on its root
  // (it is no longer the stream's default namespace there) and a 'from'.
  static std::string inner_xml(const av_stanza* s, std::string_view from) {
    const auto& api = av::stanza_api();
    av::StanzaRef c = av::StanzaRef::adopt(api.clone(s));
    if (!c) throw av::Error(AV_E_NOMEM, "cannot clone the message");
    av_xml_el* r = api.mut_root(c.get());
    if (!r) throw av::Error(AV_E_INTERNAL, "clone is shared");
    api.set_attr(r, av_cstr("xmlns"), av::str(carbons::kNsClient));
    if (!api.attr(r, av_cstr("from")).ptr && !from.empty()) api.set_attr(r, av_cstr("from"), av::str(from));
    return c.root().xml();
  }

  void send_copies(Direction dir, const av_stanza* original, std::string_view from, const std::string& bare,
                   std::string_view type, const std::vector<std::string>& resources) {
    std::string inner = inner_xml(original, from);
    for (const auto& r : resources) {
      std::string to = bare + "/" + r;
      av::StanzaRef copy = av::StanzaRef::parse(carbons::wrap(dir, bare, to, type, inner));
      av_stanza* prev = routing_own_;
      routing_own_ = copy.get();
      av_status st = router_->route(copy.get());
      routing_own_ = prev;
      if (st != AV_OK) av::log_warning("cannot route a carbon copy to " + to);
    }
  }

  static thread_local av_stanza* routing_own_;
  const av_ext_router_v1* router_ = nullptr;
  const av_ext_sessions_v1* sessions_ = nullptr;
  carbons::Registry registry_;
  av::HookSet hooks_;
};

thread_local av_stanza* CarbonCopy::routing_own_ = nullptr;

}  // namespace

AV_MODULE(CarbonCopy, "mod_carboncopy", "0.1.0", "XEP-0280 Message Carbons")
