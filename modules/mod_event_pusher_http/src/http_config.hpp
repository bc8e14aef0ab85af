// mod_event_pusher_http's settings, URL building, filtering and request body (MongooseIM 6.5
// section 4.5: mod_event_pusher_http with the default callback module
// mod_event_pusher_http_defaults), as pure code.
#pragma once

#include <aviary/cpp/curl_post.hpp>
#include <aviary/cpp/event_pusher.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ephttp {

// The only callback module there is (MongooseIM's default); another name is a config error.
inline constexpr const char* kDefaultCallback = "mod_event_pusher_http_defaults";
inline constexpr const char* kDefaultPool = "http_pool";

// outgoing_pools.http.<name>
struct PoolConfig {
  std::string name;
  std::string host;               // "http[s]://host[:port]", no trailing '/'
  std::string path_prefix = "/";  // starts with '/'
  long request_timeout_ms = 2000;
  size_t max_queue_len = 10000;
  int workers = 50;
  av::CurlTls tls;  // enabled: connection.tls is present; verify_peer: verify_mode peer (default) | none
};

// The pool as av.pools/1 hands it out (JSON, defaults filled). Throws std::runtime_error
// naming the pool on a bad value: a host that is not http[s]://host[:port], a path_prefix
// that does not start with '/', a value of the wrong type.
PoolConfig parse_pool(const std::string& name, const std::string& json);

// One entry of modules.mod_event_pusher.http.handlers.
struct Handler {
  std::string pool_name = kDefaultPool;
  std::string path;  // as configured, leading '/' already stripped (MongooseIM's fix_path)
};

// The `handlers` option as JSON text ("" = absent = no handlers, as MongooseIM's default []).
// Throws std::runtime_error on anything but a list of maps with string values, and on a
// callback_module other than mod_event_pusher_http_defaults.
std::vector<Handler> parse_handlers(const std::string& json);

// MongooseIM's fix_path/1: one leading '/' removed.
std::string fix_path(std::string_view path);

// Where a handler POSTs: host + path_prefix + path, concatenated as MongooseIM does
// (path_prefix "/hook/" and path "/new" give "/hook/new"; path_prefix "/hook" gives "/hooknew").
std::string request_url(const PoolConfig& pool, const Handler& h);

// cow_qs:urlencode: A-Z a-z 0-9 - . _ kept, space as '+', every other byte %XX (uppercase).
std::string form_urlencode(std::string_view s);
// cow_qs:qs: "k1=v1&k2=v2" in the given order, names and values form_urlencode'd.
std::string form_body(const std::vector<std::pair<std::string, std::string>>& fields);

// The arguments of prepare_body: sender's localpart and domain, recipient's localpart
// (lowercased, as MongooseIM's stringprepped luser/lserver), and the body.
struct Notification {
  std::string author, server, receiver, message;
};

// should_make_req of the default callback: only chat events sent by a local user (MongooseIM
// direction `in`), type chat, with a non-empty body. nullopt: no request.
std::optional<Notification> notification_for(const av::PushEvent& e);

// "author=...&server=...&receiver=...&message=..." (application/x-www-form-urlencoded).
std::string prepare_body(const Notification& n);

inline constexpr const char* kContentType = "application/x-www-form-urlencoded";

}  // namespace ephttp
