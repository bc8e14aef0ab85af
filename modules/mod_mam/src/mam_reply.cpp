#include "mam_reply.hpp"

#include "mam_id.hpp"

#include <aviary/cpp/datetime.hpp>
#include <aviary/cpp/xml.hpp>

namespace mod_mam {

std::string result_message(std::string_view ns, std::string_view queryid, std::string_view archive_jid,
                           std::string_view to, int64_t id, std::string_view stored_xml) {
  std::string out;
  out.reserve(stored_xml.size() + 320);
  out += "<message from='";
  out += av::xml_escape(archive_jid);
  out += "' to='";
  out += av::xml_escape(to);
  out += "'><result xmlns='";
  out += ns;
  out += "'";
  if (!queryid.empty()) {
    out += " queryid='";
    out += av::xml_escape(queryid);
    out += "'";
  }
  out += " id='";
  out += encode_id(id);
  out += "'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='";
  out += av::xep82_datetime(us_of_id(id), true);
  out += "'/>";
  append_with_client_ns(out, stored_xml);
  out += "</forwarded></result></message>";
  return out;
}

std::string fin_xml(std::string_view ns, const Page& page) {
  std::string out = "<fin xmlns='" + std::string(ns) + "'";
  if (page.complete) out += " complete='true'";
  out += "><set xmlns='http://jabber.org/protocol/rsm'>";
  if (!page.ids.empty()) {
    out += "<first";
    if (page.first_index >= 0) out += " index='" + std::to_string(page.first_index) + "'";
    out += ">" + encode_id(page.ids.front()) + "</first><last>" + encode_id(page.ids.back()) + "</last>";
  }
  if (page.count >= 0) out += "<count>" + std::to_string(page.count) + "</count>";
  out += "</set></fin>";
  return out;
}

std::string metadata_xml(std::optional<int64_t> first, std::optional<int64_t> last) {
  std::string out = "<metadata xmlns='urn:xmpp:mam:2'>";
  if (first && last) {
    out += "<start id='" + encode_id(*first) + "' timestamp='" + av::xep82_datetime(us_of_id(*first), true) + "'/>";
    out += "<end id='" + encode_id(*last) + "' timestamp='" + av::xep82_datetime(us_of_id(*last), true) + "'/>";
  }
  out += "</metadata>";
  return out;
}

void append_with_client_ns(std::string& out, std::string_view xml) {
  // The root's own attributes end at the first '>' that is not inside a quoted value.
  size_t end = std::string_view::npos;
  if (xml.compare(0, 8, "<message") == 0) {
    char quote = 0;
    for (size_t i = 8; i < xml.size(); ++i) {
      char c = xml[i];
      if (quote) {
        if (c == quote) quote = 0;
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '>') {
        end = i;
        break;
      }
    }
  }
  if (end == std::string_view::npos || xml.substr(0, end).find(" xmlns=") != std::string_view::npos) {
    out += xml;
    return;
  }
  out += "<message xmlns='jabber:client'";
  out += xml.substr(8);
}

std::string with_client_ns(std::string_view xml) {
  std::string out;
  out.reserve(xml.size() + 24);
  append_with_client_ns(out, xml);
  return out;
}

std::optional<Retraction> retraction_of(const RetractView& v) {
  if (v.has_v1 && !v.v1_id.empty()) return Retraction{v.v1_id, "urn:xmpp:message-retract:1"};
  if (v.has_v0 && !v.v0_apply_to_id.empty()) return Retraction{v.v0_apply_to_id, "urn:xmpp:message-retract:0"};
  return std::nullopt;
}

std::string tombstone_xml(const std::vector<std::pair<std::string, std::string>>& root_attrs,
                          std::string_view origin_id, const Retraction& r, int64_t now_us) {
  std::string out = "<message xmlns='jabber:client'";
  for (auto& [k, v] : root_attrs) {
    if (k == "xmlns") continue;
    out += " " + k + "='" + av::xml_escape(v) + "'";
  }
  out += ">";
  if (!origin_id.empty()) out += "<origin-id xmlns='urn:xmpp:sid:0' id='" + av::xml_escape(origin_id) + "'/>";
  out += "<retracted xmlns='" + r.ns + "' id='" + av::xml_escape(r.id) + "' stamp='" + av::xep82_datetime(now_us) + "'/>";
  out += "</message>";
  return out;
}

}  // namespace mod_mam
