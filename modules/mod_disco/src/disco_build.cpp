#include "disco_build.hpp"

#include <aviary/cpp/xml.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <stdexcept>
#include <tuple>

namespace mod_disco {

bool operator<(const Identity& a, const Identity& b) {
  return std::tie(a.category, a.type, a.lang, a.name) < std::tie(b.category, b.type, b.lang, b.name);
}
bool operator==(const Identity& a, const Identity& b) {
  return std::tie(a.category, a.type, a.lang, a.name) == std::tie(b.category, b.type, b.lang, b.name);
}

namespace {

std::vector<std::string> string_list(const nlohmann::json& j, const std::string& what) {
  std::vector<std::string> out;
  if (j.is_string()) {
    out.push_back(j.get<std::string>());
    return out;
  }
  if (!j.is_array()) throw std::invalid_argument(what + " must be a string or a list of strings");
  for (auto& e : j) {
    if (!e.is_string()) throw std::invalid_argument(what + " must be a list of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

}  // namespace

std::vector<ServerInfoEntry> parse_server_info(const std::string& text) {
  std::vector<ServerInfoEntry> out;
  if (text.empty()) return out;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) throw std::invalid_argument("server_info is not valid");
  if (j.is_null()) return out;
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      out.push_back({it.key(), string_list(it.value(), "server_info." + it.key()), {}});
    return out;
  }
  if (!j.is_array()) throw std::invalid_argument("server_info must be a list of {name, urls, modules}");
  for (auto& e : j) {
    if (!e.is_object()) throw std::invalid_argument("server_info: each entry must be a map {name, urls, modules}");
    ServerInfoEntry s;
    for (auto it = e.begin(); it != e.end(); ++it) {
      const std::string& k = it.key();
      if (k == "name") {
        if (!it->is_string()) throw std::invalid_argument("server_info: name must be a string");
        s.name = it->get<std::string>();
      } else if (k == "urls") {
        s.urls = string_list(*it, "server_info: urls");
      } else if (k == "modules" || k == "module") {
        s.modules = string_list(*it, "server_info: modules");
        if (s.modules.size() == 1 && s.modules[0] == "all") s.modules.clear();
      } else {
        throw std::invalid_argument("server_info: unknown key '" + k + "' (expected name, urls, modules)");
      }
    }
    if (s.name.empty()) throw std::invalid_argument("server_info: an entry has no name");
    out.push_back(std::move(s));
  }
  return out;
}

std::string server_info_form(const std::vector<ServerInfoEntry>& entries, const std::string& module) {
  std::string fields;
  for (auto& e : entries) {
    if (!e.modules.empty() && std::find(e.modules.begin(), e.modules.end(), module) == e.modules.end()) continue;
    fields += "<field var='" + av::xml_escape(e.name) + "'>";
    for (auto& u : e.urls) fields += "<value>" + av::xml_escape(u) + "</value>";
    fields += "</field>";
  }
  if (fields.empty()) return {};
  return std::string("<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'><value>") +
         kNsServerInfo + "</value></field>" + fields + "</x>";
}

std::string info_query(const std::string& node, std::vector<Identity> identities, std::vector<std::string> features,
                       const std::vector<std::string>& extensions) {
  std::sort(identities.begin(), identities.end());
  identities.erase(std::unique(identities.begin(), identities.end()), identities.end());
  std::sort(features.begin(), features.end());
  features.erase(std::unique(features.begin(), features.end()), features.end());
  std::string x = std::string("<query xmlns='") + kNsInfo + "'";
  if (!node.empty()) x += " node='" + av::xml_escape(node) + "'";
  x += ">";
  for (auto& i : identities) {
    x += "<identity category='" + av::xml_escape(i.category) + "' type='" + av::xml_escape(i.type) + "'";
    if (!i.name.empty()) x += " name='" + av::xml_escape(i.name) + "'";
    if (!i.lang.empty()) x += " xml:lang='" + av::xml_escape(i.lang) + "'";
    x += "/>";
  }
  for (auto& f : features)
    if (!f.empty()) x += "<feature var='" + av::xml_escape(f) + "'/>";
  for (auto& e : extensions) x += e;
  return x + "</query>";
}

std::string items_query(const std::string& node, const std::vector<Item>& items) {
  std::string x = std::string("<query xmlns='") + kNsItems + "'";
  if (!node.empty()) x += " node='" + av::xml_escape(node) + "'";
  x += ">";
  std::vector<std::pair<std::string, std::string>> seen;
  for (auto& i : items) {
    if (i.jid.empty()) continue;
    auto key = std::make_pair(i.jid, i.node);
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
    seen.push_back(key);
    x += "<item jid='" + av::xml_escape(i.jid) + "'";
    if (!i.name.empty()) x += " name='" + av::xml_escape(i.name) + "'";
    if (!i.node.empty()) x += " node='" + av::xml_escape(i.node) + "'";
    x += "/>";
  }
  return x + "</query>";
}

}  // namespace mod_disco
