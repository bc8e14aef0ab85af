#include "net/router.hpp"

#include "core/host.hpp"
#include "core/log.hpp"
#include "net/c2s_session.hpp"
#include "net/session_manager.hpp"

#include <algorithm>

namespace aviary {

namespace {

av_str s_(const std::string& x) { return av_strn(x.data(), x.size()); }

av_stanza_params params_for(const StanzaPtr& s, const std::string& from, const std::string& to, av_session* sess,
                            av_executor ex) {
  return av_stanza_params{sizeof(av_stanza_params), s.get(), s_(from), s_(to), sess, ex};
}

const std::string kStanzaNs = "urn:ietf:params:xml:ns:xmpp-stanzas";

}  // namespace

Router::Router(Host& host) : host_(host) {}

void Router::bounce(const StanzaPtr& s, const char* type, const char* condition, const char* text) {
  av_stanza* reply = stanza_error_reply(s.root(), type, condition, text);
  if (!reply) return;
  StanzaPtr r = StanzaPtr::adopt(reply);
  if (!r.root().attr("to")) return;  // nobody to tell
  route(std::move(r));
}

void Router::route(StanzaPtr s) {
  const xml::Element& e = s.root();
  auto from = parse_jid(e.attr_or("from"));
  auto to = parse_jid(e.attr_or("to"));
  if (!from) {
    log::debug("router: dropping stanza without a valid 'from'");
    return;
  }
  if (!to) {
    if (e.attr("to")) return bounce(s, "modify", "jid-malformed");
    to = Jid{from->user, from->server, ""};  // no 'to': the sender's own account
  }
  av_vhost* vh = host_.vhosts().find(to->server);
  if (!vh) return bounce(s, "cancel", "remote-server-not-found", "This server does not federate yet");
  if (to->user.empty()) return route_to_server(std::move(s), *from, *to, vh);
  route_local_user(std::move(s), *from, *to);
}

void Router::route_to_server(StanzaPtr s, const Jid& from, const Jid& to, av_vhost* vh) {
  const xml::Element& e = s.root();
  if (e.name != "iq") return;  // messages and presence to the server itself are not handled yet
  auto type = e.attr_or("type");
  if (type == "result" || type == "error") {
    // The answer to an IQ a module sent from the server; never answered (RFC 6120 8.2.3).
    std::string f = from.full(), t = to.full();
    av_stanza_params p = params_for(s, f, t, nullptr, host_.runtime().current());
    av_iq_acc acc{sizeof(av_iq_acc), false, nullptr};
    host_.run_hook(host_.core_hooks().iq_response, vh, &p, &acc);
    if (acc.reply) stanza_release(acc.reply);
    return;
  }
  if (type != "get" && type != "set") return;
  if (run_iq_hook(AV_HOOK_IQ_SERVER_PREFIX, s, from, to, vh)) return;
  bounce(s, "cancel", "service-unavailable");
}

bool Router::run_iq_hook(const char* prefix, const StanzaPtr& s, const Jid& from, const Jid& to, av_vhost* vh) {
  const xml::Element* payload = s.root().first_child_element();
  if (!payload) return false;
  std::string name = std::string(prefix) + std::string(payload->xmlns());
  av_hook_id id;
  if (host_.hooks().resolve(name.c_str(), &id) != AV_OK || host_.hooks().handler_count(id) == 0) return false;
  std::string f = from.full(), t = to.full();
  av_stanza_params p = params_for(s, f, t, nullptr, host_.runtime().current());
  av_iq_acc acc{sizeof(av_iq_acc), false, nullptr};
  host_.run_hook(id, vh, &p, &acc);
  if (acc.reply) route(StanzaPtr::adopt(acc.reply));
  return acc.handled || acc.reply;
}

void Router::route_local_user(StanzaPtr s, const Jid& from, const Jid& to) {
  av_vhost* vh = host_.vhosts().find(to.server);
  std::string f = from.full(), t = to.full();
  {
    // A handler may replace the stanza (av_stanza_acc.replace): later handlers and all that
    // follows (sessions, offline storage, bounces) get the replacement.
    av_stanza_params p = params_for(s, f, t, nullptr, host_.runtime().current());
    av_stanza_acc acc{sizeof(av_stanza_acc), false, nullptr};
    StanzaReplace r{s, p, acc};
    host_.run_hook(host_.core_hooks().filter_local_packet, vh, &p, &acc, StanzaReplace::adopt, &r);
    if (acc.drop) return;
  }
  const xml::Element& e = s.root();
  if (!to.is_bare()) {
    if (auto sess = host_.sessions().find(to)) return sess->deliver(std::move(s));
    // No such resource (RFC 6121 8.5.3.2).
    if (e.name == "message") {
      auto type = e.attr_or("type", "normal");
      if (type == "groupchat") return bounce(s, "cancel", "service-unavailable");
      return deliver_bare(std::move(s), from, Jid{to.user, to.server, ""});
    }
    if (e.name == "iq") {
      auto type = e.attr_or("type");
      if (type == "get" || type == "set") bounce(s, "cancel", "service-unavailable");
      return;  // a result/error must never be answered (RFC 6120 8.2.3)
    }
    return;  // presence to an absent resource is dropped
  }
  if (e.name == "iq") {
    auto type = e.attr_or("type");
    if (type != "get" && type != "set") return;
    if (run_iq_hook(AV_HOOK_IQ_BARE_PREFIX, s, from, to, vh)) return;
    return bounce(s, "cancel", "service-unavailable");
  }
  deliver_bare(std::move(s), from, to);
}

void Router::deliver_bare(StanzaPtr s, const Jid& /*from*/, const Jid& to) {
  const xml::Element& e = s.root();
  auto entries = host_.sessions().find_bare(to.bare());
  if (e.name == "presence") {
    for (auto& en : entries)
      if (en.available) en.session->deliver(s);
    return;
  }
  // Messages (RFC 6121 8.5.2.1): to the available resource(s) of highest non-negative
  // priority; headline to all non-negative ones.
  auto type = e.attr_or("type", "normal");
  if (type == "groupchat") return bounce(s, "cancel", "service-unavailable");
  int best = -1;
  for (auto& en : entries)
    if (en.available && en.priority >= 0) best = std::max(best, en.priority);
  bool sent = false;
  for (auto& en : entries) {
    if (!en.available || en.priority < 0) continue;
    if (type != "headline" && en.priority != best) continue;
    en.session->deliver(s);
    sent = true;
  }
  if (!sent) to_offline(std::move(s), to);
}

void Router::to_offline(StanzaPtr s, const Jid& to) {
  const xml::Element& e = s.root();
  if (e.name != "message") return;
  auto type = e.attr_or("type", "normal");
  if (type == "error" || type == "groupchat" || type == "headline") return;
  av_vhost* vh = host_.vhosts().find(to.server);
  std::string f(e.attr_or("from")), t = to.bare();
  av_stanza_params p = params_for(s, f, t, nullptr, host_.runtime().current());
  av_offline_acc acc{sizeof(av_offline_acc), false};
  host_.run_hook(host_.core_hooks().offline_message, vh, &p, &acc);
  if (!acc.handled) bounce(s, "cancel", "service-unavailable");
}

bool Router::run_send_hooks(StanzaPtr& s, const Jid& from, av_session* session) {
  av_vhost* vh = host_.vhosts().find(from.server);
  std::string f = from.full();
  std::string t(s.root().attr_or("to", from.bare()));
  av_stanza_params p = params_for(s, f, t, session, host_.runtime().current());
  av_stanza_acc acc{sizeof(av_stanza_acc), false, nullptr};
  StanzaReplace r{s, p, acc};  // a replacement becomes s, for the next hook and the caller
  host_.run_hook(host_.core_hooks().user_send_packet, vh, &p, &acc, StanzaReplace::adopt, &r);
  if (acc.drop) return false;
  const auto& hooks = host_.core_hooks();
  av_hook_id kind_hook = -1;
  switch (stanza_kind_of(s.root())) {
    case AV_STANZA_MESSAGE: kind_hook = hooks.user_send_message; break;
    case AV_STANZA_PRESENCE: kind_hook = hooks.user_send_presence; break;
    case AV_STANZA_IQ: kind_hook = hooks.user_send_iq; break;
    default: break;
  }
  if (kind_hook >= 0) host_.run_hook(kind_hook, vh, &p, &acc, StanzaReplace::adopt, &r);
  return !acc.drop;
}

av_status Router::route_as_user(StanzaPtr s, std::string* err) {
  auto from = parse_jid(s.root().attr_or("from"));
  if (!from || from->user.empty()) {
    if (err) *err = "'from' must be a user JID (user@domain)";
    return AV_E_INVALID_ARG;
  }
  if (!host_.vhosts().find(from->server)) {
    if (err) *err = "'" + from->server + "' is not a domain served here";
    return AV_E_NOT_FOUND;
  }
  if (!s.root().attr("to")) {
    if (err) *err = "'to' is required";
    return AV_E_INVALID_ARG;
  }
  if (s.shared()) s = StanzaPtr::make(std::move(*s.root().clone()));
  s.mut().set_attr("from", from->full());
  if (!run_send_hooks(s, *from, nullptr)) return AV_OK;
  route(std::move(s));
  return AV_OK;
}

namespace {
av_status x_route(av_stanza* s) {
  if (!s) return AV_E_INVALID_ARG;
  try {
    Host::get().router().route(StanzaPtr::share(s));
    return AV_OK;
  } catch (...) {
    return AV_E_INTERNAL;
  }
}
av_status x_route_as_user(av_stanza* s) {
  if (!s) return AV_E_INVALID_ARG;
  try {
    std::string err;
    av_status st = Host::get().router().route_as_user(StanzaPtr::share(s), &err);
    if (st != AV_OK) log::warning("route_as_user: " + err);
    return st;
  } catch (...) {
    return AV_E_INTERNAL;
  }
}
size_t x_session_count(av_vhost* vh) { return Host::get().sessions().count(vh ? static_cast<int>(vh->index) : -1); }
const av_ext_router_v1 kRouterExt = {sizeof(av_ext_router_v1), x_route, x_route_as_user, x_session_count};
}  // namespace

const av_ext_router_v1* Router::ext() const { return &kRouterExt; }

}  // namespace aviary
