// mod_last pure logic: XEP-0012 answers, access rule, SQL text (no host calls).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace last {

inline constexpr std::string_view kNs = "jabber:iq:last";

// Who may ask about a user's last activity. XEP-0012 wants a presence subscription; until
// a roster is available this allows the user themself and any user of a local domain.
bool may_ask(std::string_view from_full, std::string_view to_bare, bool from_is_local);

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
