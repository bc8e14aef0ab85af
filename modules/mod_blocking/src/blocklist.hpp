// mod_blocking pure logic (no host calls): JIDs and XEP-0191 matching, the per-user list,
// command parsing, XML builders and SQL text.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace blk {

inline constexpr std::string_view kNs = "urn:xmpp:blocking";
inline constexpr std::string_view kErrNs = "urn:xmpp:blocking:errors";

struct Jid {
  std::string node, domain, resource;
  std::string bare() const { return node.empty() ? domain : node + "@" + domain; }
  std::string full() const { return resource.empty() ? bare() : bare() + "/" + resource; }
};

// Parses and normalizes (ASCII-lowercase localpart and domain; the resource is kept as
// is). nullopt for an empty domain, an empty localpart before '@', '@' or '/' misplaced,
// parts over 1023 bytes, or whitespace/control characters in the localpart or domain.
std::optional<Jid> parse_jid(std::string_view s);

// XEP-0191 section 7 (XEP-0016 order): item user@domain/resource matches only that full
// JID; user@domain any resource of it; domain/resource only that; domain the domain
// itself and every JID at it.
bool matches(const Jid& item, const Jid& who);

class Blocklist {
 public:
  bool blocks(const Jid& who) const;
  bool blocks(std::string_view who) const;
  bool contains(const std::string& item) const;
  bool add(const std::string& item);     // normalized item; false when already there
  bool remove(const std::string& item);  // false when absent
  void clear();
  const std::vector<std::string>& items() const { return items_; }

 private:
  std::vector<std::string> items_;
  std::vector<Jid> parsed_;
};

enum class Op { get, block, unblock, unblock_all };

struct Command {
  Op op = Op::get;
  std::vector<std::string> items;  // normalized, deduplicated, in request order
  std::string error_type, condition;
  bool ok() const { return condition.empty(); }
};

// is_set: the IQ type; payload_name: blocklist|block|unblock; item_jids: the 'jid'
// attribute of each <item/> child (nullopt when it has none).
Command parse_command(bool is_set, std::string_view payload_name,
                      const std::vector<std::optional<std::string>>& item_jids);

// <blocklist xmlns='urn:xmpp:blocking'><item jid='...'/>...</blocklist>
std::string blocklist_xml(const std::vector<std::string>& items);
// <block .../> or <unblock .../> with the items (none for unblock-all).
std::string push_xml(Op op, const std::vector<std::string>& items);
// Adds <blocked xmlns='urn:xmpp:blocking:errors'/> to the last <error> of a serialized
// error stanza; "" when there is none.
std::string add_blocked_condition(std::string_view error_stanza_xml);

// XEP-0191 3.3/3.4 presence effects. contacts: bare JIDs allowed to see the user's presence
// (roster subscription from/both); items: the JIDs just blocked or unblocked. Returns whom
// to send presence to: a full-JID item of a contact gets it at that full JID, any other
// item every contact it matches. Deduplicated, in order.
std::vector<std::string> presence_targets(const std::vector<std::string>& contacts,
                                          const std::vector<std::string>& items);
// <presence from to [type='unavailable']>[<show/>][<status/>][<priority/>]</presence>
std::string presence_xml(std::string_view from, std::string_view to, bool unavailable, std::string_view show,
                         std::string_view status, int priority);

// SQL (dialect: 1 sqlite, 2 pgsql, 3 mysql). Table blocking_list(server, username, jid).
const char* schema_sql(int dialect);
std::string insert_sql(int dialect, size_t n);  // params: n x (server, username, jid)
std::string delete_some_sql(size_t n);          // params: server, username, n x jid
inline constexpr const char* kDeleteAllSql = "DELETE FROM blocking_list WHERE server = ? AND username = ?";
inline constexpr const char* kSelectSql =
    "SELECT jid FROM blocking_list WHERE server = ? AND username = ? ORDER BY created_at, jid";

}  // namespace blk
