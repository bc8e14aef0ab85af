#include <catch2/catch.hpp>

#include "version_payload.hpp"

using mod_version::version_payload;

TEST_CASE("XEP-0092 payload", "[mod_version]") {
  CHECK(version_payload("Aviary", "0.1.0", "") ==
        "<query xmlns='jabber:iq:version'><name>Aviary</name><version>0.1.0</version></query>");
  CHECK(version_payload("Aviary", "0.1.0", "Linux 6.1") ==
        "<query xmlns='jabber:iq:version'><name>Aviary</name><version>0.1.0</version><os>Linux 6.1</os></query>");
  CHECK(version_payload("A<&>", "1'\"", "") ==
        "<query xmlns='jabber:iq:version'><name>A&lt;&amp;&gt;</name><version>1&apos;&quot;</version></query>");
}
