// XEP-0313 requests: the query form (XEP-0004), RSM (XEP-0059) and flip-page, read into a
// Query and planned into a storage lookup. Pure; errors as XEP-0313 asks.
#pragma once

#include "xml_node.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace mod_mam {

inline constexpr const char* kNsMam2 = "urn:xmpp:mam:2";
inline constexpr const char* kNsMam1 = "urn:xmpp:mam:1";
inline constexpr const char* kNsRsm = "http://jabber.org/protocol/rsm";
inline constexpr const char* kNsData = "jabber:x:data";
inline constexpr const char* kFullText = "{urn:xmpp:fulltext:0}fulltext";

struct StanzaError {
  std::string type, condition, text;
};

struct Query {
  std::string ns;       // urn:xmpp:mam:2 or :1, echoed in results
  std::string queryid;
  std::optional<std::string> with;  // as given (validated as a JID by the caller)
  std::optional<int64_t> start_us, end_us;
  std::optional<int64_t> after_id, before_id;  // form fields (exclusive)
  std::vector<int64_t> ids;
  std::vector<std::string> words;  // normalised full-text words
  // RSM
  std::optional<uint32_t> max;
  std::optional<int64_t> rsm_after, rsm_before;
  bool rsm_before_empty = false;  // <before/>: the last page
  std::optional<uint32_t> index;
  bool flip = false;
  bool simple = false;  // MongooseIM's <simple/>: no count, no index
};

// Reads <query/> (its children: the form, <set/>, <flip-page/>). Unknown form fields give
// feature-not-implemented; malformed values bad-request.
std::variant<Query, StanzaError> parse_query(const Node& query);

// What the storage is asked for one page.
struct Plan {
  int64_t min_id = 0, max_id = INT64_MAX;  // inclusive, the page's bounds
  int64_t count_min_id = 0, count_max_id = INT64_MAX;  // the same without the RSM position
  bool backward = false;
  uint32_t offset = 0;
  uint32_t page = 50;   // results to send
};
Plan plan_query(const Query& q, uint32_t default_page, uint32_t max_page);

// The <x type='form'/> returned for <iq type='get'><query/></iq>.
std::string form_xml(const std::string& ns);

}  // namespace mod_mam
