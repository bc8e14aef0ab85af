#include "csi_policy.hpp"

namespace csi {

namespace {

constexpr std::string_view kNsCarbons = "urn:xmpp:carbons:2";
constexpr std::string_view kNsForward = "urn:xmpp:forward:0";
constexpr std::string_view kNsMucUser = "http://jabber.org/protocol/muc#user";
constexpr std::string_view kMamPrefix = "urn:xmpp:mam:";

// Payload namespaces that make a message worth a wake-up on their own.
constexpr std::string_view kUrgentNs[] = {
    "eu.siacs.conversations.axolotl",  // OMEMO (legacy)
    "urn:xmpp:omemo:2",                // OMEMO
    "urn:xmpp:openpgp:0",              // XEP-0373
    "jabber:x:encrypted",              // XEP-0027
    "urn:xmpp:eme:0",                  // XEP-0380
    "urn:xmpp:jingle-message:0",       // XEP-0353 call proposals
    "jabber:x:conference",             // XEP-0249 invitation
};

bool message_urgent(const El& m, int depth) {
  if (m.type == "error") return true;
  // Body and subject are in the message's own (default) namespace.
  if (m.child("body", m.ns) || m.child("subject", m.ns)) return true;
  for (const auto& k : m.kids) {
    for (auto ns : kUrgentNs)
      if (k.ns == ns) return true;
    if (k.ns.compare(0, kMamPrefix.size(), kMamPrefix) == 0) return true;  // answers to the client's query
    if (k.name == "x" && k.ns == kNsMucUser && k.child("invite", kNsMucUser)) return true;
    if ((k.name == "sent" || k.name == "received") && k.ns == kNsCarbons && depth == 0) {
      const El* fwd = k.child("forwarded", kNsForward);
      if (!fwd) continue;
      for (const auto& inner : fwd->kids)
        if (inner.name == "message" && message_urgent(inner, depth + 1)) return true;
    }
  }
  return false;
}

}  // namespace

bool urgent(const El& s) {
  if (s.name == "iq") return true;
  if (s.name == "presence") return !(s.type.empty() || s.type == "unavailable");
  if (s.name == "message") return message_urgent(s, 0);
  return true;
}

}  // namespace csi
