// XEP-0313 preferences: a default behaviour (always / never / roster) and JIDs always or never
// archived. Pure.
#pragma once

#include "mam_query.hpp"
#include "xml_node.hpp"

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mod_mam {

struct Prefs {
  char def = 'A';  // 'A' always, 'N' never, 'R' roster
  std::vector<std::string> always, never;  // bare JIDs (lowercased)
};

enum class Verdict { archive, skip, ask_roster };

// never wins over always; then the default ('R': archive when the JID is in the roster).
Verdict decide(const Prefs& p, std::string_view remote_bare);

char behaviour_of(std::string_view name);  // "always" -> 'A' ... ; 0 when unknown
const char* behaviour_name(char b);

// <prefs default='...'><always><jid/>..</always><never>..</never></prefs> of an IQ set.
std::variant<Prefs, StanzaError> parse_prefs(const Node& prefs);
std::string prefs_xml(const Prefs& p, const std::string& ns);

}  // namespace mod_mam
