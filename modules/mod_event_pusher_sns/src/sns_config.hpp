// mod_event_pusher_sns's settings, routing, payloads, retry schedule and the signed HTTP
// request of one attempt (MongooseIM 6.5 section 4.4, mod_event_pusher_sns with its default
// plugin mod_event_pusher_sns_defaults), as pure code.
#pragma once

#include <aviary/cpp/curl_post.hpp>
#include <aviary/cpp/event_pusher.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sigv4.hpp"

namespace sns {

inline constexpr const char* kDefaultPlugin = "mod_event_pusher_sns_defaults";

struct Settings {
  // Topic names (the last part of the ARN); absent = that event is not published.
  std::optional<std::string> presence_topic, pm_topic, muc_topic;
  std::string sns_host;  // the signed Host, e.g. "sns.eu-west-1.amazonaws.com"
  std::string region, account_id;
  Credentials creds;
  int pool_size = 100;
  int retry_count = 2;     // publish_retry_count: attempts = 1 + retry_count
  int retry_time_ms = 50;  // publish_retry_time_ms: the backoff base
  // Aviary extras: where the request goes (default "https://" + sns_host; tests point it at a
  // local server while Host stays sns_host), the per-attempt timeout, the queue bound.
  std::string endpoint;
  long request_timeout_ms = 10000;
  size_t max_queue_len = 10000;
};

// Checks values the option types cannot (empty strings, the endpoint's shape) and fills the
// default endpoint. Throws std::runtime_error naming the option.
void validate(Settings& s);

// "http[s]://host[:port]" with an optional trailing '/' (dropped); throws std::runtime_error.
std::string parse_endpoint(const std::string& url);

// The default plugin's user_guid: the lowercased bare JID.
std::string user_guid(std::string_view jid);

// {"user_id":"alice@localhost","present":true}
std::string presence_json(std::string_view user_jid, bool online);
// {"from_user_id":"alice@localhost","to_user_id":"bob@localhost","message":"..."}; invalid
// UTF-8 in the body becomes U+FFFD.
std::string message_json(std::string_view from, std::string_view to, std::string_view body);

struct Publication {
  std::string topic_arn;
  std::string json;
};

// What an event becomes: presence -> presence topic; a message sent by a local user (direction
// SENT) of type chat -> pm topic, groupchat -> muc topic (to_user_id is then the room's bare
// JID). nullopt: not published (received messages, unack events, a topic not configured).
std::optional<Publication> publication_for(const Settings& s, const av::PushEvent& e);

// MongooseIM's calc_backoff_time: 2^(retry_count - retry_left) * base - r, with r uniformly
// drawn from [1, base] by the caller (r is ignored when base is 0). retry_left is the count of
// retries left before this failure: the first retry waits in [0, base), the second in
// [base, 2 base), the third in [3 base, 4 base)...
int64_t backoff_ms(int retry_count, int retry_left, int base_ms, int r);

// One attempt: Action=Publish (MessageStructure=json, with the "default" key), POST to
// endpoint + "/", with Host = sns_host, signed with SigV4 for service sns at amz_date. Its
// headers ("name: value") include Authorization.
av::PostRequest signed_publish(const Settings& s, const Publication& p, std::string_view amz_date);

}  // namespace sns
