// mod_roster pure logic: RFC 6121 subscription state machine (Appendix A), roster items,
// their SQL encoding, roster-set validation and the XML builders. No host calls here (JIDs
// and XML escaping are the SDK's, aviary/cpp/jid.hpp and xml.hpp).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roster {

// --- Subscription state ---------------------------------------------------------------
enum class Sub { none = 0, to = 1, from = 2, both = 3 };
const char* sub_name(Sub s);

struct State {
  Sub sub = Sub::none;
  bool out = false;       // pending out (ask='subscribe')
  bool in = false;        // pending in
  bool approved = false;  // pre-approved
  bool operator==(const State& o) const { return sub == o.sub && out == o.out && in == o.in && approved == o.approved; }
  bool operator!=(const State& o) const { return !(*this == o); }
};

enum class PType { subscribe, subscribed, unsubscribe, unsubscribed };
std::optional<PType> parse_ptype(std::string_view type);
const char* ptype_name(PType t);

struct Outcome {
  State next;
  bool changed = false;
  bool forward = false;      // outbound: route it to the contact; inbound: deliver to the user
  bool auto_subscribed = false;  // inbound subscribe: answer <presence type='subscribed'/> ourselves
};

// The user sends `t` to the contact (RFC 6121 A.2 and 3.4 pre-approval).
Outcome outbound(const State& s, PType t);
// The contact's `t` reaches the user (RFC 6121 A.3).
Outcome inbound(const State& s, PType t);

// The contact's `t` reaches a local bare JID that has no account (RFC 6121 3.1.3, 8.5.1):
// nothing is stored or delivered; a subscribe is answered on that JID's behalf with this
// presence type ("unsubscribed"), the others are ignored (nullopt).
std::optional<PType> unknown_user_reply(PType t);

// --- Items ------------------------------------------------------------------------------
struct Item {
  std::string jid;
  std::string name;
  std::vector<std::string> groups;
  State st;
  bool hidden = false;      // only a pending inbound request: not in the user's roster
  std::string askmessage;   // status text of the pending inbound subscribe
};

// An item that only held a hidden pending request and has nothing left: delete it.
bool is_void(const Item& it);

// SQL encoding (rosterusers.subscription / ask, char(1)).
char sub_code(Sub s);
Sub sub_from_code(std::string_view c);
char ask_code(const Item& it);
// Applies an ask code to the item (sets out/in/approved/hidden; sub must be set first).
void apply_ask_code(Item& it, std::string_view c);

// --- Roster set -------------------------------------------------------------------------
struct ItemReq {
  bool has_jid = false;
  std::string jid;
  bool has_name = false;
  std::string name;
  std::string subscription;  // attribute value, "" when absent
  std::vector<std::string> groups;
};
struct SetReq {
  std::vector<ItemReq> items;
};
struct Error {
  std::string type;       // "modify", "cancel", "auth"
  std::string condition;  // RFC 6120 defined condition
  std::string text;
};
// Validates a roster set (RFC 6121 2.3.3 / 2.5.3): exactly one item, a valid jid, no
// duplicate or empty group, sane lengths. On success the item's jid is normalised (bare).
std::optional<Error> validate_set(SetReq& req, size_t max_len = 1023);

// --- Versions (XEP-0237) ----------------------------------------------------------------
// A version derived from the content of the roster (used when store_current_id = false).
std::string content_version(const std::map<std::string, Item>& items);

// --- XML builders -----------------------------------------------------------------------
std::string item_xml(const Item& it);
std::string removed_item_xml(std::string_view jid);
// <query xmlns='jabber:iq:roster' [ver='..']>visible items</query>
std::string roster_query(const std::map<std::string, Item>& items, const std::optional<std::string>& ver);
// A roster push (RFC 6121 2.1.6) of one item element to a full JID.
std::string push_iq(std::string_view user_bare, std::string_view to_full, std::string_view id,
                    std::string_view item_element, const std::optional<std::string>& ver);
// <presence type='..' from='..' to='..'>[<status>..</status>]</presence>
std::string presence(std::string_view type, std::string_view from, std::string_view to, std::string_view status = {});

}  // namespace roster
