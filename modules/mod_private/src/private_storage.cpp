#include "private_storage.hpp"

#include <aviary/cpp/jid.hpp>

namespace priv {

bool reserved_ns(std::string_view ns) {
  return ns.empty() || ns == "jabber:client" || ns == "jabber:server" || ns == kNs;
}

static Request fail(const char* type, const char* cond) {
  Request r;
  r.error_type = type;
  r.condition = cond;
  return r;
}

Request parse(bool is_set, std::string_view from_full, std::string_view to, std::string_view payload_name,
              const std::vector<Child>& children) {
  if (av::jid_bare_part(from_full) != av::jid_bare_part(to)) return fail("cancel", "forbidden");
  if (payload_name != "query") return fail("modify", "bad-request");
  if (children.empty()) return fail("modify", "bad-request");  // XEP-0049 "Bad Format"
  for (auto& c : children)
    if (reserved_ns(c.ns)) return fail("modify", "not-acceptable");
  Request r;
  if (!is_set) {
    for (auto& c : children)
      if (c.ns != children.front().ns) return fail("modify", "bad-request");  // one namespace per get
    r.items.emplace_back(children.front().ns, children.front().xml);
    return r;
  }
  for (auto& c : children) {
    bool merged = false;
    for (auto& it : r.items)
      if (it.first == c.ns) {
        it.second += c.xml;
        merged = true;
      }
    if (!merged) r.items.emplace_back(c.ns, c.xml);
  }
  return r;
}

const char* schema_sql(int dialect) {
  switch (dialect) {
    case 2:
      return "CREATE TABLE IF NOT EXISTS private_storage ("
             " server VARCHAR(250) NOT NULL, username VARCHAR(250) NOT NULL, namespace VARCHAR(250) NOT NULL,"
             " data TEXT NOT NULL, created_at TIMESTAMP NOT NULL DEFAULT now(),"
             " PRIMARY KEY (server, username, namespace))";
    case 3:
      return "CREATE TABLE IF NOT EXISTS private_storage ("
             " server VARCHAR(250) NOT NULL, username VARCHAR(250) NOT NULL, namespace VARCHAR(250) NOT NULL,"
             " data MEDIUMTEXT NOT NULL, created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,"
             " PRIMARY KEY (server, username, namespace)) CHARACTER SET utf8mb4 ROW_FORMAT=DYNAMIC";
    default:
      return "CREATE TABLE IF NOT EXISTS private_storage ("
             " server VARCHAR(250) NOT NULL, username VARCHAR(250) NOT NULL, namespace VARCHAR(250) NOT NULL,"
             " data TEXT NOT NULL, created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,"
             " PRIMARY KEY (server, username, namespace))";
  }
}

const char* upsert_sql(int dialect) {
  if (dialect == 3)
    return "INSERT INTO private_storage (server, username, namespace, data) VALUES (?, ?, ?, ?)"
           " ON DUPLICATE KEY UPDATE data = VALUES(data)";
  return "INSERT INTO private_storage (server, username, namespace, data) VALUES (?, ?, ?, ?)"
         " ON CONFLICT (server, username, namespace) DO UPDATE SET data = excluded.data";
}

}  // namespace priv
