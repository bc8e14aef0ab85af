#include "last_activity.hpp"

#include <aviary/cpp/jid.hpp>
#include <aviary/cpp/xml.hpp>

namespace last {

bool may_ask(std::string_view from_full, std::string_view to_bare, bool from_is_local) {
  if (av::jid_bare_part(from_full) == av::jid_bare_part(to_bare)) return true;
  return from_is_local && av::jid_bare_part(from_full).find('@') != std::string::npos;
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
