#include "core/jid.hpp"

namespace aviary {

namespace {
constexpr size_t kMaxPart = 1023;

std::string lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return r;
}

bool has_control(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}
}  // namespace

std::string normalize_user(std::string_view u) {
  if (u.empty() || u.size() > kMaxPart || has_control(u)) return {};
  // RFC 7622 3.3.1: these may not appear in a localpart.
  for (char c : u)
    if (c == '"' || c == '&' || c == '\'' || c == '/' || c == ':' || c == '<' || c == '>' || c == '@' || c == ' ')
      return {};
  return lower(u);
}

std::optional<Jid> parse_jid(std::string_view t) {
  if (t.empty() || t.size() > 3071) return std::nullopt;
  Jid j;
  size_t slash = t.find('/');
  std::string_view head = t.substr(0, slash);
  if (slash != std::string_view::npos) {
    j.resource = std::string(t.substr(slash + 1));
    if (j.resource.empty() || j.resource.size() > kMaxPart || has_control(j.resource)) return std::nullopt;
  }
  size_t at = head.find('@');
  std::string_view dom = head;
  if (at != std::string_view::npos) {
    j.user = normalize_user(head.substr(0, at));
    if (j.user.empty()) return std::nullopt;
    dom = head.substr(at + 1);
  }
  if (dom.empty() || dom.size() > kMaxPart || has_control(dom)) return std::nullopt;
  for (char c : dom)
    if (c == '@' || c == ' ' || c == '<' || c == '>' || c == '"' || c == '\'' || c == '&') return std::nullopt;
  if (dom.back() == '.') dom.remove_suffix(1);
  if (dom.empty()) return std::nullopt;
  j.server = lower(dom);
  return j;
}

}  // namespace aviary
