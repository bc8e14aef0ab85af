#include "roster_logic.hpp"

#include <aviary/cpp/jid.hpp>
#include <aviary/cpp/xml.hpp>

#include <algorithm>
#include <cstdio>
#include <set>

namespace roster {

const char* sub_name(Sub s) {
  switch (s) {
    case Sub::to: return "to";
    case Sub::from: return "from";
    case Sub::both: return "both";
    default: return "none";
  }
}

std::optional<PType> parse_ptype(std::string_view t) {
  if (t == "subscribe") return PType::subscribe;
  if (t == "subscribed") return PType::subscribed;
  if (t == "unsubscribe") return PType::unsubscribe;
  if (t == "unsubscribed") return PType::unsubscribed;
  return std::nullopt;
}

const char* ptype_name(PType t) {
  switch (t) {
    case PType::subscribe: return "subscribe";
    case PType::subscribed: return "subscribed";
    case PType::unsubscribe: return "unsubscribe";
    default: return "unsubscribed";
  }
}

namespace {
bool has_to(Sub s) { return s == Sub::to || s == Sub::both; }
bool has_from(Sub s) { return s == Sub::from || s == Sub::both; }
Sub with_to(Sub s, bool on) {
  bool f = has_from(s);
  return on ? (f ? Sub::both : Sub::to) : (f ? Sub::from : Sub::none);
}
Sub with_from(Sub s, bool on) {
  bool t = has_to(s);
  return on ? (t ? Sub::both : Sub::from) : (t ? Sub::to : Sub::none);
}
Outcome done(const State& before, State next, bool forward, bool auto_sub = false) {
  Outcome o;
  o.next = next;
  o.changed = next != before;
  o.forward = forward;
  o.auto_subscribed = auto_sub;
  return o;
}
}  // namespace

Outcome outbound(const State& s, PType t) {
  State n = s;
  switch (t) {
    case PType::subscribe:
      // A.2.1: pending out unless the user already has a subscription to the contact.
      // Always routed: the contact's server answers duplicates itself.
      if (!has_to(s.sub)) n.out = true;
      return done(s, n, true);
    case PType::unsubscribe:
      // A.2.2: no more 'to', no more pending out; always routed (3.3.2).
      n.sub = with_to(s.sub, false);
      n.out = false;
      return done(s, n, true);
    case PType::subscribed:
      // A.2.3: approve a pending request, or pre-approve (3.4); else nothing.
      if (s.in) {
        n.in = false;
        n.sub = with_from(s.sub, true);
        n.approved = false;
        return done(s, n, true);
      }
      if (has_from(s.sub)) return done(s, n, false);
      n.approved = true;
      return done(s, n, false);
    case PType::unsubscribed:
      // A.2.4: deny a pending request or cancel the contact's subscription.
      if (s.in || has_from(s.sub)) {
        n.in = false;
        n.sub = with_from(s.sub, false);
        n.approved = false;
        return done(s, n, true);
      }
      n.approved = false;  // cancels a pre-approval, nothing to tell the contact
      return done(s, n, false);
  }
  return done(s, n, false);
}

Outcome inbound(const State& s, PType t) {
  State n = s;
  switch (t) {
    case PType::subscribe:
      // A.3.1 and 3.1.3: already subscribed -> auto-reply; pre-approved -> accept and
      // auto-reply; already pending -> duplicate, not delivered; else pending in.
      if (has_from(s.sub)) return done(s, n, false, true);
      if (s.approved) {
        n.approved = false;
        n.sub = with_from(s.sub, true);
        return done(s, n, false, true);
      }
      if (s.in) return done(s, n, false);
      n.in = true;
      return done(s, n, true);
    case PType::subscribed:
      // A.3.3: only meaningful when the user asked.
      if (!s.out || has_to(s.sub)) return done(s, n, false);
      n.out = false;
      n.sub = with_to(s.sub, true);
      return done(s, n, true);
    case PType::unsubscribe:
      // A.3.2: the contact no longer wants the user's presence.
      if (!s.in && !has_from(s.sub)) return done(s, n, false);
      n.in = false;
      n.sub = with_from(s.sub, false);
      return done(s, n, true);
    case PType::unsubscribed:
      // A.3.4: the contact denied or cancelled the user's subscription.
      if (!s.out && !has_to(s.sub)) return done(s, n, false);
      n.out = false;
      n.sub = with_to(s.sub, false);
      return done(s, n, true);
  }
  return done(s, n, false);
}

std::optional<PType> unknown_user_reply(PType t) {
  if (t == PType::subscribe) return PType::unsubscribed;
  return std::nullopt;
}

bool is_void(const Item& it) {
  return it.hidden && it.st.sub == Sub::none && !it.st.out && !it.st.in && !it.st.approved;
}

char sub_code(Sub s) {
  switch (s) {
    case Sub::to: return 'T';
    case Sub::from: return 'F';
    case Sub::both: return 'B';
    default: return 'N';
  }
}

Sub sub_from_code(std::string_view c) {
  if (c.empty()) return Sub::none;
  switch (c[0]) {
    case 'T': return Sub::to;
    case 'F': return Sub::from;
    case 'B': return Sub::both;
    default: return Sub::none;
  }
}

// 'N' none, 'O' out, 'I' in, 'B' out+in (MongooseIM's letters); module-specific: 'J' in on an
// item the user added to the roster (visible), 'P' pre-approved, 'Q' pre-approved + out.
char ask_code(const Item& it) {
  const State& s = it.st;
  if (s.approved) return s.out ? 'Q' : 'P';
  if (s.out && s.in) return 'B';
  if (s.out) return 'O';
  if (s.in) return (it.hidden || s.sub != Sub::none) ? 'I' : 'J';
  return 'N';
}

void apply_ask_code(Item& it, std::string_view c) {
  char a = c.empty() ? 'N' : c[0];
  it.st.out = a == 'O' || a == 'B' || a == 'Q';
  it.st.in = a == 'I' || a == 'B' || a == 'J';
  it.st.approved = a == 'P' || a == 'Q';
  it.hidden = a == 'I' && it.st.sub == Sub::none;
}

std::optional<Error> validate_set(SetReq& req, size_t max_len) {
  if (req.items.size() != 1) return Error{"modify", "bad-request", "A roster set holds exactly one item"};
  ItemReq& it = req.items[0];
  if (!it.has_jid) return Error{"modify", "bad-request", "The item has no 'jid'"};
  auto j = av::parse_jid(it.jid);
  if (!j) return Error{"modify", "jid-malformed", "Invalid 'jid'"};
  if (!j->resource.empty()) return Error{"modify", "bad-request", "A roster item holds a bare JID"};
  it.jid = j->bare();
  if (it.subscription == "remove") return std::nullopt;
  if (it.name.size() > max_len) return Error{"modify", "not-acceptable", "The name is too long"};
  std::set<std::string> seen;
  for (const auto& g : it.groups) {
    if (g.empty()) return Error{"modify", "not-acceptable", "Empty group name"};
    if (g.size() > max_len) return Error{"modify", "not-acceptable", "The group name is too long"};
    if (!seen.insert(g).second) return Error{"modify", "bad-request", "Duplicate group"};
  }
  return std::nullopt;
}

std::string content_version(const std::map<std::string, Item>& items) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a 64
  auto mix = [&](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
    h ^= 0xff;
    h *= 1099511628211ull;
  };
  for (const auto& [jid, it] : items) {
    if (it.hidden) continue;
    mix(jid);
    mix(it.name);
    std::string st{sub_code(it.st.sub), ask_code(it)};
    mix(st);
    for (const auto& g : it.groups) mix(g);
  }
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string item_xml(const Item& it) {
  std::string o = "<item jid='" + av::xml_escape(it.jid) + "'";
  if (!it.name.empty()) o += " name='" + av::xml_escape(it.name) + "'";
  o += " subscription='";
  o += sub_name(it.st.sub);
  o += "'";
  if (it.st.out) o += " ask='subscribe'";
  if (it.st.approved) o += " approved='true'";
  if (it.groups.empty()) return o + "/>";
  o += ">";
  for (const auto& g : it.groups) o += "<group>" + av::xml_escape(g) + "</group>";
  return o + "</item>";
}

std::string removed_item_xml(std::string_view jid) {
  return "<item jid='" + av::xml_escape(jid) + "' subscription='remove'/>";
}

std::string roster_query(const std::map<std::string, Item>& items, const std::optional<std::string>& ver) {
  std::string o = "<query xmlns='jabber:iq:roster'";
  if (ver) o += " ver='" + av::xml_escape(*ver) + "'";
  std::string body;
  for (const auto& [jid, it] : items)
    if (!it.hidden) body += item_xml(it);
  if (body.empty()) return o + "/>";
  return o + ">" + body + "</query>";
}

std::string push_iq(std::string_view user_bare, std::string_view to_full, std::string_view id,
                    std::string_view item_element, const std::optional<std::string>& ver) {
  std::string o = "<iq type='set' id='" + av::xml_escape(id) + "' from='" + av::xml_escape(user_bare) + "' to='" + av::xml_escape(to_full) +
                  "'><query xmlns='jabber:iq:roster'";
  if (ver) o += " ver='" + av::xml_escape(*ver) + "'";
  o += ">";
  o += item_element;
  return o + "</query></iq>";
}

std::string presence(std::string_view type, std::string_view from, std::string_view to, std::string_view status) {
  std::string o = "<presence";
  if (!type.empty()) o += " type='" + av::xml_escape(type) + "'";
  o += " from='" + av::xml_escape(from) + "' to='" + av::xml_escape(to) + "'";
  if (status.empty()) return o + "/>";
  return o + "><status>" + av::xml_escape(status) + "</status></presence>";
}

}  // namespace roster
