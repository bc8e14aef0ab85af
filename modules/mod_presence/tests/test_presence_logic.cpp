// mod_presence: the inbound presence decision, directed-presence tracking and XML builders.
#include <catch2/catch.hpp>

#include "presence_logic.hpp"

using namespace presence;

TEST_CASE("probes are the server's") {
  CHECK(inbound("probe", false, false, Sub::none, false) == Verdict::probe);
  CHECK(inbound("probe", true, true, Sub::both, true) == Verdict::probe);
}

TEST_CASE("available presence needs a subscription to the sender") {
  CHECK(inbound("", false, false, Sub::none, false) == Verdict::drop);
  CHECK(inbound("", false, false, Sub::from, false) == Verdict::drop);
  CHECK(inbound("unavailable", false, false, Sub::none, false) == Verdict::deliver);  // goodbyes pass
  CHECK(inbound("unavailable", false, false, Sub::from, false) == Verdict::deliver);
  for (const char* t : {"", "unavailable"}) {
    INFO(t);
    CHECK(inbound(t, false, false, Sub::to, false) == Verdict::deliver);
    CHECK(inbound(t, false, false, Sub::both, false) == Verdict::deliver);
    CHECK(inbound(t, false, true, Sub::none, false) == Verdict::deliver);     // own resources
    CHECK(inbound(t, true, false, Sub::none, false) == Verdict::deliver);     // directed to a full JID
    CHECK(inbound(t, false, false, Sub::none, true) == Verdict::deliver);     // a peer we sent presence to
    CHECK(inbound(t, false, false, Sub::unknown, false) == Verdict::deliver); // roster still loading
  }
}

TEST_CASE("other types are not filtered here") {
  for (const char* t : {"subscribe", "subscribed", "unsubscribe", "unsubscribed", "error"})
    CHECK(inbound(t, false, false, Sub::none, false) == Verdict::not_mine);
}

TEST_CASE("directed presence is tracked for non-subscribers only") {
  CHECK(track_directed(false, Sub::none));
  CHECK(track_directed(false, Sub::to));
  CHECK(track_directed(false, Sub::unknown));
  CHECK_FALSE(track_directed(false, Sub::from));
  CHECK_FALSE(track_directed(false, Sub::both));
  CHECK_FALSE(track_directed(true, Sub::none));
}

TEST_CASE("builders") {
  CHECK(probe_xml("alice@localhost", "bob@localhost") ==
        "<presence type='probe' from='alice@localhost' to='bob@localhost'/>");
  CHECK(unavailable_xml("alice@localhost/r") == "<presence type='unavailable' from='alice@localhost/r'/>");
  CHECK(unavailable_xml("a@x/r'", "b@x") == "<presence type='unavailable' from='a@x/r&apos;' to='b@x'/>");
}
