// mod_private pure logic: XEP-0049 request validation and SQL text (no host calls).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace priv {

inline constexpr std::string_view kNs = "jabber:iq:private";

// One child element of <query/>: its xmlns attribute ("" when absent, i.e. inherited from
// jabber:iq:private) and its serialized XML.
struct Child {
  std::string ns;
  std::string xml;
};

struct Request {
  // Error to answer with; condition empty = valid.
  std::string error_type;
  std::string condition;
  // get: the one namespace asked for (with the requested element, echoed when nothing is
  // stored). set: each namespace with the concatenated XML of its children, in order.
  std::vector<std::pair<std::string, std::string>> items;
  bool ok() const { return condition.empty(); }
};

// Namespaces a client may not store under (XEP-0049 section 3: no namespace, and the
// stanza / private namespaces themselves).
bool reserved_ns(std::string_view ns);

Request parse(bool is_set, std::string_view from_full, std::string_view to, std::string_view payload_name,
              const std::vector<Child>& children);

// SQL (dialect: 1 sqlite, 2 pgsql, 3 mysql).
const char* schema_sql(int dialect);
const char* upsert_sql(int dialect);  // params: server, username, namespace, data
inline constexpr const char* kSelectSql =
    "SELECT data FROM private_storage WHERE server = ? AND username = ? AND namespace = ?";
inline constexpr const char* kDeleteSql = "DELETE FROM private_storage WHERE server = ? AND username = ?";

}  // namespace priv
