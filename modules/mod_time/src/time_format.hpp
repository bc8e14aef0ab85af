// mod_time: pure XEP-0082 / XEP-0202 formatting (no host calls; unit tested).
#pragma once

#include <cstdint>
#include <string>

namespace mod_time {

// XEP-0082 DateTime in UTC with a 'Z' suffix: "2006-12-19T17:58:35Z" (whole seconds) for
// microseconds since the Unix epoch; negative inputs clamp to the epoch.
std::string xep82_utc(int64_t unix_us);

// The <time xmlns='urn:xmpp:time'/> payload answered by the server: <tzo>+00:00</tzo> and
// <utc>...Z</utc> (the server always reports UTC).
std::string time_payload(int64_t unix_us);

}  // namespace mod_time
