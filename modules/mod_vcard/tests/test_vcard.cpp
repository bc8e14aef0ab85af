#include <catch2/catch.hpp>

#include "vcard.hpp"

#include <algorithm>
#include <string>

using vcard::Verdict;

TEST_CASE("vCard set: only the owner, only <vCard/>, only up to the size limit") {
  CHECK(vcard::check_set("vCard", "alice@localhost/r", "alice@localhost", 100, 65536) == Verdict::ok);
  CHECK(vcard::check_set("vCard", "alice@localhost/r", "bob@localhost", 100, 65536) == Verdict::forbidden);
  CHECK(vcard::check_set("vcard", "alice@localhost/r", "alice@localhost", 100, 65536) == Verdict::bad_request);
  CHECK(vcard::check_set("query", "alice@localhost/r", "alice@localhost", 100, 65536) == Verdict::bad_request);
  CHECK(vcard::check_set("vCard", "alice@localhost/r", "alice@localhost", 65536, 65536) == Verdict::ok);
  CHECK(vcard::check_set("vCard", "alice@localhost/r", "alice@localhost", 65537, 65536) == Verdict::not_acceptable);
  CHECK(vcard::check_set("vCard", "alice@localhost/r", "alice@localhost", 1 << 30, 0) == Verdict::ok);
  // Forbidden wins over a malformed payload: nothing is revealed about another account.
  CHECK(vcard::check_set("junk", "alice@localhost/r", "bob@localhost", 1, 65536) == Verdict::forbidden);
}

TEST_CASE("vCard get") {
  CHECK(vcard::check_get("vCard") == Verdict::ok);
  CHECK(vcard::check_get("PHOTO") == Verdict::bad_request);
}

TEST_CASE("SQL per dialect") {
  CHECK(std::string(vcard::upsert_sql(3)).find("ON DUPLICATE KEY UPDATE") != std::string::npos);
  CHECK(std::string(vcard::upsert_sql(1)).find("ON CONFLICT (server, username)") != std::string::npos);
  CHECK(std::string(vcard::upsert_sql(2)) == vcard::upsert_sql(1));
  for (int d : {1, 2, 3}) CHECK(std::string(vcard::schema_sql(d)).find("PRIMARY KEY (server, username)") != std::string::npos);
}

TEST_CASE("vcard_search row") {
  vcard::SearchFields f;
  f.fn = "Alice Liddell";
  f.email = "Alice@Wonderland.LIT";
  f.orgunit = "Tea";
  auto p = vcard::search_params("Alice", "localhost", f);
  REQUIRE(p.size() == 25);
  CHECK(p[0] == "Alice");
  CHECK(p[1] == "alice");
  CHECK(p[2] == "localhost");
  CHECK(p[3] == "Alice Liddell");
  CHECK(p[4] == "alice liddell");
  CHECK(p[19] == "Alice@Wonderland.LIT");
  CHECK(p[20] == "alice@wonderland.lit");
  CHECK(p[23] == "Tea");
  CHECK(p[24] == "tea");
  CHECK(vcard::lower("ÀB") == "Àb");  // ASCII only
  for (int d : {1, 2, 3}) {
    std::string sql = vcard::search_upsert_sql(d);
    CHECK(std::count(sql.begin(), sql.end(), '?') == 25);
    CHECK(std::string(vcard::search_schema_sql(d)).find("PRIMARY KEY (server, lusername)") != std::string::npos);
  }
}
