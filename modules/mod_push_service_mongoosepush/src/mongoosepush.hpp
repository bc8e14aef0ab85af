// mod_push_service_mongoosepush: the pure parts (no host calls), unit-tested in
// tests/test_mongoosepush.cpp: the HTTP pool settings, the request URL, MongoosePush's JSON
// body (MongooseIM 6.5's make_notification, keys in the order jiffy writes the map) and the
// meaning of a response status.
#pragma once

#include <aviary/ext/draft/push.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mpush {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

// outgoing_pools.http.<name> as av.pools/1 gives it (JSON, defaults filled in).
struct Pool {
  std::string base;          // scheme://host[:port], no trailing '/'
  std::string path_prefix = "/";
  int64_t request_timeout_ms = 2000;
  size_t max_queue_len = 10000;
  int workers = 50;
  struct Tls {
    bool enabled = false;
    bool verify_peer = true;
    std::string cacertfile, certfile, keyfile, server_name_indication;
  } tls;
};
// Throws std::runtime_error with the reason when the JSON is not a usable pool.
Pool parse_pool(const std::string& json);

// {base}{path_prefix}{api_version}/notification/{device_id}: MongooseIM's concatenation (so
// the default path_prefix "/" gives /v3/notification/ID); characters that cannot appear in
// a path segment are percent-encoded in the device id.
std::string notification_url(const Pool& pool, std::string_view api_version, std::string_view device_id);
std::string escape_path_segment(std::string_view s);

// The value of `key` among `kvs`, or nullptr.
const std::string* find(const KeyValues& kvs, std::string_view key);

struct Body {
  bool ok = false;
  std::string json;   // when ok
  std::string error;  // when !ok: why no request can be made
};
// MongoosePush's request body from the notification fields and the publish-options:
// "service" (required) and the optional mode, priority, topic, mutable_content,
// time_to_live copied as strings (never "tags"); silent == "true": "data" = the notification
// fields with message-count as an integer; otherwise "alert" = {badge: message-count as an
// integer, body: last-message-body, tag and title: last-message-sender, plus click_action
// and sound when given}.
Body make_body(const KeyValues& fields, const KeyValues& options);

// 2xx ok; 410 device_not_registered; anything else (and 0 = no response) an error.
av_push_result result_of(long http_status);

}  // namespace mpush
