// JIDs (RFC 7622), normalized the simple way: localpart and domain lowercased (ASCII),
// resource kept as is. Full PRECIS profiles are not applied yet. One implementation, the
// SDK's (aviary/cpp/jid.hpp), shared with the modules.
#pragma once

#include <aviary/cpp/jid.hpp>

namespace aviary {

using Jid = av::Jid;

// nullopt when the text is not a valid JID (empty parts, forbidden characters, too long).
using av::parse_jid;
// Lowercase + validate a localpart (nodeprep-lite); "" when invalid.
using av::normalize_user;

}  // namespace aviary
