// Aviary C++ layer: JIDs (RFC 7622), normalized the simple way the host does it: localpart
// and domain lowercased (ASCII), one trailing dot of the domain dropped, resource kept as
// is; forbidden localpart characters, control characters and over-long parts rejected.
// Full PRECIS profiles are not applied. Header-only and pure: no host calls.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace av {

struct Jid {
  std::string user, server, resource;
  std::string bare() const { return user.empty() ? server : user + "@" + server; }
  std::string full() const { return resource.empty() ? bare() : bare() + "/" + resource; }
  bool is_bare() const { return resource.empty(); }
};

namespace detail {
inline constexpr std::size_t kJidMaxPart = 1023;
inline constexpr std::size_t kJidMaxTotal = 3071;

// Appends s with ASCII A-Z lowercased.
inline void jid_lower_append(std::string& out, std::string_view s) {
  const size_t from = out.size();
  out.append(s);
  for (size_t i = from; i < out.size(); ++i)
    if (out[i] >= 'A' && out[i] <= 'Z') out[i] = static_cast<char>(out[i] - 'A' + 'a');
}

inline std::string jid_lower(std::string_view s) {
  std::string r;
  jid_lower_append(r, s);
  return r;
}

inline bool jid_has_control(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}
}  // namespace detail

// Lowercases and validates a localpart (nodeprep-lite); "" when invalid.
inline std::string normalize_user(std::string_view u) {
  if (u.empty() || u.size() > detail::kJidMaxPart || detail::jid_has_control(u)) return {};
  // RFC 7622 3.3.1: these may not appear in a localpart.
  for (char c : u)
    if (c == '"' || c == '&' || c == '\'' || c == '/' || c == ':' || c == '<' || c == '>' || c == '@' || c == ' ')
      return {};
  return detail::jid_lower(u);
}

// Parses and normalizes; nullopt when the text is not a valid JID (empty parts, forbidden
// characters, too long).
inline std::optional<Jid> parse_jid(std::string_view t) {
  if (t.empty() || t.size() > detail::kJidMaxTotal) return std::nullopt;
  Jid j;
  std::size_t slash = t.find('/');
  std::string_view head = t.substr(0, slash);
  if (slash != std::string_view::npos) {
    j.resource = std::string(t.substr(slash + 1));
    if (j.resource.empty() || j.resource.size() > detail::kJidMaxPart || detail::jid_has_control(j.resource))
      return std::nullopt;
  }
  std::size_t at = head.find('@');
  std::string_view dom = head;
  if (at != std::string_view::npos) {
    j.user = normalize_user(head.substr(0, at));
    if (j.user.empty()) return std::nullopt;
    dom = head.substr(at + 1);
  }
  if (dom.empty() || dom.size() > detail::kJidMaxPart || detail::jid_has_control(dom)) return std::nullopt;
  for (char c : dom)
    if (c == '@' || c == ' ' || c == '<' || c == '>' || c == '"' || c == '\'' || c == '&') return std::nullopt;
  if (dom.back() == '.') dom.remove_suffix(1);
  if (dom.empty()) return std::nullopt;
  j.server = detail::jid_lower(dom);
  return j;
}

// The normalized bare JID of `t`; "" when `t` is not a valid JID.
inline std::string bare_jid(std::string_view t) {
  auto j = parse_jid(t);
  return j ? j->bare() : std::string();
}

// Plain splitting of a JID's text, for JIDs the host already normalized (no validation,
// no lowercasing): everything before the first '/'.
inline std::string_view jid_bare_part(std::string_view jid) {
  std::size_t slash = jid.find('/');
  return slash == std::string_view::npos ? jid : jid.substr(0, slash);
}
// Everything after the first '/'; "" when there is none.
inline std::string_view jid_resource_part(std::string_view jid) {
  std::size_t slash = jid.find('/');
  return slash == std::string_view::npos ? std::string_view() : jid.substr(slash + 1);
}
// The domain: the bare part after its first '@' (the whole bare part when there is none).
inline std::string_view jid_domain_part(std::string_view jid) {
  jid = jid_bare_part(jid);
  std::size_t at = jid.find('@');
  return at == std::string_view::npos ? jid : jid.substr(at + 1);
}
// The localpart: the bare part before its first '@'; "" when there is none.
inline std::string_view jid_local_part(std::string_view jid) {
  jid = jid_bare_part(jid);
  std::size_t at = jid.find('@');
  return at == std::string_view::npos ? std::string_view() : jid.substr(0, at);
}

}  // namespace av
