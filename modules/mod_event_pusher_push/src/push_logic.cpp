#include "push_logic.hpp"

#include <aviary/cpp/event_pusher_json.hpp>
#include <aviary/cpp/jid.hpp>
#include <aviary/cpp/xml.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

namespace push {

namespace {

Parsed bad(std::string text) {
  Parsed p;
  p.condition = "bad-request";
  p.text = std::move(text);
  return p;
}

}  // namespace

std::optional<KeyValues> parse_publish_options(const FormInput& form) {
  if (!form.type || *form.type != "submit") return std::nullopt;
  std::map<std::string, std::vector<std::string>> kvs;  // a repeated var: the last one
  for (const auto& f : form.fields)
    if (f.var) kvs[*f.var] = f.values;
  auto ft = kvs.find("FORM_TYPE");
  if (ft == kvs.end() || ft->second.size() != 1 || ft->second[0] != kNsPublishOptions) return std::nullopt;
  kvs.erase(ft);
  KeyValues out;
  for (auto& [k, v] : kvs) {
    if (v.size() != 1) return std::nullopt;  // single-valued fields only
    out.emplace_back(k, v[0]);
  }
  return out;
}

Parsed parse_request(const RequestInput& in) {
  const bool enable = in.name == "enable";
  if (!enable && in.name != "disable") return bad("expected <enable/> or <disable/>");
  if (!in.jid || in.jid->empty()) return bad("the 'jid' attribute is required");
  auto jid = av::parse_jid(*in.jid);
  if (!jid) return bad("the 'jid' attribute is not a valid JID");
  Parsed p;
  p.request.pubsub_jid = jid->full();
  if (p.request.pubsub_jid.size() > kMaxColumn) return bad("the 'jid' attribute is too long");
  if (enable) {
    p.request.kind = Request::Kind::enable;
    if (in.form) {
      auto opts = parse_publish_options(*in.form);
      if (!opts)
        return bad("the form must be of type 'submit' with FORM_TYPE " + std::string(kNsPublishOptions) +
                   " and single-valued fields");
      p.request.options = std::move(*opts);
    }
    if (!in.node || in.node->empty()) return bad("the 'node' attribute is required");
  } else {
    p.request.kind = Request::Kind::disable;
    if (in.node && in.node->empty()) return bad("the 'node' attribute must not be empty");
  }
  if (in.node && in.node->size() > kMaxColumn) return bad("the 'node' attribute is too long");
  p.request.node = in.node;
  p.ok = true;
  return p;
}

KeyValues summary_fields(int64_t message_count, std::string_view sender, std::string_view body) {
  return {{"message-count", std::to_string(message_count)},
          {"last-message-sender", std::string(sender)},
          {"last-message-body", std::string(body)}};
}

std::string sender_id(bool groupchat, std::string_view from) {
  return groupchat ? av::lower_jid(from) : av::lower_jid(av::jid_bare_part(from));
}

std::string data_form_xml(std::string_view form_type, const KeyValues& fields) {
  std::string x = "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>";
  x += av::xml_escape(form_type);
  x += "</value></field>";
  for (const auto& [k, v] : fields) {
    x += "<field var='";
    x += av::xml_escape(k);
    x += "'><value>";
    x += av::xml_escape(v);
    x += "</value></field>";
  }
  x += "</x>";
  return x;
}

std::string publish_iq_xml(std::string_view id, std::string_view from, std::string_view to, std::string_view node,
                           const KeyValues& summary, const KeyValues& options) {
  std::string x = "<iq type='set' id='" + av::xml_escape(id) + "' from='" + av::xml_escape(from) + "' to='" +
                  av::xml_escape(to) + "'><pubsub xmlns='" + std::string(kNsPubsub) + "'><publish node='" +
                  av::xml_escape(node) + "'><item><notification xmlns='" + std::string(kNsPush) + "'>" +
                  data_form_xml(kNsSummary, summary) + "</notification></item></publish>";
  if (!options.empty()) x += "<publish-options>" + data_form_xml(kNsPublishOptions, options) + "</publish-options>";
  x += "</pubsub></iq>";
  return x;
}

std::string expand_pattern(std::string_view pattern, std::string_view domain) {
  std::string fqdn;
  for (size_t i = 0; i < pattern.size();) {
    if (pattern.compare(i, 6, "@HOST@") == 0) {
      fqdn += domain;
      i += 6;
    } else {
      fqdn += pattern[i++];
    }
  }
  return fqdn;
}

bool valid_pattern(std::string_view pattern) {
  if (pattern.empty()) return false;
  auto j = av::parse_jid(expand_pattern(pattern, "example.org"));
  return j && j->user.empty() && j->resource.empty();
}

bool is_virtual_pubsub_host(const std::vector<std::string>& patterns, std::string_view recipient_domain,
                            std::string_view pubsub_domain) {
  const std::string want = av::lower_jid(pubsub_domain);
  for (const auto& p : patterns)
    if (av::lower_jid(expand_pattern(p, recipient_domain)) == want) return true;
  return false;
}

std::string encode_form(const KeyValues& options) {
  nlohmann::json o = nlohmann::json::object();  // std::map: keys sorted
  for (const auto& [k, v] : options) o[k] = v;
  return o.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<KeyValues> decode_form(std::string_view json) {
  auto o = nlohmann::json::parse(json, nullptr, false);
  if (o.is_discarded() || !o.is_object()) return std::nullopt;
  KeyValues out;
  for (auto it = o.begin(); it != o.end(); ++it) {
    if (!it.value().is_string()) return std::nullopt;
    out.emplace_back(it.key(), it.value().get<std::string>());
  }
  return out;
}

const char* schema_sql(int dialect) {
  switch (dialect) {
    case 2:
      return "CREATE TABLE IF NOT EXISTS event_pusher_push_subscription ("
             " owner_jid VARCHAR(250) NOT NULL, node VARCHAR(250) NOT NULL, pubsub_jid VARCHAR(250) NOT NULL,"
             " form JSON NOT NULL, created_at BIGINT NOT NULL,"
             " PRIMARY KEY (owner_jid, node, pubsub_jid))";
    case 3:
      return "CREATE TABLE IF NOT EXISTS event_pusher_push_subscription ("
             " owner_jid VARCHAR(250) NOT NULL, node VARCHAR(250) NOT NULL, pubsub_jid VARCHAR(250) NOT NULL,"
             " form JSON NOT NULL, created_at BIGINT NOT NULL,"
             " PRIMARY KEY (owner_jid, node, pubsub_jid)) CHARACTER SET utf8mb4 ROW_FORMAT=DYNAMIC";
    default:
      return "CREATE TABLE IF NOT EXISTS event_pusher_push_subscription ("
             " owner_jid VARCHAR(250) NOT NULL, node VARCHAR(250) NOT NULL, pubsub_jid VARCHAR(250) NOT NULL,"
             " form TEXT NOT NULL, created_at BIGINT NOT NULL,"
             " PRIMARY KEY (owner_jid, node, pubsub_jid))";
  }
}

const char* upsert_sql(int dialect) {
  if (dialect == 3)
    return "INSERT INTO event_pusher_push_subscription (owner_jid, node, pubsub_jid, form, created_at)"
           " VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE form = VALUES(form), created_at = VALUES(created_at)";
  return "INSERT INTO event_pusher_push_subscription (owner_jid, node, pubsub_jid, form, created_at)"
         " VALUES (?, ?, ?, ?, ?) ON CONFLICT (owner_jid, node, pubsub_jid)"
         " DO UPDATE SET form = excluded.form, created_at = excluded.created_at";
}

bool matches(const Registration& r, std::string_view pubsub_jid, const std::optional<std::string>& node) {
  return r.pubsub_jid == pubsub_jid && (!node || r.node == *node);
}

void Seen::expire(uint64_t now_ms) {
  while (!order_.empty() && order_.front().first + ttl_ms_ <= now_ms) {
    keys_.erase(order_.front().second);
    order_.pop_front();
  }
}

bool Seen::first(const std::string& key, uint64_t now_ms) {
  expire(now_ms);
  if (keys_.count(key)) return false;
  keys_.insert(key);
  order_.emplace_back(now_ms, key);
  while (order_.size() > cap_) {
    keys_.erase(order_.front().second);
    order_.pop_front();
  }
  return true;
}

bool Seen::contains(const std::string& key, uint64_t now_ms) {
  expire(now_ms);
  return keys_.count(key) != 0;
}

std::string message_key(std::string_view owner, std::string_view from, std::string_view id, std::string_view body) {
  std::string k;
  k.reserve(owner.size() + from.size() + id.size() + body.size() + 3);
  k.append(owner).append(1, '\0').append(av::lower_jid(from));
  k.append(1, '\0').append(id).append(1, '\0').append(body);
  return k;
}

}  // namespace push
