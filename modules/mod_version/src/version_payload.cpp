#include "version_payload.hpp"

#include <aviary/cpp/xml.hpp>

namespace mod_version {

std::string version_payload(const std::string& name, const std::string& version, const std::string& os) {
  std::string x = "<query xmlns='jabber:iq:version'><name>" + av::xml_escape(name) + "</name><version>" +
                  av::xml_escape(version) + "</version>";
  if (!os.empty()) x += "<os>" + av::xml_escape(os) + "</os>";
  return x + "</query>";
}

}  // namespace mod_version
