#include "vcard.hpp"

namespace vcard {

std::string bare(std::string_view jid) {
  auto slash = jid.find('/');
  return std::string(slash == std::string_view::npos ? jid : jid.substr(0, slash));
}

Verdict check_set(std::string_view payload_name, std::string_view from_full, std::string_view to,
                  size_t vcard_bytes, size_t max_size) {
  if (bare(from_full) != bare(to)) return Verdict::forbidden;
  if (payload_name != "vCard") return Verdict::bad_request;
  if (max_size > 0 && vcard_bytes > max_size) return Verdict::not_acceptable;
  return Verdict::ok;
}

Verdict check_get(std::string_view payload_name) {
  return payload_name == "vCard" ? Verdict::ok : Verdict::bad_request;
}

const char* schema_sql(int dialect) {
  switch (dialect) {
    case 2:  // PostgreSQL (MongooseIM priv/pg.sql)
      return "CREATE TABLE IF NOT EXISTS vcard ("
             " username VARCHAR(150) NOT NULL, server VARCHAR(100) NOT NULL, vcard TEXT NOT NULL,"
             " created_at TIMESTAMP NOT NULL DEFAULT now(), PRIMARY KEY (server, username))";
    case 3:  // MySQL / MariaDB (MongooseIM priv/mysql.sql)
      return "CREATE TABLE IF NOT EXISTS vcard ("
             " username VARCHAR(150) NOT NULL, server VARCHAR(100) NOT NULL, vcard MEDIUMTEXT NOT NULL,"
             " created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (server, username))"
             " CHARACTER SET utf8mb4 ROW_FORMAT=DYNAMIC";
    default:  // SQLite
      return "CREATE TABLE IF NOT EXISTS vcard ("
             " username VARCHAR(150) NOT NULL, server VARCHAR(100) NOT NULL, vcard TEXT NOT NULL,"
             " created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (server, username))";
  }
}

const char* upsert_sql(int dialect) {
  if (dialect == 3)
    return "INSERT INTO vcard (username, server, vcard) VALUES (?, ?, ?)"
           " ON DUPLICATE KEY UPDATE vcard = VALUES(vcard)";
  return "INSERT INTO vcard (username, server, vcard) VALUES (?, ?, ?)"
         " ON CONFLICT (server, username) DO UPDATE SET vcard = excluded.vcard";
}

}  // namespace vcard
