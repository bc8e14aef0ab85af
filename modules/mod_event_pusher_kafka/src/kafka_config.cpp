#include "kafka_config.hpp"

#include <aviary/cpp/event_pusher_json.hpp>
#include <aviary/cpp/json_options.hpp>

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace kafka {

using nlohmann::json;

namespace {

// A property value as librdkafka wants it (text); the host hands strings, but a number or a
// boolean is accepted as its YAML spelling.
std::string property_text(const std::string& key, const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number()) return v.dump();
  throw std::runtime_error("property '" + key + "' must be a string, a number or a boolean");
}

bool acks_all(const std::string& v) { return v == "all" || v == "-1"; }

}  // namespace

std::string check_topic_name(const std::string& name) {
  if (name.empty()) return "a topic name cannot be empty";
  if (name.size() > 249) return "a topic name has at most 249 characters";
  if (name == "." || name == "..") return "'" + name + "' is not a valid topic name";
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return "'" + name + "' is not a valid topic name (letters, digits, '.', '_' and '-' only)";
  }
  return {};
}

Settings parse_pool(const std::string& text) {
  Settings s;
  json j = av::json_parse(text);
  json cn = j.is_object() && j.contains("connection") && j["connection"].is_object() ? j["connection"] : json::object();
  s.bootstrap_servers = av::json_get_or<std::string>(cn, "bootstrap_servers", s.bootstrap_servers);
  s.client_id = av::json_get_or<std::string>(cn, "client_id", s.client_id);
  s.max_queue_len = av::json_get_or<int64_t>(cn, "max_queue_len", s.max_queue_len);
  s.flush_timeout_ms = av::json_get_or<int64_t>(cn, "flush_timeout", s.flush_timeout_ms);
  if (cn.contains("properties") && !cn["properties"].is_null()) {
    const json& p = cn["properties"];
    if (!p.is_object()) throw std::runtime_error("'properties' must be a map of librdkafka properties");
    for (auto it = p.begin(); it != p.end(); ++it) s.properties.emplace_back(it.key(), property_text(it.key(), it.value()));
  }
  if (s.bootstrap_servers.empty()) throw std::runtime_error("'bootstrap_servers' must not be empty");
  if (s.max_queue_len < 1) throw std::runtime_error("'max_queue_len' must be at least 1");
  if (s.flush_timeout_ms < 0) throw std::runtime_error("'flush_timeout' must not be negative");
  return s;
}

std::vector<Property> producer_properties(const Settings& s) {
  const std::string pool = "outgoing_pools.kafka.event_pusher.connection.";
  const std::string* user_acks = nullptr;
  bool user_idempotence = false;
  for (auto& [k, v] : s.properties) {
    if (k == "acks" || k == "request.required.acks") user_acks = &v;
    if (k == "enable.idempotence") user_idempotence = true;
  }
  const bool idempotence = user_idempotence || !user_acks || acks_all(*user_acks);
  std::vector<Property> out = {
      {"acks", "all", "Aviary's default"},
      {"enable.idempotence", idempotence ? "true" : "false",
       idempotence ? "Aviary's default" : "Aviary's default with acks other than all"},
      {"partitioner", "murmur2_random", "Aviary's default"},
      {"bootstrap.servers", s.bootstrap_servers, pool + "bootstrap_servers"},
      {"client.id", s.client_id, pool + "client_id"},
      {"queue.buffering.max.messages", std::to_string(s.max_queue_len), pool + "max_queue_len"},
  };
  for (auto& [k, v] : s.properties) out.push_back({k, v, pool + "properties." + k});
  return out;
}

bool route_into(const Topics& topics, const av::PushEventView& e, Record& r) {
  std::string_view owner;
  if (e.kind == AV_PUSH_USER_STATUS) {
    r.topic = kPresence;
    owner = e.user_jid;
    r.event_type = "presence";
  } else if (e.kind == AV_PUSH_CHAT) {
    const bool group = e.chat_type == AV_PUSH_TYPE_GROUPCHAT;
    const bool sent = e.direction == AV_PUSH_DIR_SENT;
    r.topic = group ? kGroupchat : kChat;
    owner = sent ? e.from : e.to;
    r.event_type = group ? (sent ? "groupchat_msg_sent" : "groupchat_msg_recv") : (sent ? "chat_msg_sent" : "chat_msg_recv");
  } else {
    return false;
  }
  if (topics[r.topic].empty()) return false;
  r.key.clear();
  av::append_lower_jid(r.key, av::jid_bare_part(owner));
  return true;
}

std::optional<Record> route(const Topics& topics, const av::PushEvent& e) {
  Record r;
  if (!route_into(topics, av::PushEventView::of(e), r)) return std::nullopt;
  r.value = av::mongoose_event_json(e);
  return r;
}

}  // namespace kafka
