#include "offline_logic.hpp"

#include <aviary/cpp/datetime.hpp>
#include <aviary/cpp/xml.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace mod_offline {

namespace {
constexpr const char* kNsChatStates = "http://jabber.org/protocol/chatstates";
constexpr const char* kNsHints = "urn:xmpp:hints";
}  // namespace

Decision classify(const std::string& type, const std::vector<Child>& children) {
  if (type == "error" || type == "groupchat" || type == "headline") return Decision::not_ours;
  bool content = false, store_hint = false;
  for (auto& c : children) {
    if (c.xmlns == kNsHints) {
      if (c.name == "no-store") return Decision::discard;  // XEP-0334 4.3
      if (c.name == "store") store_hint = true;
      continue;
    }
    if (c.xmlns == kNsChatStates) continue;  // XEP-0085 5.6: standalone notifications are not stored
    // XEP-0280: a carbon copy whose session went away is not stored; the original was.
    if (c.xmlns == "urn:xmpp:carbons:2" && (c.name == "sent" || c.name == "received")) return Decision::discard;
    if (c.name == "thread" && (c.xmlns.empty() || c.xmlns == "jabber:client")) continue;
    content = true;  // body, subject, receipts, markers, encrypted payloads ...
  }
  return content || store_hint ? Decision::store : Decision::discard;
}

std::optional<int64_t> expire_at(const std::string& seconds_attr, int64_t now_us) {
  if (seconds_attr.empty() || seconds_attr.size() > 12) return std::nullopt;
  for (char c : seconds_attr)
    if (c < '0' || c > '9') return std::nullopt;
  int64_t s = std::strtoll(seconds_attr.c_str(), nullptr, 10);
  return now_us + s * 1000000;
}

std::string stamp(int64_t unix_us) { return av::xep82_datetime(unix_us, true); }

std::string delay_xml(const std::string& domain, int64_t unix_us) {
  return "<delay xmlns='urn:xmpp:delay' from='" + av::xml_escape(domain) + "' stamp='" + stamp(unix_us) +
         "'>Offline Storage</delay>";
}

std::vector<std::string> schema(Dialect d) {
  switch (d) {
    case Dialect::pgsql:
      return {"CREATE TABLE IF NOT EXISTS offline_message ("
              " id SERIAL UNIQUE PRIMARY KEY, timestamp BIGINT NOT NULL, expire BIGINT,"
              " server VARCHAR(250) NOT NULL, username VARCHAR(250) NOT NULL, from_jid VARCHAR(250) NOT NULL,"
              " packet TEXT NOT NULL, permanent_fields BYTEA)",
              "CREATE INDEX IF NOT EXISTS i_offline_message ON offline_message USING BTREE (server, username, id)"};
    case Dialect::mysql:
      return {"CREATE TABLE IF NOT EXISTS offline_message ("
              " id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, timestamp BIGINT UNSIGNED NOT NULL,"
              " expire BIGINT UNSIGNED, server VARCHAR(250) NOT NULL, username VARCHAR(250) NOT NULL,"
              " from_jid VARCHAR(250) NOT NULL, packet TEXT NOT NULL, permanent_fields MEDIUMBLOB,"
              " INDEX i_offline_message USING BTREE (server, username, id))"
              " CHARACTER SET utf8mb4 ROW_FORMAT=DYNAMIC"};
    case Dialect::sqlite:
    default:
      return {"CREATE TABLE IF NOT EXISTS offline_message ("
              " id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp BIGINT NOT NULL, expire BIGINT,"
              " server VARCHAR(250) NOT NULL, username VARCHAR(250) NOT NULL, from_jid VARCHAR(250) NOT NULL,"
              " packet TEXT NOT NULL, permanent_fields BLOB)",
              "CREATE INDEX IF NOT EXISTS i_offline_message ON offline_message (server, username, id)"};
  }
}

std::string insert_sql(Dialect d, int64_t max) {
  // Parameters are bound as text: cast the numeric ones where the database cannot infer it.
  const char* num = d == Dialect::mysql ? "SIGNED" : "BIGINT";
  std::string cast = std::string("CAST(? AS ") + num + ")";
  std::string cols = "INSERT INTO offline_message (timestamp, expire, server, username, from_jid, packet) ";
  if (max <= 0) return cols + "VALUES (" + cast + ", " + cast + ", ?, ?, ?, ?)";
  return cols + "SELECT " + cast + ", " + cast + ", ?, ?, ?, ?" + (d == Dialect::mysql ? " FROM DUAL" : "") +
         " WHERE (SELECT COUNT(*) FROM offline_message WHERE server = ? AND username = ?) < " + std::to_string(max);
}

std::string select_sql() {
  return "SELECT id, timestamp, packet FROM offline_message WHERE server = ? AND username = ?"
         " AND (expire IS NULL OR expire > ?) ORDER BY id";
}

std::string delete_ids_sql(size_t n) {
  std::string s = "DELETE FROM offline_message WHERE server = ? AND username = ? AND id IN (";
  for (size_t i = 0; i < n; ++i) s += i ? ", ?" : "?";
  return s + ")";
}

}  // namespace mod_offline
