#include "mam_prefs.hpp"

#include <aviary/cpp/jid.hpp>
#include <aviary/cpp/xml.hpp>

#include <algorithm>

namespace mod_mam {

Verdict decide(const Prefs& p, std::string_view remote_bare) {
  auto in = [&](const std::vector<std::string>& v) { return std::find(v.begin(), v.end(), remote_bare) != v.end(); };
  if (in(p.never)) return Verdict::skip;
  if (in(p.always)) return Verdict::archive;
  if (p.def == 'N') return Verdict::skip;
  if (p.def == 'R') return Verdict::ask_roster;
  return Verdict::archive;
}

char behaviour_of(std::string_view name) {
  if (name == "always") return 'A';
  if (name == "never") return 'N';
  if (name == "roster") return 'R';
  return 0;
}

const char* behaviour_name(char b) {
  switch (b) {
    case 'N': return "never";
    case 'R': return "roster";
    default: return "always";
  }
}

std::variant<Prefs, StanzaError> parse_prefs(const Node& prefs) {
  Prefs p;
  p.def = behaviour_of(prefs.attr("default"));
  if (!p.def) return StanzaError{"modify", "bad-request", "default must be always, never or roster"};
  for (const char* list : {"always", "never"}) {
    const Node* l = prefs.child(list);
    if (!l) continue;
    for (auto& j : l->kids) {
      if (j.name != "jid") continue;
      auto jid = av::parse_jid(j.text);
      if (!jid) return StanzaError{"modify", "jid-malformed", "Not a JID: " + j.text};
      auto& v = list[0] == 'a' ? p.always : p.never;
      std::string b = jid->bare();
      if (std::find(v.begin(), v.end(), b) == v.end()) v.push_back(std::move(b));
    }
  }
  return p;
}

std::string prefs_xml(const Prefs& p, const std::string& ns) {
  std::string out = "<prefs xmlns='" + ns + "' default='" + behaviour_name(p.def) + "'><always>";
  for (auto& j : p.always) out += "<jid>" + av::xml_escape(j) + "</jid>";
  out += "</always><never>";
  for (auto& j : p.never) out += "<jid>" + av::xml_escape(j) + "</jid>";
  out += "</never></prefs>";
  return out;
}

}  // namespace mod_mam
