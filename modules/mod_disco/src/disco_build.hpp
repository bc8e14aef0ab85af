// mod_disco: pure XEP-0030 / XEP-0128 / XEP-0157 builders and the server_info option
// parser (no host calls; unit tested).
#pragma once

#include <string>
#include <vector>

namespace mod_disco {

constexpr const char* kNsInfo = "http://jabber.org/protocol/disco#info";
constexpr const char* kNsItems = "http://jabber.org/protocol/disco#items";
constexpr const char* kNsServerInfo = "http://jabber.org/network/serverinfo";

struct Identity {
  std::string category, type, name, lang;
};
bool operator<(const Identity& a, const Identity& b);
bool operator==(const Identity& a, const Identity& b);

struct Item {
  std::string jid, name, node;
};

// One XEP-0157 address list: name ("abuse-addresses", ...), its URIs, and the modules it is
// shown for (empty = all; the server's own disco#info is "mod_disco").
struct ServerInfoEntry {
  std::string name;
  std::vector<std::string> urls;
  std::vector<std::string> modules;
};

// The `server_info` option as JSON text (the host's form of an `any` option). Accepted:
//   [{name: "abuse-addresses", urls: ["mailto:abuse@example.com"], modules: ["mod_muc"]}, ...]
//   (MongooseIM's form; `modules` optional, "all" or a list; `urls` a list or one string)
//   {"abuse-addresses": ["mailto:..."], "support-addresses": [...]}   (a name -> urls map)
// "" or null: no entries. Throws std::invalid_argument with a readable reason otherwise.
std::vector<ServerInfoEntry> parse_server_info(const std::string& json);

// The XEP-0128 form (type='result', FORM_TYPE hidden = http://jabber.org/network/serverinfo)
// of the entries shown for `module`; "" when none applies.
std::string server_info_form(const std::vector<ServerInfoEntry>& entries, const std::string& module);

// <query xmlns=disco#info [node]> with identities (sorted, unique), features (sorted,
// unique) and the extension forms (XML, in the given order) after them.
std::string info_query(const std::string& node, std::vector<Identity> identities, std::vector<std::string> features,
                       const std::vector<std::string>& extensions);

// <query xmlns=disco#items [node]> with the items in order, duplicates (same jid and node)
// removed.
std::string items_query(const std::string& node, const std::vector<Item>& items);

}  // namespace mod_disco
