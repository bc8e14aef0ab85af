// mod_event_pusher_rabbit's settings and routing (MongooseIM 6.5 section 4.3), as pure code.
#pragma once

#include <aviary/cpp/event_pusher.hpp>

#include <optional>
#include <string>

namespace rabbit {

struct Exchange {
  bool enabled = false;  // only exchanges present in the config are declared and used
  std::string name, type = "topic";
  bool durable = false;
  std::string sent_topic, recv_topic;  // chat and groupchat only
};

struct Exchanges {
  Exchange presence, chat, groupchat;
};

// An exchange section as JSON text ("" = absent = disabled). MongooseIM's defaults: names
// presence / chat_msg / groupchat_msg, type topic, not durable, topics <default name>_sent
// and _recv (built from the default name even when `name` is changed). Throws
// std::runtime_error on a value of the wrong type.
Exchange parse_exchange(const std::string& json, const std::string& default_name);

struct Tls {
  bool enabled = false;
  bool verify_peer = true;
  std::string cacertfile, certfile, keyfile, server_name_indication;
};

struct Connection {
  std::string host = "localhost";
  int port = 5672;
  std::string username = "guest", password = "guest", virtual_host = "/";
  bool confirms_enabled = false;
  size_t max_worker_queue_len = 1000;  // 0 = no limit
  int workers = 10;
  Tls tls;
  std::string where() const { return host + ":" + std::to_string(port) + " (vhost " + virtual_host + ")"; }
};

// outgoing_pools.rabbit.event_pusher as av.pools/1 hands it out (defaults filled in).
Connection parse_pool(const std::string& json);

struct Route {
  const Exchange* exchange;
  std::string routing_key;
};

// The configured exchange for events of that kind, or nullptr (not for rabbit, or off).
const Exchange* exchange_for(const Exchanges& x, av_push_event_kind kind, av_push_chat_type type);

// Where an event goes: presence -> presence exchange, key = the user's bare JID; chat sent ->
// chat exchange, key "<sender bare JID>.<sent_topic>"; received -> "<recipient bare
// JID>.<recv_topic>"; groupchat likewise. JIDs lowercased. nullopt: not for rabbit (or that
// exchange is not configured).
std::optional<Route> route(const Exchanges& x, const av::PushEvent& e);
// The same routing key, appended to out (the hot path: no allocation); ex = exchange_for(e).
void append_routing_key(std::string& out, const Exchange& ex, const av::PushEventView& e);

}  // namespace rabbit
