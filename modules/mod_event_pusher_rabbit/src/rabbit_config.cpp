#include "rabbit_config.hpp"

#include <aviary/cpp/event_pusher_json.hpp>
#include <aviary/cpp/json_options.hpp>

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace rabbit {

using nlohmann::json;

Exchange parse_exchange(const std::string& text, const std::string& default_name) {
  Exchange x;
  if (text.empty()) return x;
  json j = av::json_parse(text);
  x.enabled = true;
  x.name = av::json_get_or<std::string>(j, "name", default_name);
  x.type = av::json_get_or<std::string>(j, "type", "topic");
  x.durable = av::json_get_or<bool>(j, "durable", false);
  x.sent_topic = av::json_get_or<std::string>(j, "sent_topic", default_name + "_sent");
  x.recv_topic = av::json_get_or<std::string>(j, "recv_topic", default_name + "_recv");
  if (x.name.empty()) throw std::runtime_error("'name' must not be empty");
  return x;
}

Connection parse_pool(const std::string& text) {
  Connection c;
  json j = av::json_parse(text);
  c.workers = av::json_get_or<int>(j, "workers", c.workers);
  json cn = j.is_object() && j.contains("connection") ? j["connection"] : json::object();
  c.host = av::json_get_or<std::string>(cn, "host", c.host);
  c.port = av::json_get_or<int>(cn, "port", c.port);
  c.username = av::json_get_or<std::string>(cn, "username", c.username);
  c.password = av::json_get_or<std::string>(cn, "password", c.password);
  c.virtual_host = av::json_get_or<std::string>(cn, "virtual_host", c.virtual_host);
  c.confirms_enabled = av::json_get_or<bool>(cn, "confirms_enabled", c.confirms_enabled);
  c.max_worker_queue_len = av::json_get_or<size_t>(cn, "max_worker_queue_len", c.max_worker_queue_len);
  if (cn.contains("tls") && cn["tls"].is_object()) {
    const json& t = cn["tls"];
    c.tls.enabled = true;
    c.tls.verify_peer = av::json_get_or<std::string>(t, "verify_mode", "peer") != "none";
    c.tls.cacertfile = av::json_get_or<std::string>(t, "cacertfile", "");
    c.tls.certfile = av::json_get_or<std::string>(t, "certfile", "");
    c.tls.keyfile = av::json_get_or<std::string>(t, "keyfile", "");
    c.tls.server_name_indication = av::json_get_or<std::string>(t, "server_name_indication", "");
  }
  if (c.workers < 1) throw std::runtime_error("'workers' must be at least 1");
  return c;
}

const Exchange* exchange_for(const Exchanges& x, av_push_event_kind kind, av_push_chat_type type) {
  const Exchange* ex = nullptr;
  if (kind == AV_PUSH_USER_STATUS)
    ex = &x.presence;
  else if (kind == AV_PUSH_CHAT)
    ex = type == AV_PUSH_TYPE_GROUPCHAT ? &x.groupchat : &x.chat;
  return ex && ex->enabled ? ex : nullptr;
}

void append_routing_key(std::string& out, const Exchange& ex, const av::PushEventView& e) {
  if (e.kind == AV_PUSH_USER_STATUS) return av::append_lower_jid(out, av::jid_bare_part(e.user_jid));
  const bool sent = e.direction == AV_PUSH_DIR_SENT;
  av::append_lower_jid(out, av::jid_bare_part(sent ? e.from : e.to));
  out.push_back('.');
  out.append(sent ? ex.sent_topic : ex.recv_topic);
}

std::optional<Route> route(const Exchanges& x, const av::PushEvent& e) {
  const Exchange* ex = exchange_for(x, e.kind, e.chat_type);
  if (!ex) return std::nullopt;
  Route r{ex, {}};
  append_routing_key(r.routing_key, *ex, av::PushEventView::of(e));
  return r;
}

}  // namespace rabbit
