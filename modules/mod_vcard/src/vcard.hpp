// mod_vcard pure logic: request checks and SQL text per dialect (no host calls).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace vcard {

inline constexpr std::string_view kNs = "vcard-temp";
inline constexpr const char* kEmpty = "<vCard xmlns='vcard-temp'/>";

enum class Verdict { ok, bad_request, not_acceptable, forbidden };

// An IQ set: payload name must be vCard, the requester must be the owner, the serialized
// vCard at most max_size bytes (0 = no limit).
Verdict check_set(std::string_view payload_name, std::string_view from_full, std::string_view to,
                  size_t vcard_bytes, size_t max_size);
// An IQ get: payload name must be vCard (anyone may read anyone's vCard).
Verdict check_get(std::string_view payload_name);

// SQL (dialect numbers are av_sql_dialect: 1 sqlite, 2 pgsql, 3 mysql).
const char* schema_sql(int dialect);
const char* upsert_sql(int dialect);  // params: username, server, vcard
inline constexpr const char* kSelectSql = "SELECT vcard FROM vcard WHERE server = ? AND username = ?";
inline constexpr const char* kDeleteSql = "DELETE FROM vcard WHERE server = ? AND username = ?";

// The vcard_search row (MongooseIM's table): each field as written and lowercased.
struct SearchFields {
  std::string fn, family, given, middle, nickname, bday, ctry, locality, email, orgname, orgunit;
};
// ASCII lowercase (MongooseIM lowercases with stringprep; non-ASCII is kept as is here).
std::string lower(std::string_view s);
const char* search_schema_sql(int dialect);
// params: username, lusername, server, then fn, lfn, family, lfamily, ... orgunit, lorgunit
const char* search_upsert_sql(int dialect);
std::vector<std::string> search_params(std::string_view user, std::string_view server, const SearchFields& f);
inline constexpr const char* kSearchDeleteSql = "DELETE FROM vcard_search WHERE server = ? AND lusername = ?";

}  // namespace vcard
