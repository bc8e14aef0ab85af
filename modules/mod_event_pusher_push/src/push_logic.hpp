// mod_event_pusher_push: the pure parts (no host calls), unit-tested in tests/test_push_logic.cpp.
// XEP-0357 enable/disable requests and their publish-options form (XEP-0004), the
// urn:xmpp:push:summary notification, the PubSub publish IQ, virtual PubSub host matching,
// the stored form's JSON and the SQL of table event_pusher_push_subscription (MongooseIM's).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace push {

inline constexpr std::string_view kNsPush = "urn:xmpp:push:0";
inline constexpr std::string_view kNsXData = "jabber:x:data";
inline constexpr std::string_view kNsPubsub = "http://jabber.org/protocol/pubsub";
inline constexpr std::string_view kNsPublishOptions = "http://jabber.org/protocol/pubsub#publish-options";
inline constexpr std::string_view kNsSummary = "urn:xmpp:push:summary";

// Columns are VARCHAR(250) in MongooseIM's schema.
inline constexpr size_t kMaxColumn = 250;

// Key/value pairs: publish-options (sorted by key, keys unique) or notification fields (in order).
using KeyValues = std::vector<std::pair<std::string, std::string>>;

// A jabber:x:data form as found in the request (what the parser needs of it).
struct FormField {
  std::optional<std::string> var;  // absent var: the field is ignored (MongooseIM)
  std::vector<std::string> values;
};
struct FormInput {
  std::optional<std::string> type;
  std::vector<FormField> fields;
};

// The publish-options of an <enable/>: type 'submit', exactly one FORM_TYPE value equal to
// http://jabber.org/protocol/pubsub#publish-options, every other field with exactly one
// value. Returns the fields without FORM_TYPE, sorted by var (a repeated var: the last one,
// as MongooseIM's map); nullopt when the form is not acceptable.
std::optional<KeyValues> parse_publish_options(const FormInput& form);

// The payload element of an urn:xmpp:push:0 IQ set.
struct RequestInput {
  std::string name;                       // enable | disable | anything else
  std::optional<std::string> jid, node;   // attributes as given
  std::optional<FormInput> form;          // the first <x xmlns='jabber:x:data'/> child
};

struct Request {
  enum class Kind { enable, disable } kind = Kind::enable;
  std::string pubsub_jid;            // normalized (see parse_request)
  std::optional<std::string> node;   // disable: absent = every node of that service
  KeyValues options;                 // enable: the publish-options ({} without a form)
};

struct Parsed {
  bool ok = false;
  Request request;
  std::string condition;  // bad-request when !ok
  std::string text;       // a human-readable reason
};

// XEP-0357 section 5/6 as MongooseIM 6.5 applies it: a missing, empty or malformed 'jid', a
// missing or empty 'node' on enable, an empty 'node' on disable, a form that is not a valid
// publish-options submission, or another element -> bad-request. The PubSub JID is
// normalized (localpart and domain lowercased); unlike MongooseIM its resource is kept,
// so that a service reachable only at a full JID gets the publish IQ there.
Parsed parse_request(const RequestInput& in);

// The fields of the urn:xmpp:push:summary form, in MongooseIM's order.
KeyValues summary_fields(int64_t message_count, std::string_view sender, std::string_view body);
// last-message-sender: the sender's bare JID for chat, its full JID (room@muc/nick) for
// groupchat; lowercased except the resource.
std::string sender_id(bool groupchat, std::string_view from);

// A jabber:x:data form of type submit with FORM_TYPE first (XML text, escaped).
std::string data_form_xml(std::string_view form_type, const KeyValues& fields);

// The publish IQ of XEP-0357 section 7 (MongooseIM's push_notification_iq), as XML text:
// <iq type='set' id from to><pubsub xmlns=...pubsub><publish node><item><notification
// xmlns='urn:xmpp:push:0'>summary form</notification></item></publish>
// [<publish-options>publish-options form</publish-options>]</pubsub></iq>.
std::string publish_iq_xml(std::string_view id, std::string_view from, std::string_view to, std::string_view node,
                           const KeyValues& summary, const KeyValues& options);

// A virtual_pubsub_hosts pattern for a domain: "@HOST@" replaced by it.
std::string expand_pattern(std::string_view pattern, std::string_view domain);
// Whether a pattern is acceptable: not empty, and a domain once "@HOST@" is replaced.
bool valid_pattern(std::string_view pattern);

// MongooseIM's is_virtual_pubsub_host: pubsub_domain equals one of the patterns, with
// "@HOST@" replaced by the recipient's domain (case-insensitive).
bool is_virtual_pubsub_host(const std::vector<std::string>& patterns, std::string_view recipient_domain,
                            std::string_view pubsub_domain);

// The stored form: a JSON object of strings, keys sorted (jiffy's encoding of the map).
std::string encode_form(const KeyValues& options);
// nullopt when the text is not such an object (a corrupt row).
std::optional<KeyValues> decode_form(std::string_view json);

// One registration of a user.
struct Registration {
  std::string pubsub_jid, node;
  KeyValues options;
  bool operator==(const Registration& o) const {
    return pubsub_jid == o.pubsub_jid && node == o.node && options == o.options;
  }
};

// SQL (dialect: 1 SQLite, 2 PostgreSQL, 3 MySQL/MariaDB).
const char* schema_sql(int dialect);
const char* upsert_sql(int dialect);  // owner_jid, node, pubsub_jid, form, created_at
inline constexpr const char* kSelectSql =
    "SELECT node, pubsub_jid, form FROM event_pusher_push_subscription WHERE owner_jid = ?";
inline constexpr const char* kDeleteUserSql = "DELETE FROM event_pusher_push_subscription WHERE owner_jid = ?";
inline constexpr const char* kDeleteServiceSql =
    "DELETE FROM event_pusher_push_subscription WHERE owner_jid = ? AND pubsub_jid = ?";
inline constexpr const char* kDeleteNodeSql =
    "DELETE FROM event_pusher_push_subscription WHERE owner_jid = ? AND node = ? AND pubsub_jid = ?";

// Whether a registration matches a disable of (pubsub_jid, node); node absent = any node.
bool matches(const Registration& r, std::string_view pubsub_jid, const std::optional<std::string>& node);

// Remembers which (message, service) pairs were published, for `ttl_ms`, so that the same
// stanza never notifies a service twice (MongooseIM keeps published_services in the acc; a
// message rerouted after a lost XEP-0198 session is a new stanza here, so it is recognised
// by its sender, recipient, id and body). Not thread-safe: the caller locks.
class Seen {
 public:
  Seen(uint64_t ttl_ms, size_t capacity) : ttl_ms_(ttl_ms), cap_(capacity) {}
  // true (and remembered) the first time `key` is offered within the TTL.
  bool first(const std::string& key, uint64_t now_ms);
  // Whether `key` was offered within the TTL (does not remember it).
  bool contains(const std::string& key, uint64_t now_ms);
  size_t size() const { return keys_.size(); }

 private:
  void expire(uint64_t now_ms);
  uint64_t ttl_ms_;
  size_t cap_;
  std::deque<std::pair<uint64_t, std::string>> order_;  // (time, key), oldest first
  std::unordered_set<std::string> keys_;
};

// The message part of a Seen key.
std::string message_key(std::string_view owner, std::string_view from, std::string_view id, std::string_view body);

}  // namespace push
