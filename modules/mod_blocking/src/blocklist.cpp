#include "blocklist.hpp"

#include <aviary/cpp/xml.hpp>

#include <algorithm>

namespace blk {

namespace {
bool bad_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return u <= 0x20 || u == 0x7f || c == '"' || c == '&' || c == '\'' || c == '<' || c == '>';
}
std::string lower(std::string_view s) {
  std::string o(s);
  for (auto& c : o)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return o;
}
}  // namespace

std::optional<Jid> parse_jid(std::string_view s) {
  std::string_view b = s, res;
  auto slash = s.find('/');
  if (slash != std::string_view::npos) {
    b = s.substr(0, slash);
    res = s.substr(slash + 1);
    if (res.empty()) return std::nullopt;
  }
  std::string_view node, dom = b;
  auto at = b.find('@');
  if (at != std::string_view::npos) {
    node = b.substr(0, at);
    dom = b.substr(at + 1);
    if (node.empty() || dom.find('@') != std::string_view::npos) return std::nullopt;
  }
  if (dom.empty() || dom.size() > 1023 || node.size() > 1023 || res.size() > 1023) return std::nullopt;
  if (std::any_of(node.begin(), node.end(), bad_char) || std::any_of(dom.begin(), dom.end(), bad_char))
    return std::nullopt;
  if (dom.front() == '.' || dom.back() == '.' ) return std::nullopt;
  for (char c : res)
    if (static_cast<unsigned char>(c) < 0x20) return std::nullopt;
  return Jid{lower(node), lower(dom), std::string(res)};
}

bool matches(const Jid& item, const Jid& who) {
  if (item.domain != who.domain) return false;
  if (!item.node.empty()) {
    if (item.node != who.node) return false;
    return item.resource.empty() || item.resource == who.resource;  // full: only that resource
  }
  if (!item.resource.empty()) return who.node.empty() && item.resource == who.resource;  // domain/resource
  return true;  // domain: the domain itself and every JID at it
}

bool Blocklist::blocks(const Jid& who) const {
  for (auto& j : parsed_)
    if (matches(j, who)) return true;
  return false;
}

bool Blocklist::blocks(std::string_view who) const {
  if (parsed_.empty()) return false;  // the common case: no parse for an empty list
  auto j = parse_jid(who);
  return j && blocks(*j);
}

bool Blocklist::contains(const std::string& item) const {
  return std::find(items_.begin(), items_.end(), item) != items_.end();
}

bool Blocklist::add(const std::string& item) {
  if (contains(item)) return false;
  auto j = parse_jid(item);
  if (!j) return false;
  items_.push_back(item);
  parsed_.push_back(*j);
  return true;
}

bool Blocklist::remove(const std::string& item) {
  auto it = std::find(items_.begin(), items_.end(), item);
  if (it == items_.end()) return false;
  parsed_.erase(parsed_.begin() + (it - items_.begin()));
  items_.erase(it);
  return true;
}

void Blocklist::clear() {
  items_.clear();
  parsed_.clear();
}

Command parse_command(bool is_set, std::string_view payload_name,
                      const std::vector<std::optional<std::string>>& item_jids) {
  Command c;
  auto fail = [&](const char* type, const char* cond) {
    c.error_type = type;
    c.condition = cond;
    c.items.clear();
    return c;
  };
  if (!is_set) {
    if (payload_name != "blocklist") return fail("modify", "bad-request");
    c.op = Op::get;
    return c;
  }
  if (payload_name == "block") c.op = Op::block;
  else if (payload_name == "unblock") c.op = Op::unblock;
  else return fail("modify", "bad-request");
  for (auto& raw : item_jids) {
    if (!raw) return fail("modify", "bad-request");
    auto j = parse_jid(*raw);
    if (!j) return fail("modify", "jid-malformed");
    std::string n = j->full();
    if (std::find(c.items.begin(), c.items.end(), n) == c.items.end()) c.items.push_back(std::move(n));
  }
  if (c.items.empty()) {
    if (c.op == Op::block) return fail("modify", "bad-request");  // XEP-0191: at least one item
    c.op = Op::unblock_all;
  }
  return c;
}

