#include <catch2/catch.hpp>

#include "offline_logic.hpp"

using namespace mod_offline;

namespace {
const std::string kCs = "http://jabber.org/protocol/chatstates";
}

TEST_CASE("what is stored offline", "[mod_offline]") {
  CHECK(classify("chat", {{"body", ""}}) == Decision::store);
  CHECK(classify("", {{"subject", ""}}) == Decision::store);
  CHECK(classify("normal", {{"body", ""}, {"active", kCs}}) == Decision::store);
  CHECK(classify("chat", {{"received", "urn:xmpp:receipts"}}) == Decision::store);
  CHECK(classify("chat", {{"composing", kCs}}) == Decision::discard);  // XEP-0085
  CHECK(classify("chat", {{"composing", kCs}, {"thread", ""}}) == Decision::discard);
  CHECK(classify("chat", {}) == Decision::discard);
  CHECK(classify("chat", {{"body", ""}, {"no-store", "urn:xmpp:hints"}}) == Decision::discard);  // XEP-0334
  CHECK(classify("chat", {{"composing", kCs}, {"store", "urn:xmpp:hints"}}) == Decision::store);
  CHECK(classify("chat", {{"received", "urn:xmpp:carbons:2"}}) == Decision::discard);  // XEP-0280 copy
  CHECK(classify("chat", {{"sent", "urn:xmpp:carbons:2"}}) == Decision::discard);
  for (auto t : {"error", "groupchat", "headline"}) CHECK(classify(t, {{"body", ""}}) == Decision::not_ours);
}

TEST_CASE("per-user limit", "[mod_offline]") {
  CHECK_FALSE(limit_reached(0, 100));
  CHECK_FALSE(limit_reached(99, 100));
  CHECK(limit_reached(100, 100));
  CHECK(limit_reached(3, 3));
  CHECK_FALSE(limit_reached(1000000, 0));  // 0: unlimited
}

TEST_CASE("XEP-0023 expiry", "[mod_offline]") {
  CHECK(expire_at("60", 1000) == 60001000);
  CHECK_FALSE(expire_at("", 0));
  CHECK_FALSE(expire_at("-5", 0));
  CHECK_FALSE(expire_at("1e3", 0));
}

TEST_CASE("XEP-0203 delay with XEP-0082 stamps", "[mod_offline]") {
  CHECK(stamp(0) == "1970-01-01T00:00:00.000000Z");
  CHECK(stamp(1166551115LL * 1000000 + 6) == "2006-12-19T17:58:35.000006Z");
  CHECK(stamp(951868799LL * 1000000 + 999999) == "2000-02-29T23:59:59.999999Z");
  CHECK(delay_xml("localhost", 0) ==
        "<delay xmlns='urn:xmpp:delay' from='localhost' stamp='1970-01-01T00:00:00.000000Z'>Offline Storage</delay>");
}

TEST_CASE("SQL per dialect", "[mod_offline]") {
  CHECK(insert_sql(Dialect::sqlite, 100).find("< 100") != std::string::npos);
  CHECK(insert_sql(Dialect::mysql, 5).find("FROM DUAL") != std::string::npos);
  CHECK(insert_sql(Dialect::mysql, 5).find("CAST(? AS SIGNED)") != std::string::npos);
  CHECK(insert_sql(Dialect::pgsql, 0).find("VALUES") != std::string::npos);
  CHECK(delete_ids_sql(3) == "DELETE FROM offline_message WHERE server = ? AND username = ? AND id IN (?, ?, ?)");
  CHECK(schema(Dialect::pgsql).size() == 2);
  CHECK(schema(Dialect::mysql)[0].find("AUTO_INCREMENT") != std::string::npos);
}

TEST_CASE("per-user queue keeps order, keys run in parallel", "[mod_offline]") {
  KeyedQueue<int> q;
  CHECK(q.push("bob", 1));
  CHECK_FALSE(q.push("bob", 2));
  CHECK_FALSE(q.push("bob", 3));
  CHECK(q.push("carol", 10));
  CHECK(q.next("bob") == 2);
  CHECK(q.next("bob") == 3);
  CHECK_FALSE(q.next("bob"));
  CHECK_FALSE(q.next("carol"));
  CHECK(q.keys() == 0);
  CHECK(q.push("bob", 4));  // idle again: start at once
  CHECK_FALSE(q.next("nobody"));
}
