// Routing between local sessions (RFC 6120 10, RFC 6121 8.5), the server's own IQs, and
// error replies. No s2s yet: remote domains get remote-server-not-found.
#pragma once

#include "core/jid.hpp"
#include "ext/stanza_ext.hpp"

#include <aviary/ext/router.h>

#include <string>

namespace aviary {

class Host;
class C2sSession;

class Router {
 public:
  explicit Router(Host& host);
  // [any-thread] Route by the stanza's from/to attributes.
  void route(StanzaPtr s);
  // [any-thread] As if the local user in 'from' sent it: user-send hooks, then route (what a
  // handler put in place of s, if one did).
  // Returns AV_E_NOT_FOUND/AV_E_INVALID_ARG with *err when 'from' is not a local user JID.
  av_status route_as_user(StanzaPtr s, std::string* err);
  // [any-thread] Run the user-send hooks for a stanza whose 'from' is already stamped;
  // returns false when a handler dropped it. session may be null. On return `s` is the
  // stanza to route: the one passed in, or a handler's replacement (av_stanza_acc.replace),
  // whose 'from' and 'to' may differ; anything read from the old s.root() may dangle.
  bool run_send_hooks(StanzaPtr& s, const Jid& from, av_session* session);
  // [any-thread] A message that could not be delivered to a session: offline storage or bounce.
  void to_offline(StanzaPtr s, const Jid& to);
  // [any-thread] Answer `s` with a stanza error, unless it is an error itself.
  void bounce(const StanzaPtr& s, const char* type, const char* condition, const char* text = "");
  const av_ext_router_v1* ext() const;

 private:
  void route_local_user(StanzaPtr s, const Jid& from, const Jid& to);
  void route_to_server(StanzaPtr s, const Jid& from, const Jid& to, av_vhost* vh);
  void deliver_bare(StanzaPtr s, const Jid& from, const Jid& to);
  bool run_iq_hook(const char* prefix, const StanzaPtr& s, const Jid& from, const Jid& to, av_vhost* vh);
  Host& host_;
};

}  // namespace aviary
