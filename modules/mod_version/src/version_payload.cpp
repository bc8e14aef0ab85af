#include "version_payload.hpp"

namespace mod_version {

std::string xml_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '\'': out += "&apos;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string version_payload(const std::string& name, const std::string& version, const std::string& os) {
  std::string x = "<query xmlns='jabber:iq:version'><name>" + xml_escape(name) + "</name><version>" +
                  xml_escape(version) + "</version>";
  if (!os.empty()) x += "<os>" + xml_escape(os) + "</os>";
  return x + "</query>";
}

}  // namespace mod_version
