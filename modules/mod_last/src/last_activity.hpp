// mod_last pure logic: XEP-0012 answers, access rule, SQL text (no host calls).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace last {

inline constexpr std::string_view kNs = "jabber:iq:last";

// Who may ask about a user's last activity (XEP-0012 sections 3 and 9): the user themself
// (any of their resources) always, without looking at a roster...
bool is_self(std::string_view from_full, std::string_view to_bare);
// ...anyone else only with a subscription to the user's presence: the asker's item in the
// user's roster has subscription 'from' or 'both' (an av_roster_sub value). 'to', 'none'
// and a pending request do not count. Without a roster (mod_roster not enabled) nobody
// but the user may ask.
bool subscription_allows(int32_t av_roster_sub_value);

// An IQ get of this namespace to a user's full JID (XEP-0012 section 4, "online user"): the
// server must refuse to deliver it to an asker without a subscription. True when the
// request must be checked: type get, a <query xmlns='jabber:iq:last'/> payload, a full JID
// of another account.
bool needs_check_to_full(std::string_view type, std::string_view payload_name, std::string_view payload_ns,
                         std::string_view from, std::string_view to);

// What the store holds for a user: the Unix time of the last logout and the status text
// of the last unavailable presence.
struct Stored {
  int64_t logout = 0;
  std::string status;
};
struct Answer {
  int64_t seconds = 0;
  std::string status;
};
// online: the user has an available session (0 seconds, no status). nullopt: nothing known.
std::optional<Answer> compute(bool online, const std::optional<Stored>& stored, int64_t now);

// <query xmlns='jabber:iq:last' seconds='N'>status</query>
std::string query_xml(const Answer& a);

// SQL (dialect: 1 sqlite, 2 pgsql, 3 mysql).
const char* schema_sql(int dialect);
const char* upsert_sql(int dialect);  // params: username, server, seconds, state
inline constexpr const char* kSelectSql = "SELECT seconds, state FROM last WHERE server = ? AND username = ?";
inline constexpr const char* kDeleteSql = "DELETE FROM last WHERE server = ? AND username = ?";

}  // namespace last