static std::string element(std::string_view name, const std::vector<std::string>& items) {
  std::string o = "<" + std::string(name) + " xmlns='" + std::string(kNs) + "'";
  if (items.empty()) return o + "/>";
  o += ">";
  for (auto& i : items) o += "<item jid='" + av::xml_escape(i) + "'/>";
  return o + "</" + std::string(name) + ">";
}

std::string blocklist_xml(const std::vector<std::string>& items) { return element("blocklist", items); }

std::string push_xml(Op op, const std::vector<std::string>& items) {
  if (op == Op::block) return element("block", items);
  if (op == Op::unblock) return element("unblock", items);
  return element("unblock", {});
}

std::string add_blocked_condition(std::string_view xml) {
  auto pos = xml.rfind("</error>");
  if (pos == std::string_view::npos) return {};
  std::string o(xml.substr(0, pos));
  o += "<blocked xmlns='" + std::string(kErrNs) + "'/>";
  o += xml.substr(pos);
  return o;
}

std::vector<std::string> presence_targets(const std::vector<std::string>& contacts,
                                          const std::vector<std::string>& items) {
  std::vector<std::string> out;
  auto add = [&](std::string t) {
    if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(std::move(t));
  };
  for (auto& raw : items) {
    auto item = parse_jid(raw);
    if (!item) continue;
    if (!item->node.empty() && !item->resource.empty()) {
      if (std::find(contacts.begin(), contacts.end(), item->bare()) != contacts.end()) add(item->full());
      continue;
    }
    for (auto& c : contacts) {
      auto cj = parse_jid(c);
      if (cj && matches(*item, *cj)) add(cj->bare());
    }
  }
  return out;
}

std::string presence_xml(std::string_view from, std::string_view to, bool unavailable, std::string_view show,
                         std::string_view status, int priority) {
  std::string o = "<presence from='" + av::xml_escape(from) + "' to='" + av::xml_escape(to) + "'";
  if (unavailable) return o + " type='unavailable'/>";
  o += ">";
  if (!show.empty()) o += "<show>" + av::xml_escape(show) + "</show>";
  if (!status.empty()) o += "<status>" + av::xml_escape(status) + "</status>";
  if (priority != 0) o += "<priority>" + std::to_string(priority) + "</priority>";
  return o + "</presence>";
}

const char* schema_sql(int dialect) {
  switch (dialect) {
    case 2:
      return "CREATE TABLE IF NOT EXISTS blocking_list (server VARCHAR(250) NOT NULL, username VARCHAR(250) NOT NULL,"
             " jid VARCHAR(1023) NOT NULL, created_at TIMESTAMP NOT NULL DEFAULT now(),"
             " PRIMARY KEY (server, username, jid))";
    case 3:
      return "CREATE TABLE IF NOT EXISTS blocking_list (server VARCHAR(250) NOT NULL, username VARCHAR(250) NOT NULL,"
             " jid VARCHAR(250) NOT NULL, created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
             " PRIMARY KEY (server, username, jid)) CHARACTER SET utf8mb4 ROW_FORMAT=DYNAMIC";
    default:
      return "CREATE TABLE IF NOT EXISTS blocking_list (server VARCHAR(250) NOT NULL, username VARCHAR(250) NOT NULL,"
             " jid VARCHAR(1023) NOT NULL, created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,"
             " PRIMARY KEY (server, username, jid))";
  }
}

std::string insert_sql(int dialect, size_t n) {
  std::string o = dialect == 3 ? "INSERT IGNORE INTO" : "INSERT INTO";
  o += " blocking_list (server, username, jid) VALUES ";
  for (size_t i = 0; i < n; ++i) o += i ? ", (?, ?, ?)" : "(?, ?, ?)";
  if (dialect != 3) o += " ON CONFLICT DO NOTHING";
  return o;
}

std::string delete_some_sql(size_t n) {
  std::string o = "DELETE FROM blocking_list WHERE server = ? AND username = ? AND jid IN (";
  for (size_t i = 0; i < n; ++i) o += i ? ", ?" : "?";
  return o + ")";
}

}  // namespace blk
