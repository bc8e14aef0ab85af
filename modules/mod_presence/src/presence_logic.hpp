// mod_presence pure logic: the inbound presence decision and XML builders (JIDs and XML
// escaping are the SDK's, aviary/cpp/jid.hpp and xml.hpp). No host calls here (unit tested).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace presence {

// What the recipient's roster says about the sender.
enum class Sub { unknown, none, to, from, both };  // unknown: roster not in memory / no item

enum class Verdict {
  not_mine,  // not a presence type this module filters (subscriptions, error...)
  deliver,
  drop,
  probe,     // a probe: answered by the server, never delivered
};

// Inbound presence of `type` from a sender to a local user (RFC 6121 4.3, 4.4.3, 4.6):
// probes are the server's; available presence is delivered when it comes from the user's
// own resources, is addressed to a full JID (directed presence), comes from a contact the
// user is subscribed to (to/both) or from a JID the user sent directed presence to;
// otherwise dropped. 'unavailable' is always delivered (a cancelled subscription's goodbye
// arrives after the subscription is gone). An unknown roster delivers (still loading).
Verdict inbound(std::string_view type, bool to_full_jid, bool from_self, Sub sub, bool directed_peer);

// Whether presence the user sends to `sub`'s contact must be tracked as directed presence
// (RFC 6121 4.6.3): yes unless the contact gets the user's broadcasts anyway (from/both) or
// it is the user's own account.
bool track_directed(bool to_self, Sub sub);

// <presence type='probe' from='bare' to='contact'/>
std::string probe_xml(std::string_view from_bare, std::string_view to);
// <presence type='unavailable' from='full' [to='..']/>
std::string unavailable_xml(std::string_view from_full, std::string_view to = {});

}  // namespace presence
