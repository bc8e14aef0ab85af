// The host side of "av.pools/1": the validated outgoing_pools sections (rabbit, kafka, http)
// as JSON, for the modules that open those connections.
#pragma once

#include <aviary/ext/draft/pools.h>

namespace aviary {
const av_ext_pools_v1* pools_ext();
}
