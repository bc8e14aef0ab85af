// The host side of "av.sessions/1": read-only views of the session table, and kick.
#pragma once

#include <aviary/ext/sessions.h>

namespace aviary {
const av_ext_sessions_v1* sessions_ext();
}
