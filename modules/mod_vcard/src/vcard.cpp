#include "vcard.hpp"

#include <aviary/cpp/jid.hpp>

namespace vcard {

Verdict check_set(std::string_view payload_name, std::string_view from_full, std::string_view to,
                  size_t vcard_bytes, size_t max_size) {
  if (av::jid_bare_part(from_full) != av::jid_bare_part(to)) return Verdict::forbidden;
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

std::string lower(std::string_view s) {
  std::string o(s);
  for (auto& c : o)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return o;
}

const char* search_schema_sql(int dialect) {
  switch (dialect) {
    case 3:
      return "CREATE TABLE IF NOT EXISTS vcard_search (username VARCHAR(150) NOT NULL,"
             " lusername VARCHAR(100) NOT NULL, server VARCHAR(250) NOT NULL,"
             " fn TEXT NOT NULL, lfn TEXT NOT NULL, family TEXT NOT NULL, lfamily TEXT NOT NULL, "
             "given TEXT NOT NULL, lgiven TEXT NOT NULL, middle TEXT NOT NULL, lmiddle TEXT NOT NULL, "
             "nickname TEXT NOT NULL, lnickname TEXT NOT NULL, bday TEXT NOT NULL, lbday TEXT NOT NULL, "
             "ctry TEXT NOT NULL, lctry TEXT NOT NULL, locality TEXT NOT NULL, llocality TEXT NOT NULL, "
             "email TEXT NOT NULL, lemail TEXT NOT NULL, orgname TEXT NOT NULL, lorgname TEXT NOT NULL, "
             "orgunit TEXT NOT NULL, lorgunit TEXT NOT NULL,"
             " PRIMARY KEY (server, lusername)) CHARACTER SET utf8mb4 ROW_FORMAT=DYNAMIC";
    default:
      return "CREATE TABLE IF NOT EXISTS vcard_search (username VARCHAR(150) NOT NULL,"
             " lusername VARCHAR(100) NOT NULL, server VARCHAR(250) NOT NULL,"
             " fn TEXT NOT NULL, lfn TEXT NOT NULL, family TEXT NOT NULL, lfamily TEXT NOT NULL, "
             "given TEXT NOT NULL, lgiven TEXT NOT NULL, middle TEXT NOT NULL, lmiddle TEXT NOT NULL, "
             "nickname TEXT NOT NULL, lnickname TEXT NOT NULL, bday TEXT NOT NULL, lbday TEXT NOT NULL, "
             "ctry TEXT NOT NULL, lctry TEXT NOT NULL, locality TEXT NOT NULL, llocality TEXT NOT NULL, "
             "email TEXT NOT NULL, lemail TEXT NOT NULL, orgname TEXT NOT NULL, lorgname TEXT NOT NULL, "
             "orgunit TEXT NOT NULL, lorgunit TEXT NOT NULL,"
             " PRIMARY KEY (server, lusername))";
  }
}

// Shared head of the vcard_search UPSERT (25 columns).
#define AV_VCARD_SEARCH_INSERT                                                                         \
  "INSERT INTO vcard_search (username, lusername, server, fn, lfn, family, lfamily, given, "    \
  "lgiven, middle, lmiddle, nickname, lnickname, bday, lbday, ctry, lctry, locality, "        \
  "llocality, email, lemail, orgname, lorgname, orgunit, lorgunit) VALUES (?, ?, ?, ?, ?, ?, " \
  "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

const char* search_upsert_sql(int dialect) {
  if (dialect == 3)
    return AV_VCARD_SEARCH_INSERT
           " ON DUPLICATE KEY UPDATE username = VALUES(username), fn = VALUES(fn), lfn = VALUES(lfn), "
           "family = VALUES(family), lfamily = VALUES(lfamily), given = VALUES(given), "
           "lgiven = VALUES(lgiven), middle = VALUES(middle), lmiddle = VALUES(lmiddle), "
           "nickname = VALUES(nickname), lnickname = VALUES(lnickname), bday = VALUES(bday), "
           "lbday = VALUES(lbday), ctry = VALUES(ctry), lctry = VALUES(lctry), "
           "locality = VALUES(locality), llocality = VALUES(llocality), email = VALUES(email), "
           "lemail = VALUES(lemail), orgname = VALUES(orgname), lorgname = VALUES(lorgname), "
           "orgunit = VALUES(orgunit), lorgunit = VALUES(lorgunit)";
  return AV_VCARD_SEARCH_INSERT
         " ON CONFLICT (server, lusername) DO UPDATE SET username = excluded.username, fn = excluded.fn, "
         "lfn = excluded.lfn, family = excluded.family, lfamily = excluded.lfamily, "
         "given = excluded.given, lgiven = excluded.lgiven, middle = excluded.middle, "
         "lmiddle = excluded.lmiddle, nickname = excluded.nickname, lnickname = excluded.lnickname, "
         "bday = excluded.bday, lbday = excluded.lbday, ctry = excluded.ctry, lctry = excluded.lctry, "
         "locality = excluded.locality, llocality = excluded.llocality, email = excluded.email, "
         "lemail = excluded.lemail, orgname = excluded.orgname, lorgname = excluded.lorgname, "
         "orgunit = excluded.orgunit, lorgunit = excluded.lorgunit";
}

#undef AV_VCARD_SEARCH_INSERT

std::vector<std::string> search_params(std::string_view user, std::string_view server, const SearchFields& f) {
  std::vector<std::string> p{std::string(user), lower(user), std::string(server)};
  for (const std::string* v : {&f.fn, &f.family, &f.given, &f.middle, &f.nickname, &f.bday, &f.ctry, &f.locality,
                               &f.email, &f.orgname, &f.orgunit}) {
    p.push_back(*v);
    p.push_back(lower(*v));
  }
  return p;
}

}  // namespace vcard
