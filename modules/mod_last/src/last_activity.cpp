#include "last_activity.hpp"

#include <aviary/cpp/jid.hpp>
#include <aviary/cpp/xml.hpp>
#include <aviary/ext/draft/roster.h>

namespace last {

bool is_self(std::string_view from_full, std::string_view to_bare) {
  auto f = av::bare_jid(from_full), t = av::bare_jid(to_bare);
  return !f.empty() && f == t && f.find('@') != std::string::npos;
}

bool subscription_allows(int32_t sub) { return sub == AV_ROSTER_SUB_FROM || sub == AV_ROSTER_SUB_BOTH; }

bool needs_check_to_full(std::string_view type, std::string_view payload_name, std::string_view payload_ns,
                         std::string_view from, std::string_view to) {
  if (type != "get" || payload_name != "query" || payload_ns != kNs) return false;
  auto j = av::parse_jid(to);
  if (!j || j->user.empty() || j->resource.empty()) return false;
  return !is_self(from, j->bare());
}

std::optional<Answer> compute(bool online, const std::optional<Stored>& stored, int64_t now) {
  if (online) return Answer{0, ""};
  if (!stored) return std::nullopt;
  int64_t secs = now - stored->logout;
  return Answer{secs < 0 ? 0 : secs, stored->status};
}

std::string query_xml(const Answer& a) {
  std::string head = "<query xmlns='jabber:iq:last' seconds='" + std::to_string(a.seconds) + "'";
  if (a.status.empty()) return head + "/>";
  return head + ">" + av::xml_escape(a.status) + "</query>";
}

const char* schema_sql(int dialect) {
  switch (dialect) {
    case 2:
      return "CREATE TABLE IF NOT EXISTS last (username VARCHAR(250) NOT NULL, server VARCHAR(250) NOT NULL,"
             " seconds INTEGER NOT NULL, state TEXT NOT NULL, PRIMARY KEY (server, username))";
    case 3:
      return "CREATE TABLE IF NOT EXISTS last (username VARCHAR(250) NOT NULL, server VARCHAR(250) NOT NULL,"
             " seconds INT NOT NULL, state TEXT NOT NULL, PRIMARY KEY (server, username))"
             " CHARACTER SET utf8mb4 ROW_FORMAT=DYNAMIC";
    default:
      return "CREATE TABLE IF NOT EXISTS last (username VARCHAR(250) NOT NULL, server VARCHAR(250) NOT NULL,"
             " seconds INTEGER NOT NULL, state TEXT NOT NULL, PRIMARY KEY (server, username))";
  }
}

const char* upsert_sql(int dialect) {
  if (dialect == 3)
    return "INSERT INTO last (username, server, seconds, state) VALUES (?, ?, ?, ?)"
           " ON DUPLICATE KEY UPDATE seconds = VALUES(seconds), state = VALUES(state)";
  return "INSERT INTO last (username, server, seconds, state) VALUES (?, ?, ?, ?)"
         " ON CONFLICT (server, username) DO UPDATE SET seconds = excluded.seconds, state = excluded.state";
}

}  // namespace last
