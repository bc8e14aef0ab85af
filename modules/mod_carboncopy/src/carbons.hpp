// mod_carboncopy pure logic (XEP-0280): eligibility rules, the router's delivery rule,
// the enabled-session registry and the carbon wrapper. No host calls: unit tested.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace carbons {

inline constexpr std::string_view kNs = "urn:xmpp:carbons:2";
inline constexpr std::string_view kNsForward = "urn:xmpp:forward:0";
inline constexpr std::string_view kNsHints = "urn:xmpp:hints";
inline constexpr std::string_view kNsClient = "jabber:client";

// A summary of an element: its name, its namespace (inherited from the parent when it has no
// xmlns attribute), its 'type' attribute and its element children (depth-limited by the
// builder in the glue).
struct El {
  std::string name;
  std::string ns;
  std::string type;
  std::vector<El> kids;

  const El* child(std::string_view n, std::string_view xmlns) const {
    for (const auto& k : kids)
      if (k.name == n && k.ns == xmlns) return &k;
    return nullptr;
  }
  bool has_child_ns(std::string_view xmlns) const {
    for (const auto& k : kids)
      if (k.ns == xmlns) return true;
    return false;
  }
};

enum class Direction { sent, received };

// XEP-0280 section 6.1 (recommended rules) for a <message/>, from the point of view of
// `dir`. Never eligible: <private/> (carbons:2) or <no-copy/> (hints) children, messages
// that already are carbons or MAM results (no copies of copies), type groupchat, headline
// and error (we cannot tell whether an error answers an eligible message), and a private
// message received from a MUC occupant (muc#user <x/> without an invitation). Eligible:
// type chat; type normal with a <body/>; XEP-0184 receipts, XEP-0085 chat states and
// XEP-0333 markers; XEP-0249 direct and XEP-0045 mediated invitations.
bool eligible(const El& message, Direction dir);

// The resources the host's router hands a message to (RFC 6121 8.5.2/8.5.3, as
// host/src/net/router.cpp does it): for a full JID whose resource is bound, that resource;
// otherwise (bare JID, or an absent resource for a non-groupchat message) every available
// resource of the highest non-negative priority; headline to every available resource
// with a non-negative priority.
struct SessionInfo {
  std::string resource;
  int32_t priority = 0;
  bool available = false;
};
std::vector<std::string> delivery_targets(const std::vector<SessionInfo>& sessions, std::string_view to_resource,
                                          std::string_view type);

// The carbon copy: <message from=BARE to=FULL [type=TYPE]><sent|received xmlns=carbons:2>
// <forwarded xmlns=forward:0>INNER</forwarded></...></message>. `inner_xml` must be the
// original message serialized with xmlns='jabber:client' on its root.
std::string wrap(Direction dir, std::string_view user_bare, std::string_view to_full, std::string_view type,
                 std::string_view inner_xml);

// Which sessions (full JIDs) enabled carbons. Thread-safe.
class Registry {
 public:
  // false when `full_jid` has no resource.
  bool enable(std::string_view full_jid);
  void disable(std::string_view full_jid);
  bool enabled(std::string_view full_jid) const;
  // The enabled resources of a bare JID.
  std::vector<std::string> resources(std::string_view bare_jid) const;
  bool any(std::string_view bare_jid) const;
  void forget_user(std::string_view bare_jid);
  size_t size() const;
  // Lock-free: true when no session enabled carbons (the hot path's first test).
  bool empty() const { return users_.load(std::memory_order_relaxed) == 0; }

 private:
  void publish() { users_.store(by_bare_.size(), std::memory_order_relaxed); }  // under mu_
  std::atomic<size_t> users_{0};
  mutable std::mutex mu_;
  std::map<std::string, std::set<std::string>, std::less<>> by_bare_;
};

}  // namespace carbons
