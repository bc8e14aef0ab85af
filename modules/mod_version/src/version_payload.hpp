// mod_version: pure XEP-0092 payload building (no host calls; unit tested).
#pragma once

#include <string>

namespace mod_version {

// <query xmlns='jabber:iq:version'><name/><version/>[<os/>]</query>; os omitted when empty.
std::string version_payload(const std::string& name, const std::string& version, const std::string& os);

}  // namespace mod_version
