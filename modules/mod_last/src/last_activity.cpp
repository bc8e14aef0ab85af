#include "last_activity.hpp"

namespace last {

std::string bare(std::string_view jid) {
  auto slash = jid.find('/');
  return std::string(slash == std::string_view::npos ? jid : jid.substr(0, slash));
}

std::string_view domain_of(std::string_view jid) {
  auto slash = jid.find('/');
  if (slash != std::string_view::npos) jid = jid.substr(0, slash);
  auto at = jid.find('@');
  return at == std::string_view::npos ? jid : jid.substr(at + 1);
}

std::string xml_escape(std::string_view s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&apos;"; break;
      default: o += c;
    }
  }
  return o;
}

bool may_ask(std::string_view from_full, std::string_view to_bare, bool from_is_local) {
  if (bare(from_full) == bare(to_bare)) return true;
  return from_is_local && bare(from_full).find('@') != std::string::npos;
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
  return head + ">" + xml_escape(a.status) + "</query>";
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
