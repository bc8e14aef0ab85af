#include "presence_logic.hpp"

namespace presence {

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
    std::string_view u = head.substr(0, at);
    if (u.empty() || u.size() > kMaxPart || has_control(u)) return std::nullopt;
    for (char c : u)
      if (c == '"' || c == '&' || c == '\'' || c == '/' || c == ':' || c == '<' || c == '>' || c == '@' || c == ' ')
        return std::nullopt;
    j.user = lower(u);
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

std::string bare_of(std::string_view s) {
  auto j = parse_jid(s);
  return j ? j->bare() : std::string();
}

std::string escape(std::string_view s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '\'': o += "&apos;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

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
  return "<presence type='probe' from='" + escape(from_bare) + "' to='" + escape(to) + "'/>";
}

std::string unavailable_xml(std::string_view from_full, std::string_view to) {
  std::string o = "<presence type='unavailable' from='" + escape(from_full) + "'";
  if (!to.empty()) o += " to='" + escape(to) + "'";
  return o + "/>";
}

}  // namespace presence
