#include "carbons.hpp"

#include <aviary/cpp/jid.hpp>
#include <aviary/cpp/xml.hpp>

#include <algorithm>

namespace carbons {

namespace {
constexpr std::string_view kNsReceipts = "urn:xmpp:receipts";
constexpr std::string_view kNsChatStates = "http://jabber.org/protocol/chatstates";
constexpr std::string_view kNsMarkers = "urn:xmpp:chat-markers:0";
constexpr std::string_view kNsConference = "jabber:x:conference";
constexpr std::string_view kNsMucUser = "http://jabber.org/protocol/muc#user";
constexpr std::string_view kMamPrefix = "urn:xmpp:mam:";

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
}  // namespace

bool eligible(const El& m, Direction dir) {
  if (m.name != "message") return false;
  if (m.child("private", kNs) || m.child("no-copy", kNsHints)) return false;
  // Never copy a copy (or a forwarded archive result).
  if (m.child("sent", kNs) || m.child("received", kNs)) return false;
  for (const auto& k : m.kids)
    if (starts_with(k.ns, kMamPrefix)) return false;

  const std::string_view type = m.type.empty() ? std::string_view("normal") : std::string_view(m.type);
  if (type == "groupchat" || type == "headline" || type == "error") return false;
  if (type != "chat" && type != "normal") return false;  // invalid type: treated as unknown

  const El* muc = m.child("x", kNsMucUser);
  const bool mediated_invite = muc && muc->child("invite", kNsMucUser);
  // A private message from a MUC occupant is already replicated by the MUC service.
  if (dir == Direction::received && muc && !mediated_invite) return false;

  if (type == "chat") return true;
  if (m.child("body", kNsClient)) return true;
  if (m.has_child_ns(kNsReceipts) || m.has_child_ns(kNsChatStates) || m.has_child_ns(kNsMarkers)) return true;
  if (m.child("x", kNsConference) || mediated_invite) return true;
  return false;
}

std::vector<std::string> delivery_targets(const std::vector<SessionInfo>& sessions, std::string_view to_resource,
                                          std::string_view type) {
  std::vector<std::string> out;
  if (!to_resource.empty()) {
    for (const auto& s : sessions)
      if (s.resource == to_resource) {
        out.emplace_back(s.resource);
        return out;
      }
    if (type == "groupchat") return out;  // bounced by the router
  }
  int32_t best = -1;
  for (const auto& s : sessions)
    if (s.available && s.priority >= 0) best = std::max(best, s.priority);
  for (const auto& s : sessions) {
    if (!s.available || s.priority < 0) continue;
    if (type != "headline" && s.priority != best) continue;
    out.emplace_back(s.resource);
  }
  return out;
}

std::string wrap(Direction dir, std::string_view user_bare, std::string_view to_full, std::string_view type,
                 std::string_view inner_xml) {
  const char* el = dir == Direction::sent ? "sent" : "received";
  std::string out;
  out.reserve(inner_xml.size() + 200);
  out += "<message from='";
  out += av::xml_escape(user_bare);
  out += "' to='";
  out += av::xml_escape(to_full);
  out += "'";
  if (!type.empty()) {
    out += " type='";
    out += av::xml_escape(type);
    out += "'";
  }
  out += "><";
  out += el;
  out += " xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>";
  out += inner_xml;
  out += "</forwarded></";
  out += el;
  out += "></message>";
  return out;
}

bool Registry::enable(std::string_view full_jid) {
  auto res = av::jid_resource_part(full_jid);
  if (res.empty()) return false;
  std::lock_guard<std::mutex> lk(mu_);
  by_bare_[std::string(av::jid_bare_part(full_jid))].emplace(res);
  publish();
  return true;
}

void Registry::disable(std::string_view full_jid) {
  auto res = av::jid_resource_part(full_jid);
  if (res.empty()) return;
  std::lock_guard<std::mutex> lk(mu_);
  auto it = by_bare_.find(av::jid_bare_part(full_jid));
  if (it == by_bare_.end()) return;
  it->second.erase(std::string(res));
  if (it->second.empty()) by_bare_.erase(it);
  publish();
}

bool Registry::enabled(std::string_view full_jid) const {
  auto res = av::jid_resource_part(full_jid);
  if (res.empty()) return false;
  std::lock_guard<std::mutex> lk(mu_);
  auto it = by_bare_.find(av::jid_bare_part(full_jid));
  return it != by_bare_.end() && it->second.count(std::string(res)) > 0;
}

std::vector<std::string> Registry::resources(std::string_view bare_jid) const {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = by_bare_.find(bare_jid);
  if (it == by_bare_.end()) return {};
  return std::vector<std::string>(it->second.begin(), it->second.end());
}

bool Registry::any(std::string_view bare_jid) const {
  std::lock_guard<std::mutex> lk(mu_);
  return by_bare_.find(bare_jid) != by_bare_.end();
}

void Registry::forget_user(std::string_view bare_jid) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = by_bare_.find(bare_jid);
  if (it != by_bare_.end()) by_bare_.erase(it);
  publish();
}

size_t Registry::size() const {
  std::lock_guard<std::mutex> lk(mu_);
  size_t n = 0;
  for (const auto& [b, s] : by_bare_) n += s.size();
  return n;
}

}  // namespace carbons
