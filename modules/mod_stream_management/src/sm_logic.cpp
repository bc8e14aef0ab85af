#include "sm_logic.hpp"

#include <aviary/cpp/xml.hpp>

#include <random>

namespace sm {

std::optional<uint32_t> parse_h(std::string_view s) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > 0xFFFFFFFFull) return std::nullopt;
  return static_cast<uint32_t>(v);
}

bool parse_bool(std::string_view s) { return s == "true" || s == "1"; }

namespace {
std::string ns_attr() { return " xmlns='" + std::string(kNs) + "'"; }
// Ids are ours (hex) but a previd comes from the client: escape for an attribute value.
}  // namespace

std::string enabled_xml(const std::string& id, bool resume, uint64_t max_seconds) {
  std::string s = "<enabled" + ns_attr() + " id='" + av::xml_escape(id) + "'";
  if (resume) s += " resume='true' max='" + std::to_string(max_seconds) + "'";
  return s + "/>";
}

std::string a_xml(uint32_t h) { return "<a" + ns_attr() + " h='" + std::to_string(h) + "'/>"; }
std::string r_xml() { return "<r" + ns_attr() + "/>"; }

std::string resumed_xml(const std::string& previd, uint32_t h) {
  return "<resumed" + ns_attr() + " previd='" + av::xml_escape(previd) + "' h='" + std::to_string(h) + "'/>";
}

std::string failed_xml(std::string_view condition) {
  return "<failed" + ns_attr() + "><" + std::string(condition) +
         " xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>";
}

Fate fate_of(std::string_view name, std::string_view type, bool is_carbon) {
  if (name == "message") {
    if (type == "error" || type == "groupchat" || is_carbon) return Fate::drop;
    return Fate::reroute;
  }
  if (name == "iq" && (type == "get" || type == "set")) return Fate::bounce_iq;
  return Fate::drop;
}

std::string new_id(size_t bytes) {
  static const char* hex = "0123456789abcdef";
  thread_local std::mt19937_64 gen{std::random_device{}()};
  std::string s;
  s.reserve(bytes * 2);
  for (size_t i = 0; i < bytes; ++i) {
    auto b = static_cast<unsigned>(gen() & 0xff);
    s += hex[b >> 4];
    s += hex[b & 15];
  }
  return s;
}

}  // namespace sm
