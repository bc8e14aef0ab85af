#include "presence_logic.hpp"

#include <aviary/cpp/xml.hpp>

namespace presence {

Verdict inbound(std::string_view type, bool to_full_jid, bool from_self, Sub sub, bool directed_peer) {
  if (type == "probe") return Verdict::probe;
  if (!type.empty() && type != "unavailable") return Verdict::not_mine;
  // 'unavailable' always passes: it is how a former contact's resources say goodbye
  // (RFC 6121 3.2.2, 3.3.3) once the subscription that allowed them is already gone.
  if (from_self || to_full_jid || directed_peer || type == "unavailable") return Verdict::deliver;
  switch (sub) {
    case Sub::unknown:
    case Sub::to:
    case Sub::both: return Verdict::deliver;
    default: return Verdict::drop;
  }
}

bool track_directed(bool to_self, Sub sub) {
  if (to_self) return false;
  return !(sub == Sub::from || sub == Sub::both);
}

std::string probe_xml(std::string_view from_bare, std::string_view to) {
  return "<presence type='probe' from='" + av::xml_escape(from_bare) + "' to='" + av::xml_escape(to) + "'/>";
}

std::string unavailable_xml(std::string_view from_full, std::string_view to) {
  std::string o = "<presence type='unavailable' from='" + av::xml_escape(from_full) + "'";
  if (!to.empty()) o += " to='" + av::xml_escape(to) + "'";
  return o + "/>";
}

}  // namespace presence
