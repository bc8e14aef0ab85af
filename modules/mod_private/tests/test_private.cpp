#include <catch2/catch.hpp>

#include "private_storage.hpp"

using priv::Child;

namespace {
const char* kA = "alice@localhost/r1";
const char* kBare = "alice@localhost";
Child ex(const char* inner = "") { return Child{"exodus:prefs", std::string("<exodus xmlns='exodus:prefs'>") + inner + "</exodus>"}; }
}  // namespace

TEST_CASE("private: only the owner") {
  auto r = priv::parse(true, kA, "bob@localhost", "query", {ex()});
  CHECK(r.condition == "forbidden");
  CHECK(r.error_type == "cancel");
  CHECK(priv::parse(false, kA, "bob@localhost", "query", {ex()}).condition == "forbidden");
  CHECK(priv::parse(false, kA, kBare, "query", {ex()}).ok());
  CHECK(priv::parse(false, kA, "alice@localhost/other", "query", {ex()}).ok());
}

TEST_CASE("private: empty query is bad-request, reserved namespaces not-acceptable") {
  CHECK(priv::parse(true, kA, kBare, "query", {}).condition == "bad-request");
  CHECK(priv::parse(false, kA, kBare, "query", {}).condition == "bad-request");
  CHECK(priv::parse(true, kA, kBare, "storage", {ex()}).condition == "bad-request");
  for (const char* ns : {"", "jabber:client", "jabber:server", "jabber:iq:private"}) {
    auto r = priv::parse(true, kA, kBare, "query", {ex(), Child{ns, "<x/>"}});
    CHECK(r.condition == "not-acceptable");
    CHECK(r.error_type == "modify");
    CHECK(priv::reserved_ns(ns));
  }
  CHECK_FALSE(priv::reserved_ns("storage:bookmarks"));
  CHECK_FALSE(priv::reserved_ns("jabber:iq:roster-but-not-really"));
}

TEST_CASE("private: get asks for one namespace") {
  auto r = priv::parse(false, kA, kBare, "query", {ex()});
  REQUIRE(r.ok());
  REQUIRE(r.items.size() == 1);
  CHECK(r.items[0].first == "exodus:prefs");
  CHECK(r.items[0].second == "<exodus xmlns='exodus:prefs'></exodus>");
  CHECK(priv::parse(false, kA, kBare, "query", {ex(), Child{"storage:bookmarks", "<storage/>"}}).condition ==
        "bad-request");
}

TEST_CASE("private: set groups children by namespace, in order") {
  auto r = priv::parse(true, kA, kBare, "query",
                       {ex("<a/>"), Child{"storage:bookmarks", "<storage xmlns='storage:bookmarks'/>"}, ex("<b/>")});
  REQUIRE(r.ok());
  REQUIRE(r.items.size() == 2);
  CHECK(r.items[0].first == "exodus:prefs");
  CHECK(r.items[0].second == "<exodus xmlns='exodus:prefs'><a/></exodus><exodus xmlns='exodus:prefs'><b/></exodus>");
  CHECK(r.items[1].first == "storage:bookmarks");
}

TEST_CASE("private: SQL per dialect") {
  CHECK(std::string(priv::upsert_sql(3)).find("ON DUPLICATE KEY UPDATE") != std::string::npos);
  CHECK(std::string(priv::upsert_sql(2)).find("ON CONFLICT (server, username, namespace)") != std::string::npos);
  for (int d : {1, 2, 3})
    CHECK(std::string(priv::schema_sql(d)).find("PRIMARY KEY (server, username, namespace)") != std::string::npos);
}
