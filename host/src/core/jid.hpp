// JIDs (RFC 7622), normalized the simple way: localpart and domain lowercased (ASCII),
// resource kept as is. Full PRECIS profiles are not applied yet.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace aviary {

struct Jid {
  std::string user, server, resource;
  std::string bare() const { return user.empty() ? server : user + "@" + server; }
  std::string full() const { return resource.empty() ? bare() : bare() + "/" + resource; }
  bool is_bare() const { return resource.empty(); }
};

// nullopt when the text is not a valid JID (empty parts, forbidden characters, too long).
std::optional<Jid> parse_jid(std::string_view text);
// Lowercase + validate a localpart (nodeprep-lite); "" when invalid.
std::string normalize_user(std::string_view user);

}  // namespace aviary
