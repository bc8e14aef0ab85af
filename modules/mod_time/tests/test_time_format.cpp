#include <catch2/catch.hpp>

#include "time_format.hpp"

using mod_time::time_payload;
using mod_time::xep82_utc;

TEST_CASE("XEP-0082 UTC timestamps", "[mod_time]") {
  CHECK(xep82_utc(0) == "1970-01-01T00:00:00Z");
  CHECK(xep82_utc(-5) == "1970-01-01T00:00:00Z");
  // XEP-0202 example 2: 2006-12-19T17:58:35Z = 1166551115 s
  CHECK(xep82_utc(1166551115LL * 1000000 + 999999) == "2006-12-19T17:58:35Z");
  CHECK(xep82_utc(951782400LL * 1000000) == "2000-02-29T00:00:00Z");  // leap day
  CHECK(xep82_utc(4102444799LL * 1000000) == "2099-12-31T23:59:59Z");
}

TEST_CASE("XEP-0202 payload", "[mod_time]") {
  CHECK(time_payload(0) == "<time xmlns='urn:xmpp:time'><tzo>+00:00</tzo><utc>1970-01-01T00:00:00Z</utc></time>");
}
